import ArgumentParser
import SelfServeCore

/// The command tree: the one registry that the CLI, the shell, batch files and `ss.exec` all parse with.
public struct SelfServeRoot: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "selfserve",
        abstract: "Self-service purchases and trials of Microsoft 365-style subscriptions.",
        discussion: """
            With no command on a terminal, starts the interactive shell. With -f FILE (or commands on stdin),
            runs a batch: one command per line, exactly as typed in the shell.

            Exit codes: 0 success, 1 the command failed, 64 usage error, 77 permission denied or refused by a policy.
            Admin portal: https://admin.microsoft.com (21Vianet: https://portal.partner.microsoftonline.cn).
            """,
        version: "0.3.0",
        subcommands: SelfServeRoot.commandGroups
    )

    /// Every top-level command, in the order help lists them.
    public nonisolated(unsafe) static var commandGroups: [ParsableCommand.Type] = [
        InitCommand.self, OrgCommand.self, LoginCommand.self, LogoutCommand.self, WhoamiCommand.self,
        UserCommand.self, ProductCommand.self,
        SubscriptionCommand.self, TrialCommand.self, LicenseCommand.self, PaymentMethodCommand.self,
        BillingCommand.self, InvoiceCommand.self,
        AdminCommand.self, AuditCommand.self, PluginCommand.self, RunCommand.self, CopyCommand.self,
    ]

    @OptionGroup public var globals: GlobalOptions

    @Option(name: .customShort("f"), help: ArgumentHelp("Run the commands in FILE (- for stdin).", valueName: "file"))
    public var file: String?

    @Flag(help: "Batch: stop at the first failing command.")
    public var bail = false

    @Flag(help: "Batch or run: one transaction; any failure rolls all of it back.")
    public var atomic = false

    @Flag(
        help: "Batch file: skip the lines an earlier run of the same file (same line, same text, same user) committed."
    )
    public var resume = false

    public init() {}
}
