import Foundation
import SelfServeCore

/// The policy engine of plugins: every enabled plugin, in name order, each in its own Lua state.
///
/// Plugins are loaded once per process, lazily, when the first hook of a command needs them; a
/// command that calls no hook never touches Lua. Any deny wins, the smallest limit wins, and anything
/// a plugin does wrong (an error, a limit, a malformed answer) denies with `policy_error`: fail closed.
public final class LuaPolicyEngine: PolicyEngine {
    public let api = ReadOnlyAPI()
    public var limits: LuaLimits
    /// Who decided what in the current command, for `--dry-run` and `--explain`.
    public private(set) var decisions: [PolicyDecision] = []
    private var store: Store?
    private var loaded: [String: Plugin] = [:]
    private var active: [Plugin] = []
    private var reconciled = false
    private var records: [PluginRecord]?

    public init(limits: LuaLimits = LuaLimits()) {
        self.limits = limits
        api.store = { [unowned self] in self.store }
    }

    /// The store of the command about to run (nil after it).
    public func attach(_ store: Store?) {
        self.store = store
        reconciled = false
        records = nil
        if store != nil { decisions = [] }
    }

    public func takeDecisions() -> [PolicyDecision] {
        defer { decisions = [] }
        return decisions
    }

    /// The enabled plugins, reloaded only when one was installed, changed, enabled or removed.
    func plugins() throws -> [Plugin] {
        if reconciled { return active }
        guard let records = try enabledRecords() else { return active }
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

    /// Calls one plugin's hook, timed; an error (a raise, a limit) is recorded as the hook's answer
    /// and rethrown. `answer` turns what it returned into the recorded answer, or throws.
    private func ask<T>(
        _ p: Plugin,
        _ hook: String,
        _ arguments: [PlainValue],
        _ answer: ([PlainValue]) throws -> (T, String)
    ) throws -> T? {
        let start = DispatchTime.now().uptimeNanoseconds
        func record(_ text: String) {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            decisions.append(PolicyDecision(plugin: p.name, hook: hook, answer: text, milliseconds: ms))
        }
        do {
            guard let results = try p.call(hook, arguments) else { return nil }
            let (value, text) = try answer(results)
            record(text)
            return value
        } catch let e as SelfServeError {
            record(e.code == .policyDenied ? "denied: \(e.message.dropFirst(p.name.count + 2))" : "error: \(e.message)")
            throw e
        }
    }

    public func check(_ hook: PolicyHook, _ arguments: @autoclosure () throws -> [PlainValue]) throws {
        let asked = try plugins().filter { $0.hooks.contains(hook.rawValue) }
        guard !asked.isEmpty else { return }
        let arguments = try arguments()
        for p in asked {
            _ = try ask(p, hook.rawValue, arguments) { results -> ((), String) in
                let first = results.first ?? .null
                switch first {
                case .null, .bool(true):
                    return ((), "allowed")
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
    }

    public func licenseLimit(_ context: PlainValue) throws -> (limit: Int, plugin: String)? {
        var best: (limit: Int, plugin: String)?
        for p in try plugins() where p.hooks.contains("license_limit") {
            let limit = try ask(p, "license_limit", [context]) { results -> (Int?, String) in
                switch results.first ?? .null {
                case .null: return (nil, "no limit")
                case let v:
                    guard let n = v.intValue, n >= 0, n <= Int64(Int32.max) else {
                        throw SelfServeError(
                            .policyError,
                            "\(p.name): license_limit returned \(JSON.write(v)); it returns a whole number or nil",
                            plugin: p.name
                        )
                    }
                    return (Int(n), String(n))
                }
            }
            if let limit = limit ?? nil, best.map({ limit < $0.limit }) ?? true { best = (limit, p.name) }
        }
        return best
    }

    public func cancellationReasons() throws -> [CancellationReason] {
        try plugins().flatMap(\.reasons)
    }

    public func notify(_ event: PlainValue) -> [String] {
        // Loaded here too: a command that asked no other hook (a billing run's renewals) has not.
        let listeners: [Plugin]
        do { listeners = try plugins() } catch {
            return ["\((error as? SelfServeError)?.message ?? "\(error)") (the change was kept)"]
        }
        var problems: [String] = []
        for p in listeners where p.hooks.contains("on_event") {
            do { _ = try p.call("on_event", [event]) } catch let e as SelfServeError {
                problems.append("\(e.message) (the change was kept)")
            } catch {
                problems.append("\(p.name): on_event failed: \(error)")
            }
        }
        return problems
    }

    /// From the stored plugins' hooks, without loading Lua. When the store cannot say, yes: an event
    /// kept for nobody costs memory, one dropped is lost.
    public var listensToEvents: Bool {
        guard let records = try? enabledRecords() else { return true }
        return records.contains { $0.hooks.contains("on_event") }
    }

    /// The enabled plugins as stored, read once per command (nil without a store).
    private func enabledRecords() throws -> [PluginRecord]? {
        if let records { return records }
        guard let store else { return nil }
        let enabled = try store.plugins().filter(\.enabled)
        records = enabled
        return enabled
    }

    public func takeLogMessages() -> [String] { api.takeLogs() }
}
