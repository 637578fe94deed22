/// A charge or credit that is due but not yet on an invoice.
///
/// Charges are made when their event happens (a purchase, a renewal reached by settlement, a license
/// change, an early cancellation), dated the day it was due; the billing run turns them into
/// invoices. So what is charged never depends on when the run happens, only when it is invoiced.
public struct PendingCharge: Hashable, Sendable {
    public var billingProfile: String
    /// The day the charge was due: the invoice's date.
    public var day: Day
    /// The end of the period the line pays for, for the invoice's period.
    public var periodEnd: Day
    public var line: InvoiceLine
    /// The payment method had expired or been removed on `day`: the invoice will be `past_due`.
    public var failed: Bool

    public init(billingProfile: String, day: Day, periodEnd: Day, line: InvoiceLine, failed: Bool = false) {
        self.billingProfile = billingProfile
        self.day = day
        self.periodEnd = periodEnd
        self.line = line
        self.failed = failed
    }
}
