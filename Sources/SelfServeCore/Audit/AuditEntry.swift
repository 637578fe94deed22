/// One row of the audit log: who did what to which object, and whether it happened.
public struct AuditEntry: Hashable, Sendable {
    public enum Outcome: String, Sendable, Codable { case ok, denied, failed }

    public var at: String
    public var actor: String
    public var action: String
    public var target: String
    public var outcome: Outcome
    /// A JSON object with the specifics (never card numbers or security codes).
    public var details: String

    public init(at: String, actor: String, action: String, target: String, outcome: Outcome, details: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
        self.details = details
    }
}
