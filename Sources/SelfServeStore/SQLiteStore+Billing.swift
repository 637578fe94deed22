import GRDB
import SelfServeCore

/// Billing accounts, profiles, payment methods, invoices and pending credits.
extension SQLiteStore {
    // MARK: Accounts and profiles

    static func account(_ r: Row) -> BillingAccount {
        BillingAccount(id: r["id"], name: r["name"], owner: r["owner"], createdAt: r["created_at"])
    }

    static func profile(_ r: Row) -> BillingProfile {
        BillingProfile(id: r["id"], account: r["account"], name: r["name"], paymentMethod: r["payment_method"],
                       invoiceEmail: r["invoice_email"], isDefault: r["is_default"], createdAt: r["created_at"])
    }

    public func billingAccounts(owner: String) throws -> [BillingAccount] {
        try rows("SELECT * FROM billing_accounts WHERE owner = ? ORDER BY created_at, id", [owner]).map(Self.account)
    }

    public func billingAccount(id: String) throws -> BillingAccount? {
        try row("SELECT * FROM billing_accounts WHERE id = ?", [id]).map(Self.account)
    }

    public func insertBillingAccount(_ a: BillingAccount) throws {
        try exec("INSERT INTO billing_accounts (id, name, owner, created_at) VALUES (?, ?, ?, ?)", [a.id, a.name, a.owner, a.createdAt])
    }

    public func billingProfiles(owner: String, account: String?) throws -> [BillingProfile] {
        var sql = "SELECT bp.* FROM billing_profiles bp JOIN billing_accounts ba ON ba.id = bp.account WHERE ba.owner = ?"
        var args: StatementArguments = [owner]
        if let account { sql += " AND bp.account = ?"; args += [account] }
        return try rows(sql + " ORDER BY bp.created_at, bp.id", args).map(Self.profile)
    }

    public func billingProfile(id: String) throws -> BillingProfile? {
        try row("SELECT * FROM billing_profiles WHERE id = ?", [id]).map(Self.profile)
    }

    public func insertBillingProfile(_ p: BillingProfile) throws {
        try exec("INSERT INTO billing_profiles (id, account, name, payment_method, invoice_email, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [p.id, p.account, p.name, p.paymentMethod, p.invoiceEmail, p.isDefault, p.createdAt])
    }

    public func updateBillingProfile(_ p: BillingProfile) throws {
        try exec("UPDATE billing_profiles SET name = ?, payment_method = ?, invoice_email = ?, is_default = ? WHERE id = ?",
                 [p.name, p.paymentMethod, p.invoiceEmail, p.isDefault, p.id])
    }

    public func subscriptionIds(billingProfile: String) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM subscriptions WHERE billing_profile = ? ORDER BY id"), arguments: [billingProfile])
    }

    // MARK: Payment methods

    static func paymentMethod(_ r: Row) -> PaymentMethod {
        PaymentMethod(id: r["id"], owner: r["owner"], brand: CardBrand(rawValue: r["brand"]) ?? .visa, last4: r["last4"],
                      expMonth: r["exp_month"], expYear: r["exp_year"], holder: r["holder"],
                      address: PostalAddress(line1: r["address_line1"], line2: r["address_line2"], city: r["city"],
                                             postalCode: r["postal_code"], country: r["country"]),
                      fingerprint: r["fingerprint"], createdAt: r["created_at"])
    }

    public func paymentMethod(id: String) throws -> PaymentMethod? {
        try row("SELECT * FROM payment_methods WHERE id = ?", [id]).map(Self.paymentMethod)
    }

    public func paymentMethods(owner: String) throws -> [PaymentMethod] {
        try rows("SELECT * FROM payment_methods WHERE owner = ? ORDER BY created_at, id", [owner]).map(Self.paymentMethod)
    }

    public func paymentMethod(owner: String, fingerprint: String) throws -> PaymentMethod? {
        try row("SELECT * FROM payment_methods WHERE owner = ? AND fingerprint = ?", [owner, fingerprint]).map(Self.paymentMethod)
    }

    public func insertPaymentMethod(_ m: PaymentMethod) throws {
        try exec("""
            INSERT INTO payment_methods (id, owner, brand, last4, exp_month, exp_year, holder, address_line1, address_line2, city,
                postal_code, country, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [m.id, m.owner, m.brand.rawValue, m.last4, m.expMonth, m.expYear, m.holder, m.address.line1, m.address.line2,
                  m.address.city, m.address.postalCode, m.address.country, m.fingerprint, m.createdAt])
    }

    public func updatePaymentMethod(_ m: PaymentMethod) throws {
        try exec("""
            UPDATE payment_methods SET exp_month = ?, exp_year = ?, holder = ?, address_line1 = ?, address_line2 = ?, city = ?,
                postal_code = ?, country = ? WHERE id = ?
            """, [m.expMonth, m.expYear, m.holder, m.address.line1, m.address.line2, m.address.city, m.address.postalCode, m.address.country, m.id])
    }

    public func deletePaymentMethod(id: String) throws {
        try exec("DELETE FROM payment_methods WHERE id = ?", [id])
    }

    public func paymentMethodUsers(id: String) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: """
            SELECT id FROM billing_profiles WHERE payment_method = ?
            UNION ALL SELECT id FROM subscriptions WHERE payment_method = ? AND status IN ('trial', 'active', 'past_due', 'canceled')
            ORDER BY 1
            """), arguments: [id, id])
    }

    // MARK: Invoices

    public func insertInvoice(_ i: Invoice) throws {
        try exec("""
            INSERT INTO invoices (id, billing_profile, date, period_start, period_end, total, currency, status, kind)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [i.id, i.billingProfile, i.date.description, i.periodStart.description, i.periodEnd.description,
                  i.total.minorUnits, i.total.currency, i.status.rawValue, i.kind])
        for (n, l) in i.lines.enumerated() {
            try exec("INSERT INTO invoice_lines (invoice, line, description, subscription, quantity, unit_price, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [i.id, n + 1, l.description, l.subscription, l.quantity, l.unitPrice.minorUnits, l.amount.minorUnits])
        }
    }

    static func invoice(_ r: Row, lines: [InvoiceLine]) -> Invoice {
        Invoice(id: r["id"], billingProfile: r["billing_profile"], date: day(r, "date"), periodStart: day(r, "period_start"),
                periodEnd: day(r, "period_end"), total: Money(minorUnits: r["total"], currency: r["currency"]),
                status: Invoice.Status(rawValue: r["status"]) ?? .pastDue, kind: r["kind"], lines: lines)
    }

    public func invoice(id: String) throws -> Invoice? {
        guard let r = try row("SELECT * FROM invoices WHERE id = ?", [id]) else { return nil }
        let currency: String = r["currency"]
        let lines = try rows("SELECT * FROM invoice_lines WHERE invoice = ? ORDER BY line", [id]).map {
            InvoiceLine(description: $0["description"], subscription: $0["subscription"], quantity: $0["quantity"],
                        unitPrice: Money(minorUnits: $0["unit_price"], currency: currency), amount: Money(minorUnits: $0["amount"], currency: currency))
        }
        return Self.invoice(r, lines: lines)
    }

    public func invoices(owner: String, profile: String?, from: Day?, to: Day?) throws -> [Invoice] {
        var sql = """
            SELECT i.* FROM invoices i JOIN billing_profiles bp ON bp.id = i.billing_profile
            JOIN billing_accounts ba ON ba.id = bp.account WHERE ba.owner = ?
            """
        var args: StatementArguments = [owner]
        if let profile { sql += " AND i.billing_profile = ?"; args += [profile] }
        if let from { sql += " AND i.date >= ?"; args += [from.description] }
        if let to { sql += " AND i.date <= ?"; args += [to.description] }
        return try rows(sql + " ORDER BY i.date DESC, i.id DESC", args).map { Self.invoice($0, lines: []) }
    }

    public func setInvoiceStatus(id: String, _ status: Invoice.Status) throws {
        try exec("UPDATE invoices SET status = ? WHERE id = ?", [status.rawValue, id])
    }

    // MARK: Billing run

    public func subscriptionsForBilling(on day: Day) throws -> [Subscription] {
        try rows("SELECT * FROM subscriptions WHERE next_step <= ? ORDER BY next_step, id", [day.description]).map(Self.subscription)
    }

    public func subscriptionIds(paymentMethod: String) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: """
            SELECT s.id FROM subscriptions s LEFT JOIN billing_profiles bp ON bp.id = s.billing_profile
            WHERE coalesce(s.payment_method, bp.payment_method) = ? AND s.status <> 'deleted' ORDER BY s.id
            """), arguments: [paymentMethod])
    }

    public func pendingCharges() throws -> [PendingCharge] {
        try rows("SELECT * FROM pending_charges ORDER BY id").map {
            let currency: String = $0["currency"]
            return PendingCharge(
                billingProfile: $0["billing_profile"], day: Self.day($0, "day"), periodEnd: Self.day($0, "period_end"),
                line: InvoiceLine(description: $0["description"], subscription: $0["subscription"], quantity: $0["quantity"],
                                  unitPrice: Money(minorUnits: $0["unit_price"], currency: currency),
                                  amount: Money(minorUnits: $0["amount"], currency: currency)),
                failed: $0["failed"])
        }
    }

    public func addPendingCharge(_ c: PendingCharge) throws {
        try exec("""
            INSERT INTO pending_charges (billing_profile, day, period_end, currency, description, subscription, quantity, unit_price, amount, failed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [c.billingProfile, c.day.description, c.periodEnd.description, c.line.amount.currency, c.line.description,
                  c.line.subscription, c.line.quantity, c.line.unitPrice.minorUnits, c.line.amount.minorUnits, c.failed])
    }

    public func deletePendingCharges() throws {
        try exec("DELETE FROM pending_charges")
    }

    public func invoiceCount(billingProfile: String, date: Day) throws -> Int {
        try int("SELECT count(*) FROM invoices WHERE billing_profile = ? AND date = ?", [billingProfile, date.description])
    }

    // MARK: Plugins

    static func plugin(_ r: Row) -> PluginRecord {
        PluginRecord(name: r["name"], version: r["version"], description: r["description"], source: r["source"], sha256: r["sha256"],
                     enabled: r["enabled"], hooks: (r["hooks"] as String).split(separator: ",").map(String.init),
                     installedBy: r["installed_by"], installedAt: r["installed_at"])
    }

    public func plugins() throws -> [PluginRecord] {
        try rows("SELECT * FROM plugins ORDER BY name").map(Self.plugin)
    }

    public func plugin(name: String) throws -> PluginRecord? {
        try row("SELECT * FROM plugins WHERE name = ?", [name]).map(Self.plugin)
    }

    public func insertPlugin(_ p: PluginRecord) throws {
        try exec("INSERT INTO plugins (name, version, description, source, sha256, enabled, hooks, installed_by, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [p.name, p.version, p.description, p.source, p.sha256, p.enabled, p.hooks.joined(separator: ","), p.installedBy, p.installedAt])
    }

    public func updatePlugin(_ p: PluginRecord) throws {
        try exec("UPDATE plugins SET version = ?, description = ?, source = ?, sha256 = ?, enabled = ?, hooks = ? WHERE name = ?",
                 [p.version, p.description, p.source, p.sha256, p.enabled, p.hooks.joined(separator: ","), p.name])
    }

    public func deletePlugin(name: String) throws {
        try exec("DELETE FROM plugins WHERE name = ?", [name])
    }
}
