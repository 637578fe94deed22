import ArgumentParser
import SelfServeCore

struct ProductCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "product",
        abstract: "The catalog and each product's self-service policy.",
        subcommands: [ProductList.self, ProductShow.self, ProductImport.self, ProductPolicy.self]
    )
}

struct ProductList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "list", abstract: "List products.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Flag(name: .customLong("self-service"), help: "Only products people can buy or try themselves.") var selfService =
        false
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.organizationOrFail()
        return .list(try ctx.listProducts(selfServiceOnly: selfService), columns: Shapes.Columns.product)
    }
}

struct ProductShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show a product (by id or exact name)."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Product id or name.", completion: .productIds) var product: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(Shapes.product(try ctx.product(product)))
    }
}

struct ProductImport: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "import",
        abstract: "Add or update products from a JSON file (admins).",
        discussion: "A JSON array of {id, name, unit_price, currency, term, trial_days, trial_licenses, self_service}."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "JSON file, or - for stdin.", completion: .file(extensions: ["json"])) var file: String
    var auditSubject: (action: String, target: String)? { ("product.import", file) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        _ = try ctx.admin("import products")
        return .object(try ctx.importProducts(json: try env.readTextFile(file), file: file))
    }
}

struct ProductPolicy: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "policy",
        abstract: "Set whether people may buy a product themselves (admins).",
        discussion: "enabled: buy and try; trials-only: only trials without a payment method; disabled: neither."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Product id or name.", completion: .productIds) var product: String
    @Argument(help: "enabled, disabled or trials-only.") var policy: SelfServicePolicy
    var auditSubject: (action: String, target: String)? { ("product.policy", product) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.setProductPolicy(product, policy))
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log (admins).",
        subcommands: [AuditList.self]
    )
}

struct AuditList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "list",
        abstract: "List audit entries, oldest first."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("From this day on (YYYY-MM-DD).", valueName: "date")) var since: String?
    @Option(help: ArgumentHelp("Only this actor's entries (or system).", valueName: "email"), completion: .emails)
    var actor: String?
    @Option(help: ArgumentHelp("Only this action, or a prefix such as subscription.", valueName: "action")) var action:
        String?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .streaming(
            columns: Shapes.Columns.audit,
            try ctx.auditRows(
                since: try since.map { try Day.parse($0, option: "--since") },
                actor: actor,
                action: action
            )
        )
    }
}
