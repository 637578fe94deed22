import ArgumentParser
import SelfServeCore

struct RunCommand: SelfServeCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a Lua automation script as the acting user.",
        discussion: "`arg` holds the arguments; ss.exec(word, …) runs a command and returns its result, raising {code, message} on failure. With --atomic nothing the script did is kept when it fails. Ctrl-C interrupts it.")
    static let access = DatabaseAccess.script
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "One transaction: any failure rolls back everything the script did.") var atomic = false
    @Option(help: "Instruction budget of the script (VM instructions).") var budget: Int64 = 1_000_000_000
    @Argument(help: "The script.") var script: String
    @Argument(parsing: .allUnrecognized, help: "Arguments for the script (arg[1], arg[2], …).") var arguments: [String] = []

    func execute(_ env: CommandEnvironment) throws -> CommandResult {
        guard let session = env as? Session else { throw SelfServeError(.usage, "run needs a session") }
        if session.scriptRunning { throw SelfServeError.conflict("a script cannot run another script") }
        let source = try env.readTextFile(script)
        let host = try ScriptHost(env: env, session: session, arguments: arguments, scriptName: script, budget: budget)
        session.scriptRunning = true
        defer { session.scriptRunning = false }
        // A dry run of a script is one transaction rolled back at its end: every ss.exec runs and sees
        // the effects of the ones before it, and nothing is kept.
        if globals.dryRun && !session.inTransaction {
            try session.beginDryRun()
            var failure: Error?
            do { try host.run(source, chunkName: "@" + script) } catch { failure = error }
            let note = session.endDryRun()
            if let failure {
                env.warn(note)
                throw failure
            }
            return .none(note: note)
        }
        let ownTransaction = (atomic || session.atomicRequested) && !session.inTransaction
        if ownTransaction { try session.begin() }
        do {
            try host.run(source, chunkName: "@" + script)
            if ownTransaction { try session.commit() }
        } catch {
            if ownTransaction { try? session.rollback() }
            throw error
        }
        return .init(.null, .none)
    }
}
