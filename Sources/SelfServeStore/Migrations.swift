import GRDB

/// The schema, as a list of migrations that only ever grows. An old database is upgraded in place by
/// running the migrations it has not seen; a migration that shipped is never edited.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-foundation") { db in
            try db.execute(
                sql: """
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
                    """
            )
        }
        m.registerMigration("v2-subscriptions") { db in
            try db.execute(
                sql: """
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
                    """
            )
        }
        m.registerMigration("v3-billing") { db in
            try db.execute(
                sql: """
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
                    """
            )
        }
        m.registerMigration("v4-plugins") { db in
            try db.execute(
                sql: """
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
                    """
            )
        }
        m.registerMigration("v5-billing-run") { db in
            try db.execute(
                sql: """
                    -- What the billing run has charged: the start of the last period invoiced, and each license change.
                    ALTER TABLE subscriptions ADD COLUMN billed_period TEXT;
                    ALTER TABLE license_changes ADD COLUMN billed INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX license_changes_unbilled ON license_changes(subscription) WHERE billed = 0;
                    CREATE INDEX subscriptions_unbilled ON subscriptions(period_start) WHERE trial = 0 AND (billed_period IS NULL OR billed_period <> period_start);
                    CREATE INDEX subscriptions_status_since ON subscriptions(status, status_since);
                    """
            )
        }
        m.registerMigration("v6-calendar-billing") { db in
            // Billing became a function of the calendar (charges are made when their event happens and
            // wait in pending_charges for the run to invoice them), subscriptions can be past_due, and
            // the day of each subscription's next lifecycle step is kept (by Core) for the run to find.
            // SQLite cannot change a CHECK constraint in place: the table is rebuilt, the documented
            // way (GRDB runs migrations with foreign keys checked at the end).
            try db.execute(
                sql: """
                    CREATE TABLE subscriptions_v6 (
                        id TEXT PRIMARY KEY,
                        product TEXT NOT NULL REFERENCES products(id),
                        buyer TEXT NOT NULL REFERENCES users(email),
                        status TEXT NOT NULL CHECK (status IN ('trial', 'active', 'past_due', 'canceled', 'expired', 'disabled', 'deleted')),
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
                        created_at TEXT NOT NULL,
                        licenses_assigned INTEGER NOT NULL DEFAULT 0,
                        next_step TEXT
                    ) WITHOUT ROWID;
                    INSERT INTO subscriptions_v6
                        SELECT id, product, buyer, status, term, licenses_total, unit_price, currency, started, period_start, expires,
                               billing_profile, payment_method, trial, converts, cancel_reason, cancel_comment, canceled_at, status_since,
                               created_at, licenses_assigned,
                               CASE WHEN status IN ('trial', 'active', 'canceled') THEN expires
                                    WHEN status = 'expired' THEN date(status_since, '+30 days')
                                    WHEN status = 'disabled' THEN date(status_since, '+90 days') END
                        FROM subscriptions;
                    CREATE TABLE pending_charges (
                        id INTEGER PRIMARY KEY,
                        billing_profile TEXT NOT NULL REFERENCES billing_profiles(id),
                        day TEXT NOT NULL,
                        period_end TEXT NOT NULL,
                        currency TEXT NOT NULL,
                        description TEXT NOT NULL,
                        subscription TEXT,
                        quantity INTEGER NOT NULL,
                        unit_price INTEGER NOT NULL,
                        amount INTEGER NOT NULL,
                        failed INTEGER NOT NULL DEFAULT 0
                    );
                    -- What the old run had not charged yet: credits waiting, and periods not invoiced.
                    INSERT INTO pending_charges (billing_profile, day, period_end, currency, description, subscription, quantity, unit_price, amount)
                        SELECT p.billing_profile, date('now'), date('now'), coalesce(s.currency, 'USD'), p.description, p.subscription,
                               p.quantity, p.unit_price, p.amount
                        FROM pending_credits p LEFT JOIN subscriptions s ON s.id = p.subscription ORDER BY p.id;
                    INSERT INTO pending_charges (billing_profile, day, period_end, currency, description, subscription, quantity, unit_price, amount)
                        SELECT s.billing_profile, s.period_start, s.expires, s.currency,
                               pr.name || ', ' || s.term || ', ' || s.period_start || ' to ' || date(s.expires, '-1 day'), s.id, s.licenses_total,
                               s.unit_price * CASE s.term WHEN 'annual' THEN 12 ELSE 1 END,
                               s.unit_price * CASE s.term WHEN 'annual' THEN 12 ELSE 1 END * s.licenses_total
                        FROM subscriptions s JOIN products pr ON pr.id = s.product
                        WHERE s.trial = 0 AND s.billing_profile IS NOT NULL AND (s.billed_period IS NULL OR s.billed_period <> s.period_start);
                    DROP TABLE pending_credits;
                    -- The triggers on assignments name subscriptions: the rename checks them, so they go and come back.
                    DROP TRIGGER assignments_count_insert;
                    DROP TRIGGER assignments_count_delete;
                    DROP TABLE subscriptions;
                    ALTER TABLE subscriptions_v6 RENAME TO subscriptions;
                    CREATE INDEX subscriptions_buyer ON subscriptions(buyer, product);
                    CREATE INDEX subscriptions_product ON subscriptions(product, status);
                    CREATE INDEX subscriptions_status_expires ON subscriptions(status, expires);
                    CREATE INDEX subscriptions_profile ON subscriptions(billing_profile);
                    CREATE INDEX subscriptions_payment_method ON subscriptions(payment_method);
                    CREATE INDEX subscriptions_status_since ON subscriptions(status, status_since);
                    CREATE INDEX subscriptions_next_step ON subscriptions(next_step) WHERE next_step IS NOT NULL;
                    DROP INDEX IF EXISTS license_changes_unbilled;
                    CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
                        UPDATE subscriptions SET licenses_assigned = licenses_assigned + 1 WHERE id = NEW.subscription;
                    END;
                    CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments BEGIN
                        UPDATE subscriptions SET licenses_assigned = licenses_assigned - 1 WHERE id = OLD.subscription;
                    END;
                    """
            )
        }
        m.registerMigration("v7-safe-reruns") { db in
            try db.execute(
                sql: """
                    -- --idempotency-key: a write command's result, per acting user and key, for 24 hours.
                    CREATE TABLE idempotency_keys (
                        actor TEXT NOT NULL,
                        key TEXT NOT NULL,
                        command TEXT NOT NULL,
                        result TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        PRIMARY KEY (actor, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
                    -- --resume: the lines of batch files that committed, written in the line's own transaction.
                    CREATE TABLE batch_marks (
                        actor TEXT NOT NULL,
                        file TEXT NOT NULL,
                        line INTEGER NOT NULL,
                        text_hash TEXT NOT NULL,
                        committed_at TEXT NOT NULL,
                        PRIMARY KEY (actor, file, line, text_hash)
                    ) WITHOUT ROWID;
                    CREATE INDEX batch_marks_committed ON batch_marks(committed_at);
                    """
            )
        }
        m.registerMigration("v8-assigned-within-total") { db in
            // The last line of defence behind Core's checks (and a buyer's psql on a server): a
            // subscription never has more licenses assigned than it has. Rebuilt as in v6; the counter
            // is recounted from the assignments on the way, so a file that drifted is repaired — and one
            // that really holds more assignments than licenses stops the upgrade instead of hiding it.
            try db.execute(
                sql: """
                    CREATE TABLE subscriptions_v8 (
                        id TEXT PRIMARY KEY,
                        product TEXT NOT NULL REFERENCES products(id),
                        buyer TEXT NOT NULL REFERENCES users(email),
                        status TEXT NOT NULL CHECK (status IN ('trial', 'active', 'past_due', 'canceled', 'expired', 'disabled', 'deleted')),
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
                        created_at TEXT NOT NULL,
                        licenses_assigned INTEGER NOT NULL DEFAULT 0,
                        next_step TEXT,
                        CONSTRAINT assigned_within_total CHECK (licenses_assigned BETWEEN 0 AND licenses_total)
                    ) WITHOUT ROWID;
                    INSERT INTO subscriptions_v8
                        SELECT id, product, buyer, status, term, licenses_total, unit_price, currency, started, period_start, expires,
                               billing_profile, payment_method, trial, converts, cancel_reason, cancel_comment, canceled_at, status_since,
                               created_at, (SELECT count(*) FROM assignments a WHERE a.subscription = s.id), next_step
                        FROM subscriptions s;
                    DROP TRIGGER assignments_count_insert;
                    DROP TRIGGER assignments_count_delete;
                    DROP TABLE subscriptions;
                    ALTER TABLE subscriptions_v8 RENAME TO subscriptions;
                    CREATE INDEX subscriptions_buyer ON subscriptions(buyer, product);
                    CREATE INDEX subscriptions_product ON subscriptions(product, status);
                    CREATE INDEX subscriptions_status_expires ON subscriptions(status, expires);
                    CREATE INDEX subscriptions_profile ON subscriptions(billing_profile);
                    CREATE INDEX subscriptions_payment_method ON subscriptions(payment_method);
                    CREATE INDEX subscriptions_status_since ON subscriptions(status, status_since);
                    CREATE INDEX subscriptions_next_step ON subscriptions(next_step) WHERE next_step IS NOT NULL;
                    CREATE TRIGGER assignments_count_insert AFTER INSERT ON assignments BEGIN
                        UPDATE subscriptions SET licenses_assigned = licenses_assigned + 1 WHERE id = NEW.subscription;
                    END;
                    CREATE TRIGGER assignments_count_delete AFTER DELETE ON assignments BEGIN
                        UPDATE subscriptions SET licenses_assigned = licenses_assigned - 1 WHERE id = OLD.subscription;
                    END;
                    """
            )
        }
        m.registerMigration("v9-database-roles") { db in
            // Identity on PostgreSQL is the login role: users name theirs (user map), and each audit row
            // the role that wrote it. A file keeps both too — unused for identity, but mapped users move
            // to a server with copy --to as they are, and both backends keep one schema.
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN db_role TEXT;
                    CREATE UNIQUE INDEX users_db_role ON users(db_role);
                    ALTER TABLE audit_log ADD COLUMN db_role TEXT;
                    """
            )
        }
        m.registerMigration("v10-pending-charges-by-profile") { db in
            // The billing run invoices profile by profile; without it each profile's charges were a
            // scan of every pending charge, and a run grew with the square of the organization.
            try db.execute(sql: "CREATE INDEX pending_charges_profile ON pending_charges(billing_profile, id)")
        }
        m.registerMigration("v11-session-role-by-index") { _ in
            // PostgreSQL's policy helpers only (they looked up the session's role without the index): a
            // file has neither. Registered here too, so that both backends keep one list of migrations.
        }
        return m
    }
}
