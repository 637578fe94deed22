/// The JSON shapes of the commands' output, built from domain values. Field names here are a stable
/// contract: scripts read them.
public enum Shapes {
    /// The columns of each list, in order: a CSV header (also of an empty list) and table columns that
    /// do not change from call to call, whichever fields the rows happen to have.
    public enum Columns {
        public static let user = ["email", "name", "kind", "role", "status"]
        public static let product = [
            "id", "name", "unit_price", "currency", "term", "trial_days", "trial_licenses", "self_service",
        ]
        public static let subscription = [
            "id", "product", "product_name", "buyer", "buyer_name", "status", "term", "licenses_total",
            "licenses_assigned", "licenses_available", "unit_price", "currency", "started", "expires",
            "billing_profile", "payment_method", "trial", "cancel_reason", "cancel_comment",
        ]
        public static let assignment = ["email", "name", "assigned_at", "assigned_by"]
        public static let purchase = [
            "subscription", "product_name", "buyer", "buyer_name", "licenses_total", "licenses_assigned", "expires",
            "unit_price", "currency", "status",
        ]
        public static let reason = ["code", "label", "comment_required", "source"]
        public static let audit = ["at", "actor", "action", "target", "outcome", "details"]
        public static let forecast = [
            "date", "subscription", "product_name", "licenses", "amount", "currency", "description",
        ]
        public static let invoice = [
            "id", "billing_profile", "date", "period_start", "period_end", "total", "currency", "status",
        ]
        public static let billingAccount = ["id", "name", "owner", "profiles"]
        public static let billingProfile = [
            "id", "account", "name", "payment_method", "invoice_email", "default", "subscriptions",
        ]
        public static let paymentMethod = [
            "id", "brand", "last4", "exp_month", "exp_year", "holder", "address", "default", "fingerprint",
        ]
        public static let plugin = ["name", "version", "enabled", "hooks", "installed_by", "installed_at", "sha256"]
    }

    public static func user(_ u: User) -> PlainValue {
        .object([
            ("email", .string(u.email)), ("name", .string(u.name)), ("kind", .string(u.kind.rawValue)),
            ("role", .string(u.role.rawValue)), ("status", .string(u.status.rawValue)),
        ])
    }

    public static func product(_ p: Product) -> PlainValue {
        .object([
            ("id", .string(p.id)), ("name", .string(p.name)), ("unit_price", PlainValue(p.unitPrice)),
            ("currency", .string(p.unitPrice.currency)), ("term", .string(p.term.rawValue)),
            ("trial_days", PlainValue(p.trialDays)), ("trial_licenses", PlainValue(p.trialLicenses)),
            ("self_service", .string(p.selfService.rawValue)),
        ])
    }

    public static func subscription(_ d: SubscriptionDetails, assigned: [Assignment]? = nil) -> PlainValue {
        let s = d.subscription
        var pairs: [(String, PlainValue)] = [
            ("id", .string(s.id)), ("product", .string(s.product)), ("product_name", .string(d.productName)),
            ("buyer", .string(s.buyer)), ("buyer_name", .string(d.buyerName)), ("status", .string(s.status.rawValue)),
            ("term", .string(s.term.rawValue)), ("licenses_total", PlainValue(s.licensesTotal)),
            ("licenses_assigned", PlainValue(d.licensesAssigned)),
            ("licenses_available", PlainValue(max(0, s.licensesTotal - d.licensesAssigned))),
            ("unit_price", PlainValue(s.unitPrice)), ("currency", .string(s.unitPrice.currency)),
            ("started", PlainValue(s.started)), ("expires", PlainValue(s.expires)),
            ("billing_profile", PlainValue(s.billingProfile)), ("payment_method", PlainValue(d.effectivePaymentMethod)),
            ("trial", .bool(s.isTrial)),
        ]
        if s.status == .canceled || s.cancelReason != nil {
            pairs.append(("cancel_reason", PlainValue(s.cancelReason)))
            pairs.append(("cancel_comment", PlainValue(s.cancelComment)))
        }
        if let assigned { pairs.append(("assigned_users", .array(assigned.map(assignment)))) }
        return .object(pairs)
    }

    public static func assignment(_ a: Assignment) -> PlainValue {
        .object([
            ("email", .string(a.email)), ("name", .string(a.name)), ("assigned_at", .string(a.assignedAt)),
            ("assigned_by", .string(a.assignedBy)),
        ])
    }

    public static func purchase(_ d: SubscriptionDetails, assigned: [Assignment]? = nil) -> PlainValue {
        let s = d.subscription
        var pairs: [(String, PlainValue)] = [
            ("subscription", .string(s.id)), ("product_name", .string(d.productName)), ("buyer", .string(s.buyer)),
            ("buyer_name", .string(d.buyerName)), ("licenses_total", PlainValue(s.licensesTotal)),
            ("licenses_assigned", PlainValue(d.licensesAssigned)), ("expires", PlainValue(s.expires)),
            ("unit_price", PlainValue(s.unitPrice)), ("currency", .string(s.unitPrice.currency)),
            ("status", .string(s.status.rawValue)),
        ]
        if let assigned { pairs.append(("assigned_users", .array(assigned.map(assignment)))) }
        return .object(pairs)
    }

    public static func reason(_ r: CancellationReason) -> PlainValue {
        .object([
            ("code", .string(r.code)), ("label", .string(r.label)), ("comment_required", .bool(r.commentRequired)),
            ("source", .string(r.source)),
        ])
    }

    public static func audit(_ e: AuditEntry) -> PlainValue {
        let details = (try? JSON.parse(e.details)) ?? .string(e.details)
        return .object([
            ("at", .string(e.at)), ("actor", .string(e.actor)), ("action", .string(e.action)),
            ("target", .string(e.target)), ("outcome", .string(e.outcome.rawValue)), ("details", details),
        ])
    }

    public static func paymentMethod(_ m: PaymentMethod, isDefault: Bool) -> PlainValue {
        .object([
            ("id", .string(m.id)), ("brand", .string(m.brand.rawValue)), ("last4", .string(m.last4)),
            ("exp_month", PlainValue(m.expMonth)), ("exp_year", PlainValue(m.expYear)), ("holder", .string(m.holder)),
            (
                "address",
                .object([
                    ("line1", PlainValue(m.address.line1)), ("line2", PlainValue(m.address.line2)),
                    ("city", PlainValue(m.address.city)), ("postal_code", PlainValue(m.address.postalCode)),
                    ("country", PlainValue(m.address.country)),
                ])
            ),
            ("default", .bool(isDefault)), ("fingerprint", .string(m.fingerprint)),
        ])
    }

    public static func invoice(_ i: Invoice, lines: Bool) -> PlainValue {
        var pairs: [(String, PlainValue)] = [
            ("id", .string(i.id)), ("billing_profile", .string(i.billingProfile)), ("date", PlainValue(i.date)),
            ("period_start", PlainValue(i.periodStart)), ("period_end", PlainValue(i.periodEnd)),
            ("total", PlainValue(i.total)), ("currency", .string(i.total.currency)),
            ("status", .string(i.status.rawValue)),
        ]
        if lines {
            pairs.append(
                (
                    "lines",
                    .array(
                        i.lines.map {
                            .object([
                                ("description", .string($0.description)), ("subscription", PlainValue($0.subscription)),
                                ("quantity", PlainValue($0.quantity)), ("unit_price", PlainValue($0.unitPrice)),
                                ("amount", PlainValue($0.amount)),
                            ])
                        }
                    )
                )
            )
        }
        return .object(pairs)
    }

    /// `copy --to`: both sides' counts and totals, and whether the copy was kept.
    public static func organizationCopy(_ c: OrganizationCopy, kept: Bool) -> PlainValue {
        func side(_ s: OrganizationCopy.Side) -> PlainValue {
            .object([
                ("database", .string(s.database)),
                ("counts", .object(s.counts.map { ($0.table, PlainValue.int($0.rows)) })),
                ("invoice_totals", .object(s.invoiceTotals.map { ($0.currency, PlainValue($0)) })),
                ("licenses_assigned", .int(s.licensesAssigned)),
            ])
        }
        return .object([
            ("source", side(c.source)), ("target", side(c.target)),
            ("matches", .bool(c.source.agrees(with: c.target))), ("kept", .bool(kept)),
        ])
    }

    /// `copy --to` as a table: one line per table, invoice total and the assigned licenses, both sides.
    public static func organizationCopyRows(_ c: OrganizationCopy) -> [PlainValue] {
        func row(_ item: String, _ a: PlainValue, _ b: PlainValue) -> PlainValue {
            .object([("item", .string(item)), ("source", a), ("target", b)])
        }
        var rows = zip(c.source.counts, c.target.counts).map { row($0.table, .int($0.rows), .int($1.rows)) }
        let currencies = Set((c.source.invoiceTotals + c.target.invoiceTotals).map(\.currency)).sorted()
        for currency in currencies {
            func total(_ s: OrganizationCopy.Side) -> PlainValue {
                s.invoiceTotals.first { $0.currency == currency }.map { PlainValue($0) } ?? .null
            }
            rows.append(row("invoice total \(currency)", total(c.source), total(c.target)))
        }
        rows.append(row("licenses assigned", .int(c.source.licensesAssigned), .int(c.target.licensesAssigned)))
        rows.append(row("database", .string(c.source.database), .string(c.target.database)))
        return rows
    }
}
