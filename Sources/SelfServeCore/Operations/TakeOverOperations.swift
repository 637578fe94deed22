/// `admin take-over` (Microsoft 365's "Take control of this subscription"): an admin may not change a
/// subscription someone else bought, but may take it over — move every assigned user to one of the
/// admin's own subscriptions, or cancel it — when its buyer has left or cannot act.
extension CommandContext {
    public enum TakeOver: Sendable {
        /// Move every assigned user to this subscription of the acting admin.
        case moveTo(String)
        /// End it, with a cancellation reason (and a comment when the reason needs one).
        case cancel(reason: String, comment: String?)
    }

    /// What a take-over did.
    public struct TakeOverReport: Sendable {
        public var subscription: String
        public var buyer: String
        public var moved: [String]
        public var movedTo: String?
        public var reason: String?
        /// The credit for the unused days of the paid period, to the buyer (zero for a trial or an
        /// unpaid period).
        public var credit: Money

        public var shape: PlainValue {
            .object([
                ("subscription", .string(subscription)), ("status", .string(Subscription.Status.deleted.rawValue)),
                ("buyer", .string(buyer)), ("action", .string(movedTo == nil ? "cancel" : "move")),
                ("moved_to", PlainValue(movedTo)), ("moved", .array(moved.map { .string($0) })),
                ("reason", PlainValue(reason)), ("credit", PlainValue(credit)), ("currency", .string(credit.currency)),
            ])
        }
    }

    /// Takes over `id`: all or nothing, every problem listed. The subscription is `deleted` at once, its
    /// unused paid days are credited to its buyer as for an early cancellation, and plugins hear
    /// `subscription.taken_over` (and may refuse it first in `before_take_over`).
    public func takeOver(_ id: String, _ action: TakeOver) throws -> TakeOverReport {
        let me = try admin("take over a subscription")
        let id = id.trimmed
        guard var sub = try store.subscription(id: id) else {
            throw SelfServeError.notFound("no subscription '\(Sanitize.forDisplay(id))'")
        }
        guard sub.buyer != me.email else {
            throw SelfServeError.invalid(
                "\(sub.id) is yours: change it directly ('subscription cancel', 'license unassign' and 'license assign')"
            )
        }
        // Judged by its calendar period today, as every change is.
        try settle(&sub)
        guard sub.status != .deleted else { throw SelfServeError.conflict("\(sub.id) is already deleted") }
        let assigned = try store.assignments(subscription: sub.id)
        var facts: [(String, PlainValue)] = [("buyer", .string(sub.buyer))]
        var target: Subscription?
        var toMove: [Assignment] = []
        var reason: CancellationReason?
        var comment: String?
        switch action {
        case .moveTo(let other):
            let destination = try accessibleSubscription(other, .change)
            guard destination.buyer == me.email else {
                throw SelfServeError.forbidden(
                    "\(destination.id) was bought by \(destination.buyer); move users to one of yours"
                )
            }
            guard destination.id != sub.id else {
                throw SelfServeError.invalid("a subscription cannot be moved to itself")
            }
            try requireChangeable(destination)
            guard destination.isChangeable else {
                throw SelfServeError.conflict(
                    "\(destination.id) is \(destination.status.rawValue); move users to a live subscription"
                )
            }
            let already = try store.assignedEmails(subscription: destination.id, among: assigned.map(\.email))
            let fresh = assigned.filter { !already.contains($0.email) }
            toMove = fresh
            let available = destination.licensesTotal - (try store.assignedCount(subscription: destination.id))
            guard fresh.count <= available else {
                throw SelfServeError(
                    .insufficientLicenses,
                    "nothing moved: \(fresh.count) user\(fresh.count == 1 ? "" : "s") to move, \(max(0, available)) license\(available == 1 ? "" : "s") available in \(destination.id); raise it with 'subscription set-licenses \(destination.id) \(destination.licensesTotal + fresh.count - available)'"
                )
            }
            target = destination
            facts += [("action", "move"), ("moved_to", .string(destination.id)), ("users", PlainValue(assigned.count))]
        case .cancel(let code, let text):
            let reasons = try cancellationReasons()
            guard let found = reasons.first(where: { $0.code == code }) else {
                throw SelfServeError.invalid(
                    "unknown cancellation reason '\(Sanitize.forDisplay(code))'; one of: \(reasons.map(\.code).joined(separator: ", "))"
                )
            }
            let text = text?.trimmed
            if found.commentRequired && (text ?? "").isEmpty {
                throw SelfServeError.invalid("the reason '\(found.code)' needs a comment: add --comment TEXT")
            }
            if let c = text, c.count > 2000 {
                throw SelfServeError.invalid("the comment is longer than 2000 characters")
            }
            reason = found
            comment = text?.isEmpty == true ? nil : text
            facts += [("action", "cancel"), ("reason", .string(found.code)), ("comment", PlainValue(comment))]
        }
        try policy.check(
            .beforeTakeOver,
            [Shapes.subscription(try details(sub.id)), .object([("admin", .string(me.email))] + facts)]
        )
        if let target {
            try store.insertAssignments(
                toMove.map {
                    Assignment(
                        subscription: target.id,
                        email: $0.email,
                        name: $0.name,
                        assignedAt: timestamp,
                        assignedBy: me.email
                    )
                }
            )
        }
        try store.deleteAllAssignments(subscription: sub.id)
        // The paid period's unused days go back to the buyer: a live or canceled subscription has paid
        // for its period; a trial, or a past-due one whose charge failed, has not.
        let paid = !sub.isTrial && (sub.status == .active || sub.status == .canceled)
        var credit = Money(minorUnits: 0, currency: sub.unitPrice.currency)
        if paid {
            credit = try chargeRestOfPeriod(sub, licenses: -sub.licensesTotal) { unused, periodDays in
                "Credit: \(sub.id) taken over by \(me.email), \(unused) of \(periodDays) days unused"
            }
        }
        sub.status = .deleted
        sub.statusSince = today
        sub.canceledAt = sub.canceledAt ?? timestamp
        if let reason {
            sub.cancelReason = reason.code
            sub.cancelComment = comment
        }
        try store.updateSubscription(sub)
        facts += [("credit", PlainValue(credit))]
        audit("admin.take_over", target: sub.id, facts)
        emit("subscription.taken_over", target: sub.id, facts)
        return TakeOverReport(
            subscription: sub.id,
            buyer: sub.buyer,
            moved: assigned.map(\.email),
            movedTo: target?.id,
            reason: reason?.code,
            credit: credit
        )
    }
}
