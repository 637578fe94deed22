/// An invoice for one billing profile and one billing period.
public struct Invoice: Hashable, Sendable {
    public enum Status: String, Sendable, Codable {
        case paid
        /// A charge on it failed; `invoice pay` settles it.
        case pastDue = "past_due"
        /// Its total is negative: money goes back to the buyer.
        case credit
    }

    public var id: String
    public var billingProfile: String
    public var date: Day
    public var periodStart: Day
    public var periodEnd: Day
    public var total: Money
    public var status: Status
    /// `charge` for the first invoice of a billing profile and day, `charge-2`, `charge-3`, … for the
    /// supplementary ones that carry charges arriving after it was issued (an issued invoice never
    /// changes).
    public var kind: String
    public var lines: [InvoiceLine]

    public init(
        id: String,
        billingProfile: String,
        date: Day,
        periodStart: Day,
        periodEnd: Day,
        total: Money,
        status: Status,
        kind: String,
        lines: [InvoiceLine]
    ) {
        self.id = id
        self.billingProfile = billingProfile
        self.date = date
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.total = total
        self.status = status
        self.kind = kind
        self.lines = lines
    }
}

public struct InvoiceLine: Hashable, Sendable {
    public var description: String
    public var subscription: String?
    public var quantity: Int
    public var unitPrice: Money
    public var amount: Money

    public init(description: String, subscription: String?, quantity: Int, unitPrice: Money, amount: Money) {
        self.description = description
        self.subscription = subscription
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.amount = amount
    }
}

/// An invoice as a document: its lines, the organization that issued it, and who is billed.
public struct InvoiceDocument: Sendable {
    public var invoice: Invoice
    public var organization: Organization
    public var billedTo: User

    public init(invoice: Invoice, organization: Organization, billedTo: User) {
        self.invoice = invoice
        self.organization = organization
        self.billedTo = billedTo
    }
}
