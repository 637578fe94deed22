import ArgumentParser
import SelfServeCore

struct PaymentMethodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payment-method",
        abstract: "Your cards. Only brand, last 4 digits, expiry, holder, address and a keyed fingerprint are kept.",
        subcommands: [
            PaymentMethodAdd.self, PaymentMethodList.self, PaymentMethodShow.self, PaymentMethodEdit.self,
            PaymentMethodRemove.self,
        ]
    )
}

/// Address options shared by `add` and `edit`.
struct AddressOptions: ParsableArguments {
    @Option(help: "Name on the card.") var holder: String?
    @Option(name: .customLong("address-line1"), help: "Billing address, first line.") var line1: String?
    @Option(name: .customLong("address-line2"), help: "Billing address, second line.") var line2: String?
    @Option(help: "City.") var city: String?
    @Option(name: .customLong("postal-code"), help: "Postal code.") var postalCode: String?
    @Option(help: "Country, two-letter ISO code.") var country: String?

    var details: CommandContext.CardDetails {
        .init(
            holder: holder,
            address: PostalAddress(line1: line1, line2: line2, city: city, postalCode: postalCode, country: country)
        )
    }
}

struct PaymentMethodAdd: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "add",
        abstract: "Add a card.",
        discussion:
            "The number, expiry (MM/YY) and security code are asked without echo, or read from stdin with --card-stdin (three lines). They are never stored, logged or written to history."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @OptionGroup var address: AddressOptions
    @Flag(name: .customLong("card-stdin"), help: "Read number, expiry and security code from stdin, one per line.")
    var cardStdin = false
    var auditSubject: (action: String, target: String)? { ("payment_method.add", "card") }

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        // The card lines are read first, whatever happens next: in a batch they must never be left
        // behind to be read as commands.
        let card: CardInput
        if cardStdin {
            guard let n = env.readStdinLine(), let e = env.readStdinLine(), let c = env.readStdinLine() else {
                throw SelfServeError(
                    .usage,
                    "--card-stdin needs three lines on stdin: card number, expiry (MM/YY), security code"
                )
            }
            card = CardInput(number: n, expiry: e, securityCode: c)
        } else {
            guard env.isInteractive else {
                throw SelfServeError(.usage, "no terminal to ask for the card on; pass --card-stdin")
            }
            _ = try ctx.actor()
            card = CardInput(
                number: try env.readSecret(prompt: "Card number: "),
                expiry: try env.readSecret(prompt: "Expiry (MM/YY): "),
                securityCode: try env.readSecret(prompt: "Security code: ")
            )
        }
        _ = try ctx.actor()
        let pm = try ctx.addPaymentMethod(card, address.details)
        return .created(
            try ctx.paymentMethodShape(pm),
            id: pm.id,
            note: "added \(pm.brand.rawValue) ending \(pm.last4): \(pm.id)"
        )
    }
}

struct PaymentMethodList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "list", abstract: "List your cards.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listPaymentMethods(), columns: Shapes.Columns.paymentMethod)
    }
}

struct PaymentMethodShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "show", abstract: "Show one card.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Payment method id.", completion: .paymentMethodIds) var paymentMethod: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.showPaymentMethod(paymentMethod))
    }
}

struct PaymentMethodEdit: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "edit",
        abstract: "Edit a card's expiry, holder or address.",
        discussion:
            "The security code is asked again to confirm the change (or read from stdin with --card-stdin: one line)."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Payment method id.", completion: .paymentMethodIds) var paymentMethod: String
    @Option(help: "New expiry, MM/YY.") var expiry: String?
    @OptionGroup var address: AddressOptions
    @Flag(name: .customLong("card-stdin"), help: "Read the security code from stdin.") var cardStdin = false
    var auditSubject: (action: String, target: String)? { ("payment_method.edit", paymentMethod) }

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let code: String
        if cardStdin {
            guard let c = env.readStdinLine() else {
                throw SelfServeError(.usage, "--card-stdin needs the security code on stdin")
            }
            code = c
            _ = try ctx.ownedPaymentMethod(paymentMethod)
        } else {
            _ = try ctx.ownedPaymentMethod(paymentMethod)
            guard env.isInteractive else {
                throw SelfServeError(.usage, "no terminal to ask for the security code on; pass --card-stdin")
            }
            code = try env.readSecret(prompt: "Security code: ")
        }
        return .object(try ctx.editPaymentMethod(paymentMethod, expiry: expiry, securityCode: code, address.details))
    }
}

struct PaymentMethodRemove: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "remove",
        abstract: "Remove a card no billing profile uses."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Payment method id.", completion: .paymentMethodIds) var paymentMethod: String
    var auditSubject: (action: String, target: String)? { ("payment_method.remove", paymentMethod) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.removePaymentMethod(paymentMethod))
    }
}
