/// `billing run`: everything due up to today, for the whole organization, idempotently.
///
/// Money rule: a period's charge is unit price × licenses × months of the term. A license change
/// inside a period is prorated by days: unit price × months × change × days left ÷ days in the period,
/// rounded to the cent half away from zero, one line per change (negative for a decrease). A
/// cancellation within 7 days of the period's start credits the unused days the same way.
extension CommandContext {
    /// Days after expiry until an expired subscription is disabled, and after that until it is deleted.
    public static let daysUntilDisabled = 30
    public static let daysUntilDeleted = 90

    /// Invoice lines of one run, by billing profile and day.
    struct Charges {
        var lines: [String: [Day: [InvoiceLine]]] = [:]
        var periodEnd: [String: [Day: Day]] = [:]
        mutating func add(_ profile: String, _ day: Day, _ line: InvoiceLine, end: Day? = nil) {
            lines[profile, default: [:]][day, default: []].append(line)
            if let end { periodEnd[profile, default: [:]][day] = max(end, periodEnd[profile]?[day] ?? end) }
        }
    }

    public func billingRun() throws -> PlainValue {
        var charges = Charges()
        var counts: [String: Int] = [:]
        func count(_ key: String) { counts[key, default: 0] += 1 }
        // Each pass moves every due subscription one step; a year without runs takes several passes.
        var guardRail = 0
        while true {
            let due = try store.subscriptionsForBilling(on: today)
            var progressed = false
            for var sub in due {
                if try step(&sub, &charges, count) { progressed = true }
            }
            guardRail += 1
            if !progressed || guardRail > 10_000 { break }
        }
        // Credits waiting (cancellations within the grace period) go on today's invoice of their profile.
        var invoices: [PlainValue] = []
        // Profiles with credits but nothing else due still get a credit invoice.
        let profiles = Set(charges.lines.keys).union(try store.allBillingProfileIdsWithCredits())
        for profile in profiles.sorted() {
            for credit in try store.pendingCredits(billingProfile: profile) { charges.add(profile, today, credit) }
            try store.clearPendingCredits(billingProfile: profile)
            for (day, lines) in (charges.lines[profile] ?? [:]).sorted(by: { $0.key < $1.key }) where !lines.isEmpty {
                let currency = lines[0].amount.currency
                let total = lines.reduce(Money(minorUnits: 0, currency: currency)) { $0 + $1.amount }
                let n = try store.invoiceCount(billingProfile: profile, date: day)
                let invoice = Invoice(id: ids.make(.invoice), billingProfile: profile, date: day, periodStart: day,
                                      periodEnd: charges.periodEnd[profile]?[day] ?? day, total: total,
                                      status: total.minorUnits < 0 ? .credit : .paid, kind: n == 0 ? "charge" : "charge-\(n + 1)", lines: lines)
                try store.insertInvoice(invoice)
                invoices.append(Shapes.invoice(invoice, lines: false))
            }
        }
        let summary: [(String, PlainValue)] = counts.sorted { $0.key < $1.key }.map { ($0.key, PlainValue($0.value)) }
        if !invoices.isEmpty || !counts.isEmpty {
            audit("billing.run", target: today.description, summary + [("invoices", PlainValue(invoices.count))])
        }
        return .object([("date", PlainValue(today)), ("invoices", .array(invoices))] + summary)
    }

    /// Moves one subscription one step; returns whether anything changed.
    private func step(_ sub: inout Subscription, _ charges: inout Charges, _ count: (String) -> Void) throws -> Bool {
        var changed = false
        // 1. Charge the current period and prorate license changes inside it.
        if !sub.isTrial, sub.periodStart <= today, let profile = sub.billingProfile {
            if try store.billedPeriod(subscription: sub.id) != sub.periodStart {
                let product = try store.product(idOrName: sub.product)
                let quantity = try licenses(of: sub, at: sub.periodStart)
                let amount = sub.unitPrice.times(quantity).times(sub.term.months)
                charges.add(profile, sub.periodStart, InvoiceLine(
                    description: "\(product?.name ?? sub.product), \(sub.term.rawValue), \(sub.periodStart) to \(sub.expires.adding(days: -1))",
                    subscription: sub.id, quantity: quantity, unitPrice: sub.unitPrice.times(sub.term.months), amount: amount), end: sub.expires)
                try store.setBilledPeriod(subscription: sub.id, sub.periodStart)
                count("periods_charged")
                changed = true
            }
            let pending = try store.unbilledLicenseChanges(subscription: sub.id)
            if pending.contains(where: { $0.day < sub.expires }) {
                let periodDays = Int64(sub.periodStart.days(to: sub.expires))
                for c in pending where c.oldTotal > 0 && c.day > sub.periodStart && c.day < sub.expires && c.day <= today {
                    let daysLeft = Int64(c.day.days(to: sub.expires))
                    let delta = c.newTotal - c.oldTotal
                    let amount = sub.unitPrice.times(sub.term.months).times(delta).scaled(daysLeft, over: periodDays)
                    charges.add(profile, c.day, InvoiceLine(
                        description: "Proration: \(delta > 0 ? "+" : "")\(delta) licenses from \(c.day) (\(daysLeft) of \(periodDays) days)",
                        subscription: sub.id, quantity: delta, unitPrice: sub.unitPrice.times(sub.term.months), amount: amount), end: sub.expires)
                    count("prorations")
                }
                try store.markLicenseChangesBilled(subscription: sub.id, before: sub.expires)
                changed = true
            }
        } else if sub.isTrial, !(try store.unbilledLicenseChanges(subscription: sub.id)).isEmpty {
            try store.markLicenseChangesBilled(subscription: sub.id, before: Day(daysSinceEpoch: 1_000_000))
        }
        // 2. The end of the term: renewal, trial end, or expiry.
        switch sub.status {
        case .active where sub.expires <= today:
            let anchor = try anchorDay(of: sub)
            sub.periodStart = sub.expires
            sub.expires = sub.expires.adding(months: sub.term.months, anchorDay: anchor)
            try store.updateSubscription(sub)
            count("renewals")
            emitAsSystem("subscription.renewed", sub)
            return true
        case .trial where sub.expires <= today:
            let end = sub.expires
            if try canConvertAtEnd(sub) {
                let profile = try store.billingProfile(id: sub.billingProfile!)!
                let pm = sub.paymentMethod ?? profile.paymentMethod!
                let converter = acting(as: sub.buyer, daysAgo: end.days(to: today))
                try converter.convert(&sub, licenses: sub.licensesTotal, profile: profile, paymentMethod: pm)
                absorb(converter)
                count("trials_converted")
            } else {
                sub.status = .expired
                sub.statusSince = end
                try store.updateSubscription(sub)
                count("trials_expired")
                emitAsSystem("trial.expired", sub)
            }
            return true
        case .canceled where sub.expires <= today:
            try move(&sub, to: .expired, on: sub.expires, "expired", count)
            return true
        case .expired where sub.statusSince.adding(days: Self.daysUntilDisabled) <= today:
            try move(&sub, to: .disabled, on: sub.statusSince.adding(days: Self.daysUntilDisabled), "disabled", count)
            return true
        case .disabled where sub.statusSince.adding(days: Self.daysUntilDeleted) <= today:
            try move(&sub, to: .deleted, on: sub.statusSince.adding(days: Self.daysUntilDeleted), "deleted", count)
            try store.deleteAllAssignments(subscription: sub.id)
            return true
        default:
            return changed
        }
    }

    /// One lifecycle step, dated when it was due (not when the run noticed it).
    private func move(_ sub: inout Subscription, to status: Subscription.Status, on day: Day, _ counter: String, _ count: (String) -> Void) throws {
        sub.status = status
        sub.statusSince = day
        try store.updateSubscription(sub)
        count(counter)
        emitAsSystem("subscription.\(status.rawValue)", sub)
    }

    /// A trial converts at its end when its product is still `enabled` and its card is still valid.
    private func canConvertAtEnd(_ sub: Subscription) throws -> Bool {
        guard sub.convertsAutomatically, let product = try store.product(idOrName: sub.product), product.selfService == .enabled,
              let profileId = sub.billingProfile, let profile = try store.billingProfile(id: profileId),
              let pmId = sub.paymentMethod ?? profile.paymentMethod, let pm = try store.paymentMethod(id: pmId) else { return false }
        return !pm.hasExpired(on: sub.expires)
    }

    /// The day of the month its paid periods started on: the purchase (or trial conversion) day, which
    /// is the last license change from zero.
    private func anchorDay(of sub: Subscription) throws -> Int {
        let changes = try store.licenseChanges(subscription: sub.id, from: Day(daysSinceEpoch: 0), to: sub.periodStart.adding(days: 1))
        return changes.last(where: { $0.oldTotal == 0 })?.day.day ?? sub.periodStart.day
    }

    /// The licenses a subscription held on `day`, from its recorded changes.
    private func licenses(of sub: Subscription, at day: Day) throws -> Int {
        let changes = try store.licenseChanges(subscription: sub.id, from: Day(daysSinceEpoch: 0), to: day.adding(days: 1))
        return changes.last?.newTotal ?? sub.licensesTotal
    }

    private func emitAsSystem(_ type: String, _ sub: Subscription) {
        emit(type, target: sub.id, [("status", .string(sub.status.rawValue)), ("buyer", .string(sub.buyer))])
    }

    /// The credit for the unused days of a period, for a cancellation within the grace period.
    func graceCredit(for sub: Subscription) throws {
        guard let profile = sub.billingProfile else { return }
        let periodDays = Int64(sub.periodStart.days(to: sub.expires))
        let unused = Int64(today.days(to: sub.expires))
        guard periodDays > 0, unused > 0 else { return }
        let perLicense = sub.unitPrice.times(sub.term.months)
        let amount = perLicense.times(-sub.licensesTotal).scaled(unused, over: periodDays)
        try store.addPendingCredit(billingProfile: profile, line: InvoiceLine(
            description: "Credit: canceled \(sub.id) within \(Self.cancellationGraceDays) days, \(unused) of \(periodDays) days unused",
            subscription: sub.id, quantity: -sub.licensesTotal, unitPrice: perLicense, amount: amount))
    }
}
