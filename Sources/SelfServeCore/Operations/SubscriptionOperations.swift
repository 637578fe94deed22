/// `subscription buy/list/show/set-licenses/cancel/reasons`, `trial start/convert`, `admin purchases`.
extension CommandContext {
    /// The most licenses one subscription may hold, whatever the plugins say.
    public static let maxLicenses = 100_000
    /// A cancellation this many days after purchase or renewal disables at once, with a credit.
    public static let cancellationGraceDays = 7

    // MARK: Access

    public enum Access { case read, change }

    /// The subscription, if the actor may see (or change) it. Existence is not revealed to people who
    /// are neither its buyer nor an admin; admins see everything and change nothing of others'.
    public func accessibleSubscription(_ id: String, _ access: Access) throws -> Subscription {
        try accessible(id, access, \.self, read: store.subscription(id:))
    }

    /// The same check on whatever `read` finds with a subscription in it: `subscription show` reads its
    /// details (product, buyer and card with it) in the one query, not the subscription first.
    func accessible<Found>(
        _ id: String,
        _ access: Access,
        _ subscription: WritableKeyPath<Found, Subscription>,
        read: (String) throws -> Found?
    ) throws -> Found {
        let me = try actor()
        let id = id.trimmed
        guard var found = try read(id) else {
            throw SelfServeError.notFound("no subscription '\(Sanitize.forDisplay(id))'")
        }
        let sub = found[keyPath: subscription]
        if sub.buyer == me.email {
            // A change judges the subscription by its calendar period today, whether or not a
            // billing run has processed the renewals and lifecycle steps since.
            if access == .change { try settle(&found[keyPath: subscription]) }
            return found
        }
        if me.isAdmin {
            if access == .read { return found }
            throw SelfServeError.forbidden(
                "\(sub.id) was bought by \(sub.buyer); admins have a read-only view of others' purchases"
            )
        }
        throw SelfServeError.notFound("no subscription '\(Sanitize.forDisplay(id))'")
    }

    func details(_ id: String) throws -> SubscriptionDetails {
        guard let d = try store.subscriptionDetails(id: id) else {
            throw SelfServeError.notFound("no subscription '\(id)'")
        }
        return d
    }

    func requireChangeable(_ sub: Subscription) throws {
        if sub.status == .pastDue {
            throw SelfServeError.conflict(
                "\(sub.id) is past_due: pay its unpaid invoice first ('invoice list', then 'invoice pay INV')"
            )
        }
        guard sub.isChangeable else {
            throw SelfServeError.conflict("\(sub.id) is \(sub.status.rawValue) and takes no more changes")
        }
    }

    // MARK: Buying

    /// Buys a subscription; returns it as `subscription show` reads it.
    public func buy(
        product idOrName: String,
        licenses: Int,
        term: Term?,
        paymentMethod: String?
    ) throws -> SubscriptionDetails {
        let me = try actor()
        let product = try product(idOrName)
        try requireBuyer(me, for: product)
        switch product.selfService {
        case .enabled: break
        case .trialsOnly:
            throw SelfServeError(
                .productNotAvailable,
                "\(product.name) can only be tried (policy trials_only); start a trial with 'trial start \(product.id)'"
            )
        case .disabled:
            throw SelfServeError(
                .productNotAvailable,
                "self-service purchase of \(product.name) is disabled by your organization"
            )
        }
        try checkLicenseCount(licenses, product: product, buyer: me)
        let term = term ?? product.term
        try policy.check(.beforePurchase, [purchaseRequest(product, me, licenses, term, trial: false)])
        let profile = try defaultProfile(for: me)
        let pm = try payingMethod(explicit: paymentMethod, profile: profile, for: "buying \(product.name)")
        let sub = Subscription(
            id: ids.make(.subscription),
            product: product.id,
            buyer: me.email,
            status: .active,
            term: term,
            licensesTotal: licenses,
            unitPrice: product.unitPrice,
            started: today,
            periodStart: today,
            expires: today.adding(months: term.months),
            billingProfile: profile.id,
            paymentMethod: pm == profile.paymentMethod ? nil : pm,
            isTrial: false,
            convertsAutomatically: false,
            statusSince: today,
            createdAt: timestamp
        )
        try store.insertSubscription(sub)
        try store.recordLicenseChange(
            LicenseChange(subscription: sub.id, day: today, oldTotal: 0, newTotal: licenses, at: timestamp)
        )
        try chargePeriod(of: sub, on: today)
        audit(
            "subscription.buy",
            target: sub.id,
            [
                ("product", .string(product.id)), ("licenses", PlainValue(licenses)), ("term", .string(term.rawValue)),
                ("unit_price", PlainValue(product.unitPrice)), ("payment_method", PlainValue(pm)),
            ]
        )
        emit(
            "subscription.purchased",
            target: sub.id,
            [("product", .string(product.id)), ("licenses", PlainValue(licenses))]
        )
        return try details(sub.id)
    }

    func requireBuyer(_ me: User, for product: Product) throws {
        guard me.kind == .member else {
            throw SelfServeError.forbidden("guests cannot buy or try products; ask a member of the organization")
        }
    }

    func purchaseRequest(_ p: Product, _ me: User, _ licenses: Int, _ term: Term, trial: Bool) -> PlainValue {
        .object([
            ("product", .string(p.id)), ("product_name", .string(p.name)), ("buyer", .string(me.email)),
            ("licenses", PlainValue(licenses)), ("term", .string(term.rawValue)), ("trial", .bool(trial)),
        ])
    }

    /// The license count must be positive, within the built-in maximum and within every plugin's limit.
    func checkLicenseCount(_ n: Int, product: Product, buyer: User) throws {
        guard n >= 1 else { throw SelfServeError.invalid("the number of licenses must be at least 1 (got \(n))") }
        guard n <= Self.maxLicenses else {
            throw SelfServeError(
                .limitExceeded,
                "at most \(Self.maxLicenses) licenses per subscription (asked for \(n))"
            )
        }
        let ctx: PlainValue = .object([
            ("product", .string(product.id)), ("buyer", .string(buyer.email)),
            ("buyer_kind", .string(buyer.kind.rawValue)), ("buyer_role", .string(buyer.role.rawValue)),
        ])
        if let (limit, plugin) = try policy.licenseLimit(ctx), n > limit {
            throw SelfServeError(
                .policyDenied,
                "\(plugin): at most \(limit) licenses of \(product.name) per subscription (asked for \(n))",
                plugin: plugin
            )
        }
    }

    /// The buyer's default billing profile, created with a billing account on the first purchase.
    public func defaultProfile(for me: User) throws -> BillingProfile {
        if let p = try store.billingProfiles(owner: me.email, account: nil).first(where: { $0.isDefault }) { return p }
        let account = BillingAccount(
            id: ids.make(.billingAccount),
            name: me.name,
            owner: me.email,
            createdAt: timestamp
        )
        try store.insertBillingAccount(account)
        let profile = BillingProfile(
            id: ids.make(.billingProfile),
            account: account.id,
            name: "\(me.name) (default)",
            paymentMethod: nil,
            invoiceEmail: me.email,
            isDefault: true,
            createdAt: timestamp
        )
        try store.insertBillingProfile(profile)
        audit("billing.account.create", target: account.id, [("profile", .string(profile.id))])
        return profile
    }

    /// The card that pays: `--payment-method` if given (the buyer's own, not expired), else the
    /// profile's. A profile without a card takes the one given.
    func payingMethod(explicit: String?, profile: BillingProfile, for what: String) throws -> String {
        let me = try actor()
        var chosen = profile.paymentMethod
        if let explicit {
            chosen = try ownedPaymentMethod(explicit).id
            if profile.paymentMethod == nil {
                var p = profile
                p.paymentMethod = chosen
                try store.updateBillingProfile(p)
            }
        }
        guard let id = chosen, let pm = try store.paymentMethod(id: id), pm.owner == me.email else {
            throw SelfServeError(
                .paymentDeclined,
                "\(what) needs a payment method: add a card with 'payment-method add', then pass --payment-method PM"
            )
        }
        if pm.hasExpired(on: today) {
            throw SelfServeError(
                .paymentDeclined,
                "payment method \(pm.id) (\(pm.brand.displayName) ending \(pm.last4)) has expired; edit it or choose another"
            )
        }
        return pm.id
    }

    public func ownedPaymentMethod(_ id: String) throws -> PaymentMethod {
        let me = try actor()
        guard let pm = try store.paymentMethod(id: id.trimmed), pm.owner == me.email else {
            throw SelfServeError.notFound("no payment method '\(Sanitize.forDisplay(id))'")
        }
        return pm
    }

    // MARK: Viewing

    public func listSubscriptions(status: Subscription.Status?) throws -> PlainValue {
        let me = try actor()
        let list = try store.subscriptionDetails(
            filter: SubscriptionFilter(buyer: me.email, statuses: status.map { [$0] })
        )
        return .array(list.map { Shapes.subscription($0) })
    }

    public func showSubscription(_ id: String) throws -> PlainValue {
        let d = try accessible(id, .read, \.subscription, read: store.subscriptionDetails(id:))
        return Shapes.subscription(d, assigned: try store.assignments(subscription: d.subscription.id))
    }

    // MARK: Licenses total

    public func setLicenses(_ id: String, total: Int) throws -> PlainValue {
        var sub = try accessibleSubscription(id, .change)
        try requireChangeable(sub)
        guard !sub.isTrial else {
            throw SelfServeError.conflict(
                "\(sub.id) is a trial with a fixed number of licenses; convert it first ('trial convert \(sub.id) --licenses \(total)')"
            )
        }
        let me = try actor()
        let product = try product(sub.product)
        guard total >= 1 else {
            throw SelfServeError.invalid(
                "the total must be at least 1 (got \(total)); to stop paying, cancel the subscription"
            )
        }
        let assigned = try store.assignedCount(subscription: sub.id)
        if total < assigned {
            throw SelfServeError.conflict(
                "\(assigned) licenses of \(sub.id) are assigned; unassign \(assigned - total) license\(assigned - total == 1 ? "" : "s") first"
            )
        }
        if total > sub.licensesTotal { try checkLicenseCount(total, product: product, buyer: me) }
        guard total <= Self.maxLicenses else {
            throw SelfServeError(.limitExceeded, "at most \(Self.maxLicenses) licenses per subscription")
        }
        let old = sub.licensesTotal
        if total != old {
            // An increase is a charge the buyer makes now: declined now, like a purchase, when no
            // usable card pays for it.
            if total > old, !(try paymentSucceeds(sub, on: today)) {
                throw SelfServeError(
                    .paymentDeclined,
                    "\(sub.id) has no usable payment method (expired or removed); edit the card or set another with 'billing profile set-payment-method'"
                )
            }
            try policy.check(.beforeSetLicenses, [Shapes.subscription(try details(sub.id)), PlainValue(total)])
            sub.licensesTotal = total
            try store.updateSubscription(sub)
            try store.recordLicenseChange(
                LicenseChange(subscription: sub.id, day: today, oldTotal: old, newTotal: total, at: timestamp)
            )
            try chargeLicenseChange(of: sub, from: old, to: total)
            audit("subscription.set_licenses", target: sub.id, [("from", PlainValue(old)), ("to", PlainValue(total))])
            emit(
                "subscription.licenses_changed",
                target: sub.id,
                [("from", PlainValue(old)), ("to", PlainValue(total))]
            )
        }
        return Shapes.subscription(try details(sub.id))
    }

    // MARK: Cancellation

    public func cancellationReasons() throws -> [CancellationReason] {
        CancellationReason.builtin + (try policy.cancellationReasons())
    }

    public func cancel(_ id: String, reason code: String, comment: String?) throws -> PlainValue {
        var sub = try accessibleSubscription(id, .change)
        if sub.status == .pastDue { try requireChangeable(sub) }
        guard sub.isChangeable else {
            throw SelfServeError.conflict("\(sub.id) is already \(sub.status.rawValue)")
        }
        let reasons = try cancellationReasons()
        guard let reason = reasons.first(where: { $0.code == code }) else {
            throw SelfServeError.invalid(
                "unknown cancellation reason '\(Sanitize.forDisplay(code))'; one of: \(reasons.map(\.code).joined(separator: ", "))"
            )
        }
        let comment = comment?.trimmed
        if reason.commentRequired && (comment ?? "").isEmpty {
            throw SelfServeError.invalid("the reason '\(reason.code)' needs a comment: add --comment TEXT")
        }
        if let c = comment, c.count > 2000 {
            throw SelfServeError.invalid("the comment is longer than 2000 characters")
        }
        try policy.check(
            .beforeCancel,
            [Shapes.subscription(try details(sub.id)), .string(reason.code), PlainValue(comment)]
        )
        let daysIn = sub.periodStart.days(to: today)
        let immediate = !sub.isTrial && daysIn < Self.cancellationGraceDays
        sub.status = immediate ? .disabled : .canceled
        sub.cancelReason = reason.code
        sub.cancelComment = comment?.isEmpty == true ? nil : comment
        sub.canceledAt = timestamp
        sub.statusSince = today
        try store.updateSubscription(sub)
        if immediate { try graceCredit(for: sub) }
        audit(
            "subscription.cancel",
            target: sub.id,
            [
                ("reason", .string(reason.code)), ("comment", PlainValue(sub.cancelComment)),
                ("status", .string(sub.status.rawValue)), ("days_into_period", PlainValue(daysIn)),
            ]
        )
        emit(
            "subscription.canceled",
            target: sub.id,
            [("reason", .string(reason.code)), ("status", .string(sub.status.rawValue))]
        )
        return Shapes.subscription(try details(sub.id))
    }

    // MARK: Trials

    /// Starts a trial; returns its subscription.
    public func startTrial(product idOrName: String, paymentMethod: String?) throws -> SubscriptionDetails {
        let me = try actor()
        let product = try product(idOrName)
        try requireBuyer(me, for: product)
        if product.selfService == .disabled {
            throw SelfServeError(
                .productNotAvailable,
                "self-service trials of \(product.name) are disabled by your organization"
            )
        }
        guard product.hasTrial else { throw SelfServeError(.productNotAvailable, "\(product.name) has no trial") }
        if try store.hasTrial(buyer: me.email, product: product.id) {
            throw SelfServeError.conflict(
                "you already had a trial of \(product.name); one trial per product per person"
            )
        }
        try checkLicenseCount(product.trialLicenses, product: product, buyer: me)
        try policy.check(
            .beforePurchase,
            [purchaseRequest(product, me, product.trialLicenses, product.term, trial: true)]
        )
        var profile: BillingProfile?
        var pm: String?
        if product.selfService == .enabled {
            let p = try defaultProfile(for: me)
            pm = try payingMethod(
                explicit: paymentMethod,
                profile: p,
                for: "a trial of \(product.name) that converts to paid"
            )
            profile = p
        } else if paymentMethod != nil {
            throw SelfServeError.invalid(
                "\(product.name) allows trials without a payment method only; drop --payment-method"
            )
        }
        let sub = Subscription(
            id: ids.make(.subscription),
            product: product.id,
            buyer: me.email,
            status: .trial,
            term: product.term,
            licensesTotal: product.trialLicenses,
            unitPrice: product.unitPrice,
            started: today,
            periodStart: today,
            expires: today.adding(days: product.trialDays),
            billingProfile: profile?.id,
            paymentMethod: pm == profile?.paymentMethod ? nil : pm,
            isTrial: true,
            convertsAutomatically: product.selfService == .enabled,
            statusSince: today,
            createdAt: timestamp
        )
        try store.insertSubscription(sub)
        try store.recordTrial(buyer: me.email, product: product.id, subscription: sub.id)
        audit(
            "trial.start",
            target: sub.id,
            [
                ("product", .string(product.id)), ("licenses", PlainValue(product.trialLicenses)),
                ("days", PlainValue(product.trialDays)), ("converts", .bool(sub.convertsAutomatically)),
            ]
        )
        emit("trial.started", target: sub.id, [("product", .string(product.id))])
        return try details(sub.id)
    }

    public func convertTrial(_ id: String, licenses: Int?, paymentMethod: String?) throws -> PlainValue {
        var sub = try accessibleSubscription(id, .change)
        guard sub.isTrial, sub.status == .trial else {
            throw SelfServeError.conflict("\(sub.id) is not a running trial")
        }
        let me = try actor()
        let product = try product(sub.product)
        switch product.selfService {
        case .trialsOnly:
            throw SelfServeError(
                .productNotAvailable,
                "\(product.name) allows trials only (policy trials_only); this trial cannot be converted"
            )
        case .disabled:
            throw SelfServeError(
                .productNotAvailable,
                "self-service purchase of \(product.name) is disabled by your organization"
            )
        case .enabled: break
        }
        let total = licenses ?? sub.licensesTotal
        try checkLicenseCount(total, product: product, buyer: me)
        let assigned = try store.assignedCount(subscription: sub.id)
        if total < assigned {
            throw SelfServeError.conflict(
                "\(assigned) licenses of \(sub.id) are assigned; unassign \(assigned - total) first or convert with more licenses"
            )
        }
        try policy.check(.beforePurchase, [purchaseRequest(product, me, total, sub.term, trial: false)])
        let profile = try sub.billingProfile.flatMap { try store.billingProfile(id: $0) } ?? defaultProfile(for: me)
        let pm = try payingMethod(
            explicit: paymentMethod ?? sub.paymentMethod,
            profile: profile,
            for: "converting the trial"
        )
        try convert(&sub, licenses: total, profile: profile, paymentMethod: pm)
        audit("trial.convert", target: sub.id, [("licenses", PlainValue(total)), ("payment_method", .string(pm))])
        return Shapes.subscription(try details(sub.id))
    }

    /// Turns a trial into a paid subscription starting today (by hand, or at the trial's end).
    public func convert(
        _ sub: inout Subscription,
        licenses: Int,
        profile: BillingProfile,
        paymentMethod pm: String
    ) throws {
        let old = sub.licensesTotal
        sub.status = .active
        sub.isTrial = false
        sub.convertsAutomatically = false
        sub.licensesTotal = licenses
        sub.billingProfile = profile.id
        sub.paymentMethod = pm == profile.paymentMethod ? nil : pm
        sub.periodStart = today
        sub.expires = today.adding(months: sub.term.months)
        sub.statusSince = today
        try store.updateSubscription(sub)
        try store.recordLicenseChange(
            LicenseChange(subscription: sub.id, day: today, oldTotal: 0, newTotal: licenses, at: timestamp)
        )
        try chargePeriod(of: sub, on: today)
        emit(
            "trial.converted",
            target: sub.id,
            [("licenses", PlainValue(licenses)), ("from_trial_licenses", PlainValue(old))]
        )
    }

    // MARK: Admin view

    public func adminPurchases(product: String?, buyer: String?, status: Subscription.Status?) throws -> PlainValue {
        var rows: [PlainValue] = []
        try purchaseRows(product: product, buyer: buyer, status: status)({ rows.append($0) })
        return .array(rows)
    }

    /// Checks the request, then gives every purchase one at a time, in the order of `admin purchases`.
    /// Every error is raised here, before any row is written out.
    public func purchaseRows(
        product: String?,
        buyer: String?,
        status: Subscription.Status?
    ) throws -> (((PlainValue) throws -> Void) throws -> Void) {
        try admin("see every self-service purchase")
        let productId = try product.map { try self.product($0).id }
        let buyerEmail = try buyer.map(Email.normalize)
        let store = self.store
        let filter = SubscriptionFilter(buyer: buyerEmail, product: productId, statuses: status.map { [$0] })
        return { each in try store.subscriptionDetails(filter: filter) { try each(Shapes.purchase($0)) } }
    }

    public func adminPurchase(_ id: String) throws -> PlainValue {
        try admin("see every self-service purchase")
        guard let d = try store.subscriptionDetails(id: id.trimmed) else {
            throw SelfServeError.notFound("no subscription '\(Sanitize.forDisplay(id))'")
        }
        return Shapes.purchase(d, assigned: try store.assignments(subscription: d.subscription.id))
    }
}
