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

    /// The most one stored value may hold, and the details of one entry: no command can grow the log
    /// by more than a few KiB, whatever its arguments or a plugin logs.
    public static let maxValueBytes = 4096
    public static let maxDetailsBytes = 16384
    static let truncationMark = "…(truncated)"

    public init(at: String, actor: String, action: String, target: String, outcome: Outcome, details: String) {
        self.at = Self.cut(at)
        self.actor = Self.cut(actor)
        self.action = Self.cut(action)
        self.target = Self.cut(CardData.masked(target))
        self.outcome = outcome
        // No card number reaches the log, whatever a command's arguments or a plugin's messages held.
        let details = CardData.masked(details)
        self.details =
            details.utf8.count <= Self.maxDetailsBytes
            ? details : JSON.write(.object([("truncated", .bool(true)), ("bytes", PlainValue(details.utf8.count))]))
    }

    /// An entry whose details are a value: every string in it is cut at `maxValueBytes`, every list at
    /// 50 items, and the cut is marked.
    public init(at: String, actor: String, action: String, target: String, outcome: Outcome, details: PlainValue) {
        self.init(
            at: at,
            actor: actor,
            action: action,
            target: target,
            outcome: outcome,
            details: JSON.write(Self.capped(details))
        )
    }

    static func cut(_ s: String) -> String {
        guard s.utf8.count > maxValueBytes else { return s }
        // A character cut in two becomes U+FFFD: the stored text stays valid UTF-8.
        return String(decoding: s.utf8.prefix(maxValueBytes - truncationMark.utf8.count), as: UTF8.self)
            + truncationMark
    }

    static func capped(_ v: PlainValue) -> PlainValue {
        switch v {
        case .string(let s): return .string(cut(s))
        case .array(let items):
            let kept = items.prefix(50).map(capped)
            return .array(items.count > 50 ? kept + [.string("\(items.count - 50) more \(truncationMark)")] : kept)
        case .object(let pairs): return .object(pairs.prefix(50).map { ($0.0, capped($0.1)) })
        default: return v
        }
    }
}
