/// Everything the rules need from storage, inside one transaction that the executor opened.
///
/// This is the narrow interface between the domain and SQL: the SQLite implementation lives in
/// `SelfServeStore`; a PostgreSQL one can be added behind the same protocol. Methods read or write
/// whole values; none of them opens, commits or rolls back a transaction.
public protocol Store: AnyObject {
    // MARK: Organization and settings
    func organization() throws -> Organization?
    func saveOrganization(_ org: Organization) throws
    func setting(_ key: String) throws -> String?
    func setSetting(_ key: String, _ value: String) throws

    // MARK: Users
    func user(email: String) throws -> User?
    /// The users of these e-mails that exist, by e-mail (one query however many).
    func users(emails: [String]) throws -> [String: User]
    func users(kind: User.Kind?) throws -> [User]
    func insertUser(_ user: User) throws
    func updateUser(_ user: User) throws
    func userCount() throws -> Int
    /// Maps (or with nil unmaps) the login role that is `email` on a server.
    func setDatabaseRole(email: String, role: String?) throws
    /// The user a login role is mapped to.
    func user(databaseRole: String) throws -> String?
    /// Whether the server has a login role of that name; nil where roles do not exist (a file).
    func databaseRoleExists(_ role: String) throws -> Bool?
    /// E-mails starting with `prefix`, for completion.
    func emails(prefix: String, limit: Int) throws -> [String]

    // MARK: Products
    /// By id, or by name compared without case.
    func product(idOrName: String) throws -> Product?
    func products() throws -> [Product]
    func upsertProduct(_ product: Product) throws

    // MARK: Audit log
    func appendAudit(_ entry: AuditEntry) throws
    /// The entries one at a time, oldest first (a log of any length is never held whole). `each` must not
    /// use the store: on a server the rows arrive on the same connection while it runs.
    func auditEntries(since: String?, actor: String?, action: String?, each: (AuditEntry) throws -> Void) throws

    // MARK: Subscriptions and licenses
    func insertSubscription(_ subscription: Subscription) throws
    func updateSubscription(_ subscription: Subscription) throws
    /// Writes only what differs from `old`, the subscription as stored (nothing when nothing does).
    func updateSubscription(_ subscription: Subscription, was old: Subscription) throws
    func subscription(id: String) throws -> Subscription?
    func subscriptionDetails(id: String) throws -> SubscriptionDetails?
    func subscriptionDetails(filter: SubscriptionFilter) throws -> [SubscriptionDetails]
    /// The same rows, one at a time, for output that streams; `each` must not use the store (as above).
    func subscriptionDetails(filter: SubscriptionFilter, each: (SubscriptionDetails) throws -> Void) throws
    func subscriptionCount(statuses: [Subscription.Status]) throws -> Int
    func hasTrial(buyer: String, product: String) throws -> Bool
    func recordTrial(buyer: String, product: String, subscription: String) throws
    func subscriptionIds(prefix: String, buyer: String?, limit: Int) throws -> [String]

    func assignedCount(subscription: String) throws -> Int
    func assignments(subscription: String) throws -> [Assignment]
    /// Which of `emails` already hold a license of the subscription.
    func assignedEmails(subscription: String, among emails: [String]) throws -> Set<String>
    func insertAssignments(_ assignments: [Assignment]) throws
    func deleteAssignments(subscription: String, emails: [String]) throws
    func deleteAllAssignments(subscription: String) throws
    func recordLicenseChange(_ change: LicenseChange) throws
    /// The day of the latest license change from none before `day` (the purchase, or a restart), if any.
    func latestStartDay(subscription: String, before day: Day) throws -> Day?

    // MARK: Billing accounts, profiles, payment methods
    func billingAccounts(owner: String) throws -> [BillingAccount]
    func billingAccount(id: String) throws -> BillingAccount?
    func insertBillingAccount(_ account: BillingAccount) throws
    func billingProfiles(owner: String, account: String?) throws -> [BillingProfile]
    func billingProfile(id: String) throws -> BillingProfile?
    func insertBillingProfile(_ profile: BillingProfile) throws
    func updateBillingProfile(_ profile: BillingProfile) throws
    func subscriptionIds(billingProfile: String) throws -> [String]

    func paymentMethod(id: String) throws -> PaymentMethod?
    func paymentMethods(owner: String) throws -> [PaymentMethod]
    func paymentMethod(owner: String, fingerprint: String) throws -> PaymentMethod?
    func insertPaymentMethod(_ method: PaymentMethod) throws
    func updatePaymentMethod(_ method: PaymentMethod) throws
    func deletePaymentMethod(id: String) throws
    /// Billing profiles, and subscriptions in one of `statuses`, that pay with this method directly.
    func paymentMethodUsers(id: String, statuses: [Subscription.Status]) throws -> [String]

    // MARK: Invoices
    func insertInvoice(_ invoice: Invoice) throws
    func invoice(id: String) throws -> Invoice?
    func invoices(owner: String, profile: String?, from: Day?, to: Day?) throws -> [Invoice]
    /// An invoice's status changes (`invoice pay`); its lines and amounts never do.
    func setInvoiceStatus(id: String, _ status: Invoice.Status) throws

    // MARK: Billing run
    /// Subscriptions whose next lifecycle step (`Subscription.nextStepDay`) is on or before `day`, at most
    /// `limit` of them with an id after `after`, by id: the run pages through them, so that its memory
    /// does not grow with the organization.
    func subscriptionsForBilling(on day: Day, after: String?, limit: Int) throws -> [Subscription]
    /// Subscriptions in one of `statuses` paid by this method, directly or through their billing profile.
    func subscriptionIds(paymentMethod: String, statuses: [Subscription.Status]) throws -> [String]
    /// The newest pending charge's number (0 when there is none): charges made after it number higher.
    func lastPendingChargeNumber() throws -> Int64
    /// The charges made but not yet invoiced that number higher than `number`, oldest first.
    func pendingCharges(after number: Int64) throws -> [PendingCharge]
    func addPendingCharge(_ charge: PendingCharge) throws
    /// The billing profiles with pending charges, at most `limit` after `after`, in order.
    func pendingChargeProfiles(after: String?, limit: Int) throws -> [String]
    /// One profile's pending charges, oldest first.
    func pendingCharges(billingProfile: String) throws -> [PendingCharge]
    /// Removes one profile's pending charges (the run has just invoiced them).
    func deletePendingCharges(billingProfile: String) throws
    /// How many invoices a profile has on each day from `since` on (a later run on the same day adds
    /// another); days without one are left out.
    func invoiceCounts(billingProfile: String, since: Day) throws -> [Day: Int]
    /// Runs `body` so that, when it throws, only its own changes are undone (a savepoint inside the
    /// command's transaction); the error is rethrown.
    func isolated(_ body: () throws -> Void) throws

    // MARK: Safe re-runs
    func idempotencyRecord(actor: String, key: String) throws -> IdempotencyRecord?
    func saveIdempotencyRecord(_ record: IdempotencyRecord) throws
    /// Forgets records made before `createdBefore` (a timestamp).
    func deleteIdempotencyRecords(createdBefore: String) throws
    func hasBatchMark(actor: String, file: String, line: Int, textHash: String) throws -> Bool
    func saveBatchMark(_ mark: BatchMark) throws
    func deleteBatchMarks(committedBefore: String) throws

    // MARK: Plugins
    func plugins() throws -> [PluginRecord]
    func plugin(name: String) throws -> PluginRecord?
    func insertPlugin(_ plugin: PluginRecord) throws
    func updatePlugin(_ plugin: PluginRecord) throws
    func deletePlugin(name: String) throws
}

/// Which subscriptions a list shows. Nil fields do not filter.
public struct SubscriptionFilter: Sendable {
    public var buyer: String?
    public var product: String?
    public var statuses: [Subscription.Status]?

    public init(buyer: String? = nil, product: String? = nil, statuses: [Subscription.Status]? = nil) {
        self.buyer = buyer
        self.product = product
        self.statuses = statuses
    }
}
