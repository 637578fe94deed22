import ArgumentParser
import SelfServeCore

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "The organization's people.",
        subcommands: [
            UserAdd.self, UserImport.self, UserList.self, UserShow.self, UserBlock.self, UserUnblock.self, UserMap.self,
        ]
    )
}

struct UserAdd: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "add", abstract: "Add a user (admins).")
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The user's e-mail.") var email: String
    @Option(help: "Display name.") var name: String
    @Flag(help: "A guest: cannot buy, cannot receive licenses.") var guest = false
    @Flag(help: "An admin.") var admin = false
    @Option(
        name: .customLong("db-role"),
        help: ArgumentHelp("On PostgreSQL: the login role that is this user (the DBA creates it).", valueName: "role")
    )
    var dbRole: String?

    var auditSubject: (action: String, target: String)? { ("user.add", email) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let user = try ctx.addUser(email: email, name: name, guest: guest, admin: admin, databaseRole: dbRole)
        return .created(Shapes.user(user), id: user.email)
    }
}

/// `user map EMAIL --db-role ROLE`: who a login role is, for users added before (or copied with
/// `copy --to`).
struct UserMap: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "map",
        abstract: "Map a user to their PostgreSQL login role (admins).",
        discussion:
            "On a PostgreSQL database the login role decides who acts. The DBA creates the role and grants it selfserve_user (selfserve_admin for admins); this says which user it is. A role maps to one user; mapping a user again replaces their role."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The user's e-mail.", completion: .emails) var email: String
    @Option(name: .customLong("db-role"), help: ArgumentHelp("The login role.", valueName: "role")) var dbRole: String

    var auditSubject: (action: String, target: String)? { ("user.map", email) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let (user, _) = try ctx.mapUser(email: email, databaseRole: dbRole)
        return .init(
            .object([("email", .string(user.email)), ("db_role", .string(dbRole.trimmed))]),
            .object,
            note: "\(user.email) is the login role \(dbRole.trimmed)"
        )
    }
}

struct UserImport: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "import",
        abstract: "Add users from a CSV file (admins).",
        discussion:
            "Header: email,name,kind,role. All or nothing: one bad line imports nothing, and every bad line is named."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "CSV file, or - for stdin.") var file: String

    var auditSubject: (action: String, target: String)? { ("user.import", file) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.admin("import users")
        let users = try ctx.importUsers(csv: try env.readTextFile(file), file: file)
        let value: PlainValue = .object([
            ("imported", PlainValue(users.count)), ("users", .array(users.map { .string($0.email) })),
        ])
        return .init(value, .object, note: "imported \(users.count) users")
    }
}

struct UserList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "list", abstract: "List users.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Guests only.") var guests = false
    @Flag(help: "Members only.") var members = false

    func validate() throws {
        if guests && members { throw ValidationError("--guests and --members exclude each other") }
    }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listUsers(kind: guests ? .guest : members ? .member : nil), columns: Shapes.Columns.user)
    }
}

struct UserShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "show", abstract: "Show one user.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "E-mail.", completion: .emails) var email: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.showUser(email))
    }
}

struct UserBlock: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "block",
        abstract: "Block a user (admins): no more acting, buying or receiving licenses."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "E-mail.", completion: .emails) var email: String
    var auditSubject: (action: String, target: String)? { ("user.block", email) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.setUserStatus(email, .blocked))
    }
}

struct UserUnblock: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "unblock",
        abstract: "Unblock a user (admins)."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "E-mail.", completion: .emails) var email: String
    var auditSubject: (action: String, target: String)? { ("user.unblock", email) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.setUserStatus(email, .active))
    }
}
