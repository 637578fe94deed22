/// The tables both backends hold — one schema, written twice (GRDB migrations for SQLite,
/// `PostgresSchema` for PostgreSQL) under the same migration names.
public enum SQLSchema {
    /// Every table of an organization, parents before children: the order `copy --to` fills them in
    /// (foreign keys hold after every row). Migration bookkeeping is not in it: each backend keeps its own.
    public static let tables = [
        "organization", "settings", "users", "products", "audit_log", "payment_methods", "billing_accounts",
        "billing_profiles", "plugins", "subscriptions", "trials_taken", "assignments", "license_changes",
        "invoices", "invoice_lines", "pending_charges", "idempotency_keys", "batch_marks",
    ]

    /// Tables whose integer ids the database hands out: a server's sequence must continue after the
    /// copied rows.
    public static let generatedIDs = ["audit_log", "license_changes", "pending_charges"]
}
