import SelfServeCore

extension SQLStore {

    static func subscription(_ r: SQLRow) throws -> Subscription {
        Subscription(
            id: try r.decode(forColumn: "id"),
            product: try r.decode(forColumn: "product"),
            buyer: try r.decode(forColumn: "buyer"),
            status: try r.decode(forColumn: "status"),
            term: try r.decode(forColumn: "term"),
            licensesTotal: try r.decode(forColumn: "licenses_total"),
            unitPrice: Money(
                minorUnits: try r.decode(forColumn: "unit_price"),
                currency: try r.decode(forColumn: "currency")
            ),
            started: try r.decode(forColumn: "started"),
            periodStart: try r.decode(forColumn: "period_start"),
            expires: try r.decode(forColumn: "expires"),
            billingProfile: try r.decode(forColumn: "billing_profile"),
            paymentMethod: try r.decode(forColumn: "payment_method"),
            isTrial: try r.decode(forColumn: "trial"),
            convertsAutomatically: try r.decode(forColumn: "converts"),
            cancelReason: try r.decode(forColumn: "cancel_reason"),
            cancelComment: try r.decode(forColumn: "cancel_comment"),
            canceledAt: try r.decode(forColumn: "canceled_at"),
            statusSince: try r.decode(forColumn: "status_since"),
            createdAt: try r.decode(forColumn: "created_at")
        )
    }

    static let detailsSelect = """
        SELECT s.*, p.name AS product_name, u.name AS buyer_name,
               coalesce(s.payment_method, bp.payment_method) AS effective_pm
        FROM subscriptions s
        JOIN products p ON p.id = s.product
        JOIN users u ON u.email = s.buyer
        LEFT JOIN billing_profiles bp ON bp.id = s.billing_profile
        """

    static func details(_ r: SQLRow) throws -> SubscriptionDetails {
        SubscriptionDetails(
            subscription: try subscription(r),
            productName: try r.decode(forColumn: "product_name"),
            buyerName: try r.decode(forColumn: "buyer_name"),
            licensesAssigned: try r.decode(forColumn: "licenses_assigned"),
            effectivePaymentMethod: try r.decode(forColumn: "effective_pm")
        )
    }

    static func arguments(_ s: Subscription) -> SQLArguments {
        SQLArguments(values: [
            s.id.sqlValue, s.product.sqlValue, s.buyer.sqlValue, s.status.sqlValue, s.term.sqlValue,
            s.licensesTotal.sqlValue, s.unitPrice.minorUnits.sqlValue, s.unitPrice.currency.sqlValue,
            s.started.sqlValue, s.periodStart.sqlValue, s.expires.sqlValue, s.billingProfile.sqlValue,
            s.paymentMethod.sqlValue, s.isTrial.sqlValue, s.convertsAutomatically.sqlValue, s.cancelReason.sqlValue,
            s.cancelComment.sqlValue, s.canceledAt.sqlValue, s.statusSince.sqlValue, s.nextStepDay.sqlValue,
        ])
    }

    /// The columns `arguments(_:)` gives values for, in its order.
    static let subscriptionColumns = [
        "id", "product", "buyer", "status", "term", "licenses_total", "unit_price", "currency", "started",
        "period_start", "expires", "billing_profile", "payment_method", "trial", "converts", "cancel_reason",
        "cancel_comment", "canceled_at", "status_since", "next_step",
    ]

    private static let insertSubscriptionSQL =
        "INSERT INTO subscriptions (\((subscriptionColumns + ["created_at"]).joined(separator: ", "))) VALUES (\(placeholders(subscriptionColumns.count + 1)))"

    private static let updateSubscriptionSQL =
        "UPDATE subscriptions SET \(subscriptionColumns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"

    public func insertSubscription(_ s: Subscription) throws {
        try exec(Self.insertSubscriptionSQL, Self.arguments(s) + [s.createdAt])
    }

    public func updateSubscription(_ s: Subscription) throws {
        try execOne("subscription \(s.id)", Self.updateSubscriptionSQL, Self.arguments(s) + [s.id])
    }

    /// Only the columns that differ from `old`: SQLite rewrites the entries of every index whose
    /// columns an UPDATE sets, changed or not — eight indexes, when a renewal moves three dates.
    public func updateSubscription(_ s: Subscription, was old: Subscription) throws {
        let new = Self.arguments(s).values
        let before = Self.arguments(old).values
        let changed = new.indices.filter { new[$0] != before[$0] }
        guard !changed.isEmpty else { return }
        try execOne(
            "subscription \(old.id)",
            "UPDATE subscriptions SET \(changed.map { "\(Self.subscriptionColumns[$0]) = ?" }.joined(separator: ", ")) WHERE id = ?",
            SQLArguments(values: changed.map { new[$0] } + [.text(old.id)])
        )
    }

    public func subscription(id: String) throws -> Subscription? {
        try row("SELECT * FROM subscriptions WHERE id = ?", [id]).map(Self.subscription)
    }

    public func subscriptionDetails(id: String) throws -> SubscriptionDetails? {
        try row(Self.detailsSelect + " WHERE s.id = ?", [id]).map(Self.details)
    }

    public func subscriptionDetails(filter: SubscriptionFilter) throws -> [SubscriptionDetails] {
        var out: [SubscriptionDetails] = []
        try subscriptionDetails(filter: filter) { out.append($0) }
        return out
    }

    /// One row at a time from a cursor: a list of 100,000 purchases never sits in memory whole.
    public func subscriptionDetails(filter: SubscriptionFilter, each: (SubscriptionDetails) throws -> Void) throws {
        var sql = Self.detailsSelect + " WHERE 1 = 1"
        var args = SQLArguments()
        if let b = filter.buyer {
            sql += " AND s.buyer = ?"
            args += [b]
        }
        if let p = filter.product {
            sql += " AND s.product = ?"
            args += [p]
        }
        if let st = filter.statuses, !st.isEmpty {
            sql += " AND s.status IN (\(Self.placeholders(st.count)))"
            args += SQLArguments(st.map(\.rawValue))
        }
        sql += " ORDER BY s.created_at, s.id"
        try session.each(sql, args) { row in try each(Self.details(row)) }
    }

    public func subscriptionCount(statuses: [Subscription.Status]) throws -> Int {
        try int(
            "SELECT count(*) FROM subscriptions WHERE status IN (\(Self.placeholders(statuses.count)))",
            SQLArguments(statuses.map(\.rawValue))
        )
    }

    public func hasTrial(buyer: String, product: String) throws -> Bool {
        try int("SELECT count(*) FROM trials_taken WHERE buyer = ? AND product = ?", [buyer, product]) > 0
    }

    public func recordTrial(buyer: String, product: String, subscription: String) throws {
        try exec(
            "INSERT INTO trials_taken (buyer, product, subscription) VALUES (?, ?, ?)",
            [buyer, product, subscription]
        )
    }

    public func subscriptionIds(prefix: String, buyer: String?, limit: Int) throws -> [String] {
        if let buyer {
            return try strings(
                "SELECT id FROM subscriptions WHERE buyer = ? AND id >= ? AND id < ? ORDER BY id LIMIT ?",
                [buyer, prefix, prefix + "\u{10FFFF}", limit]
            )
        }
        return try strings(
            "SELECT id FROM subscriptions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            [prefix, prefix + "\u{10FFFF}", limit]
        )
    }

    // MARK: Assignments

    public func assignedCount(subscription: String) throws -> Int {
        try int("SELECT licenses_assigned FROM subscriptions WHERE id = ?", [subscription])
    }

    public func assignments(subscription: String) throws -> [Assignment] {
        try rows(
            """
            SELECT a.subscription, a.email, u.name, a.assigned_at, a.assigned_by
            FROM assignments a JOIN users u ON u.email = a.email WHERE a.subscription = ? ORDER BY a.email
            """,
            [subscription]
        ).map {
            Assignment(
                subscription: try $0.decode(forColumn: "subscription"),
                email: try $0.decode(forColumn: "email"),
                name: try $0.decode(forColumn: "name"),
                assignedAt: try $0.decode(forColumn: "assigned_at"),
                assignedBy: try $0.decode(forColumn: "assigned_by")
            )
        }
    }

    // One statement per command, not one per user: on a server each statement is a round trip.

    public func assignedEmails(subscription: String, among emails: [String]) throws -> Set<String> {
        guard !emails.isEmpty else { return [] }
        return Set(
            try strings(
                "SELECT email FROM assignments WHERE subscription = ? AND email IN (\(Self.placeholders(emails.count)))",
                [subscription] + SQLArguments(emails)
            )
        )
    }

    public func insertAssignments(_ list: [Assignment]) throws {
        guard !list.isEmpty else { return }
        var arguments = SQLArguments(values: [])
        arguments.values.reserveCapacity(list.count * 4)
        for a in list {
            arguments.values += [
                a.subscription.sqlValue, a.email.sqlValue, a.assignedAt.sqlValue, a.assignedBy.sqlValue,
            ]
        }
        try exec(
            "INSERT INTO assignments (subscription, email, assigned_at, assigned_by) VALUES "
                + Self.rowPlaceholders(list.count, columns: 4),
            arguments
        )
    }

    public func deleteAssignments(subscription: String, emails: [String]) throws {
        guard !emails.isEmpty else { return }
        try exec(
            "DELETE FROM assignments WHERE subscription = ? AND email IN (\(Self.placeholders(emails.count)))",
            [subscription] + SQLArguments(emails)
        )
    }

    public func deleteAllAssignments(subscription: String) throws {
        try exec("DELETE FROM assignments WHERE subscription = ?", [subscription])
    }

    public func recordLicenseChange(_ c: LicenseChange) throws {
        try exec(
            "INSERT INTO license_changes (subscription, day, old_total, new_total, at) VALUES (?, ?, ?, ?, ?)",
            [c.subscription, c.day.description, c.oldTotal, c.newTotal, c.at]
        )
    }

    public func latestStartDay(subscription: String, before day: Day) throws -> Day? {
        try row(
            // max(id), not ORDER BY id DESC LIMIT 1: the index is (subscription, day), so the ORDER BY
            // sorted in a temporary B-tree, set up per call — 13% of a month's billing run.
            """
            SELECT day FROM license_changes WHERE id = (
                SELECT max(id) FROM license_changes WHERE subscription = ? AND day < ? AND old_total = 0)
            """,
            [subscription, day.description]
        ).map { try $0.decode(forColumn: "day") }
    }
}
