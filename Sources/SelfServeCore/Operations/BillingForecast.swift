import Foundation

/// One coming charge (or credit) of `billing forecast`.
public struct ForecastLine: Hashable, Sendable {
    public var date: Day
    public var subscription: String
    public var productName: String
    public var licenses: Int
    public var amount: Money
    public var description: String

    /// The JSON of `billing forecast`, one object per line.
    public var shape: PlainValue {
        .object([
            ("date", PlainValue(date)), ("subscription", .string(subscription)), ("product_name", .string(productName)),
            ("licenses", PlainValue(licenses)), ("amount", PlainValue(amount)), ("currency", .string(amount.currency)),
            ("description", .string(description)),
        ])
    }
}

extension CommandContext {
    /// How far a forecast may look ahead: ten years of monthly renewals is already 120 lines per
    /// subscription.
    public static let maxForecastDays = 3_660

    /// The acting user's coming charges up to `until` (default: a year from today), per subscription and
    /// day. Computed by the billing run's own steps, run ahead inside this command's transaction, which
    /// the executor rolls back: the numbers are the ones a later `billing run` will invoice, as long as
    /// nothing changes in between.
    public func billingForecast(until: Day?, subscription: String?) throws -> [ForecastLine] {
        let me = try actor()
        let end = until ?? today.adding(months: 12)
        guard end >= today else {
            throw SelfServeError.invalid("--until \(end) is in the past; a forecast starts today (\(today))")
        }
        guard today.days(to: end) <= Self.maxForecastDays else {
            throw SelfServeError(
                .limitExceeded,
                "a forecast looks at most \(Self.maxForecastDays) days ahead (to \(today.adding(days: Self.maxForecastDays)))"
            )
        }
        var subscriptions: [Subscription]
        if let subscription {
            let sub = try accessibleSubscription(subscription, .read)
            guard sub.buyer == me.email else {
                throw SelfServeError.forbidden("\(sub.id) was bought by \(sub.buyer); a forecast is its buyer's")
            }
            subscriptions = [sub]
        } else {
            subscriptions = try store.subscriptionDetails(filter: SubscriptionFilter(buyer: me.email)).map(
                \.subscription
            )
        }
        let names = Dictionary(
            try subscriptions.map { ($0.id, try details($0.id).productName) },
            uniquingKeysWith: { first, _ in first }
        )
        // Only the charges the steps below make: those already pending are not this forecast's.
        let known = try store.lastPendingChargeNumber()
        // As of the forecast's last day, the billing service does every step due until then.
        let ahead = CommandContext(
            store: store,
            policy: policy,
            clock: FixedClock(end.startDate),
            actorEmail: nil,
            ids: ids
        )
        for index in subscriptions.indices {
            try ahead.settleSteps(&subscriptions[index]) { _ in }
        }
        ids = ahead.ids
        return try store.pendingCharges(after: known).compactMap { charge -> ForecastLine? in
            guard let id = charge.line.subscription, let name = names[id] else { return nil }
            return ForecastLine(
                date: charge.day,
                subscription: id,
                productName: name,
                licenses: charge.line.quantity,
                amount: charge.line.amount,
                description: charge.line.description
            )
        }
        .sorted { ($0.date, $0.subscription) < ($1.date, $1.subscription) }
    }
}
