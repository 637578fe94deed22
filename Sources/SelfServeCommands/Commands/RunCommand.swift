import ArgumentParser
import SelfServeCore

struct RunCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "run",
        abstract: "Run a Lua automation script as the acting user.",
        discussion:
            "`arg` holds the arguments; ss.exec(word, …) runs a command and returns its result, raising {code, message} on failure. With --atomic nothing the script did is kept when it fails. Ctrl-C interrupts it."
    )
    static let access = DatabaseAccess.script
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "One transaction: any failure rolls back everything the script did.") var atomic = false
    @Option(help: "Instruction budget of the script (VM instructions).") var budget: Int64 = 1_000_000_000
    @Argument(help: "The script.", completion: .file(extensions: ["lua"])) var script: String
    @Argument(parsing: .allUnrecognized, help: "Arguments for the script (arg[1], arg[2], …).") var arguments:
        [String] = []

    /// The executor gives the script its transaction (`--atomic`, `--dry-run`); each `ss.exec` is a
    /// command of its own through the same executor.
    func execute(_ env: CommandEnvironment) throws -> CommandResult {
        let source = try env.readTextFile(script)
        let host = try ScriptHost(env: env, arguments: arguments, scriptName: script, budget: budget)
        try host.run(source, chunkName: "@" + script)
        return .init(.null, .none)
    }
}
