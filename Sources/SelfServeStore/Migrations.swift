import GRDB

/// The schema, as a list of migrations that only ever grows. An old database is upgraded in place by
/// running the migrations it has not seen; a migration that shipped is never edited.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE organization (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    name TEXT NOT NULL,
                    cloud TEXT NOT NULL CHECK (cloud IN ('global', 'china')),
                    created_at TEXT NOT NULL
                );
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE users (
                    email TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('member', 'guest')),
                    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
                    status TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX users_kind ON users(kind, email);
                CREATE TABLE products (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    currency TEXT NOT NULL,
                    term TEXT NOT NULL CHECK (term IN ('monthly', 'annual')),
                    trial_days INTEGER NOT NULL CHECK (trial_days >= 0),
                    trial_licenses INTEGER NOT NULL CHECK (trial_licenses >= 0),
                    self_service TEXT NOT NULL CHECK (self_service IN ('enabled', 'disabled', 'trials_only'))
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX products_name ON products(name COLLATE NOCASE);
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
                    details TEXT NOT NULL
                );
                CREATE INDEX audit_at ON audit_log(at);
                CREATE INDEX audit_actor ON audit_log(actor, at);
                CREATE INDEX audit_action ON audit_log(action, at);
                """)
        }
        m.registerMigration("v2-subscriptions") { db in
            try db.execute(sql: """
                CREATE TABLE payment_methods (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL REFERENCES users(email),
                    brand TEXT NOT NULL,
                    last4 TEXT NOT NULL,
                    exp_month INTEGER NOT NULL,
                    exp_year INTEGER NOT NULL,
                    holder TEXT NOT NULL,
                    address_line1 TEXT, address_line2 TEXT, city TEXT, postal_code TEXT, country TEXT,
                    fingerprint TEXT NOT NULL,
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX payment_methods_owner ON payment_methods(owner, fingerprint);
                CREATE TABLE billing_accounts (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    owner TEXT NOT NULL REFERENCES users(email),
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX billing_accounts_owner ON billing_accounts(owner);
                CREATE TABLE billing_profiles (
                    id TEXT PRIMARY KEY,
                    account TEXT NOT NULL REFERENCES billing_accounts(id),
                    name TEXT NOT NULL,
                    payment_method TEXT REFERENCES payment_methods(id),
                    invoice_email TEXT NOT NULL,
                    is_default INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX billing_profiles_account ON billing_profiles(account);
                CREATE INDEX billing_profiles_payment_method ON billing_profiles(payment_method);
                CREATE TABLE subscriptions (
                    id TEXT PRIMARY KEY,
                    product TEXT NOT NULL REFERENCES products(id),
                    buyer TEXT NOT NULL REFERENCES users(email),
                    status TEXT NOT NULL CHECK (status IN ('trial', 'active', 'canceled', 'expired', 'disabled', 'deleted')),
                    term TEXT NOT NULL CHECK (term IN ('monthly', 'annual')),
                    licenses_total INTEGER NOT NULL CHECK (licenses_total >= 0),
                    unit_price INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    started TEXT NOT NULL,
                    period_start TEXT NOT NULL,
                    expires TEXT NOT NULL,
                    billing_profile TEXT REFERENCES billing_profiles(id),
                    payment_method TEXT REFERENCES payment_methods(id),
                    trial INTEGER NOT NULL,
                    converts INTEGER NOT NULL,
                    cancel_reason TEXT,
                    cancel_comment TEXT,
                    canceled_at TEXT,
                    status_since TEXT NOT NULL,
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX subscriptions_buyer ON subscriptions(buyer, product);
                CREATE INDEX subscriptions_product ON subscriptions(product, status);
                CREATE INDEX subscriptions_status_expires ON subscriptions(status, expires);
                CREATE INDEX subscriptions_profile ON subscriptions(billing_profile);
                CREATE INDEX subscriptions_payment_method ON subscriptions(payment_method);
                CREATE TABLE assignments (
                    subscription TEXT NOT NULL REFERENCES subscriptions(id),
                    email TEXT NOT NULL REFERENCES users(email),
                    assigned_at TEXT NOT NULL,
                    assigned_by TEXT NOT NULL,
                    PRIMARY KEY (subscription, email)
                ) WITHOUT ROWID;
                CREATE INDEX assignments_email ON assignments(email);
                CREATE TABLE license_changes (
                    id INTEGER PRIMARY KEY,
                    subscription TEXT NOT NULL REFERENCES subscriptions(id),
                    day TEXT NOT NULL,
                    old_total INTEGER NOT NULL,
                    new_total INTEGER NOT NULL,
                    at TEXT NOT NULL
                );
                -- One trial per product per person, remembered after the trial converts or is deleted.
                CREATE TABLE trials_taken (
                    buyer TEXT NOT NULL,
                    product TEXT NOT NULL,
                    subscription TEXT NOT NULL,
                    PRIMARY KEY (buyer, product)
                ) WITHOUT ROWID;
                CREATE INDEX license_changes_subscription ON license_changes(subscription, day);
                -- The assigned count is read by every subscription view: keep it on the row instead of
                -- counting assignments each time (a million assignments must not slow down a list).
                ALTER TABLE subscriptions ADD COLUMN licenses_assigned INTEGER NOT NULL DEFAULT 0;
                CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
                    UPDATE subscriptions SET licenses_assigned = licenses_assigned + 1 WHERE id = NEW.subscription;
                END;
                CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments BEGIN
                    UPDATE subscriptions SET licenses_assigned = licenses_assigned - 1 WHERE id = OLD.subscription;
                END;
                """)
        }
        m.registerMigration("v3-billing") { db in
            try db.execute(sql: """
                CREATE TABLE invoices (
                    id TEXT PRIMARY KEY,
                    billing_profile TEXT NOT NULL REFERENCES billing_profiles(id),
                    date TEXT NOT NULL,
                    period_start TEXT NOT NULL,
                    period_end TEXT NOT NULL,
                    total INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    UNIQUE (billing_profile, period_start, kind)
                ) WITHOUT ROWID;
                CREATE INDEX invoices_profile_date ON invoices(billing_profile, date);
                CREATE TABLE invoice_lines (
                    invoice TEXT NOT NULL REFERENCES invoices(id),
                    line INTEGER NOT NULL,
                    description TEXT NOT NULL,
                    subscription TEXT,
                    quantity INTEGER NOT NULL,
                    unit_price INTEGER NOT NULL,
                    amount INTEGER NOT NULL,
                    PRIMARY KEY (invoice, line)
                ) WITHOUT ROWID;
                CREATE TABLE pending_credits (
                    id INTEGER PRIMARY KEY,
                    billing_profile TEXT NOT NULL REFERENCES billing_profiles(id),
                    description TEXT NOT NULL,
                    subscription TEXT,
                    quantity INTEGER NOT NULL,
                    unit_price INTEGER NOT NULL,
                    amount INTEGER NOT NULL
                );
                CREATE INDEX pending_credits_profile ON pending_credits(billing_profile);
                """)
        }
        m.registerMigration("v4-plugins") { db in
            try db.execute(sql: """
                CREATE TABLE plugins (
                    name TEXT PRIMARY KEY,
                    version TEXT NOT NULL,
                    description TEXT NOT NULL,
                    source TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    hooks TEXT NOT NULL,
                    installed_by TEXT NOT NULL,
                    installed_at TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v5-billing-run") { db in
            try db.execute(sql: """
                -- What the billing run has charged: the start of the last period invoiced, and each license change.
                ALTER TABLE subscriptions ADD COLUMN billed_period TEXT;
                ALTER TABLE license_changes ADD COLUMN billed INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX license_changes_unbilled ON license_changes(subscription) WHERE billed = 0;
                CREATE INDEX subscriptions_unbilled ON subscriptions(period_start) WHERE trial = 0 AND (billed_period IS NULL OR billed_period <> period_start);
                CREATE INDEX subscriptions_status_since ON subscriptions(status, status_since);
                """)
        }
        return m
    }
}
