import SelfServeCore

/// Billing accounts, profiles, payment methods, invoices and pending credits.
extension SQLStore {
    // MARK: Accounts and profiles

    static func account(_ r: SQLRow) throws -> BillingAccount {
        BillingAccount(
            id: try r.decode(forColumn: "id"),
            name: try r.decode(forColumn: "name"),
            owner: try r.decode(forColumn: "owner"),
            createdAt: try r.decode(forColumn: "created_at")
        )
    }

    static func profile(_ r: SQLRow) throws -> BillingProfile {
        BillingProfile(
            id: try r.decode(forColumn: "id"),
            account: try r.decode(forColumn: "account"),
            name: try r.decode(forColumn: "name"),
            paymentMethod: try r.decode(forColumn: "payment_method"),
            invoiceEmail: try r.decode(forColumn: "invoice_email"),
            isDefault: try r.decode(forColumn: "is_default"),
            createdAt: try r.decode(forColumn: "created_at")
        )
    }

    public func billingAccounts(owner: String) throws -> [BillingAccount] {
        try rows("SELECT * FROM billing_accounts WHERE owner = ? ORDER BY created_at, id", [owner]).map(Self.account)
    }

    public func billingAccount(id: String) throws -> BillingAccount? {
        try row("SELECT * FROM billing_accounts WHERE id = ?", [id]).map(Self.account)
    }

    public func insertBillingAccount(_ a: BillingAccount) throws {
        try exec(
            "INSERT INTO billing_accounts (id, name, owner, created_at) VALUES (?, ?, ?, ?)",
            [a.id, a.name, a.owner, a.createdAt]
        )
    }

    public func billingProfiles(owner: String, account: String?) throws -> [BillingProfile] {
        var sql =
            "SELECT bp.* FROM billing_profiles bp JOIN billing_accounts ba ON ba.id = bp.account WHERE ba.owner = ?"
        var args: SQLArguments = [owner]
        if let account {
            sql += " AND bp.account = ?"
            args += [account]
        }
        return try rows(sql + " ORDER BY bp.created_at, bp.id", args).map(Self.profile)
    }

    public func billingProfile(id: String) throws -> BillingProfile? {
        try row("SELECT * FROM billing_profiles WHERE id = ?", [id]).map(Self.profile)
    }

    public func insertBillingProfile(_ p: BillingProfile) throws {
        try exec(
            "INSERT INTO billing_profiles (id, account, name, payment_method, invoice_email, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [p.id, p.account, p.name, p.paymentMethod, p.invoiceEmail, p.isDefault, p.createdAt]
        )
    }

    public func updateBillingProfile(_ p: BillingProfile) throws {
        try execOne(
            "billing profile \(p.id)",
            "UPDATE billing_profiles SET name = ?, payment_method = ?, invoice_email = ?, is_default = ? WHERE id = ?",
            [p.name, p.paymentMethod, p.invoiceEmail, p.isDefault, p.id]
        )
    }

    public func subscriptionIds(billingProfile: String) throws -> [String] {
        try strings(
            "SELECT id FROM subscriptions WHERE billing_profile = ? ORDER BY id",
            [billingProfile]
        )
    }

    // MARK: Payment methods

    static func paymentMethod(_ r: SQLRow) throws -> PaymentMethod {
        PaymentMethod(
            id: try r.decode(forColumn: "id"),
            owner: try r.decode(forColumn: "owner"),
            brand: try r.decode(forColumn: "brand"),
            last4: try r.decode(forColumn: "last4"),
            expMonth: try r.decode(forColumn: "exp_month"),
            expYear: try r.decode(forColumn: "exp_year"),
            holder: try r.decode(forColumn: "holder"),
            address: PostalAddress(
                line1: try r.decode(forColumn: "address_line1"),
                line2: try r.decode(forColumn: "address_line2"),
                city: try r.decode(forColumn: "city"),
                postalCode: try r.decode(forColumn: "postal_code"),
                country: try r.decode(forColumn: "country")
            ),
            fingerprint: try r.decode(forColumn: "fingerprint"),
            createdAt: try r.decode(forColumn: "created_at")
        )
    }

    public func paymentMethod(id: String) throws -> PaymentMethod? {
        try row("SELECT * FROM payment_methods WHERE id = ?", [id]).map(Self.paymentMethod)
    }

    public func paymentMethods(owner: String) throws -> [PaymentMethod] {
        try rows("SELECT * FROM payment_methods WHERE owner = ? ORDER BY created_at, id", [owner]).map(
            Self.paymentMethod
        )
    }

    public func paymentMethod(owner: String, fingerprint: String) throws -> PaymentMethod? {
        try row("SELECT * FROM payment_methods WHERE owner = ? AND fingerprint = ?", [owner, fingerprint]).map(
            Self.paymentMethod
        )
    }

    public func insertPaymentMethod(_ m: PaymentMethod) throws {
        try exec(
            """
            INSERT INTO payment_methods (id, owner, brand, last4, exp_month, exp_year, holder, address_line1, address_line2, city,
                postal_code, country, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                m.id, m.owner, m.brand.rawValue, m.last4, m.expMonth, m.expYear, m.holder, m.address.line1,
                m.address.line2,
                m.address.city, m.address.postalCode, m.address.country, m.fingerprint, m.createdAt,
            ]
        )
    }

    public func updatePaymentMethod(_ m: PaymentMethod) throws {
        try execOne(
            "payment method \(m.id)",
            """
            UPDATE payment_methods SET exp_month = ?, exp_year = ?, holder = ?, address_line1 = ?, address_line2 = ?, city = ?,
                postal_code = ?, country = ? WHERE id = ?
            """,
            [
                m.expMonth, m.expYear, m.holder, m.address.line1, m.address.line2, m.address.city, m.address.postalCode,
                m.address.country, m.id,
            ]
        )
    }

    public func deletePaymentMethod(id: String) throws {
        try execOne("payment method \(id)", "DELETE FROM payment_methods WHERE id = ?", [id])
    }

    public func paymentMethodUsers(id: String, statuses: [Subscription.Status]) throws -> [String] {
        try strings(
            """
            SELECT id FROM billing_profiles WHERE payment_method = ?
            UNION ALL SELECT id FROM subscriptions WHERE payment_method = ? AND status IN (\(Self.placeholders(statuses.count)))
            ORDER BY 1
            """,
            SQLArguments([id, id]) + SQLArguments(statuses.map(\.rawValue))
        )
    }

    // MARK: Invoices

    public func insertInvoice(_ i: Invoice) throws {
        try exec(
            """
            INSERT INTO invoices (id, billing_profile, date, period_start, period_end, total, currency, status, kind)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            SQLArguments(values: [
                i.id.sqlValue, i.billingProfile.sqlValue, i.date.sqlValue, i.periodStart.sqlValue,
                i.periodEnd.sqlValue, i.total.minorUnits.sqlValue, i.total.currency.sqlValue, i.status.sqlValue,
                i.kind.sqlValue,
            ])
        )
        for (n, l) in i.lines.enumerated() {
            try exec(
                "INSERT INTO invoice_lines (invoice, line, description, subscription, quantity, unit_price, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                SQLArguments(values: [
                    i.id.sqlValue, (n + 1).sqlValue, l.description.sqlValue, l.subscription.sqlValue,
                    l.quantity.sqlValue, l.unitPrice.minorUnits.sqlValue, l.amount.minorUnits.sqlValue,
                ])
            )
        }
    }

    static func invoice(_ r: SQLRow, lines: [InvoiceLine]) throws -> Invoice {
        Invoice(
            id: try r.decode(forColumn: "id"),
            billingProfile: try r.decode(forColumn: "billing_profile"),
            date: try r.decode(forColumn: "date"),
            periodStart: try r.decode(forColumn: "period_start"),
            periodEnd: try r.decode(forColumn: "period_end"),
            total: Money(minorUnits: try r.decode(forColumn: "total"), currency: try r.decode(forColumn: "currency")),
            status: try r.decode(forColumn: "status"),
            kind: try r.decode(forColumn: "kind"),
            lines: lines
        )
    }

    public func invoice(id: String) throws -> Invoice? {
        guard let r = try row("SELECT * FROM invoices WHERE id = ?", [id]) else { return nil }
        let currency: String = try r.decode(forColumn: "currency")
        let lines = try rows("SELECT * FROM invoice_lines WHERE invoice = ? ORDER BY line", [id]).map {
            InvoiceLine(
                description: try $0.decode(forColumn: "description"),
                subscription: try $0.decode(forColumn: "subscription"),
                quantity: try $0.decode(forColumn: "quantity"),
                unitPrice: Money(minorUnits: try $0.decode(forColumn: "unit_price"), currency: currency),
                amount: Money(minorUnits: try $0.decode(forColumn: "amount"), currency: currency)
            )
        }
        return try Self.invoice(r, lines: lines)
    }

    public func invoices(owner: String, profile: String?, from: Day?, to: Day?) throws -> [Invoice] {
        var sql = """
            SELECT i.* FROM invoices i JOIN billing_profiles bp ON bp.id = i.billing_profile
            JOIN billing_accounts ba ON ba.id = bp.account WHERE ba.owner = ?
            """
        var args: SQLArguments = [owner]
        if let profile {
            sql += " AND i.billing_profile = ?"
            args += [profile]
        }
        if let from {
            sql += " AND i.date >= ?"
            args += [from.description]
        }
        if let to {
            sql += " AND i.date <= ?"
            args += [to.description]
        }
        return try rows(sql + " ORDER BY i.date DESC, i.id DESC", args).map { try Self.invoice($0, lines: []) }
    }

    public func setInvoiceStatus(id: String, _ status: Invoice.Status) throws {
        try execOne("invoice \(id)", "UPDATE invoices SET status = ? WHERE id = ?", [status.rawValue, id])
    }

    // MARK: Billing run

    public func subscriptionsForBilling(on day: Day, after: String?, limit: Int) throws -> [Subscription] {
        try rows(
            "SELECT * FROM subscriptions WHERE next_step <= ? AND id > ? ORDER BY id LIMIT ?",
            [day.description, after ?? "", limit]
        ).map(Self.subscription)
    }

    public func subscriptionIds(paymentMethod: String, statuses: [Subscription.Status]) throws -> [String] {
        try strings(
            """
            SELECT s.id FROM subscriptions s LEFT JOIN billing_profiles bp ON bp.id = s.billing_profile
            WHERE coalesce(s.payment_method, bp.payment_method) = ? AND s.status IN (\(Self.placeholders(statuses.count)))
            ORDER BY s.id
            """,
            SQLArguments([paymentMethod]) + SQLArguments(statuses.map(\.rawValue))
        )
    }

    public func pendingChargeProfiles(after: String?, limit: Int) throws -> [String] {
        try strings(
            "SELECT DISTINCT billing_profile FROM pending_charges WHERE billing_profile > ? ORDER BY billing_profile LIMIT ?",
            [after ?? "", limit]
        )
    }

    public func pendingCharges(billingProfile: String) throws -> [PendingCharge] {
        try rows("SELECT * FROM pending_charges WHERE billing_profile = ? ORDER BY id", [billingProfile]).map(
            Self.pendingCharge
        )
    }

    public func deletePendingCharges(billingProfile: String) throws {
        try exec("DELETE FROM pending_charges WHERE billing_profile = ?", [billingProfile])
    }

    public func lastPendingChargeNumber() throws -> Int64 {
        guard let r = try row("SELECT coalesce(max(id), 0) AS n FROM pending_charges") else { return 0 }
        return try r.decode(Int64.self, forColumn: "n")
    }

    public func pendingCharges(after number: Int64) throws -> [PendingCharge] {
        try rows("SELECT * FROM pending_charges WHERE id > ? ORDER BY id", [number]).map(Self.pendingCharge)
    }

    static func pendingCharge(_ row: SQLRow) throws -> PendingCharge {
        let currency: String = try row.decode(forColumn: "currency")
        return PendingCharge(
            billingProfile: try row.decode(forColumn: "billing_profile"),
            day: try row.decode(forColumn: "day"),
            periodEnd: try row.decode(forColumn: "period_end"),
            line: InvoiceLine(
                description: try row.decode(forColumn: "description"),
                subscription: try row.decode(forColumn: "subscription"),
                quantity: try row.decode(forColumn: "quantity"),
                unitPrice: Money(minorUnits: try row.decode(forColumn: "unit_price"), currency: currency),
                amount: Money(minorUnits: try row.decode(forColumn: "amount"), currency: currency)
            ),
            failed: try row.decode(forColumn: "failed")
        )
    }

    public func addPendingCharge(_ c: PendingCharge) throws {
        try exec(
            """
            INSERT INTO pending_charges (billing_profile, day, period_end, currency, description, subscription, quantity, unit_price, amount, failed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            SQLArguments(values: [
                c.billingProfile.sqlValue, c.day.sqlValue, c.periodEnd.sqlValue, c.line.amount.currency.sqlValue,
                c.line.description.sqlValue, c.line.subscription.sqlValue, c.line.quantity.sqlValue,
                c.line.unitPrice.minorUnits.sqlValue, c.line.amount.minorUnits.sqlValue, c.failed.sqlValue,
            ])
        )
    }

    public func invoiceCounts(billingProfile: String, since: Day) throws -> [Day: Int] {
        var counts: [Day: Int] = [:]
        for r in try rows(
            "SELECT date, count(*) AS n FROM invoices WHERE billing_profile = ? AND date >= ? GROUP BY date",
            [billingProfile, since.description]
        ) {
            counts[try r.decode(Day.self, forColumn: "date")] = try r.decode(Int.self, forColumn: "n")
        }
        return counts
    }

    // MARK: Plugins

    static func plugin(_ r: SQLRow) throws -> PluginRecord {
        PluginRecord(
            name: try r.decode(forColumn: "name"),
            version: try r.decode(forColumn: "version"),
            description: try r.decode(forColumn: "description"),
            source: try r.decode(forColumn: "source"),
            sha256: try r.decode(forColumn: "sha256"),
            enabled: try r.decode(forColumn: "enabled"),
            hooks: (try r.decode(String.self, forColumn: "hooks")).split(separator: ",").map(String.init),
            installedBy: try r.decode(forColumn: "installed_by"),
            installedAt: try r.decode(forColumn: "installed_at")
        )
    }

    public func plugins() throws -> [PluginRecord] {
        try rows("SELECT * FROM plugins ORDER BY name").map(Self.plugin)
    }

    public func plugin(name: String) throws -> PluginRecord? {
        try row("SELECT * FROM plugins WHERE name = ?", [name]).map(Self.plugin)
    }

    public func insertPlugin(_ p: PluginRecord) throws {
        try exec(
            "INSERT INTO plugins (name, version, description, source, sha256, enabled, hooks, installed_by, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                p.name, p.version, p.description, p.source, p.sha256, p.enabled, p.hooks.joined(separator: ","),
                p.installedBy, p.installedAt,
            ]
        )
    }

    public func updatePlugin(_ p: PluginRecord) throws {
        try execOne(
            "plugin \(p.name)",
            "UPDATE plugins SET version = ?, description = ?, source = ?, sha256 = ?, enabled = ?, hooks = ? WHERE name = ?",
            [p.version, p.description, p.source, p.sha256, p.enabled, p.hooks.joined(separator: ","), p.name]
        )
    }

    public func deletePlugin(name: String) throws {
        try execOne("plugin \(name)", "DELETE FROM plugins WHERE name = ?", [name])
    }
}

// MARK: Safe re-runs

extension SQLStore {
    public func idempotencyRecord(actor: String, key: String) throws -> IdempotencyRecord? {
        try row("SELECT * FROM idempotency_keys WHERE actor = ? AND key = ?", [actor, key]).map {
            IdempotencyRecord(
                actor: try $0.decode(forColumn: "actor"),
                key: try $0.decode(forColumn: "key"),
                command: try $0.decode(forColumn: "command"),
                result: try $0.decode(forColumn: "result"),
                createdAt: try $0.decode(forColumn: "created_at")
            )
        }
    }

    public func saveIdempotencyRecord(_ r: IdempotencyRecord) throws {
        try exec(
            "INSERT INTO idempotency_keys (actor, key, command, result, created_at) VALUES (?, ?, ?, ?, ?)",
            [r.actor, r.key, r.command, r.result, r.createdAt]
        )
    }

    public func deleteIdempotencyRecords(createdBefore: String) throws {
        try exec("DELETE FROM idempotency_keys WHERE created_at < ?", [createdBefore])
    }

    public func hasBatchMark(actor: String, file: String, line: Int, textHash: String) throws -> Bool {
        try int(
            "SELECT count(*) FROM batch_marks WHERE actor = ? AND file = ? AND line = ? AND text_hash = ?",
            [actor, file, line, textHash]
        ) > 0
    }

    public func saveBatchMark(_ m: BatchMark) throws {
        try exec(
            """
            INSERT INTO batch_marks (actor, file, line, text_hash, committed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (actor, file, line, text_hash) DO UPDATE SET committed_at = excluded.committed_at
            """,
            [m.actor, m.file, m.line, m.textHash, m.committedAt]
        )
    }

    public func deleteBatchMarks(committedBefore: String) throws {
        try exec("DELETE FROM batch_marks WHERE committed_at < ?", [committedBefore])
    }
}
