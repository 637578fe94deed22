/// `payment-method add/list/show/edit/remove`.
extension CommandContext {
    /// The details of a card other than the number, expiry and security code.
    public struct CardDetails: Sendable {
        public var holder: String?
        public var address: PostalAddress
        public init(holder: String? = nil, address: PostalAddress = PostalAddress()) {
            self.holder = holder
            self.address = address
        }
    }

    /// Validates and saves a card. The number and security code end here: only the brand, last 4
    /// digits, expiry, holder, address and a keyed fingerprint are stored.
    /// Saves a card (never its number or security code: brand, last four, expiry, fingerprint).
    public func addPaymentMethod(_ card: CardInput, _ details: CardDetails) throws -> PaymentMethod {
        let me = try actor()
        guard me.kind == .member else { throw SelfServeError.forbidden("guests cannot add payment methods") }
        let valid = try CardValidator.validate(card, today: today, fingerprintKey: try fingerprintKey())
        let holder = try Sanitize.name(details.holder ?? me.name, field: "holder")
        let address = try Self.checked(details.address)
        if let existing = try store.paymentMethod(owner: me.email, fingerprint: valid.fingerprint) {
            throw SelfServeError.conflict(
                "this card is already saved as \(existing.id) (\(existing.brand.displayName) ending \(existing.last4)); use 'payment-method edit \(existing.id)'"
            )
        }
        try checkCardPolicy(valid, holder: holder, address: address)
        let pm = PaymentMethod(
            id: ids.make(.paymentMethod),
            owner: me.email,
            brand: valid.brand,
            last4: valid.last4,
            expMonth: valid.expMonth,
            expYear: valid.expYear,
            holder: holder,
            address: address,
            fingerprint: valid.fingerprint,
            createdAt: timestamp
        )
        try store.insertPaymentMethod(pm)
        // The first card pays for the default billing profile, so that buying needs no more set-up.
        var profile = try defaultProfile(for: me)
        if profile.paymentMethod == nil {
            profile.paymentMethod = pm.id
            try store.updateBillingProfile(profile)
        }
        audit(
            "payment_method.add",
            target: pm.id,
            [
                ("brand", .string(pm.brand.rawValue)), ("last4", .string(pm.last4)),
                ("fingerprint", .string(pm.fingerprint)),
            ]
        )
        return pm
    }

    func checkCardPolicy(_ card: ValidatedCard, holder: String, address: PostalAddress) throws {
        let value: PlainValue = .object([
            ("brand", .string(card.brand.rawValue)), ("bin", .string(card.bin)), ("last4", .string(card.last4)),
            ("exp_month", PlainValue(card.expMonth)), ("exp_year", PlainValue(card.expYear)),
            ("holder", .string(holder)),
            ("country", PlainValue(address.country)), ("postal_code", PlainValue(address.postalCode)),
        ])
        do {
            try policy.check(.validatePaymentMethod, [value])
        } catch var e as SelfServeError where e.code == .policyDenied {
            // A card refused by a payment policy is a declined payment, as the spec names it.
            e.code = .paymentDeclined
            throw e
        }
    }

    static func checked(_ a: PostalAddress) throws -> PostalAddress {
        func clean(_ s: String?, _ field: String) throws -> String? {
            guard let s, !s.trimmed.isEmpty else { return nil }
            return try Sanitize.name(s, field: field)
        }
        let out = PostalAddress(
            line1: try clean(a.line1, "--address-line1"),
            line2: try clean(a.line2, "--address-line2"),
            city: try clean(a.city, "--city"),
            postalCode: try clean(a.postalCode, "--postal-code"),
            country: try clean(a.country, "--country")?.uppercased()
        )
        if let c = out.country, !(c.count == 2 && c.allSatisfy({ $0.isASCII && $0.isLetter })) {
            throw SelfServeError.invalid("--country must be a two-letter ISO code such as US or ES (got '\(c)')")
        }
        if let p = out.postalCode, p.count > 16 {
            throw SelfServeError.invalid("--postal-code is longer than 16 characters")
        }
        return out
    }

    /// A card as `payment-method show` prints it (with whether it pays for its owner's default profile).
    public func paymentMethodShape(_ pm: PaymentMethod) throws -> PlainValue {
        let isDefault = try store.billingProfiles(owner: pm.owner, account: nil).contains {
            $0.isDefault && $0.paymentMethod == pm.id
        }
        return Shapes.paymentMethod(pm, isDefault: isDefault)
    }

    public func listPaymentMethods() throws -> PlainValue {
        let me = try actor()
        let defaults = Set(
            try store.billingProfiles(owner: me.email, account: nil).filter(\.isDefault).compactMap(\.paymentMethod)
        )
        return .array(
            try store.paymentMethods(owner: me.email).map {
                Shapes.paymentMethod($0, isDefault: defaults.contains($0.id))
            }
        )
    }

    public func showPaymentMethod(_ id: String) throws -> PlainValue {
        try paymentMethodShape(try ownedPaymentMethod(id))
    }

    /// Edits expiry, holder or address. The security code is asked again to confirm it is the same card.
    public func editPaymentMethod(
        _ id: String,
        expiry: String?,
        securityCode: String,
        _ details: CardDetails
    ) throws -> PlainValue {
        var pm = try ownedPaymentMethod(id)
        try CardValidator.validateSecurityCode(securityCode, brand: pm.brand)
        // Renewals and trial ends due before today were decided with the card as it was.
        try settle(
            subscriptions: try store.subscriptionIds(paymentMethod: pm.id, statuses: Subscription.Status.notDeleted)
        )
        var changed: [(String, PlainValue)] = []
        if let expiry {
            let (m, y) = try CardValidator.parseExpiry(expiry)
            if CardValidator.hasExpired(month: m, year: y, on: today) {
                throw SelfServeError(
                    .paymentDeclined,
                    "the new expiry \(m.zeroPadded(2))/\(y.zeroPadded(4)) is in the past"
                )
            }
            pm.expMonth = m
            pm.expYear = y
            changed.append(("expiry", .string("\(m.zeroPadded(2))/\(y.zeroPadded(4))")))
        }
        if let h = details.holder {
            pm.holder = try Sanitize.name(h, field: "holder")
            changed.append(("holder", .string(pm.holder)))
        }
        let a = details.address
        if a.line1 != nil || a.line2 != nil || a.city != nil || a.postalCode != nil || a.country != nil {
            let merged = PostalAddress(
                line1: a.line1 ?? pm.address.line1,
                line2: a.line2 ?? pm.address.line2,
                city: a.city ?? pm.address.city,
                postalCode: a.postalCode ?? pm.address.postalCode,
                country: a.country ?? pm.address.country
            )
            pm.address = try Self.checked(merged)
            changed.append(("address", .bool(true)))
        }
        let card = ValidatedCard(
            brand: pm.brand,
            bin: "",
            last4: pm.last4,
            expMonth: pm.expMonth,
            expYear: pm.expYear,
            fingerprint: pm.fingerprint
        )
        try checkCardPolicy(card, holder: pm.holder, address: pm.address)
        try store.updatePaymentMethod(pm)
        audit("payment_method.edit", target: pm.id, changed)
        return try paymentMethodShape(pm)
    }

    public func removePaymentMethod(_ id: String) throws -> PlainValue {
        let pm = try ownedPaymentMethod(id)
        try settle(
            subscriptions: try store.subscriptionIds(paymentMethod: pm.id, statuses: Subscription.Status.notDeleted)
        )
        let users = try store.paymentMethodUsers(id: pm.id, statuses: Subscription.Status.chargeable)
        if !users.isEmpty {
            throw SelfServeError.conflict(
                "\(pm.id) pays for \(users.joined(separator: ", ")); set another payment method there first"
            )
        }
        try store.deletePaymentMethod(id: pm.id)
        audit("payment_method.remove", target: pm.id, [("last4", .string(pm.last4))])
        return .object([("id", .string(pm.id)), ("removed", .bool(true))])
    }
}
