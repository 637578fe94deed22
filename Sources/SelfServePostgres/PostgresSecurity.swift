import SelfServeSQL

/// Who may do what in a selfserve database on PostgreSQL, enforced by the server itself, so that a buyer
/// connected with psql can do no more than selfserve lets them (SPEC §6, SECURITY.md).
///
/// - The acting person is the authenticated login role, `session_user` — never `current_user`, which
///   `SET ROLE` changes — mapped to a user by `users.db_role`. A role mapped to no user is no one.
/// - Tables belong to `selfserve_owner`, a role nobody logs in as; row-level security is enabled **and
///   forced** on every table, so that even functions running as the owner are filtered.
/// - `selfserve_user` (buyers), `selfserve_admin` (also a `selfserve_user`) and `selfserve_billing`
///   are the group roles a DBA grants to login roles. Table privileges say which statements each may
///   run at all; the policies say on which rows.
enum PostgresSecurity {
    static let groupRoles = ["selfserve_owner", "selfserve_user", "selfserve_admin", "selfserve_billing"]

    /// Tables everyone in the organization reads and only admins change: the directory, the catalog,
    /// the plugins. (The card fingerprint key is in settings: buyers need it to fingerprint their cards.)
    static let shared = ["organization", "settings", "users", "products", "plugins"]

    /// Tables a buyer (or the billing run) writes rows of, the policies deciding which.
    static let personal = [
        "subscriptions", "assignments", "license_changes", "trials_taken", "invoices", "invoice_lines",
        "pending_charges", "payment_methods", "billing_accounts", "billing_profiles", "idempotency_keys",
        "batch_marks",
    ]

    /// Creates the group roles (once per server: roles are not per database), hands every table to the
    /// owner role, turns row-level security on and maps the connecting role to `admin` — by default the
    /// organization's first admin (init's only one; the oldest when an older database is upgraded). Runs
    /// inside the transaction that created the schema (init, copy --to) or upgrades it, as a role that
    /// owns the database and may create roles; superuser rights are not needed.
    static func lockDown(mappingConnectingRoleTo admin: String? = nil) -> String {
        var sql = """
            DO $roles$
            DECLARE r text;
            BEGIN
                FOREACH r IN ARRAY ARRAY['\(groupRoles.joined(separator: "', '"))'] LOOP
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
                        BEGIN
                            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                        EXCEPTION WHEN duplicate_object THEN NULL; -- created meanwhile for another database
                        END;
                    END IF;
                END LOOP;
                IF NOT pg_has_role('selfserve_admin', 'selfserve_user', 'MEMBER') THEN
                    GRANT selfserve_user TO selfserve_admin;
                END IF;
                -- Handing a table to a role needs membership in it (PostgreSQL 15): held for this transaction only.
                IF NOT pg_has_role(session_user, 'selfserve_owner', 'MEMBER') THEN
                    GRANT selfserve_owner TO SESSION_USER;
                END IF;
                EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO selfserve_owner', current_schema());
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO selfserve_user, selfserve_billing', current_schema());
            END $roles$;

            """
        // Mapped before the policies exist: afterwards only an admin may change users, and nobody is one yet.
        let email =
            admin.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }
            ?? "(SELECT email FROM users WHERE role = 'admin' ORDER BY created_at, email LIMIT 1)"
        sql += """
            UPDATE users SET db_role = session_user WHERE email = \(email);
            GRANT selfserve_admin TO SESSION_USER;

            """
        for table in SQLSchema.tables + ["selfserve_migrations"] {
            sql += """
                ALTER TABLE \(table) OWNER TO selfserve_owner;
                REVOKE ALL ON \(table) FROM PUBLIC;

                """
        }
        for table in SQLSchema.tables {
            sql += "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n"
        }
        sql += functions + policies + grants
        // The connecting role keeps no membership in the owner: as an admin it reads everything and
        // changes nothing of others', like every other admin. (Upgrades take it again for their
        // transaction.)
        sql += """
            DO $done$ BEGIN
                IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
                    REVOKE selfserve_owner FROM SESSION_USER;
                END IF;
            END $done$;

            """
        return sql
    }

    /// `users.db_role` is the session's login role. `session_user` is a `name`, whose text carries the
    /// "C" collation: compared as it is, no index on `db_role` (default collation) can be used, and every
    /// policy check scanned the whole directory (11 ms at 100,000 users, on every statement).
    static let isSessionRole = #"db_role = session_user::text COLLATE "default""#

    /// Who the session is, as the policies ask it. Plain SQL, run as the caller: `users` is readable by
    /// everyone in the organization, so no definer rights are needed (and none can be abused).
    static var functions: String {
        """
        CREATE OR REPLACE FUNCTION selfserve_me() RETURNS text LANGUAGE sql STABLE AS
            $$ SELECT email FROM users WHERE \(isSessionRole) AND status = 'active' $$;
        CREATE OR REPLACE FUNCTION selfserve_is_admin() RETURNS boolean LANGUAGE sql STABLE AS
            $$ SELECT EXISTS (SELECT FROM users WHERE \(isSessionRole) AND role = 'admin' AND status = 'active') $$;
        CREATE OR REPLACE FUNCTION selfserve_is_billing() RETURNS boolean LANGUAGE sql STABLE AS
            $$ SELECT pg_has_role(session_user, 'selfserve_billing', 'MEMBER') $$;
        -- The buyer of a billing profile, for the tables that hang from one.
        CREATE OR REPLACE FUNCTION selfserve_profile_owner(profile text) RETURNS text LANGUAGE sql STABLE AS
            $$ SELECT a.owner FROM billing_profiles p JOIN billing_accounts a ON a.id = p.account WHERE p.id = profile $$;
        \(helpers.map { "ALTER FUNCTION \($0) OWNER TO selfserve_owner;" }.joined(separator: "\n"))
        -- The assigned counter follows the assignments whoever inserts them: the trigger runs as the owner
        -- (its policies below let the owner's trigger through), so nobody needs UPDATE rights on others'
        -- subscriptions to keep it right.
        ALTER FUNCTION assignments_count() OWNER TO selfserve_owner;
        ALTER FUNCTION assignments_count() SECURITY DEFINER;
        ALTER FUNCTION assignments_count() SET search_path FROM CURRENT;

        """
    }

    /// The functions the policies ask, by signature: owned, granted and dropped as one list.
    static let helpers = [
        "selfserve_me()", "selfserve_is_admin()", "selfserve_is_billing()", "selfserve_profile_owner(text)",
    ]

    /// `mine` is the row's person; admins read every row; the billing run reads and writes what it
    /// must organization-wide. `current_user = 'selfserve_owner'` is true only inside the counter
    /// trigger (nobody logs in as, or is a member of, the owner).
    static func personalPolicies(_ table: String, mine: String, adminWrites: Bool = false) -> String {
        let write =
            "(\(mine)) OR selfserve_is_billing() OR current_user = 'selfserve_owner'"
            + (adminWrites ? " OR selfserve_is_admin()" : "")
        return """
            CREATE POLICY read ON \(table) FOR SELECT USING ((\(mine)) OR selfserve_is_admin() OR selfserve_is_billing() OR current_user = 'selfserve_owner');
            CREATE POLICY add ON \(table) FOR INSERT WITH CHECK (\(write));
            CREATE POLICY change ON \(table) FOR UPDATE USING (\(write)) WITH CHECK (\(write));
            CREATE POLICY remove ON \(table) FOR DELETE USING (\(write));

            """
    }

    static let me = "selfserve_me()"

    /// Every column of subscriptions but `licenses_assigned`.
    static let subscriptionColumns = [
        "id", "product", "buyer", "status", "term", "licenses_total", "unit_price", "currency", "started",
        "period_start", "expires", "billing_profile", "payment_method", "trial", "converts", "cancel_reason",
        "cancel_comment", "canceled_at", "status_since", "created_at", "next_step",
    ]

    /// What a failed or dry-run init removes besides the tables (policies go with their tables).
    static var dropFunctions: String {
        helpers.map { "DROP FUNCTION IF EXISTS \($0);" }.joined(separator: "\n")
    }

    static var policies: String {
        var sql = ""
        for table in shared {
            sql += """
                CREATE POLICY read ON \(table) FOR SELECT USING (true);
                CREATE POLICY manage ON \(table) FOR ALL USING (selfserve_is_admin()) WITH CHECK (selfserve_is_admin());

                """
        }
        // Admins write others' subscription rows in two audited commands: take-over, and the calendar
        // steps an admin command settles first (a product policy change judges the trials that ended
        // before it) — the subscription, its assignments and license changes, the buyer's pending charges.
        sql += personalPolicies("subscriptions", mine: "buyer = \(me)", adminWrites: true)
        sql += """
            CREATE POLICY assignee ON assignments FOR SELECT USING (email = \(me));

            """
        sql += personalPolicies(
            "assignments",
            mine: "(SELECT buyer FROM subscriptions s WHERE s.id = subscription) = \(me)",
            adminWrites: true
        )
        sql += personalPolicies(
            "license_changes",
            mine: "(SELECT buyer FROM subscriptions s WHERE s.id = subscription) = \(me)",
            adminWrites: true
        )
        sql += personalPolicies("trials_taken", mine: "buyer = \(me)")
        sql += personalPolicies("payment_methods", mine: "owner = \(me)")
        sql += personalPolicies("billing_accounts", mine: "owner = \(me)")
        sql += personalPolicies(
            "billing_profiles",
            mine: "(SELECT owner FROM billing_accounts a WHERE a.id = account) = \(me)"
        )
        sql += personalPolicies("invoices", mine: "selfserve_profile_owner(billing_profile) = \(me)")
        sql += personalPolicies(
            "invoice_lines",
            mine: "(SELECT selfserve_profile_owner(i.billing_profile) FROM invoices i WHERE i.id = invoice) = \(me)"
        )
        sql += personalPolicies(
            "pending_charges",
            mine: "selfserve_profile_owner(billing_profile) = \(me)",
            adminWrites: true
        )
        sql += personalPolicies("idempotency_keys", mine: "actor = coalesce(\(me), 'system')")
        sql += personalPolicies("batch_marks", mine: "actor = coalesce(\(me), 'system')")
        // The audit log is append-only: no UPDATE or DELETE policy (nor privilege) for anyone. A row
        // records the login role that wrote it, and its actor is that role's person — or `system` for the
        // billing work a command does on the calendar's behalf.
        sql += """
            CREATE POLICY read ON audit_log FOR SELECT USING (selfserve_is_admin() OR actor = \(me));
            CREATE POLICY append ON audit_log FOR INSERT WITH CHECK (
                db_role = session_user::text
                AND (actor = \(me) OR (actor = 'system' AND (selfserve_is_billing() OR action LIKE 'billing.%')))
            );

            """
        return sql
    }

    static var grants: String {
        var sql = """
            GRANT SELECT ON selfserve_migrations TO selfserve_user, selfserve_billing;
            GRANT EXECUTE ON FUNCTION \(helpers.joined(separator: ", ")) TO selfserve_user, selfserve_billing;
            GRANT SELECT, INSERT ON audit_log TO selfserve_user, selfserve_billing;

            """
        for table in shared {
            sql += "GRANT SELECT ON \(table) TO selfserve_user, selfserve_billing;\n"
            sql += "GRANT INSERT, UPDATE, DELETE ON \(table) TO selfserve_admin;\n"
        }
        for table in personal where table != "subscriptions" {
            sql += "GRANT SELECT, INSERT, UPDATE, DELETE ON \(table) TO selfserve_user, selfserve_billing;\n"
        }
        // The assigned counter is the trigger's alone: a buyer who could set it could then assign past
        // the total (the CHECK compares the counter, not the rows).
        let columns = subscriptionColumns.joined(separator: ", ")
        sql += """
            GRANT SELECT, DELETE ON subscriptions TO selfserve_user, selfserve_billing;
            GRANT INSERT (\(columns)), UPDATE (\(columns)) ON subscriptions TO selfserve_user, selfserve_billing;

            """
        return sql
    }
}
