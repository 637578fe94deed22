import Foundation

/// What one command runs with: the open transaction's store, one instant of "now", the acting user,
/// the policies, and the audit rows and events it produces.
///
/// The executor creates one per command and decides what happens to `auditTrail` (written in the same
/// transaction) and `events` (sent to plugins after commit). Operations never commit anything.
public final class CommandContext {
    public let store: Store
    public let policy: PolicyEngine
    public let now: Date
    public let today: Day
    public let timestamp: String
    public var ids: IdGenerator
    /// The asserted acting user (`--as`, `SELFSERVE_USER`, saved login); checked on first use.
    public let actorEmail: String?
    public private(set) var auditTrail: [AuditEntry] = []
    public private(set) var events: [PlainValue] = []
    private var resolvedActor: User?

    public init(
        store: Store,
        policy: PolicyEngine = NoPolicy(),
        clock: Clock,
        actorEmail: String?,
        ids: IdGenerator = IdGenerator()
    ) {
        self.store = store
        self.policy = policy
        self.now = clock.now
        self.today = Day(now)
        self.timestamp = Timestamp.format(now)
        self.actorEmail = actorEmail
        self.ids = ids
    }

    /// Another context on the same store and instant, acting as someone else (demo data, `billing run`).
    public func acting(as email: String?, daysAgo: Int = 0) -> CommandContext {
        let other = CommandContext(
            store: store,
            policy: policy,
            clock: FixedClock(now.addingTimeInterval(-86_400 * Double(daysAgo))),
            actorEmail: email,
            ids: ids
        )
        return other
    }

    /// Takes over what a context made with `acting(as:)` recorded, so that it is written and delivered too.
    public func absorb(_ other: CommandContext) {
        auditTrail += other.auditTrail
        events += other.events
        ids = other.ids
    }

    /// Runs `body` in a savepoint (`Store.isolated`); when it throws, what it recorded here (audit
    /// entries, events) is forgotten with its writes: nobody hears of a step that was undone.
    func isolated(_ body: () throws -> Void) throws {
        let (audited, emitted) = (auditTrail.count, events.count)
        do {
            try store.isolated(body)
        } catch {
            auditTrail.removeSubrange(audited...)
            events.removeSubrange(emitted...)
            throw error
        }
    }

    /// The acting user, who must exist and not be blocked.
    public func actor() throws -> User {
        if let user = resolvedActor { return user }
        guard let raw = actorEmail, !raw.isEmpty else {
            throw SelfServeError(
                .notSignedIn,
                "no acting user: pass --as EMAIL, set SELFSERVE_USER, or run 'login EMAIL'"
            )
        }
        let email = try Email.normalize(raw)
        guard let user = try store.user(email: email) else {
            throw SelfServeError(
                .notSignedIn,
                "'\(email)' is not a user of this organization; pass --as with a user's e-mail"
            )
        }
        guard user.status == .active else {
            throw SelfServeError.forbidden("\(email) is blocked")
        }
        resolvedActor = user
        return user
    }

    /// The acting user, who must be an admin; `what` names the action for the message.
    @discardableResult
    public func admin(_ what: String) throws -> User {
        let user = try actor()
        guard user.isAdmin else { throw SelfServeError.forbidden("only admins may \(what)") }
        return user
    }

    /// The e-mail written to the audit log for this command's actor.
    public var auditActor: String { resolvedActor?.email ?? actorEmail.map { $0.lowercased() } ?? "system" }

    /// Records a successful change; written by the executor in the command's own transaction.
    public func audit(_ action: String, target: String, _ details: [(String, PlainValue)] = []) {
        var details = details
        let logs = policy.takeLogMessages()
        if !logs.isEmpty { details.append(("plugin_log", .array(logs.map { .string($0) }))) }
        auditTrail.append(
            AuditEntry(
                at: timestamp,
                actor: auditActor,
                action: action,
                target: target,
                outcome: .ok,
                details: .object(details)
            )
        )
    }

    /// Records a step that could not be done, kept even though the command as a whole succeeds
    /// (a billing run reports the subscriptions it could not process and goes on with the others).
    public func auditFailure(_ action: String, target: String, _ details: [(String, PlainValue)] = []) {
        auditTrail.append(
            AuditEntry(
                at: timestamp,
                actor: auditActor,
                action: action,
                target: target,
                outcome: .failed,
                details: .object(details)
            )
        )
    }

    /// Queues an event for plugins' `on_event`, delivered only after the change is committed.
    public func emit(_ type: String, target: String, _ details: [(String, PlainValue)] = []) {
        guard policy.listensToEvents else { return }
        events.append(
            .object([
                ("type", .string(type)), ("actor", .string(auditActor)), ("target", .string(target)),
                ("details", .object(details)),
            ])
        )
    }
}
