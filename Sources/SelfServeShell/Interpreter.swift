import Foundation
import SelfServeCommands
import SelfServeCore

/// Runs one line's words: the shell-only commands (`format`, `timing`, `begin`, …) and, for everything
/// else, the registry through the session. Shared by the interactive shell and batch runs, so a batch
/// file is exactly what one would type.
public final class Interpreter {
    public enum Outcome {
        case ok
        case failed(SelfServeError, json: Bool)
        case exit
    }

    public let session: Session
    public var format: OutputFormat
    public var timing = false
    public var interactive: Bool
    public let out: OutputStream
    public let err: OutputStream
    /// The shell's history, for the `history` command.
    public var history: () -> [String] = { [] }
    /// The state of the `lua` command, shared by every chunk of the session.
    private var luaHost: ScriptHost?
    private var luaChunks = 0

    /// Runs a chunk typed after `lua` (up to a line holding only `.`).
    public func runLua(_ source: String) -> Outcome {
        do {
            let host = try luaHost ?? ScriptHost(env: session, arguments: [], scriptName: "lua")
            luaHost = host
            luaChunks += 1
            session.scriptRunning = true
            defer { session.scriptRunning = false }
            try host.run(source, chunkName: "=lua#\(luaChunks)")
            return .ok
        } catch {
            return .failed((error as? SelfServeError) ?? .invalid("\(error)"), json: format == .json)
        }
    }

    public init(
        session: Session,
        format: OutputFormat,
        interactive: Bool,
        out: OutputStream = .standardOutput,
        err: OutputStream = .standardError
    ) {
        self.session = session
        self.format = format
        self.interactive = interactive
        self.out = out
        self.err = err
    }

    /// Writes a list's rows as the command reads them, in the command's format.
    func writeStream(_ result: CommandResult, _ globals: GlobalOptions) throws {
        let renderer = Renderer(format: globals.requestedFormat ?? format, width: out.terminalWidth, prettyJSON: false)
        try renderer.renderStream(result) { out.write($0) }
    }

    public static let builtins = [
        "format", "timing", "begin", "commit", "rollback", "lua", "history", "help", "exit", "quit",
    ]

    /// Help for the commands only the shell (and batches) have; `help` alone lists them after the registry's.
    public static let builtinHelp: [(String, String)] = [
        ("format", "format table|json|ndjson|csv — the output format of the following commands (alone: show it)."),
        ("timing", "timing on|off — print how long each command took."),
        ("begin", "begin — open a transaction: the following commands are kept only at 'commit'."),
        ("commit", "commit — keep everything since 'begin' (plugins hear about it now)."),
        ("rollback", "rollback — undo everything since 'begin'."),
        (
            "lua",
            "lua — run a Lua chunk typed on the following lines, up to a line holding only '.', as the acting user (ss.exec, ss.subscriptions, …)."
        ),
        ("history", "history — the lines typed before (lines holding a card number are never kept)."),
        ("help", "help [COMMAND] — help for a command, or the list of commands."),
        ("exit", "exit, quit or Ctrl-D — leave the shell."),
        ("quit", "quit — leave the shell."),
    ]

    public func handle(_ words: [String]) -> Outcome {
        guard let first = words.first else { return .ok }
        do {
            if session.dryRunAll && ["begin", "commit", "rollback"].contains(first) {
                throw SelfServeError(
                    .usage,
                    "\(first) is refused in a dry run: the whole run is one transaction that is rolled back"
                )
            }
            switch first {
            case "exit", "quit":
                return .exit
            case "format":
                guard words.count == 2, let f = OutputFormat(rawValue: words[1]), f != .html else {
                    if words.count == 1 {
                        out.writeLine(format.rawValue)
                        return .ok
                    }
                    throw SelfServeError(.usage, "format takes one of: table, json, ndjson, csv")
                }
                format = f
                return .ok
            case "timing":
                guard words.count <= 2, words.count == 1 || ["on", "off"].contains(words[1]) else {
                    throw SelfServeError(.usage, "timing takes on or off")
                }
                timing = words.count == 1 ? !timing : words[1] == "on"
                err.writeLine("timing is \(timing ? "on" : "off")")
                return .ok
            case "begin":
                try noArguments(words)
                try session.begin()
                if interactive { err.writeLine("transaction open: commit or rollback") }
                return .ok
            case "commit":
                try noArguments(words)
                try session.commit()
                return .ok
            case "rollback":
                try noArguments(words)
                try session.rollback()
                if interactive { err.writeLine("rolled back") }
                return .ok
            case "lua":
                throw SelfServeError(
                    .usage,
                    "lua reads a chunk on the following lines, ended by a line holding only '.'"
                )
            case "help" where words.count == 2 && Self.builtins.contains(words[1]):
                out.writeLine(Self.builtinHelp.first { $0.0 == words[1] }?.1 ?? "")
                return .ok
            case "help" where words.count == 1:
                out.write(Renderer(format: .table).render(.text(try CommandParser.helpText([]))))
                out.writeLine("\nSHELL COMMANDS:")
                for (_, text) in Self.builtinHelp { out.writeLine("  " + text) }
                return .ok
            case "history":
                for (i, line) in history().enumerated() {
                    out.writeLine(String(format: "%5d  ", i + 1) + Sanitize.forDisplayKeepingNewlines(line))
                }
                return .ok
            default:
                return try runCommand(words)
            }
        } catch {
            var e = (error as? SelfServeError) ?? SelfServeError.invalid("\(error)")
            e.message = Self.shellHints(CardData.masked(e.message, words: words))
            return .failed(e, json: ErrorReport.wantsJSON(words, otherwise: format == .json || format == .ndjson))
        }
    }

    /// Hints as the shell (and a batch) takes them: `help user`, not `selfserve user --help`.
    static func shellHints(_ message: String) -> String {
        var lines: [String] = []
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            var l = String(line)
            for (prefix, suffix) in [("See 'selfserve ", "--help'."), ("Usage: selfserve ", "--help")]
            where l.hasPrefix(prefix) && l.hasSuffix(suffix) {
                let path = l.dropFirst(prefix.count).dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
                l = path.isEmpty ? "Type 'help' for the list of commands." : "See 'help \(path)'."
            }
            lines.append(l)
        }
        return lines.joined(separator: "\n")
    }

    func noArguments(_ words: [String]) throws {
        if words.count > 1 { throw SelfServeError(.usage, "\(words[0]) takes no arguments") }
    }

    func runCommand(_ words: [String]) throws -> Outcome {
        switch try CommandParser.parse(words) {
        case .help(let text): out.write(Renderer(format: format).render(.text(text)))
        case .command(let command): try execute(command)
        case .session: throw SelfServeError(.usage, CommandParser.missingSubcommand(words))
        }
        return .ok
    }

    /// Runs a parsed command and writes its result: stdout in its format, the note for people on stderr
    /// (in table mode, and always for `--dry-run`), the time when `timing` is on.
    public func execute(_ command: any SelfServeCommand) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let g = command.globals
        let chosen = g.requestedFormat ?? format
        let result = try session.execute(command, writer: writeStream)
        out.write(Renderer(format: chosen, width: out.terminalWidth, prettyJSON: out.isTerminal).render(result))
        if chosen == .table, case .list = result.shape, !result.streamed, result.value.arrayValue?.isEmpty == true {
            out.flush()
            err.writeLine("(0 rows)")
        }
        if let note = result.note, chosen == .table || g.dryRun {
            out.flush()
            err.writeLine(Sanitize.forDisplayKeepingNewlines(note))
        }
        if timing {
            out.flush()
            err.writeLine(String(format: "Time: %.3f ms", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6))
        }
        if let failure = result.failure {
            out.flush()
            throw failure
        }
    }
}
