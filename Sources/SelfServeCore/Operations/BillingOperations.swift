/// `billing account/profile …`, `invoice list/show/export`.
extension CommandContext {
    public func listBillingAccounts() throws -> PlainValue {
        let me = try actor()
        let profiles = try store.billingProfiles(owner: me.email, account: nil)
        return .array(
            try store.billingAccounts(owner: me.email).map { a in
                .object([
                    ("id", .string(a.id)), ("name", .string(a.name)), ("owner", .string(a.owner)),
                    ("profiles", .array(profiles.filter { $0.account == a.id }.map { .string($0.id) })),
                ])
            }
        )
    }

    public func ownedProfile(_ id: String) throws -> BillingProfile {
        let me = try actor()
        let id = id.trimmed
        guard let p = try store.billingProfile(id: id), let a = try store.billingAccount(id: p.account),
            a.owner == me.email
        else {
            throw SelfServeError.notFound("no billing profile '\(Sanitize.forDisplay(id))'")
        }
        return p
    }

    func profileShape(_ p: BillingProfile) throws -> PlainValue {
        .object([
            ("id", .string(p.id)), ("account", .string(p.account)), ("name", .string(p.name)),
            ("payment_method", PlainValue(p.paymentMethod)), ("invoice_email", .string(p.invoiceEmail)),
            ("default", .bool(p.isDefault)),
            ("subscriptions", .array(try store.subscriptionIds(billingProfile: p.id).map { .string($0) })),
        ])
    }

    public func listBillingProfiles(account: String?) throws -> PlainValue {
        let me = try actor()
        if let account {
            guard let a = try store.billingAccount(id: account), a.owner == me.email else {
                throw SelfServeError.notFound("no billing account '\(Sanitize.forDisplay(account))'")
            }
        }
        return .array(try store.billingProfiles(owner: me.email, account: account).map(profileShape))
    }

    public func showBillingProfile(_ id: String) throws -> PlainValue { try profileShape(try ownedProfile(id)) }

    /// "Edit" (the same card) or "Replace" (another of yours) the card that pays for a profile.
    public func setProfilePaymentMethod(_ id: String, _ pmId: String) throws -> PlainValue {
        var p = try ownedProfile(id)
        let pm = try ownedPaymentMethod(pmId)
        if pm.hasExpired(on: today) {
            throw SelfServeError(.paymentDeclined, "\(pm.id) has expired; edit its expiry first")
        }
        let old = p.paymentMethod
        try settle(subscriptions: try store.subscriptionIds(billingProfile: p.id))
        p.paymentMethod = pm.id
        try store.updateBillingProfile(p)
        audit("billing.profile.set_payment_method", target: p.id, [("from", PlainValue(old)), ("to", .string(pm.id))])
        return try profileShape(p)
    }

    /// `--last 3m|6m` or `--from/--to` (inclusive); newest first.
    public func listInvoices(last: String?, from: Day?, to: Day?, profile: String?) throws -> PlainValue {
        let me = try actor()
        var start = from
        var end = to
        if let last {
            guard from == nil && to == nil else {
                throw SelfServeError.invalid("--last cannot be combined with --from/--to")
            }
            let months: Int
            switch last.lowercased() {
            case "3m", "3": months = 3
            case "6m", "6": months = 6
            default:
                guard last.hasSuffix("m"), let n = Int(last.dropLast()), (1...120).contains(n) else {
                    throw SelfServeError.invalid(
                        "--last takes 3m or 6m (or another number of months such as 12m), not '\(Sanitize.forDisplay(last))'"
                    )
                }
                months = n
            }
            start = today.adding(months: -months).adding(days: 1)
            end = today
        }
        if let s = start, let e = end, s > e { throw SelfServeError.invalid("--from \(s) is after --to \(e)") }
        if let profile { _ = try ownedProfile(profile) }
        return .array(
            try store.invoices(owner: me.email, profile: profile, from: start, to: end).map {
                Shapes.invoice($0, lines: false)
            }
        )
    }

    public func ownedInvoice(_ id: String) throws -> Invoice {
        let me = try actor()
        let id = id.trimmed
        guard let inv = try store.invoice(id: id), let p = try store.billingProfile(id: inv.billingProfile),
            let a = try store.billingAccount(id: p.account), a.owner == me.email
        else {
            throw SelfServeError.notFound("no invoice '\(Sanitize.forDisplay(id))'")
        }
        return inv
    }

    /// `invoice pay`: pays a `past_due` invoice with the profile's card or the one given; its
    /// past-due subscriptions are `active` again (and renew from their anchor day on).
    public func payInvoice(_ id: String, paymentMethod: String?) throws -> PlainValue {
        var invoice = try ownedInvoice(id)
        guard invoice.status == .pastDue else {
            throw SelfServeError.conflict(
                "\(invoice.id) is \(invoice.status.rawValue); only a past_due invoice can be paid"
            )
        }
        guard let profile = try store.billingProfile(id: invoice.billingProfile) else {
            throw SelfServeError.notFound("no billing profile '\(invoice.billingProfile)'")
        }
        let subscriptions = Array(Set(invoice.lines.compactMap(\.subscription))).sorted()
        try settle(subscriptions: subscriptions)
        let pm = try payingMethod(explicit: paymentMethod, profile: profile, for: "paying \(invoice.id)")
        invoice.status = .paid
        try store.setInvoiceStatus(id: invoice.id, .paid)
        var reactivated: [PlainValue] = []
        for subId in subscriptions {
            guard var sub = try store.subscription(id: subId), sub.status == .pastDue else { continue }
            sub.status = .active
            sub.statusSince = today
            // The card that paid the debt pays what follows, unless the one in effect can pay.
            if paymentMethod != nil, !(try paymentSucceeds(sub, on: today)) {
                sub.paymentMethod = pm == profile.paymentMethod ? nil : pm
            }
            try store.updateSubscription(sub)
            try settle(&sub)
            reactivated.append(.string(sub.id))
            emit("subscription.reactivated", target: sub.id, [("invoice", .string(invoice.id))])
        }
        audit(
            "invoice.pay",
            target: invoice.id,
            [
                ("payment_method", .string(pm)), ("total", PlainValue(invoice.total)),
                ("reactivated", .array(reactivated)),
            ]
        )
        emit("invoice.paid", target: invoice.id, [("total", PlainValue(invoice.total))])
        return Shapes.invoice(invoice, lines: false)
    }

    public func showInvoice(_ id: String) throws -> PlainValue { Shapes.invoice(try ownedInvoice(id), lines: true) }

    /// An invoice with what a document of it shows besides its lines: the organization and who is
    /// billed. Rendering it (CSV, JSON, HTML) is the output layer's.
    public func invoiceDocument(_ id: String) throws -> InvoiceDocument {
        InvoiceDocument(invoice: try ownedInvoice(id), organization: try organizationOrFail(), billedTo: try actor())
    }
}
