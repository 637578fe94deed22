import ArgumentParser
import Foundation
import SelfServeCommands
import SelfServeCore

/// The process entry point: one-shot command, batch, or interactive shell.
public enum SelfServeMain {
    nonisolated(unsafe) private static var keptUntilExit: AnyObject?

    public static func run(_ arguments: [String], backends: Backends = .standard) -> Int32 {
        LiveValues.backends = backends
        let out = OutputStream.standardOutput
        let err = OutputStream.standardError
        defer {
            out.flush()
            err.flush()
        }
        let wantsJSON = ErrorReport.wantsJSON(arguments)
        /// Reports an error as every front end does; the exit code is the error's.
        func fail(_ error: Error) -> Int32 {
            let e = (error as? SelfServeError) ?? .invalid("\(error)")
            out.flush()
            err.writeLine(ErrorReport.text(e, json: wantsJSON, words: arguments))
            return e.exitCode
        }
        let parsed: CommandParser.Parsed
        do {
            parsed = try CommandParser.parse(arguments, from: .processArguments)
        } catch {
            return fail(error)
        }
        let stdinIsTerminal = Terminal.stdinIsTerminal
        switch parsed {
        case .help(let text):
            out.writeLine(text)
            return 0
        case .command(let command):
            let g = command.globals
            let session = makeSession(g, interactive: stdinIsTerminal, backends: backends)
            session.atomicRequested = arguments.contains("--atomic")
            let interpreter = Interpreter(
                session: session,
                format: g.requestedFormat ?? .table,
                interactive: stdinIsTerminal
            )
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
                return fail(error)
            }
        case .session(let root):
            let g = root.globals
            if root.file != nil || !stdinIsTerminal {
                let name = root.file ?? "-"
                if root.resume && name == "-" {
                    return fail(
                        SelfServeError(.usage, "--resume needs a batch file (-f FILE): stdin cannot be read again")
                    )
                }
                let reader: LineReader
                if name == "-" {
                    reader = LineReader(fd: 0)
                } else {
                    guard let data = FileManager.default.contents(atPath: name) else {
                        let reason =
                            FileManager.default.fileExists(atPath: name)
                            ? "cannot read it (permission denied)" : "no such file"
                        return fail(SelfServeError.notFound("\(name): \(reason)"))
                    }
                    reader = LineReader(bytes: Array(data))
                }
                let session = makeSession(g, interactive: false, backends: backends)
                let interpreter = Interpreter(session: session, format: g.requestedFormat ?? .table, interactive: false)
                return BatchRunner(
                    interpreter: interpreter,
                    name: name,
                    bail: root.bail,
                    atomic: root.atomic,
                    dryRun: g.dryRun,
                    file: name == "-" ? nil : Paths.absolute(name),
                    resume: root.resume,
                    lines: { try reader.next() }
                ).run()
            }
            if root.bail || root.atomic || root.resume {
                return fail(
                    SelfServeError(.usage, "--bail and --atomic apply to batches: give -f FILE or commands on stdin")
                )
            }
            let session = makeSession(g, interactive: true, backends: backends)
            let interpreter = Interpreter(session: session, format: g.requestedFormat ?? .table, interactive: true)
            return InteractiveShell(interpreter: interpreter).run()
        }
    }

    static func makeSession(_ g: GlobalOptions, interactive: Bool, backends: Backends) -> Session {
        let session = Session(
            databasePath: g.db,
            actingUser: g.actingUser,
            isInteractive: interactive,
            backends: backends
        )
        session.secretReader = { try Terminal.readSecret(prompt: $0) }
        session.confirmer = { Terminal.confirm($0) }
        // `--card-stdin` typed on a terminal: the lines are secrets, read without echo.
        if Terminal.stdinIsTerminal { session.stdinLines = { try? Terminal.readSecret(prompt: "") } }
        session.output = { OutputStream.standardOutput.writeLine($0) }
        session.errorOutput = {
            OutputStream.standardOutput.flush()
            OutputStream.standardError.writeLine($0)
            OutputStream.standardError.flush()
        }
        return session
    }
}
