/// A self-service purchase (or trial) of licenses of one product by one buyer.
public struct Subscription: Hashable, Sendable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case trial, active
        /// A renewal could not be charged (the card had expired or was removed on the charge day):
        /// licenses keep working, it does not renew, and it waits for `invoice pay`.
        case pastDue = "past_due"
        case canceled, expired, disabled, deleted

        /// The statuses in which a subscription still renews or may still be charged: its card is in
        /// use and may not be removed.
        public static let chargeable: [Status] = [.trial, .active, .pastDue, .canceled]
        /// Every status but `deleted`: what an organization still counts as its subscriptions.
        public static let notDeleted: [Status] = allCases.filter { $0 != .deleted }
    }

    public var id: String
    public var product: String
    public var buyer: String
    public var status: Status
    public var term: Term
    public var licensesTotal: Int
    public var unitPrice: Money
    /// The first day of the subscription.
    public var started: Day
    /// The first day of the current billing period (purchase, conversion or last renewal).
    public var periodStart: Day
    /// The end of the current term: the day it renews, converts or expires.
    public var expires: Day
    public var billingProfile: String?
    /// A payment method chosen for this subscription; when nil the billing profile's applies.
    public var paymentMethod: String?
    public var isTrial: Bool
    /// An `enabled`-policy trial with a payment method converts to paid at its end.
    public var convertsAutomatically: Bool
    public var cancelReason: String?
    public var cancelComment: String?
    public var canceledAt: String?
    /// The day the status last changed by the lifecycle (expired, disabled), for the next step's date.
    public var statusSince: Day
    public var createdAt: String

    public init(
        id: String,
        product: String,
        buyer: String,
        status: Status,
        term: Term,
        licensesTotal: Int,
        unitPrice: Money,
        started: Day,
        periodStart: Day,
        expires: Day,
        billingProfile: String?,
        paymentMethod: String?,
        isTrial: Bool,
        convertsAutomatically: Bool,
        cancelReason: String? = nil,
        cancelComment: String? = nil,
        canceledAt: String? = nil,
        statusSince: Day,
        createdAt: String
    ) {
        self.id = id
        self.product = product
        self.buyer = buyer
        self.status = status
        self.term = term
        self.licensesTotal = licensesTotal
        self.unitPrice = unitPrice
        self.started = started
        self.periodStart = periodStart
        self.expires = expires
        self.billingProfile = billingProfile
        self.paymentMethod = paymentMethod
        self.isTrial = isTrial
        self.convertsAutomatically = convertsAutomatically
        self.cancelReason = cancelReason
        self.cancelComment = cancelComment
        self.canceledAt = canceledAt
        self.statusSince = statusSince
        self.createdAt = createdAt
    }

    /// Whether the subscription still takes changes (licenses, assignments, cancellation).
    public var isChangeable: Bool { status == .active || status == .trial }

    /// Days after expiry until an expired subscription is disabled, and after that until it is deleted.
    public static let daysUntilDisabled = 30
    public static let daysUntilDeleted = 90
    /// A past-due subscription still unpaid this many days after the failed charge is disabled.
    public static let daysPastDueUntilDisabled = 30

    /// The day of its next lifecycle step (renewal, trial end, expiry, disabling, deletion), nil when
    /// none is left. Settlement processes every step whose day has come; the store indexes this day
    /// so that a billing run finds what is due without knowing the rules.
    public var nextStepDay: Day? {
        switch status {
        case .active, .trial, .canceled: return expires
        case .pastDue: return statusSince.adding(days: Self.daysPastDueUntilDisabled)
        case .expired: return statusSince.adding(days: Self.daysUntilDisabled)
        case .disabled: return statusSince.adding(days: Self.daysUntilDeleted)
        case .deleted: return nil
        }
    }

    /// What one license costs for one whole period of the term.
    public func periodPrice() throws -> Money { try unitPrice.times(term.months) }
}

/// A subscription together with what its JSON shows from other tables, read in one query.
public struct SubscriptionDetails: Hashable, Sendable {
    public var subscription: Subscription
    public var productName: String
    public var buyerName: String
    public var licensesAssigned: Int
    /// The payment method in effect: the subscription's own, else its billing profile's.
    public var effectivePaymentMethod: String?

    public init(
        subscription: Subscription,
        productName: String,
        buyerName: String,
        licensesAssigned: Int,
        effectivePaymentMethod: String?
    ) {
        self.subscription = subscription
        self.productName = productName
        self.buyerName = buyerName
        self.licensesAssigned = licensesAssigned
        self.effectivePaymentMethod = effectivePaymentMethod
    }
}

/// One license of a subscription given to one user.
public struct Assignment: Hashable, Sendable {
    public var subscription: String
    public var email: String
    public var name: String
    public var assignedAt: String
    public var assignedBy: String

    public init(subscription: String, email: String, name: String, assignedAt: String, assignedBy: String) {
        self.subscription = subscription
        self.email = email
        self.name = name
        self.assignedAt = assignedAt
        self.assignedBy = assignedBy
    }
}

/// A change of a subscription's license total, kept so that the billing run can prorate it.
public struct LicenseChange: Hashable, Sendable {
    public var subscription: String
    public var day: Day
    public var oldTotal: Int
    public var newTotal: Int
    public var at: String

    public init(subscription: String, day: Day, oldTotal: Int, newTotal: Int, at: String) {
        self.subscription = subscription
        self.day = day
        self.oldTotal = oldTotal
        self.newTotal = newTotal
        self.at = at
    }
}

/// A reason people may give when they cancel.
public struct CancellationReason: Hashable, Sendable {
    public var code: String
    public var label: String
    public var commentRequired: Bool
    /// `builtin` or the plugin's name.
    public var source: String

    public init(code: String, label: String, commentRequired: Bool, source: String) {
        self.code = code
        self.label = label
        self.commentRequired = commentRequired
        self.source = source
    }

    public static let builtin: [CancellationReason] = [
        .init(code: "no_longer_needed", label: "No longer needed", commentRequired: false, source: "builtin"),
        .init(code: "too_expensive", label: "Too expensive", commentRequired: false, source: "builtin"),
        .init(
            code: "switching_product",
            label: "Switching to another product",
            commentRequired: false,
            source: "builtin"
        ),
        .init(code: "missing_features", label: "Missing features", commentRequired: false, source: "builtin"),
        .init(code: "other", label: "Other", commentRequired: true, source: "builtin"),
    ]
}
