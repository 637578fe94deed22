import ArgumentParser
import SelfServeCore

/// Options every command accepts, before or after its name (`selfserve --json user list` and
/// `selfserve user list --json` are the same), so that scripts can put them where they like.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Database file (default $XDG_DATA_HOME/selfserve/selfserve.sqlite; env SELFSERVE_DB).",
            valueName: "path"
        ),
        completion: .file()
    )
    public var db: String?

    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "Act as this user (env SELFSERVE_USER; else the user saved by 'login').",
            valueName: "email"
        ),
        completion: .emails
    )
    public var actingUser: String?

    @Flag(name: .long, help: "Same as --format json.")
    public var json = false

    @Option(
        name: .long,
        help: ArgumentHelp("Output format: table, json, ndjson or csv.", valueName: "format"),
        completion: .outputFormats
    )
    public var format: OutputFormat?

    @Flag(
        name: .customLong("dry-run"),
        help: "Do everything (validation, policies), then roll back and show what would have happened."
    )
    public var dryRun = false

    @Flag(help: "Print every policy decision of the command on stderr: plugin, hook, answer, time.")
    public var explain = false

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp(
            "A write command: keep its result 24 hours under KEY; the same KEY and command returns it again and does nothing.",
            valueName: "key"
        )
    )
    public var idempotencyKey: String?

    public init() {}

    /// The format asked for on this command line, if any.
    public var requestedFormat: OutputFormat? { json ? .json : format }

    /// Combines the root's options with a command's: the command's win where both are given.
    public func merged(over outer: GlobalOptions) -> GlobalOptions {
        var m = self
        m.db = db ?? outer.db
        m.actingUser = actingUser ?? outer.actingUser
        m.json = json || outer.json
        m.format = format ?? outer.format
        m.dryRun = dryRun || outer.dryRun
        m.explain = explain || outer.explain
        m.idempotencyKey = idempotencyKey ?? outer.idempotencyKey
        return m
    }
}

/// The output formats of `--format` (docs/COMMANDS.md).
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv
    /// Only for `invoice export`.
    case html
}

// ArgumentParser finds a type's options by reflecting a fresh instance, twice per parse of every command
// (the global options are part of each). The runtime's reflection decodes each field's generic type
// from its mangled name (`Option<String?>`): 12,000 instructions a field, a fifth of parsing a batch
// line (callgrind). The children listed here are what reflection finds — the property wrappers' storage,
// under its names — without decoding a type; a test checks they are the stored properties, all of them
// and in order, so that an option added above and not here fails the tests instead of vanishing.
extension GlobalOptions: CustomReflectable {
    public var customMirror: Mirror {
        // The children as the same collection type the runtime's own reflection makes (a lazy map over
        // the field indices), which the command's reflection has already set up in this process: any
        // other type costs a one-shot command its first-time generic set-up (+6% of `whoami`, callgrind).
        let fields = self
        return Mirror(
            self,
            children: (0..<7).lazy.map { (i: Int) -> Mirror.Child in
                switch i {
                case 0: return ("_db", fields._db)
                case 1: return ("_actingUser", fields._actingUser)
                case 2: return ("_json", fields._json)
                case 3: return ("_format", fields._format)
                case 4: return ("_dryRun", fields._dryRun)
                case 5: return ("_explain", fields._explain)
                default: return ("_idempotencyKey", fields._idempotencyKey)
                }
            },
            displayStyle: .struct
        )
    }
}

// The values of an option's enum, for its help and completion, are listed once: ArgumentParser asks for
// them each time it builds the option's definition — on every parse of every command, as `--format` is
// a global option — and its default builds a key path at run time for each (perf: 2% of a batch line).
extension OutputFormat: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
}
extension Term: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
}
extension Organization.Cloud: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
}
extension Subscription.Status: ExpressibleByArgument {
    public static let allValueStrings = allCases.map(\.rawValue)
}

extension SelfServicePolicy: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["enabled", "disabled", "trials-only"] }
}
