/// `billing run`, and the settlement that every change to a subscription does first.
///
/// Billing is a function of the calendar, not of when the run happens:
/// - every charge is made when its event happens and is dated the day it was due (a purchase or
///   trial conversion charges its first period, a renewal its period, a license change its proration,
///   an early cancellation its credit); the run only turns those charges into invoices;
/// - a subscription's renewals, trial end and lifecycle steps are processed by `settle`, one step at
///   a time, each decided as of its own day. Every command that changes a subscription, or anything
///   a step depends on (its card, its billing profile's card, its product's policy), settles the
///   subscriptions concerned first. So the state a step is decided on is the state that held on the
///   day it was due, whether the run comes daily, weekly or after a year.
///
/// Money rule: a period's charge is unit price × months of the term × licenses. A license change is
/// prorated by days: unit price × months × change × days left (the change day included) ÷ days of
/// the period, rounded to the cent half away from zero, one line per change (negative for a
/// decrease). A cancellation within 7 days of the period's start credits the unused days likewise.
/// What one `billing run` did. The invoices it made are not kept: a year of catch-up makes one per
/// profile and day, far more than memory should hold; they stream to whoever asked as they are issued.
public struct BillingRunReport: Sendable {
    public var date: Day
    /// How many steps of each kind were processed (`renewed`, `trial_converted`, …), by name.
    public var steps: [(String, Int)]
    /// Subscriptions that could not be processed, with why; every other one was.
    public var failures: [(subscription: String, message: String)]
    /// How many invoices the run issued (once it has issued them).
    public var invoices = 0

    /// The JSON of `billing run` without its `invoices`, which stream after it.
    public var shape: PlainValue {
        var result: [(String, PlainValue)] = [("date", PlainValue(date))]
        result += steps.map { ($0.0, PlainValue($0.1)) }
        if !failures.isEmpty {
            result.append(
                (
                    "failed",
                    .array(
                        failures.map {
                            .object([("subscription", .string($0.subscription)), ("error", .string($0.message))])
                        }
                    )
                )
            )
        }
        return .object(result)
    }
}

extension CommandContext {
    /// The whole run: `settleDue`, then `issueInvoices`, each invoice handed to `each` as it is made.
    @discardableResult
    public func billingRun(_ each: (Invoice) throws -> Void = { _ in }) throws -> BillingRunReport {
        var report = try settleDue()
        try issueInvoices(&report, each)
        return report
    }

    /// The run's first half: every subscription's steps due up to today. A subscription that cannot
    /// be processed is rolled back to before its first step and reported; every other one is still
    /// processed.
    public func settleDue() throws -> BillingRunReport {
        var counts: [String: Int] = [:]
        var failed: [(subscription: String, message: String)] = []
        // A page at a time, by id: memory stays that of one page however large the organization. A
        // settled subscription's next step moves past today; one that failed stays behind the cursor.
        var after: String?
        let lookups = BillingLookups()
        while true {
            let page = try store.subscriptionsForBilling(on: today, after: after, limit: Self.billingPage)
            lookups.bound()
            // The whole page in one savepoint; only when one of its subscriptions fails is it done again,
            // each in its own, so that the failure is reported and every other one still processed.
            do {
                counts.merge(try settle(page, lookups), uniquingKeysWith: +)
            } catch {
                for sub in page {
                    do {
                        counts.merge(try settle([sub], lookups), uniquingKeysWith: +)
                    } catch {
                        let message = (error as? SelfServeError)?.message ?? "\(error)"
                        failed.append((sub.id, message))
                        auditFailure("billing.settle", target: sub.id, [("message", .string(message))])
                    }
                }
            }
            guard page.count == Self.billingPage, let last = page.last else { break }
            after = last.id
        }
        return BillingRunReport(date: today, steps: counts.sorted { $0.key < $1.key }, failures: failed)
    }

    /// Settles `subscriptions` in one savepoint: all of them, or (when one throws) none. How many steps
    /// of each kind it processed.
    private func settle(_ subscriptions: [Subscription], _ lookups: BillingLookups) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try isolated {
            for sub in subscriptions {
                var s = sub
                try settleSteps(&s, lookups) { counts[$0, default: 0] += 1 }
            }
        }
        return counts
    }

    /// The run's second half: every pending charge on an invoice, one per billing profile, day and
    /// currency, each handed to `each` once stored (without its lines, which are in the database). An
    /// issued invoice is never changed; a charge that arrives later for a day already invoiced goes on
    /// a supplementary invoice of that day. Audits the run when it did anything.
    public func issueInvoices(_ report: inout BillingRunReport, _ each: (Invoice) throws -> Void) throws {
        struct Key: Hashable, Comparable {
            var day: Day, currency: String
            static func < (a: Key, b: Key) -> Bool { (a.day, a.currency) < (b.day, b.currency) }
        }
        // Profile by profile: only one profile's charges are in memory at a time.
        var after: String?
        while true {
            let profiles = try store.pendingChargeProfiles(after: after, limit: Self.billingPage)
            for profile in profiles {
                var groups: [Key: [PendingCharge]] = [:]
                for charge in try store.pendingCharges(billingProfile: profile) {
                    groups[Key(day: charge.day, currency: charge.line.amount.currency), default: []].append(charge)
                }
                // The invoices the profile already has on those days, read once: each new one counts on.
                var issued = try store.invoiceCounts(
                    billingProfile: profile,
                    since: groups.keys.map(\.day).min() ?? today
                )
                for (key, charges) in groups.sorted(by: { $0.key < $1.key }) {
                    let n = issued[key.day, default: 0]
                    issued[key.day] = n + 1
                    var invoice = try issueInvoice(
                        profile: profile,
                        day: key.day,
                        currency: key.currency,
                        kind: n == 0 ? "charge" : "charge-\(n + 1)",
                        charges
                    )
                    invoice.lines = []
                    report.invoices += 1
                    try each(invoice)
                }
                try store.deletePendingCharges(billingProfile: profile)
            }
            guard profiles.count == Self.billingPage, let last = profiles.last else { break }
            after = last
        }
        if report.invoices > 0 || !report.steps.isEmpty || !report.failures.isEmpty {
            audit(
                "billing.run",
                target: today.description,
                report.steps.map { ($0.0, PlainValue($0.1)) } + [
                    ("invoices", PlainValue(report.invoices)), ("failed", PlainValue(report.failures.count)),
                ]
            )
        }
    }

    /// How many subscriptions (or billing profiles) the run holds at a time.
    static let billingPage = 500

    /// One invoice of a profile's charges of one day and currency.
    private func issueInvoice(
        profile: String,
        day: Day,
        currency: String,
        kind: String,
        _ charges: [PendingCharge]
    ) throws -> Invoice {
        var total = Money(minorUnits: 0, currency: currency)
        for c in charges { total = try total.adding(c.line.amount) }
        let status: Invoice.Status =
            charges.contains(where: \.failed) ? .pastDue : total.minorUnits < 0 ? .credit : .paid
        let invoice = Invoice(
            id: ids.make(.invoice),
            billingProfile: profile,
            date: day,
            periodStart: day,
            periodEnd: charges.map(\.periodEnd).max() ?? day,
            total: total,
            status: status,
            kind: kind,
            lines: charges.map(\.line)
        )
        try store.insertInvoice(invoice)
        if status == .pastDue {
            emit(
                "invoice.past_due",
                target: invoice.id,
                [("billing_profile", .string(profile)), ("total", PlainValue(total))]
            )
        }
        return invoice
    }

    // MARK: Settlement

    /// Brings a subscription up to today before a command changes it or what it depends on. The
    /// steps are the billing service's, so they are done (and audited) as `system`.
    func settle(_ sub: inout Subscription) throws {
        guard let next = sub.nextStepDay, next <= today else { return }
        let system = acting(as: nil)
        var steps: [String: Int] = [:]
        try system.settleSteps(&sub) { steps[$0, default: 0] += 1 }
        system.audit(
            "billing.settle",
            target: sub.id,
            steps.sorted { $0.key < $1.key }.map { ($0.key, PlainValue($0.value)) }
        )
        absorb(system)
    }

    /// Settles every subscription in `ids` (those paying with a card about to change, say).
    func settle(subscriptions ids: [String]) throws {
        for id in ids {
            guard var sub = try store.subscription(id: id) else { continue }
            try settle(&sub)
        }
    }

    /// Every step due on or before today, in order, each dated (and decided) as of its own day.
    ///
    /// Renewals in a row (a year of catch-up is twelve) read what they need once and write the
    /// subscription once, after the last of them: nothing a renewal changes is read back before then.
    func settleSteps(_ sub: inout Subscription, _ lookups: BillingLookups? = nil, _ count: (String) -> Void) throws {
        var facts: RenewalFacts?
        var stored = sub
        while let day = sub.nextStepDay, day <= today {
            if sub.status == .active {
                let f = try facts ?? renewalFacts(of: sub, lookups)
                facts = f
                try renew(&sub, on: day, f, count)
            } else {
                try store.updateSubscription(sub, was: stored)
                facts = nil
                try step(&sub, on: day, count)
                stored = sub
            }
        }
        try store.updateSubscription(sub, was: stored)
    }

    /// What the renewals of one subscription read and none of them changes: the day of the month its
    /// periods start on, its product's name, and the card in effect (whose expiry is judged per day).
    struct RenewalFacts {
        var anchorDay: Int
        var productName: String
        var paymentMethod: PaymentMethod?
    }

    private func renewalFacts(of sub: Subscription, _ lookups: BillingLookups? = nil) throws -> RenewalFacts {
        RenewalFacts(
            anchorDay: try anchorDay(of: sub),
            productName: try productName(of: sub, lookups),
            paymentMethod: try paymentMethodInEffect(for: sub, lookups)
        )
    }

    /// What a billing run reads for subscription after subscription and never changes itself: product
    /// names, profiles' cards and the cards, each read once for the whole run (kept per page, they were
    /// read again and again: a buyer's subscriptions seldom share a page; two queries a renewal, 13% of
    /// a month's run).
    final class BillingLookups {
        var productNames: [String: String] = [:]
        var profileCards: [String: String?] = [:]
        var cards: [String: PaymentMethod?] = [:]

        /// Forgets everything once it holds `limit` entries: memory stays bounded however large the
        /// organization (under 10 MiB: a year's run over 100,000 subscriptions peaked at 27.6 MiB, 18.9
        /// without it).
        func bound(to limit: Int = 20_000) {
            guard productNames.count + profileCards.count + cards.count >= limit else { return }
            productNames = [:]
            profileCards = [:]
            cards = [:]
        }
    }

    /// A renewal on `day`, not yet written: the period that starts then, charged to the card in effect.
    private func renew(_ sub: inout Subscription, on day: Day, _ facts: RenewalFacts, _ count: (String) -> Void) throws
    {
        sub.periodStart = day
        sub.expires = day.adding(months: sub.term.months, anchorDay: facts.anchorDay)
        // Without a billing profile nothing is charged, so nothing can fail (as in `chargePeriod`).
        let paid = sub.billingProfile == nil || facts.paymentMethod.map { !$0.hasExpired(on: day) } ?? false
        try addPeriodCharge(of: sub, on: day, productName: facts.productName, paid: paid)
        if !paid {
            sub.status = .pastDue
            sub.statusSince = day
            count("past_due")
        }
        count("renewals")
        emitAsSystem("subscription.renewed", sub)
        if !paid { emitAsSystem("subscription.past_due", sub) }
    }

    private func step(_ sub: inout Subscription, on day: Day, _ count: (String) -> Void) throws {
        switch sub.status {
        case .active:
            try renew(&sub, on: day, try renewalFacts(of: sub), count)
            try store.updateSubscription(sub)
        case .trial:
            if try canConvertAtEnd(sub) {
                guard let profileId = sub.billingProfile, let profile = try store.billingProfile(id: profileId),
                    let pm = sub.paymentMethod ?? profile.paymentMethod
                else {
                    throw SelfServeError.invalid("trial \(sub.id) converts but its billing profile or card is missing")
                }
                let converter = acting(as: sub.buyer, daysAgo: day.days(to: today))
                try converter.convert(&sub, licenses: sub.licensesTotal, profile: profile, paymentMethod: pm)
                absorb(converter)
                count("trials_converted")
            } else {
                try move(&sub, to: .expired, on: day, "trials_expired", event: "trial.expired", count)
            }
        case .canceled:
            try move(&sub, to: .expired, on: day, "expired", count)
        case .pastDue, .expired:
            try move(&sub, to: .disabled, on: day, "disabled", count)
        case .disabled:
            try move(&sub, to: .deleted, on: day, "deleted", count)
            try store.deleteAllAssignments(subscription: sub.id)
        case .deleted:
            return
        }
    }

    /// One lifecycle step, dated when it was due (not when it was noticed).
    private func move(
        _ sub: inout Subscription,
        to status: Subscription.Status,
        on day: Day,
        _ counter: String,
        event: String? = nil,
        _ count: (String) -> Void
    ) throws {
        sub.status = status
        sub.statusSince = day
        try store.updateSubscription(sub)
        count(counter)
        emitAsSystem(event ?? "subscription.\(status.rawValue)", sub)
    }

    // MARK: Charges

    /// Charges the period that starts on `day` for the licenses held then. Returns false when the
    /// payment failed: no usable payment method on that day (expired, or removed).
    @discardableResult
    func chargePeriod(of sub: Subscription, on day: Day) throws -> Bool {
        guard sub.billingProfile != nil else { return true }
        let paid = try paymentSucceeds(sub, on: day)
        try addPeriodCharge(of: sub, on: day, productName: try productName(of: sub), paid: paid)
        return paid
    }

    /// The pending charge of the period that starts on `day` (none without a billing profile).
    private func addPeriodCharge(of sub: Subscription, on day: Day, productName: String, paid: Bool) throws {
        guard let profile = sub.billingProfile else { return }
        let perLicense = try sub.periodPrice()
        try store.addPendingCharge(
            PendingCharge(
                billingProfile: profile,
                day: day,
                periodEnd: sub.expires,
                line: InvoiceLine(
                    description:
                        "\(productName), \(sub.term.rawValue), \(day) to \(sub.expires.adding(days: -1))",
                    subscription: sub.id,
                    quantity: sub.licensesTotal,
                    unitPrice: perLicense,
                    amount: try perLicense.times(sub.licensesTotal)
                ),
                failed: !paid
            )
        )
    }

    private func productName(of sub: Subscription, _ lookups: BillingLookups? = nil) throws -> String {
        if let name = lookups?.productNames[sub.product] { return name }
        let name = try store.product(idOrName: sub.product)?.name ?? sub.product
        lookups?.productNames[sub.product] = name
        return name
    }

    /// Prorates a change of the license total made today, over the current (settled) period.
    func chargeLicenseChange(of sub: Subscription, from old: Int, to new: Int) throws {
        guard new != old else { return }
        let delta = new - old
        try chargeRestOfPeriod(sub, licenses: delta) { daysLeft, periodDays in
            "Proration: \(delta > 0 ? "+" : "")\(delta) licenses from \(self.today) (\(daysLeft) of \(periodDays) days)"
        }
    }

    /// The credit for the unused days of a period (today included), for a cancellation within the
    /// grace period; it goes on the next run's invoices, dated today.
    func graceCredit(for sub: Subscription) throws {
        try chargeRestOfPeriod(sub, licenses: -sub.licensesTotal) { unused, periodDays in
            "Credit: canceled \(sub.id) within \(Self.cancellationGraceDays) days, \(unused) of \(periodDays) days unused"
        }
    }

    /// Charges (or, for negative `licenses`, credits) licenses for the days left in the current period,
    /// today included: unit price × months × licenses × days left ÷ days of the period, to the cent.
    /// Returns the amount charged (zero when no day is left, or the subscription has no profile).
    @discardableResult
    func chargeRestOfPeriod(_ sub: Subscription, licenses: Int, description: (Int64, Int64) -> String) throws -> Money {
        let none = Money(minorUnits: 0, currency: sub.unitPrice.currency)
        guard let profile = sub.billingProfile else { return none }
        let periodDays = Int64(sub.periodStart.days(to: sub.expires))
        let daysLeft = Int64(today.days(to: sub.expires))
        guard periodDays > 0, daysLeft > 0 else { return none }
        let perLicense = try sub.periodPrice()
        let amount = try perLicense.times(licenses).scaled(daysLeft, over: periodDays)
        try store.addPendingCharge(
            PendingCharge(
                billingProfile: profile,
                day: today,
                periodEnd: sub.expires,
                line: InvoiceLine(
                    description: description(daysLeft, periodDays),
                    subscription: sub.id,
                    quantity: licenses,
                    unitPrice: perLicense,
                    amount: amount
                )
            )
        )
        return amount
    }

    /// Whether the payment method in effect for `sub` could pay on `day`: it exists and has not expired.
    func paymentSucceeds(_ sub: Subscription, on day: Day) throws -> Bool {
        guard let pm = try paymentMethodInEffect(for: sub) else { return false }
        return !pm.hasExpired(on: day)
    }

    /// The subscription's own card, else its billing profile's; nil when it has none (or it was removed).
    private func paymentMethodInEffect(
        for sub: Subscription,
        _ lookups: BillingLookups? = nil
    ) throws
        -> PaymentMethod?
    {
        var id = sub.paymentMethod
        if id == nil, let profileId = sub.billingProfile {
            if let known = lookups?.profileCards[profileId] {
                id = known
            } else {
                id = try store.billingProfile(id: profileId)?.paymentMethod
                lookups?.profileCards[profileId] = .some(id)
            }
        }
        guard let id else { return nil }
        if let known = lookups?.cards[id] { return known }
        let card = try store.paymentMethod(id: id)
        lookups?.cards[id] = .some(card)
        return card
    }

    /// A trial converts at its end when its product is still `enabled` and its card is still valid.
    private func canConvertAtEnd(_ sub: Subscription) throws -> Bool {
        guard sub.convertsAutomatically, sub.billingProfile != nil,
            let product = try store.product(idOrName: sub.product),
            product.selfService == .enabled
        else { return false }
        return try paymentSucceeds(sub, on: sub.expires)
    }

    /// The day of the month its paid periods started on: the purchase (or trial conversion) day, which
    /// is the last license change from zero.
    private func anchorDay(of sub: Subscription) throws -> Int {
        try store.latestStartDay(subscription: sub.id, before: sub.periodStart.adding(days: 1))?.day
            ?? sub.periodStart.day
    }

    private func emitAsSystem(_ type: String, _ sub: Subscription) {
        emit(type, target: sub.id, [("status", .string(sub.status.rawValue)), ("buyer", .string(sub.buyer))])
    }
}
