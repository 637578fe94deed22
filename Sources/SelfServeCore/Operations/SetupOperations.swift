/// `init`, `org show`.
extension CommandContext {
    public func initialize(
        orgName: String,
        adminEmail: String,
        adminName: String?,
        cloud: Organization.Cloud,
        fingerprintKey: [UInt8],
        testClock: Bool = false
    ) throws -> PlainValue {
        if try store.organization() != nil {
            throw SelfServeError.conflict(
                "this database is already initialized; use another --db to create a new organization"
            )
        }
        let name = try Sanitize.name(orgName, field: "organization name")
        let email = try Email.normalize(adminEmail)
        let admin = User(
            email: email,
            name: try Sanitize.name(adminName ?? String(email.split(separator: "@")[0]), field: "admin name"),
            kind: .member,
            role: .admin,
            status: .active,
            createdAt: timestamp
        )
        let org = Organization(name: name, cloud: cloud, createdAt: timestamp)
        try store.saveOrganization(org)
        try store.insertUser(admin)
        for product in BuiltinCatalog.products { try store.upsertProduct(product) }
        try store.setSetting("fingerprint_key", fingerprintKey.hexDigits)
        if testClock { try store.setSetting(Self.testClockSetting, "1") }
        audit(
            "org.init",
            target: name,
            [
                ("admin", .string(email)), ("cloud", .string(cloud.rawValue)), ("test_clock", .bool(testClock)),
                ("products", PlainValue(BuiltinCatalog.products.count)),
            ]
        )
        return try orgShow()
    }

    /// The setting that makes a test-clock organization (`init --test-clock`).
    public static let testClockSetting = "test_clock"

    /// Whether this organization takes a simulated clock (`SELFSERVE_NOW`) for writes. What-if time
    /// is not a write path in a live organization: it would let anyone backdate a cancellation for
    /// a refund, or run billing years ahead.
    public func hasTestClock() throws -> Bool { try store.setting(Self.testClockSetting) == "1" }

    public func organizationOrFail() throws -> Organization {
        guard let org = try store.organization() else {
            throw SelfServeError.notFound(
                "this database has no organization yet; run 'selfserve init --org NAME --admin EMAIL'"
            )
        }
        return org
    }

    public func orgShow() throws -> PlainValue {
        let org = try organizationOrFail()
        return .object([
            ("name", .string(org.name)), ("cloud", .string(org.cloud.rawValue)),
            ("portal_url", .string(org.cloud.portalURL)),
            ("users", PlainValue(try store.userCount())),
            ("subscriptions", PlainValue(try store.subscriptionCount(statuses: Subscription.Status.notDeleted))),
        ])
    }

    /// The fingerprint key generated for this database by `init`.
    public func fingerprintKey() throws -> [UInt8] {
        guard let hex = try store.setting("fingerprint_key"), hex.count % 2 == 0 else {
            throw SelfServeError.conflict(
                "this database has no card fingerprint key; was it created by 'selfserve init'?"
            )
        }
        var bytes: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { bytes.append(UInt8(String([a, b]), radix: 16) ?? 0) }
        return bytes
    }
}
