import Foundation
import SelfServeCore

/// The read-only helpers of plugins and scripts (`ss.now`, `ss.user`, `ss.subscription`, `ss.subscriptions`,
/// `ss.assigned_count`, `ss.log`), for plugins and scripts alike.
///
/// They read through whatever store the current command runs on; outside a command they say so.
public final class ReadOnlyAPI {
    /// The store of the command being run; nil between commands.
    public var store: () -> Store? = { nil }
    /// Runs a body with a store when none is attached (scripts, between `ss.exec` calls).
    public var withStore: ((Store) throws -> PlainValue) throws -> PlainValue = { _ in .null }
    public var clock: () -> Clock = { SystemClock() }

    /// Whose view the helpers give. Plugins are the admins' policy code and see the whole organization;
    /// a script acts as a user and sees what that user may see, as the commands would show it.
    public enum Audience {
        case organization
        /// The acting user's e-mail, asked at each call (nil: nobody is signed in).
        case actingUser(() -> String?)
    }
    public var audience: Audience = .organization

    /// Who looks: nil for the whole organization; a user who may see nothing when nobody (or a blocked
    /// or unknown user) acts.
    struct Viewer {
        var email: String
        var isAdmin: Bool
        var isUser: Bool
        static let nobody = Viewer(email: "", isAdmin: false, isUser: false)

        func maySee(_ s: Subscription) -> Bool { isUser && (isAdmin || s.buyer == email) }
    }

    func viewer(_ store: Store) throws -> Viewer? {
        guard case .actingUser(let who) = audience else { return nil }
        guard let raw = who(), let email = try? Email.normalize(raw), let user = try store.user(email: email),
            user.status == .active
        else {
            return .nobody
        }
        return Viewer(email: user.email, isAdmin: user.isAdmin, isUser: true)
    }

    /// A subscription filter narrowed to what the viewer may see.
    func narrowed(_ filter: SubscriptionFilter, for viewer: Viewer?) -> SubscriptionFilter? {
        guard let viewer else { return filter }
        guard viewer.isUser else { return nil }
        if viewer.isAdmin { return filter }
        if let b = filter.buyer, b != viewer.email { return nil }
        var f = filter
        f.buyer = viewer.email
        return f
    }
    public private(set) var logs: [String] = []

    public init() {}

    /// What `ss.log` (and a plugin's `print`) keeps of one hook call: 20 lines of 500
    /// characters; the rest is dropped and counted.
    public static let maxLinesPerCall = 20
    public static let maxLineCharacters = 500
    private var linesThisCall = 0
    private var dropped = 0

    /// A hook call starts: it has its own 20 lines.
    public func beginCall() { linesThisCall = 0 }

    public func takeLogs() -> [String] {
        defer {
            logs = []
            dropped = 0
        }
        return dropped == 0 ? logs : logs + ["(\(dropped) more log line\(dropped == 1 ? "" : "s") dropped)"]
    }

    public func log(_ message: String) {
        guard linesThisCall < Self.maxLinesPerCall else {
            dropped += 1
            return
        }
        linesThisCall += 1
        logs.append(
            message.count > Self.maxLineCharacters ? String(message.prefix(Self.maxLineCharacters)) + "…" : message
        )
    }

    func read(_ body: (Store) throws -> PlainValue) throws -> PlainValue {
        if let s = store() { return try body(s) }
        return try withStore(body)
    }

    public func install(in lua: LuaState) {
        lua.register("ss", "now") { [unowned self] l in l.returning(.string(Timestamp.format(clock().now))) }
        lua.register("ss", "log") { [unowned self] l in
            let v = l.argument(1)
            log(v.stringValue ?? JSON.write(v))
            return 0
        }
        lua.register("ss", "user") { [unowned self] l in
            guard let email = l.argument(1).stringValue else { return l.raise(.string("ss.user: pass an e-mail")) }
            return guarded(l) { store in
                // Members see the organization's people (as `user show` does); nobody else does.
                if let viewer = try viewer(store), !viewer.isUser { return .null }
                guard let e = try? Email.normalize(email), let u = try store.user(email: e) else { return .null }
                return Shapes.user(u)
            }
        }
        lua.register("ss", "subscription") { [unowned self] l in
            guard let id = l.argument(1).stringValue else { return l.raise(.string("ss.subscription: pass an id")) }
            return guarded(l) { store in
                guard let d = try store.subscriptionDetails(id: id) else { return .null }
                // Someone else's subscription is nil, as `not_found` would say.
                if let viewer = try viewer(store), !viewer.maySee(d.subscription) { return .null }
                return Shapes.subscription(d, assigned: try store.assignments(subscription: id))
            }
        }
        lua.register("ss", "subscriptions") { [unowned self] l in
            let q = l.argument(1)
            let status = q["status"]?.stringValue.flatMap(Subscription.Status.init(rawValue:))
            if q["status"]?.stringValue != nil && status == nil {
                return l.raise(.string("ss.subscriptions: unknown status"))
            }
            return guarded(l) { store in
                let asked = SubscriptionFilter(
                    buyer: q["buyer"]?.stringValue.map { $0.lowercased() },
                    product: q["product"]?.stringValue,
                    statuses: status.map { [$0] }
                )
                guard let filter = narrowed(asked, for: try viewer(store)) else { return .array([]) }
                return .array(try store.subscriptionDetails(filter: filter).map { Shapes.subscription($0) })
            }
        }
        lua.register("ss", "assigned_count") { [unowned self] l in
            let q = l.argument(1)
            return guarded(l) { store in
                let asked = SubscriptionFilter(
                    buyer: q["buyer"]?.stringValue.map { $0.lowercased() },
                    product: q["product"]?.stringValue,
                    statuses: [.trial, .active, .pastDue, .canceled, .expired]
                )
                guard let filter = narrowed(asked, for: try viewer(store)) else { return PlainValue(0) }
                return PlainValue(try store.subscriptionDetails(filter: filter).reduce(0) { $0 + $1.licensesAssigned })
            }
        }
    }

    private func guarded(_ l: LuaState, _ body: (Store) throws -> PlainValue) -> Int32 {
        do { return l.returning(try read(body)) } catch {
            let e = (error as? SelfServeError) ?? .invalid("\(error)")
            return l.raise(.object([("code", .string(e.code.rawValue)), ("message", .string(e.message))]))
        }
    }
}
