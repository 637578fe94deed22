import Crypto
import Foundation
import SelfServeCore

/// One loaded policy plugin: its own Lua state and the table its file returned.
public final class Plugin {
    public let name: String
    public let version: String
    public let description: String
    public let hooks: [String]
    public let reasons: [CancellationReason]
    public let sha256: String
    let lua: LuaState
    let table: Int32
    /// Kept alive with the state: its Swift functions refer to it.
    let api: ReadOnlyAPI
    let limits: LuaLimits
    /// Loading is parsing in C, which no limit stops: the source is kept small instead.
    public static let maxSourceBytes = 1 << 20

    public static let hookNames = [
        "before_purchase", "before_set_licenses", "before_assign", "before_cancel", "before_take_over",
        "validate_payment_method", "license_limit", "on_event",
    ]
    static let knownFields = Set(hookNames + ["name", "version", "description", "cancellation_reasons", "tests"])

    /// Loads and validates a plugin's source. Every problem is an `invalid_argument` naming what is wrong.
    public init(source: String, file: String, api: ReadOnlyAPI, limits: LuaLimits = LuaLimits()) throws {
        guard source.utf8.count <= Self.maxSourceBytes else {
            throw SelfServeError.invalid("\(file): a plugin is at most \(Self.maxSourceBytes >> 10) KiB of Lua")
        }
        lua = try LuaState(flavor: .plugin, memoryLimit: limits.memoryLimit)
        lua.timeLimitMilliseconds = limits.timeLimitMilliseconds
        self.limits = limits
        self.api = api
        api.install(in: lua)
        // Plugins have no stdout: what they print goes to the audit details, like ss.log.
        lua.register(nil, "print") { [unowned api] l in
            api.log((1..<(l.argumentCount + 1)).map { l.argument($0).printed }.joined(separator: "\t"))
            return 0
        }
        let chunk = "@" + (file as NSString).lastPathComponent
        do {
            table = try lua.loadTable(source, chunkName: chunk, budget: limits.budget)
        } catch let f as LuaState.Failure {
            throw SelfServeError.invalid("\(file): \(Plugin.describe(f))")
        }
        let fields = self.lua.fieldTypes(self.table)
        var problems: [String] = []
        for (key, type) in fields where !Self.knownFields.contains(key) {
            let suggestion =
                Suggestion.closest(key, among: Self.knownFields.sorted()).map { " (did you mean '\($0)'?)" } ?? ""
            problems.append("unknown field '\(key)' (\(type))\(suggestion)")
        }
        for (key, type) in fields where Self.hookNames.contains(key) && type != "function" {
            problems.append("'\(key)' must be a function, not a \(type)")
        }
        let lua = self.lua
        let table = self.table
        let field = { (key: String) throws -> PlainValue in
            do { return try lua.field(table, key) } catch {
                throw SelfServeError.invalid("\(file): '\(key)' holds \(error), which is refused")
            }
        }
        let nameValue = try field("name")
        guard let name = nameValue.stringValue, !name.isEmpty else {
            throw SelfServeError.invalid("\(file): the plugin table needs a name = \"…\" ([a-z0-9_-]+)")
        }
        if !name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" || $0 == "-" })
            || name.count > 64
        {
            problems.append("name '\(Sanitize.forDisplay(name))' must match [a-z0-9_-]+ (at most 64 characters)")
        }
        self.name = name
        let version = try field("version")
        self.version = version.stringValue ?? version.intValue.map(String.init) ?? ""
        self.description = try field("description").stringValue ?? ""
        var reasons: [CancellationReason] = []
        let rawReasons = try field("cancellation_reasons")
        if !rawReasons.isNull {
            if let items = rawReasons.arrayValue {
                for (i, r) in items.enumerated() {
                    guard let code = r["code"]?.stringValue, !code.isEmpty,
                        code.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" })
                    else {
                        problems.append("cancellation_reasons[\(i + 1)] needs a code of [a-z0-9_]+")
                        continue
                    }
                    guard let raw = r["label"]?.stringValue, !raw.isEmpty else {
                        problems.append("cancellation_reasons[\(i + 1)] (\(code)) needs a label")
                        continue
                    }
                    guard let label = try? Sanitize.name(raw, field: "label") else {
                        problems.append(
                            "cancellation_reasons[\(i + 1)] (\(code)): a label is one line of at most 200 characters without control characters"
                        )
                        continue
                    }
                    if reasons.contains(where: { $0.code == code }) {
                        problems.append("cancellation reason '\(code)' appears twice")
                    }
                    reasons.append(
                        CancellationReason(
                            code: code,
                            label: label,
                            commentRequired: r["comment_required"] == .bool(true),
                            source: name
                        )
                    )
                }
            } else {
                problems.append("cancellation_reasons must be a list of {code, label, comment_required}")
            }
        }
        if !problems.isEmpty {
            throw SelfServeError.invalid(
                "\(file): plugin '\(Sanitize.forDisplay(name))' is not valid:\n  " + problems.joined(separator: "\n  ")
            )
        }
        self.reasons = reasons
        self.hooks = fields.filter { Self.hookNames.contains($0.0) }.map(\.0)
        self.sha256 = SHA256.hash(data: Data(source.utf8)).hexDigits
    }

    /// Calls a hook; nil when the plugin does not define it.
    func call(_ hook: String, _ arguments: [PlainValue]) throws -> [PlainValue]? {
        api.beginCall()
        do {
            return try lua.callField(table, hook, arguments, budget: limits.budget)
        } catch let f as LuaState.Failure {
            throw SelfServeError(.policyError, "\(name): \(hook) failed: \(Plugin.describe(f))", plugin: name)
        }
    }

    static func describe(_ f: LuaState.Failure) -> String { f.description }

    /// Runs the plugin's `tests`: each gets `t` with `eq`, `ok`, `match` and `t.plugin` (the plugin table).
    public func runTests() -> [(name: String, passed: Bool, message: String)] {
        let names = lua.functionNames(table, "tests")
        var results: [(String, Bool, String)] = []
        let harness = """
            local plugin, name = ...
            local t = { plugin = plugin }
            function t.eq(a, b, msg) if a ~= b then error((msg or "expected equal") .. ": " .. tostring(a) .. " ~= " .. tostring(b), 2) end end
            function t.ok(v, msg) if not v then error(msg or "expected a true value", 2) end end
            function t.match(s, pattern) if type(s) ~= "string" or not s:find(pattern) then error("'" .. tostring(s) .. "' does not match '" .. pattern .. "'", 2) end end
            plugin.tests[name](t)
            """
        for n in names {
            do {
                _ = try lua.runWithTable(harness, table: table, extra: .string(n), budget: limits.budget)
                results.append((n, true, ""))
            } catch let f as LuaState.Failure {
                results.append((n, false, Plugin.describe(f)))
            } catch {
                results.append((n, false, "\(error)"))
            }
        }
        return results
    }
}
