import ArgumentParser
import Foundation
import SelfServeCore

struct BillingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Billing accounts, profiles, and the billing run.",
        subcommands: [BillingAccountCommand.self, BillingProfileCommand.self, BillingRun.self, BillingForecast.self]
    )
}

struct BillingAccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Your billing accounts.",
        subcommands: [BillingAccountList.self]
    )
}

struct BillingAccountList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "list",
        abstract: "List your billing accounts."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listBillingAccounts(), columns: Shapes.Columns.billingAccount)
    }
}

struct BillingProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Your billing profiles: who is invoiced, which card pays.",
        subcommands: [BillingProfileList.self, BillingProfileShow.self, BillingProfileSetPaymentMethod.self]
    )
}

struct BillingProfileList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "list",
        abstract: "List your billing profiles."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("Only this billing account's.", valueName: "ba")) var account: String?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(try ctx.listBillingProfiles(account: account), columns: Shapes.Columns.billingProfile)
    }
}

struct BillingProfileShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show a billing profile and the subscriptions it pays for."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Billing profile id.", completion: .billingProfileIds) var profile: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.showBillingProfile(profile))
    }
}

struct BillingProfileSetPaymentMethod: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "set-payment-method",
        abstract: "Set the card that pays for a profile (edit: the same card; replace: another)."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Billing profile id.", completion: .billingProfileIds) var profile: String
    @Argument(help: "Payment method id.", completion: .paymentMethodIds) var paymentMethod: String
    var auditSubject: (action: String, target: String)? { ("billing.profile.set_payment_method", profile) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.setProfilePaymentMethod(profile, paymentMethod))
    }
}

struct BillingRun: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "run",
        abstract: "Process everything due up to now: renewals, prorations, trial ends, expiry.",
        discussion:
            "For the whole organization; needs no acting user and is audited as system. Idempotent: a second run creates nothing. Run it from cron."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    var auditSubject: (action: String, target: String)? { ("billing.run", "organization") }
    static let needsActor = false
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        // On a server, charging the whole organization is the billing role's, whoever else one is.
        if case .proven(let role, _, let billing) = env.databaseIdentity, !billing {
            throw SelfServeError.forbidden(
                "billing run needs a login role granted selfserve_billing; \(role) is not"
            )
        }
        _ = try ctx.organizationOrFail()
        let system = ctx.acting(as: nil)
        var report = try system.settleDue()
        let date = report.date
        // The invoices stream as they are issued, inside the run's transaction: a year of catch-up
        // makes more of them than memory should hold.
        let note = { (n: Int) in "billing run for \(date): \(n) invoice\(n == 1 ? "" : "s")" }
        var result = CommandResult.streaming(
            report.shape,
            field: "invoices",
            columns: Shapes.Columns.invoice,
            note: note
        ) { row in
            try system.issueInvoices(&report) { try row(Shapes.invoice($0, lines: false)) }
            ctx.absorb(system)
        }
        let failed = report.failures
        if !failed.isEmpty {
            let each = failed.map { "\($0.subscription): \($0.message)" }
            result.failure = .invalid(
                "the billing run could not process \(failed.count) subscription\(failed.count == 1 ? "" : "s") (every other one was processed): \(each.joined(separator: "; "))"
            )
        }
        return result
    }
}

struct BillingForecast: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "forecast",
        abstract: "Your coming charges, per subscription and day.",
        discussion:
            "Computed by the billing run's own steps, run ahead and rolled back: renewals, trial conversions and the credits of cancellations, as a later 'billing run' will invoice them if nothing changes. Default: the next 12 months."
    )
    static let access = DatabaseAccess.write
    static let alwaysRollsBack = true
    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("Up to this day (YYYY-MM-DD), inclusive.", valueName: "date")) var until: String?
    @Option(help: ArgumentHelp("Only this subscription of yours.", valueName: "sub"), completion: .subscriptionIds)
    var subscription: String?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let lines = try ctx.billingForecast(
            until: try until.map { try Day.parse($0, option: "--until") },
            subscription: subscription
        )
        return .list(.array(lines.map(\.shape)), columns: Shapes.Columns.forecast)
    }
}

struct InvoiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice",
        abstract: "Your invoices.",
        subcommands: [InvoiceList.self, InvoiceShow.self, InvoicePay.self, InvoiceExport.self]
    )
}

struct InvoicePay: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "pay",
        abstract: "Pay a past_due invoice; its subscriptions are active again.",
        discussion:
            "With the billing profile's card, or the one given (which then also pays what follows for subscriptions whose card cannot)."
    )
    static let access = DatabaseAccess.write
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Invoice id.", completion: .invoiceIds) var invoice: String
    @Option(
        name: .customLong("payment-method"),
        help: ArgumentHelp("Pay with this card of yours.", valueName: "pm"),
        completion: .paymentMethodIds
    ) var paymentMethod: String?
    var auditSubject: (action: String, target: String)? { ("invoice.pay", invoice) }
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.payInvoice(invoice, paymentMethod: paymentMethod))
    }
}

struct InvoiceList: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "list",
        abstract: "List invoices, newest first."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Option(help: "3m or 6m: the last 3 or 6 months.") var last: String?
    @Option(help: ArgumentHelp("From this day (YYYY-MM-DD), inclusive.", valueName: "date")) var from: String?
    @Option(help: ArgumentHelp("To this day (YYYY-MM-DD), inclusive.", valueName: "date")) var to: String?
    @Option(help: ArgumentHelp("Only this billing profile's.", valueName: "bp"), completion: .billingProfileIds)
    var profile: String?
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .list(
            try ctx.listInvoices(
                last: last,
                from: try from.map { try Day.parse($0, option: "--from") },
                to: try to.map { try Day.parse($0, option: "--to") },
                profile: profile
            ),
            columns: Shapes.Columns.invoice
        )
    }
}

struct InvoiceShow: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "show",
        abstract: "Show an invoice with its lines."
    )
    static let access = DatabaseAccess.read
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Invoice id.", completion: .invoiceIds) var invoice: String
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        .object(try ctx.showInvoice(invoice))
    }
}

struct InvoiceExport: SelfServeCommand {
    static let leafConfiguration = CommandConfiguration.leaf(
        commandName: "export",
        abstract: "Export an invoice as CSV, JSON or printable HTML.",
        discussion:
            "The file's format is --format, else the extension of --out (.csv, .json, .html), else CSV; --json shapes only the receipt. A new file is created 0600; an existing one is replaced only with --force; a symbolic link, FIFO or device never is. --out - writes to stdout."
    )
    static let access = DatabaseAccess.read
    static let acceptsHTML = true
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Invoice id.", completion: .invoiceIds) var invoice: String
    @Option(
        help: ArgumentHelp("Write to this file instead of stdout (- for stdout).", valueName: "file"),
        completion: .file()
    ) var out: String?
    @Flag(help: "Replace the file named by --out if it exists.") var force = false

    /// The file's format: `--format` names it; else the extension of `--out`; else CSV.
    func fileFormat() throws -> ExportFormat {
        if let f = globals.format {
            guard let format = ExportFormat(rawValue: f.rawValue) else {
                throw SelfServeError(.usage, "invoice export writes csv, json or html, not \(f.rawValue)")
            }
            return format
        }
        if let out, out != "-" {
            switch (out as NSString).pathExtension.lowercased() {
            case "json": return .json
            case "html", "htm": return .html
            default: return .csv
            }
        }
        return .csv
    }

    /// The document goes to stdout, or — once the command's transaction has ended — to the file, which
    /// the executor writes (`CommandResult.file`; not under `--dry-run`).
    func execute(_ ctx: CommandContext, _ env: CommandEnvironment) throws -> CommandResult {
        let format = try fileFormat()
        let text = format.render(try ctx.invoiceDocument(invoice))
        guard let out, out != "-" else { return .text(text) }
        var result = CommandResult(
            .object([
                ("invoice", .string(invoice)), ("file", .string(out)), ("format", .string(format.rawValue)),
                ("bytes", PlainValue(text.utf8.count)),
            ]),
            .none,
            note: "wrote \(out) (\(format.rawValue))"
        )
        result.file = CommandResult.File(path: out, text: text, replace: force)
        return result
    }
}
