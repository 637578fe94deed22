/// Whether people may buy a product themselves: the values of MSCommerce's `AllowSelfServicePurchase`.
public enum SelfServicePolicy: String, Sendable, Codable, CaseIterable {
    case enabled
    case disabled
    /// `OnlyTrialsWithoutPaymentMethod`.
    case trialsOnly = "trials_only"

    /// Accepts the spellings people type: `trials-only`, `trials_only`, and MSCommerce's own names.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "enabled": self = .enabled
        case "disabled": self = .disabled
        case "trials-only", "trials_only", "trialsonly", "onlytrialswithoutpaymentmethod": self = .trialsOnly
        default: return nil
        }
    }
}

/// How long one billing period of a subscription is.
public enum Term: String, Sendable, Codable, CaseIterable {
    case monthly
    case annual

    public var months: Int { self == .monthly ? 1 : 12 }
}

/// A product people can buy licenses of. `unitPrice` is the list price per license per month.
public struct Product: Hashable, Sendable {
    public var id: String
    public var name: String
    public var unitPrice: Money
    public var term: Term
    public var trialDays: Int
    public var trialLicenses: Int
    public var selfService: SelfServicePolicy

    public init(
        id: String,
        name: String,
        unitPrice: Money,
        term: Term,
        trialDays: Int,
        trialLicenses: Int,
        selfService: SelfServicePolicy = .enabled
    ) {
        self.id = id
        self.name = name
        self.unitPrice = unitPrice
        self.term = term
        self.trialDays = trialDays
        self.trialLicenses = trialLicenses
        self.selfService = selfService
    }

    public var hasTrial: Bool { trialDays > 0 && trialLicenses > 0 }

    /// Product ids are what people type: lower-case words joined by dashes.
    public static func validateId(_ id: String) throws {
        guard (1...64).contains(id.count),
            id.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }),
            id.first != "-"
        else {
            throw SelfServeError.invalid(
                "product id '\(Sanitize.forDisplay(id))' must be 1-64 characters of a-z, 0-9, '-' and '_'"
            )
        }
    }
}

/// The built-in catalog loaded by `init`: real self-service products with their US list prices per
/// license per month. Prices change; admins update them with `product import`.
public enum BuiltinCatalog {
    public static let products: [Product] = [
        p("power-bi-pro", "Power BI Pro", "14.00", .monthly, 30, 25),
        p("power-bi-premium-per-user", "Power BI Premium Per User", "24.00", .monthly, 30, 25),
        p("power-apps-premium", "Power Apps Premium", "20.00", .monthly, 30, 25),
        p("power-automate-premium", "Power Automate Premium", "15.00", .monthly, 30, 25),
        p("visio-plan-1", "Visio Plan 1", "5.00", .annual, 30, 25),
        p("visio-plan-2", "Visio Plan 2", "15.00", .annual, 30, 25),
        p("project-plan-1", "Project Plan 1", "10.00", .monthly, 30, 25),
        p("project-plan-3", "Project Plan 3", "30.00", .monthly, 30, 25),
        p("project-plan-5", "Project Plan 5", "55.00", .monthly, 0, 0),
        p("teams-premium", "Microsoft Teams Premium", "10.00", .monthly, 30, 25),
        p("teams-essentials", "Microsoft Teams Essentials", "4.00", .monthly, 0, 0),
        p("microsoft-365-copilot", "Microsoft 365 Copilot", "30.00", .annual, 0, 0),
        p("windows-365-business", "Windows 365 Business", "31.00", .monthly, 0, 0),
        p("dynamics-365-sales-professional", "Dynamics 365 Sales Professional", "65.00", .monthly, 30, 25),
    ]

    private static func p(
        _ id: String,
        _ name: String,
        _ price: String,
        _ term: Term,
        _ days: Int,
        _ licenses: Int
    ) -> Product {
        Product(
            id: id,
            name: name,
            unitPrice: Money(decimal: price)!,
            term: term,
            trialDays: days,
            trialLicenses: licenses
        )
    }
}
