import GRDB
import SelfServeCore

extension SQLiteStore {
    static func day(_ r: Row, _ column: String) -> Day { Day(r[column] as String) ?? Day(daysSinceEpoch: 0) }

    static func subscription(_ r: Row) -> Subscription {
        Subscription(id: r["id"], product: r["product"], buyer: r["buyer"], status: Subscription.Status(rawValue: r["status"]) ?? .active,
                     term: Term(rawValue: r["term"]) ?? .monthly, licensesTotal: r["licenses_total"],
                     unitPrice: Money(minorUnits: r["unit_price"], currency: r["currency"]), started: day(r, "started"),
                     periodStart: day(r, "period_start"), expires: day(r, "expires"), billingProfile: r["billing_profile"],
                     paymentMethod: r["payment_method"], isTrial: r["trial"], convertsAutomatically: r["converts"],
                     cancelReason: r["cancel_reason"], cancelComment: r["cancel_comment"], canceledAt: r["canceled_at"],
                     statusSince: day(r, "status_since"), createdAt: r["created_at"])
    }

    static let detailsSelect = """
        SELECT s.*, p.name AS product_name, u.name AS buyer_name,
               coalesce(s.payment_method, bp.payment_method) AS effective_pm
        FROM subscriptions s
        JOIN products p ON p.id = s.product
        JOIN users u ON u.email = s.buyer
        LEFT JOIN billing_profiles bp ON bp.id = s.billing_profile
        """

    static func details(_ r: Row) -> SubscriptionDetails {
        SubscriptionDetails(subscription: subscription(r), productName: r["product_name"], buyerName: r["buyer_name"],
                            licensesAssigned: r["licenses_assigned"], effectivePaymentMethod: r["effective_pm"])
    }

    public func insertSubscription(_ s: Subscription) throws {
        try exec("""
            INSERT INTO subscriptions (id, product, buyer, status, term, licenses_total, unit_price, currency, started, period_start,
                expires, billing_profile, payment_method, trial, converts, cancel_reason, cancel_comment, canceled_at, status_since, next_step,
                created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, Self.arguments(s) + [s.createdAt])
    }

    static func arguments(_ s: Subscription) -> StatementArguments {
        [s.id, s.product, s.buyer, s.status.rawValue, s.term.rawValue, s.licensesTotal, s.unitPrice.minorUnits, s.unitPrice.currency,
         s.started.description, s.periodStart.description, s.expires.description, s.billingProfile, s.paymentMethod, s.isTrial,
         s.convertsAutomatically, s.cancelReason, s.cancelComment, s.canceledAt, s.statusSince.description, s.nextStepDay?.description]
    }

    public func updateSubscription(_ s: Subscription) throws {
        try exec("""
            UPDATE subscriptions SET id = ?, product = ?, buyer = ?, status = ?, term = ?, licenses_total = ?, unit_price = ?, currency = ?,
                started = ?, period_start = ?, expires = ?, billing_profile = ?, payment_method = ?, trial = ?, converts = ?,
                cancel_reason = ?, cancel_comment = ?, canceled_at = ?, status_since = ?, next_step = ?
            WHERE id = ?
            """, Self.arguments(s) + [s.id])
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
        var sql = Self.detailsSelect + " WHERE 1"
        var args = StatementArguments()
        if let b = filter.buyer { sql += " AND s.buyer = ?"; args += [b] }
        if let p = filter.product { sql += " AND s.product = ?"; args += [p] }
        if let st = filter.statuses, !st.isEmpty {
            sql += " AND s.status IN (\(st.map { _ in "?" }.joined(separator: ",")))"
            args += StatementArguments(st.map(\.rawValue))
        }
        sql += " ORDER BY s.created_at, s.id"
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: args)
        while let row = try cursor.next() { try each(Self.details(row)) }
    }

    public func subscriptionCount() throws -> Int { try int("SELECT count(*) FROM subscriptions WHERE status <> 'deleted'") }

    public func hasTrial(buyer: String, product: String) throws -> Bool {
        try int("SELECT count(*) FROM trials_taken WHERE buyer = ? AND product = ?", [buyer, product]) > 0
    }

    public func recordTrial(buyer: String, product: String, subscription: String) throws {
        try exec("INSERT INTO trials_taken (buyer, product, subscription) VALUES (?, ?, ?)", [buyer, product, subscription])
    }

    public func subscriptionIds(prefix: String, buyer: String?, limit: Int) throws -> [String] {
        if let buyer {
            return try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM subscriptions WHERE buyer = ? AND id >= ? AND id < ? ORDER BY id LIMIT ?"),
                                       arguments: [buyer, prefix, prefix + "\u{10FFFF}", limit])
        }
        return try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM subscriptions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"),
                                   arguments: [prefix, prefix + "\u{10FFFF}", limit])
    }

    // MARK: Assignments

    public func assignedCount(subscription: String) throws -> Int {
        try int("SELECT licenses_assigned FROM subscriptions WHERE id = ?", [subscription])
    }

    public func assignments(subscription: String) throws -> [Assignment] {
        try rows("""
            SELECT a.subscription, a.email, u.name, a.assigned_at, a.assigned_by
            FROM assignments a JOIN users u ON u.email = a.email WHERE a.subscription = ? ORDER BY a.email
            """, [subscription]).map {
            Assignment(subscription: $0["subscription"], email: $0["email"], name: $0["name"], assignedAt: $0["assigned_at"], assignedBy: $0["assigned_by"])
        }
    }

    public func assignedEmails(subscription: String, among emails: [String]) throws -> Set<String> {
        var found = Set<String>()
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM assignments WHERE subscription = ? AND email = ?")
        for e in emails where try Int.fetchOne(statement, arguments: [subscription, e]) != nil { found.insert(e) }
        return found
    }

    public func insertAssignments(_ list: [Assignment]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO assignments (subscription, email, assigned_at, assigned_by) VALUES (?, ?, ?, ?)")
        for a in list { try statement.execute(arguments: [a.subscription, a.email, a.assignedAt, a.assignedBy]) }
    }

    public func deleteAssignments(subscription: String, emails: [String]) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM assignments WHERE subscription = ? AND email = ?")
        for e in emails { try statement.execute(arguments: [subscription, e]) }
    }

    public func deleteAllAssignments(subscription: String) throws {
        try exec("DELETE FROM assignments WHERE subscription = ?", [subscription])
    }

    public func recordLicenseChange(_ c: LicenseChange) throws {
        try exec("INSERT INTO license_changes (subscription, day, old_total, new_total, at) VALUES (?, ?, ?, ?, ?)",
                 [c.subscription, c.day.description, c.oldTotal, c.newTotal, c.at])
    }

    public func licenseChanges(subscription: String, from: Day, to: Day) throws -> [LicenseChange] {
        try rows("SELECT * FROM license_changes WHERE subscription = ? AND day >= ? AND day < ? ORDER BY id",
                 [subscription, from.description, to.description]).map {
            LicenseChange(subscription: $0["subscription"], day: Self.day($0, "day"), oldTotal: $0["old_total"], newTotal: $0["new_total"], at: $0["at"])
        }
    }
}
