import SelfServeCore

/// The policy engine of plugins: every enabled plugin, in name order, each in its own Lua state.
///
/// Plugins are loaded once per process, lazily, when the first hook of a command needs them; a
/// command that calls no hook never touches Lua. Any deny wins, the smallest limit wins, and anything
/// a plugin does wrong (an error, a limit, a malformed answer) denies with `policy_error`: fail closed.
public final class LuaPolicyEngine: PolicyEngine {
    public let api = ReadOnlyAPI()
    public var limits: LuaLimits
    /// Who decided what in the current command ("plugin: hook → allowed"), for `--dry-run`.
    public private(set) var decisions: [String] = []
    private var store: Store?
    private var loaded: [String: Plugin] = [:]
    private var active: [Plugin] = []
    private var reconciled = false

    public init(limits: LuaLimits = LuaLimits()) {
        self.limits = limits
        api.store = { [unowned self] in self.store }
    }

    /// The store of the command about to run (nil after it).
    public func attach(_ store: Store?) {
        self.store = store
        reconciled = false
        if store != nil { decisions = [] }
    }

    public func takeDecisions() -> [String] {
        defer { decisions = [] }
        return decisions
    }

    /// The enabled plugins, reloaded only when one was installed, changed, enabled or removed.
    func plugins() throws -> [Plugin] {
        if reconciled { return active }
        guard let store else { return active }
        let records = try store.plugins().filter(\.enabled)
        var next: [Plugin] = []
        for record in records {
            if let p = loaded[record.name], p.sha256 == record.sha256 {
                next.append(p)
                continue
            }
            do {
                let p = try Plugin(source: record.source, file: record.name + ".lua", api: api, limits: limits)
                loaded[record.name] = p
                next.append(p)
            } catch let e as SelfServeError {
                throw SelfServeError(
                    .policyError,
                    "\(record.name): cannot be loaded: \(e.message)",
                    plugin: record.name
                )
            }
        }
        active = next
        reconciled = true
        return active
    }

    public func check(_ hook: PolicyHook, _ arguments: [PlainValue]) throws {
        for p in try plugins() where p.hooks.contains(hook.rawValue) {
            guard let results = try p.call(hook.rawValue, arguments) else { continue }
            let first = results.first ?? .null
            switch first {
            case .null, .bool(true):
                decisions.append("\(p.name): \(hook.rawValue) allowed")
            case .bool(false):
                let second = results.count > 1 ? results[1] : .null
                guard second.isNull || second.stringValue != nil else {
                    throw SelfServeError(
                        .policyError,
                        "\(p.name): \(hook.rawValue) denied with \(JSON.write(second).prefix(80)) instead of a message",
                        plugin: p.name
                    )
                }
                // A plugin's words reach terminals and logs: no control characters, no novels.
                let message = Sanitize.forDisplay(String((second.stringValue ?? "denied").prefix(500)))
                decisions.append("\(p.name): \(hook.rawValue) denied: \(message)")
                throw SelfServeError(.policyDenied, "\(p.name): \(message)", plugin: p.name)
            default:
                throw SelfServeError(
                    .policyError,
                    "\(p.name): \(hook.rawValue) returned \(JSON.write(first)); a hook returns nothing, true, or false and a message",
                    plugin: p.name
                )
            }
        }
    }

    public func licenseLimit(_ context: PlainValue) throws -> (limit: Int, plugin: String)? {
        var best: (Int, String)?
        for p in try plugins() where p.hooks.contains("license_limit") {
            guard let results = try p.call("license_limit", [context]) else { continue }
            switch results.first ?? .null {
            case .null: continue
            case let v where v.intValue != nil && v.intValue! >= 0:
                let n = Int(v.intValue!)
                decisions.append("\(p.name): license_limit \(n)")
                if best == nil || n < best!.0 { best = (n, p.name) }
            case let v:
                throw SelfServeError(
                    .policyError,
                    "\(p.name): license_limit returned \(JSON.write(v)); it returns a whole number or nil",
                    plugin: p.name
                )
            }
        }
        return best
    }

    public func cancellationReasons() throws -> [CancellationReason] {
        try plugins().flatMap(\.reasons)
    }

    public func notify(_ event: PlainValue) -> [String] {
        var problems: [String] = []
        for p in active where p.hooks.contains("on_event") {
            do { _ = try p.call("on_event", [event]) } catch let e as SelfServeError {
                problems.append("\(e.message) (the change was kept)")
            } catch {
                problems.append("\(p.name): on_event failed: \(error)")
            }
        }
        return problems
    }

    public func takeLogMessages() -> [String] { api.takeLogs() }
}
