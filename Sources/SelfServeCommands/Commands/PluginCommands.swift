import ArgumentParser
import Foundation
import SelfServeCore
import SelfServeLua

struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Lua policy plugins (admins): cancellation reasons, payment validation, license limits.",
        subcommands: [
            PluginInstall.self, PluginList.self, PluginShow.self, PluginEnable.self, PluginDisable.self,
            PluginRemove.self, PluginTest.self,
        ]
    )
}

extension CommandContext {
    func pluginRecord(_ name: String) throws -> PluginRecord {
        guard let p = try store.plugin(name: name) else {
            throw SelfServeError.notFound("no plugin '\(Sanitize.forDisplay(name))'; see 'plugin list'")
        }
        return p
    }

    func pluginShape(_ p: PluginRecord, source: Bool) -> PlainValue {
        var pairs: [(String, PlainValue)] = [
            ("name", .string(p.name)), ("version", .string(p.version)), ("enabled", .bool(p.enabled)),
            ("hooks", .array(p.hooks.map { .string($0) })), ("installed_by", .string(p.installedBy)),
            ("installed_at", .string(p.installedAt)), ("sha256", .string(p.sha256)),
        ]
        if source {
            pairs.insert(("description", .string(p.description)), at: 2)
            pairs.append(("source", .string(p.source)))
        }
        return .object(pairs)
    }
}

struct PluginInstall: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "install",
        abstract: "Validate a plugin file and store it in the database (admins).",
        discussion:
            "Refused, with nothing stored: syntax errors, a file that does not return a table, a missing or duplicate name, unknown hook names, a cancellation reason without code or label or whose code is taken."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The plugin's .lua file.", completion: .file(extensions: ["lua"])) var file: String
    var auditSubject: (action: String, target: String)? { ("plugin.install", file) }

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let me = try ctx.admin("install plugins")
        let source = try env.readTextFile(file)
        let plugin = try Plugin(
            source: source,
            file: file,
            api: ReadOnlyAPI(),
            limits: LuaLimits(environment: env.environment)
        )
        if try ctx.store.plugin(name: plugin.name) != nil {
            throw SelfServeError.conflict(
                "a plugin named '\(plugin.name)' is already installed; 'plugin remove \(plugin.name)' first"
            )
        }
        var taken: [String: String] = Dictionary(
            uniqueKeysWithValues: CancellationReason.builtin.map { ($0.code, "builtin") }
        )
        for other in try ctx.store.plugins() {
            if let p = try? Plugin(
                source: other.source,
                file: other.name,
                api: ReadOnlyAPI(),
                limits: LuaLimits(environment: env.environment)
            ) {
                for r in p.reasons { taken[r.code] = other.name }
            }
        }
        for r in plugin.reasons {
            if let owner = taken[r.code] {
                throw SelfServeError.invalid("\(file): cancellation reason '\(r.code)' is already defined by \(owner)")
            }
        }
        let record = PluginRecord(
            name: plugin.name,
            version: plugin.version,
            description: plugin.description,
            source: source,
            sha256: plugin.sha256,
            enabled: true,
            hooks: plugin.hooks,
            installedBy: me.email,
            installedAt: ctx.timestamp
        )
        try ctx.store.insertPlugin(record)
        ctx.audit(
            "plugin.install",
            target: plugin.name,
            [
                ("version", .string(plugin.version)), ("sha256", .string(plugin.sha256)),
                ("hooks", .array(plugin.hooks.map { .string($0) })),
            ]
        )
        return .created(
            ctx.pluginShape(record, source: false),
            id: plugin.name,
            note: "installed \(plugin.name) \(plugin.version)"
        )
    }
}

struct PluginList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "list", abstract: "List installed plugins.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.admin("manage plugins")
        return .list(
            .array(try ctx.store.plugins().map { ctx.pluginShape($0, source: false) }),
            columns: Shapes.Columns.plugin
        )
    }
}

struct PluginShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show a plugin with its source."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Plugin name.", completion: .pluginNames) var name: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.admin("manage plugins")
        return .object(ctx.pluginShape(try ctx.pluginRecord(name), source: true))
    }
}

/// `enable`, `disable`, `remove`: one shape, three audit actions.
protocol PluginStateChange: SelfServeCommand {
    var name: String { get }
    static var verb: String { get }
}

extension PluginStateChange {
    var auditSubject: (action: String, target: String)? { ("plugin.\(Self.verb)", name) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.admin("manage plugins")
        var p = try ctx.pluginRecord(name)
        switch Self.verb {
        case "remove":
            try ctx.store.deletePlugin(name: p.name)
            ctx.audit("plugin.remove", target: p.name, [("sha256", .string(p.sha256))])
            return .init(
                .object([("name", .string(p.name)), ("removed", .bool(true))]),
                .object,
                note: "removed \(p.name)"
            )
        default:
            p.enabled = Self.verb == "enable"
            try ctx.store.updatePlugin(p)
            ctx.audit("plugin.\(Self.verb)", target: p.name)
            return .object(ctx.pluginShape(p, source: false))
        }
    }
}

struct PluginEnable: PluginStateChange {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "enable", abstract: "Enable a plugin.")
    static let access = DatabaseAccess.write
    static let verb = "enable"
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Plugin name.", completion: .pluginNames) var name: String
}

struct PluginDisable: PluginStateChange {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "disable",
        abstract: "Disable a plugin (kept, not asked)."
    )
    static let access = DatabaseAccess.write
    static let verb = "disable"
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Plugin name.", completion: .pluginNames) var name: String
}

struct PluginRemove: PluginStateChange {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "remove", abstract: "Remove a plugin.")
    static let access = DatabaseAccess.write
    static let verb = "remove"
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Plugin name.", completion: .pluginNames) var name: String
}

struct PluginTest: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "test",
        abstract: "Load a plugin file and run its tests; installs nothing."
    )
    static let access = DatabaseAccess.none
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The plugin's .lua file.", completion: .file(extensions: ["lua"])) var file: String

    func execute(_ env: CommandEnvironment) throws -> CommandResult {
        let plugin = try Plugin(
            source: try env.readTextFile(file),
            file: file,
            api: ReadOnlyAPI(),
            limits: LuaLimits(environment: env.environment)
        )
        let results = plugin.runTests()
        let failed = results.filter { !$0.passed }
        let rows: [PlainValue] = results.map {
            .object([("test", .string($0.name)), ("passed", .bool($0.passed)), ("message", .string($0.message))])
        }
        if !failed.isEmpty {
            for r in results { env.warn(r.passed ? "ok    \(r.name)" : "FAIL  \(r.name): \(r.message)") }
            throw SelfServeError.invalid("\(plugin.name): \(failed.count) of \(results.count) tests failed")
        }
        return .init(
            .array(rows),
            .list,
            note: "\(plugin.name): \(results.count) test\(results.count == 1 ? "" : "s") passed"
        )
    }
}
