import ArgumentParser
import SelfServeCore

struct SubscriptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscription",
        abstract: "Your self-service purchases.",
        subcommands: [
            SubscriptionBuy.self, SubscriptionList.self, SubscriptionShow.self, SubscriptionSetLicenses.self,
            SubscriptionCancel.self, SubscriptionReasons.self,
        ]
    )
}

struct SubscriptionBuy: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "buy",
        abstract: "Buy a subscription and pay with a card.",
        discussion:
            "Uses your default billing profile (created on your first purchase) and its payment method, or --payment-method."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Product id or name.", completion: .productIds) var product: String
    @Option(help: "How many licenses.") var licenses: Int
    @Option(help: "monthly or annual (default: the product's).") var term: Term?
    @Option(
        name: .customLong("payment-method"),
        help: ArgumentHelp("Pay with this card.", valueName: "pm"),
        completion: .paymentMethodIds
    ) var paymentMethod: String?

    var auditSubject: (action: String, target: String)? { ("subscription.buy", product) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let sub = try ctx.buy(product: product, licenses: licenses, term: term, paymentMethod: paymentMethod)
        let id = sub.subscription.id
        return .created(
            Shapes.subscription(sub, assigned: []),
            id: id,
            note: "bought \(licenses) license\(licenses == 1 ? "" : "s") of \(sub.productName): \(id)"
        )
    }
}

struct SubscriptionList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(commandName: "list", abstract: "List your subscriptions.")
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Flag(name: .customLong("self-service"), help: "Only self-service purchases (all of selfserve's are).")
    var selfService = false
    @Option(help: "trial, active, canceled, expired, disabled or deleted.") var status: Subscription.Status?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listSubscriptions(status: status), columns: Shapes.Columns.subscription)
    }
}

struct SubscriptionShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show a subscription with its assigned users."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.showSubscription(subscription))
    }
}

struct SubscriptionSetLicenses: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "set-licenses",
        abstract: "Set the total number of licenses (e.g. 100 → 105).",
        discussion: "The new total, not a difference. It cannot go below the number assigned."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    @Argument(help: "The new total.") var total: Int
    var auditSubject: (action: String, target: String)? { ("subscription.set_licenses", subscription) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.setLicenses(subscription, total: total))
    }
}

struct SubscriptionCancel: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "cancel",
        abstract: "Cancel a subscription with a reason.",
        discussion:
            "It will not renew; licenses stay usable until it expires. Within 7 days of purchase or renewal it is disabled at once and the unused days are credited."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    @Option(help: "A code from 'subscription reasons'.", completion: .cancellationReasons) var reason: String
    @Option(help: "Why, in your words (required for some reasons).") var comment: String?
    var auditSubject: (action: String, target: String)? { ("subscription.cancel", subscription) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.cancel(subscription, reason: reason, comment: comment))
    }
}

struct SubscriptionReasons: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "reasons",
        abstract: "List the cancellation reasons (built-in and plugins')."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(.array(try ctx.cancellationReasons().map(Shapes.reason)), columns: Shapes.Columns.reason)
    }
}

struct TrialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial",
        abstract: "Free trials.",
        subcommands: [TrialStart.self, TrialConvert.self]
    )
}

struct TrialStart: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "start",
        abstract: "Start a trial of a product (one per product per person).",
        discussion:
            "For an enabled product a payment method is required and the trial converts to paid at its end; for a trials-only product none is taken and the trial expires."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Product id or name.", completion: .productIds) var product: String
    @Option(
        name: .customLong("payment-method"),
        help: ArgumentHelp("The card to pay with after the trial.", valueName: "pm"),
        completion: .paymentMethodIds
    ) var paymentMethod: String?
    var auditSubject: (action: String, target: String)? { ("trial.start", product) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let sub = try ctx.startTrial(product: product, paymentMethod: paymentMethod)
        let id = sub.subscription.id
        return .created(
            Shapes.subscription(sub, assigned: []),
            id: id,
            note: "trial of \(sub.productName) until \(sub.subscription.expires): \(id)"
        )
    }
}

struct TrialConvert: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "convert",
        abstract: "Convert a trial to a paid subscription now."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id of the trial.", completion: .subscriptionIds) var subscription: String
    @Option(help: "Licenses of the paid subscription (default: the trial's).") var licenses: Int?
    @Option(
        name: .customLong("payment-method"),
        help: ArgumentHelp("The card to pay with.", valueName: "pm"),
        completion: .paymentMethodIds
    ) var paymentMethod: String?
    var auditSubject: (action: String, target: String)? { ("trial.convert", subscription) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.convertTrial(subscription, licenses: licenses, paymentMethod: paymentMethod))
    }
}

struct LicenseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "license",
        abstract: "Give licenses to colleagues and take them back.",
        subcommands: [LicenseAssign.self, LicenseUnassign.self, LicenseList.self]
    )
}

struct LicenseAssign: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "assign",
        abstract: "Give licenses to up to 20 members at a time.",
        discussion:
            "All or nothing: if any user is unknown, a guest, blocked, or licenses are short, nothing is assigned and every problem is listed. Users who already hold one are skipped."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    @Argument(help: "E-mails of members.", completion: .emails) var emails: [String] = []
    var auditSubject: (action: String, target: String)? { ("license.assign", subscription) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let r = try ctx.assign(subscription, emails: emails)
        let skipped = r["skipped"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return .init(
            r,
            .object,
            note: skipped.isEmpty ? nil : "skipped (already assigned): \(skipped.joined(separator: ", "))"
        )
    }
}

struct LicenseUnassign: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "unassign",
        abstract: "Take licenses back.",
        discussion: "Asks for confirmation on a terminal; without one, --yes is required."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    @Argument(help: "E-mails.", completion: .emails) var emails: [String] = []
    @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.") var yes = false
    var auditSubject: (action: String, target: String)? { ("license.unassign", subscription) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        if !yes && !globals.dryRun {
            guard env.isInteractive else {
                throw SelfServeError(.usage, "license unassign needs --yes when there is no terminal to confirm on")
            }
            guard env.confirm("Take the license of \(subscription) from \(emails.joined(separator: ", "))?") else {
                throw SelfServeError.conflict("not confirmed; nothing unassigned")
            }
        }
        return .object(try ctx.unassign(subscription, emails: emails))
    }
}

struct LicenseList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "list",
        abstract: "List who holds a license of a subscription."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listLicenses(subscription), columns: Shapes.Columns.assignment)
    }
}

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "The admins' read-only view of every self-service purchase, and taking one over.",
        subcommands: [AdminPurchases.self, AdminPurchase.self, AdminTakeOver.self]
    )
}

struct AdminPurchases: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "purchases",
        abstract: "List every self-service purchase (admins)."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("Only this product.", valueName: "product"), completion: .productIds) var product:
        String?
    @Option(help: ArgumentHelp("Only this buyer.", valueName: "email"), completion: .emails) var buyer: String?
    @Option(help: "Only this status.") var status: Subscription.Status?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        // Streamed: 100,000 purchases go out row by row, never held in memory together.
        .streaming(
            columns: Shapes.Columns.purchase,
            try ctx.purchaseRows(product: product, buyer: buyer, status: status)
        )
    }
}

struct AdminTakeOver: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "take-over",
        abstract: "Take over someone's subscription: move its users to one of yours, or cancel it (admins).",
        discussion:
            "Either way it is deleted at once and its buyer is credited the unused days of the paid period, as for an early cancellation. Moving is all or nothing: your subscription needs enough available licenses. Plugins may refuse it (before_take_over) and hear subscription.taken_over."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The subscription to take over.", completion: .subscriptionIds) var subscription: String
    @Option(
        name: .customLong("move-to"),
        help: ArgumentHelp("Move every assigned user to this subscription of yours.", valueName: "sub"),
        completion: .subscriptionIds
    )
    var moveTo: String?
    @Flag(help: "Cancel it instead (with --reason).") var cancel = false
    @Option(help: "With --cancel: a code from 'subscription reasons'.", completion: .cancellationReasons) var reason:
        String?
    @Option(help: "With --cancel: why, in your words.") var comment: String?
    var auditSubject: (action: String, target: String)? { ("admin.take_over", subscription) }

    func validate() throws {
        switch (moveTo, cancel) {
        case (nil, false): throw ValidationError("say what happens to it: --move-to SUB2, or --cancel --reason CODE")
        case (.some, true): throw ValidationError("--move-to and --cancel exclude each other")
        case (nil, true) where reason == nil:
            throw ValidationError("--cancel needs --reason CODE (see 'subscription reasons')")
        case (.some, false) where reason != nil || comment != nil:
            throw ValidationError("--reason and --comment go with --cancel")
        default: break
        }
    }

    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let action: CommandContext.TakeOver =
            moveTo.map { .moveTo($0) } ?? .cancel(reason: reason ?? "", comment: comment)
        let report = try ctx.takeOver(subscription, action)
        let what =
            report.movedTo.map { "moved \(report.moved.count) user\(report.moved.count == 1 ? "" : "s") to \($0)" }
            ?? "canceled"
        return .init(
            report.shape,
            .object,
            note:
                "took over \(report.subscription) from \(report.buyer): \(what); credit \(report.credit.decimalString) \(report.credit.currency)"
        )
    }
}

struct AdminPurchase: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "purchase",
        abstract: "Show one purchase with its assigned users (admins)."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Subscription id.", completion: .subscriptionIds) var subscription: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.adminPurchase(subscription))
    }
}
