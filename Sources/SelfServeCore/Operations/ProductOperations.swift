/// `product list/show/import/policy`.
extension CommandContext {
    public func listProducts(selfServiceOnly: Bool) throws -> PlainValue {
        .array(try store.products().filter { !selfServiceOnly || $0.selfService != .disabled }.map(Shapes.product))
    }

    public func product(_ idOrName: String) throws -> Product {
        guard let p = try store.product(idOrName: idOrName.trimmed) else {
            throw SelfServeError.notFound("no product '\(Sanitize.forDisplay(idOrName))'; see 'product list'")
        }
        return p
    }

    public func setProductPolicy(_ idOrName: String, _ policy: SelfServicePolicy) throws -> PlainValue {
        try admin("change product policies")
        var p = try product(idOrName)
        let old = p.selfService
        try settleTrials(of: p.id)
        p.selfService = policy
        try store.upsertProduct(p)
        audit("product.policy", target: p.id, [("from", .string(old.rawValue)), ("to", .string(policy.rawValue))])
        return Shapes.product(p)
    }

    /// Trials that ended before today are judged by the policy of their end day, not by the one about
    /// to be set.
    func settleTrials(of product: String) throws {
        let trials = try store.subscriptionDetails(filter: SubscriptionFilter(product: product, statuses: [.trial]))
        try settle(subscriptions: trials.map(\.subscription.id))
    }

    /// Adds or updates products from a JSON array (or `{"products": [...]}`) of product objects.
    public func importProducts(json text: String, file: String) throws -> PlainValue {
        try admin("import products")
        let value = try JSON.parse(text)
        guard let items = value.arrayValue ?? value["products"]?.arrayValue else {
            throw SelfServeError.invalid("\(file): expected a JSON array of products")
        }
        var products: [Product] = []
        var problems: [String] = []
        for (i, item) in items.enumerated() {
            do { products.append(try parseProduct(item)) } catch let e as SelfServeError {
                problems.append("\(file): product #\(i + 1): \(e.message)")
            }
        }
        if !problems.isEmpty { throw SelfServeError.invalid("nothing imported:\n" + problems.joined(separator: "\n")) }
        var added = 0
        for p in products {
            if try store.product(idOrName: p.id) == nil { added += 1 }
            try settleTrials(of: p.id)
            try store.upsertProduct(p)
        }
        audit(
            "product.import",
            target: file,
            [("added", PlainValue(added)), ("updated", PlainValue(products.count - added))]
        )
        return .object([
            ("added", PlainValue(added)), ("updated", PlainValue(products.count - added)),
            ("products", .array(products.map { .string($0.id) })),
        ])
    }

    func parseProduct(_ v: PlainValue) throws -> Product {
        guard v.objectValue != nil else { throw SelfServeError.invalid("is not an object") }
        guard let id = v["id"]?.stringValue else { throw SelfServeError.invalid("needs an \"id\"") }
        try Product.validateId(id)
        let existing = try store.product(idOrName: id).flatMap { $0.id == id ? $0 : nil }
        let name = try v["name"]?.stringValue.map { try Sanitize.name($0, field: "name") } ?? existing?.name
        guard let name else { throw SelfServeError.invalid("needs a \"name\"") }
        if let other = try store.product(idOrName: name), other.id != id {
            throw SelfServeError.conflict(
                "the name '\(Sanitize.forDisplay(name))' is taken by product \(other.id); names are unique, whatever their case"
            )
        }
        var price = existing?.unitPrice
        if let raw = v["unit_price"] {
            let text: String? = raw.stringValue ?? raw.intValue.map { String($0) }
            guard let t = text, let m = Money(decimal: t), m.minorUnits >= 0 else {
                throw SelfServeError.invalid("unit_price must be a decimal string such as \"14.00\"")
            }
            guard m <= Money.maxUnitPrice else {
                throw SelfServeError.invalid(
                    "unit_price must be from 0.00 to \(Money.maxUnitPrice.decimalString) (got \(m.decimalString))"
                )
            }
            price = m
        }
        guard let price else { throw SelfServeError.invalid("needs a \"unit_price\"") }
        let currency = v["currency"]?.stringValue ?? existing?.unitPrice.currency ?? "USD"
        guard currency.count == 3, currency.allSatisfy({ $0.isUppercase }) else {
            throw SelfServeError.invalid("currency must be a 3-letter code such as USD")
        }
        var term = existing?.term ?? .monthly
        if let t = v["term"] {
            guard let s = t.stringValue, let parsed = Term(rawValue: s) else {
                throw SelfServeError.invalid("term must be monthly or annual")
            }
            term = parsed
        }
        func count(_ key: String, _ fallback: Int) throws -> Int {
            guard let raw = v[key] else { return fallback }
            guard let n = raw.intValue, (0...3650).contains(n) else {
                throw SelfServeError.invalid("\(key) must be a whole number from 0 to 3650")
            }
            return Int(n)
        }
        var policy = existing?.selfService ?? .enabled
        if let s = v["self_service"] {
            guard let text = s.stringValue, let p = SelfServicePolicy(argument: text) else {
                throw SelfServeError.invalid("self_service must be enabled, disabled or trials_only")
            }
            policy = p
        }
        return Product(
            id: id,
            name: name,
            unitPrice: Money(minorUnits: price.minorUnits, currency: currency),
            term: term,
            trialDays: try count("trial_days", existing?.trialDays ?? 0),
            trialLicenses: try count("trial_licenses", existing?.trialLicenses ?? 0),
            selfService: policy
        )
    }

    /// Checks the request, then gives the audit log oldest first, one entry at a time (years of history
    /// never sit in memory). Every error is raised here, before any row is written out.
    public func auditRows(
        since: Day?,
        actor email: String?,
        action: String?
    ) throws -> (((PlainValue) throws -> Void) throws -> Void) {
        try admin("read the audit log")
        let actor = try email.map { $0 == "system" ? $0 : try Email.normalize($0) }
        let store = self.store
        return { each in
            try store.auditEntries(since: since.map { $0.description }, actor: actor, action: action) {
                try each(Shapes.audit($0))
            }
        }
    }
}
