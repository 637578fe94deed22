import ArgumentParser
import Foundation
import SelfServeCore

/// `init`: creates the database, the organization, its first admin and the built-in catalog.
struct InitCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "init",
        abstract: "Create the database for an organization.",
        discussion:
            "The database file is created with mode 0600. An existing file that is not an empty selfserve database is never overwritten."
    )
    static let access = DatabaseAccess.create

    @OptionGroup var globals: GlobalOptions
    @Option(help: "The organization's name.") var org: String
    @Option(help: ArgumentHelp("The first admin's e-mail.", valueName: "email")) var admin: String
    @Option(name: .customLong("admin-name"), help: "The first admin's display name.") var adminName: String?
    @Option(help: "global, or china for an organization operated by 21Vianet.") var cloud: Organization.Cloud = .global
    @Flag(help: "Add sample users, purchases, trials and invoices (a test-clock organization).") var demo = false
    @Flag(
        name: .customLong("test-clock"),
        help: "A test organization: SELFSERVE_NOW applies to writes too, not only to reads and --dry-run."
    )
    var testClock = false

    var auditSubject: (action: String, target: String)? { ("org.init", org) }
    var createsTestClock: Bool { testClock || demo }

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        var key = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in key.indices { key[i] = rng.next() }
        // The first admin is the actor of everything init does, whoever runs it.
        let first = ctx.acting(as: try Email.normalize(admin))
        var value = try first.initialize(
            orgName: org,
            adminEmail: admin,
            adminName: adminName,
            cloud: cloud,
            fingerprintKey: key,
            testClock: createsTestClock
        )
        if demo {
            try DemoData.populate(first)
            value = try first.orgShow()
        }
        ctx.absorb(first)
        return .init(value, .object, note: "created \(env.databasePath)")
    }
}

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "The organization.",
        subcommands: [OrgShow.self]
    )
}

struct OrgShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show the organization: name, cloud, admin portal, counts."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.orgShow())
    }
}

struct LoginCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "login",
        abstract: "Remember who you act as for this database.",
        discussion: "This asserts an identity; it is not authentication. --as and SELFSERVE_USER still take precedence."
    )
    static let access = DatabaseAccess.read
    static let changesActingUser = true
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "A user of the organization.", completion: .emails) var email: String

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let user = try ctx.existingUser(email)
        guard user.status == .active else { throw SelfServeError.forbidden("\(user.email) is blocked") }
        // On a server the login role decides who acts: saving anyone else would be a lie.
        if case .proven(let role, let proven, _) = env.databaseIdentity, proven != user.email {
            throw SelfServeError.forbidden(
                "the login role \(role) is \(proven ?? "no user of this organization") on this database; login as \(user.email) is refused: the database decides who you are"
            )
        }
        try env.logins.save(user.email, for: env.databasePath)
        // --as and SELFSERVE_USER take precedence over the saved login: say who acts, not only who was saved.
        let acting = ctx.actorEmail.map { $0.lowercased() }
        let note =
            acting == nil || acting == user.email
            ? "signed in as \(user.email)"
            : "saved \(user.email) for \(env.databasePath); this session still acts as \(acting!) (--as or SELFSERVE_USER takes precedence)"
        return .init(Shapes.user(user), .object, note: note)
    }
}

struct LogoutCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "logout",
        abstract: "Forget the user saved by login for this database."
    )
    static let access = DatabaseAccess.none
    static let changesActingUser = true
    @OptionGroup var globals: GlobalOptions

    func execute(_ env: CommandEnvironment) throws -> CommandResult {
        let who = env.logins.user(for: env.databasePath)
        try env.logins.save(nil, for: env.databasePath)
        return .init(
            .object([("signed_out", PlainValue(who))]),
            .none,
            note: who.map { "signed out \($0)" } ?? "nobody was signed in"
        )
    }
}

struct WhoamiCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "whoami", abstract: "Show the acting user.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult { .object(try ctx.whoami()) }
}

/// `copy --to TARGET`: the whole organization into a new file or an empty PostgreSQL database — how a
/// team moves up to a server (or back down to a file).
struct CopyCommand: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "copy",
        abstract: "Copy the whole organization to another database.",
        discussion: """
            TARGET is a new SQLite file or an empty PostgreSQL database (postgresql://…). Every row, invoice \
            and audit entry is copied in one transaction; the counts and invoice totals of both sides are \
            printed, and the copy is kept only when they match. The source is not changed.
            """
    )
    static let access = DatabaseAccess.read

    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("The database to copy to: a file path or a postgresql:// URI.", valueName: "target"))
    var to: String

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let admin = try ctx.admin("copy the organization")
        let copy = try env.copyOrganization(to: to, by: admin.email, commit: !globals.dryRun)
        // Under --dry-run the executor writes the note (what would have been done).
        let note = "copied \(copy.target.rows) rows to \(copy.target.database); counts and invoice totals match"
        var result = CommandResult(Shapes.organizationCopy(copy, kept: !globals.dryRun), .object, note: note)
        result.tableRows = Shapes.organizationCopyRows(copy)
        result.columns = ["item", "source", "target"]
        return result
    }
}
