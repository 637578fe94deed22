import ArgumentParser
import Foundation
import SelfServeCommands
import SelfServeCore

/// The process entry point: one-shot command, batch, or interactive shell.
public enum SelfServeMain {
    nonisolated(unsafe) private static var keptUntilExit: AnyObject?

    public static func run(_ arguments: [String]) -> Int32 {
        let out = OutputStream.standardOutput, err = OutputStream.standardError
        defer { out.flush(); err.flush() }
        let wantsJSON = ErrorReport.wantsJSON(arguments)
        let parsed: ParsableCommand
        if let help = try? CommandParser.helpRequest(arguments) {
            out.writeLine(help)
            return 0
        }
        if arguments.first == "help" {
            do { out.writeLine(try CommandParser.helpText(Array(arguments.dropFirst()))); return 0 } catch {
                err.writeLine(ErrorReport.text((error as? SelfServeError) ?? .invalid("\(error)"), json: wantsJSON, words: arguments))
                return 64
            }
        }
        do {
            parsed = try CommandParser.leafParse(arguments) ?? SelfServeRoot.parseAsRoot(arguments)
        } catch {
            if SelfServeRoot.exitCode(for: error) == .success {
                out.writeLine(SelfServeRoot.fullMessage(for: error))
                return 0
            }
            err.writeLine(ErrorReport.text(CommandParser.usageError(arguments, error), json: wantsJSON, words: arguments))
            return 64
        }
        let stdinIsTerminal = Terminal.stdinIsTerminal
        if let command = parsed as? any SelfServeCommand {
            let g = command.globals
            let session = makeSession(g, interactive: stdinIsTerminal)
            session.atomicRequested = arguments.contains("--atomic")
            let interpreter = Interpreter(session: session, format: g.requestedFormat ?? .table, interactive: stdinIsTerminal)
            // The process ends right after this command: close the database, but leave the objects to
            // the exit — tearing GRDB's queue down would start a libdispatch thread just to free it.
            defer {
                session.closeDatabase()
                keptUntilExit = interpreter
            }
            do {
                try interpreter.execute(command)
                return 0
            } catch {
                let e = (error as? SelfServeError) ?? .invalid("\(error)")
                out.flush()
                err.writeLine(ErrorReport.text(e, json: wantsJSON, words: arguments))
                return e.exitCode
            }
        }
        guard let root = parsed as? SelfServeRoot else {
            // A group without its subcommand (`selfserve user`) does nothing: a usage error naming the
            // subcommands, as in the shell and in batches (`selfserve user --help` shows the group's help).
            let message = CommandParser.missingSubcommand(arguments) + "\nSee 'selfserve \(CommandParser.walk(arguments).path.joined(separator: " ")) --help'."
            err.writeLine(ErrorReport.text(SelfServeError(.usage, message), json: wantsJSON, words: arguments))
            return 64
        }
        if parsed is SelfServeRoot, CommandParser.hasStrayWords(arguments) {
            err.writeLine(ErrorReport.text(SelfServeError(.usage, "unexpected arguments"), json: wantsJSON, words: arguments))
            return 64
        }
        let g = root.globals
        if root.file != nil || !stdinIsTerminal {
            let session = makeSession(g, interactive: false)
            let interpreter = Interpreter(session: session, format: g.requestedFormat ?? .table, interactive: false)
            let name = root.file ?? "-"
            let reader: LineReader
            if name == "-" {
                reader = LineReader(fd: 0)
            } else {
                guard let data = FileManager.default.contents(atPath: name) else {
                    let reason = FileManager.default.fileExists(atPath: name) ? "cannot read it (permission denied)" : "no such file"
                    err.writeLine(ErrorReport.text(SelfServeError.notFound("\(name): \(reason)"), json: wantsJSON, words: arguments))
                    return 1
                }
                reader = LineReader(bytes: Array(data))
            }
            return BatchRunner(interpreter: interpreter, name: name, bail: root.bail, atomic: root.atomic, dryRun: g.dryRun,
                               lines: { try reader.next() }).run()
        }
        if root.bail || root.atomic {
            err.writeLine(ErrorReport.text(SelfServeError(.usage, "--bail and --atomic apply to batches: give -f FILE or commands on stdin"), json: wantsJSON, words: arguments))
            return 64
        }
        let session = makeSession(g, interactive: true)
        let interpreter = Interpreter(session: session, format: g.requestedFormat ?? .table, interactive: true)
        return InteractiveShell(interpreter: interpreter).run()
    }

    static func makeSession(_ g: GlobalOptions, interactive: Bool) -> Session {
        let session = Session(databasePath: g.db, actingUser: g.actingUser, isInteractive: interactive)
        session.secretReader = { try Terminal.readSecret(prompt: $0) }
        session.confirmer = { Terminal.confirm($0) }
        // `--card-stdin` typed on a terminal: the lines are secrets, read without echo.
        if Terminal.stdinIsTerminal { session.stdinLines = { try? Terminal.readSecret(prompt: "") } }
        session.output = { OutputStream.standardOutput.writeLine($0) }
        session.errorOutput = { OutputStream.standardOutput.flush(); OutputStream.standardError.writeLine($0); OutputStream.standardError.flush() }
        return session
    }
}
