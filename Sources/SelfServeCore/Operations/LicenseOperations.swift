/// `license assign/unassign/list`.
extension CommandContext {
    /// How many users one `license assign` may name, as in the admin center.
    public static let maxUsersPerAssignment = 20

    public func assign(_ id: String, emails raw: [String]) throws -> PlainValue {
        let sub = try accessibleSubscription(id, .change)
        try requireChangeable(sub)
        guard !raw.isEmpty else { throw SelfServeError(.usage, "name at least one user to assign a license to") }
        let emails = try uniqueEmails(raw)
        guard emails.count <= Self.maxUsersPerAssignment else {
            throw SelfServeError(
                .limitExceeded,
                "at most \(Self.maxUsersPerAssignment) users per command (got \(emails.count)); split the list"
            )
        }
        var problems: [String] = []
        var users: [User] = []
        let known = try store.users(emails: emails)
        for email in emails {
            guard let user = known[email] else {
                problems.append("\(email): no such user in the organization")
                continue
            }
            if user.kind == .guest {
                problems.append("\(email): is a guest; licenses go to members of the organization only")
                continue
            }
            if user.status == .blocked {
                problems.append("\(email): is blocked")
                continue
            }
            users.append(user)
        }
        let already = try store.assignedEmails(subscription: sub.id, among: users.map(\.email))
        let fresh = users.filter { !already.contains($0.email) }
        let assigned = try store.assignedCount(subscription: sub.id)
        let available = sub.licensesTotal - assigned
        let short = fresh.count > available
        if short {
            problems.append(
                "not enough licenses: \(fresh.count) to assign, \(max(0, available)) available of \(sub.licensesTotal); raise the total with 'subscription set-licenses \(sub.id) \(sub.licensesTotal + fresh.count - available)'"
            )
        }
        if !problems.isEmpty {
            let code: SelfServeError.Code = (short && problems.count == 1) ? .insufficientLicenses : .invalidArgument
            throw SelfServeError(code, "nothing assigned:\n  " + problems.joined(separator: "\n  "))
        }
        if !fresh.isEmpty {
            try policy.check(.beforeAssign, [Shapes.subscription(try details(sub.id)), .array(fresh.map(Shapes.user))])
            let me = try actor()
            try store.insertAssignments(
                fresh.map {
                    Assignment(
                        subscription: sub.id,
                        email: $0.email,
                        name: $0.name,
                        assignedAt: timestamp,
                        assignedBy: me.email
                    )
                }
            )
            audit(
                "license.assign",
                target: sub.id,
                [
                    ("users", .array(fresh.map { .string($0.email) })),
                    ("skipped", .array(already.sorted().map { .string($0) })),
                ]
            )
            emit("license.assigned", target: sub.id, [("users", .array(fresh.map { .string($0.email) }))])
        }
        // The counter alone (the trigger's), not the whole subscription with its product and buyer.
        let now = fresh.isEmpty ? assigned : try store.assignedCount(subscription: sub.id)
        return .object([
            ("subscription", .string(sub.id)), ("assigned", .array(fresh.map { .string($0.email) })),
            ("skipped", .array(emails.filter { already.contains($0) }.map { .string($0) })),
            ("licenses_total", PlainValue(sub.licensesTotal)), ("licenses_assigned", PlainValue(now)),
            ("licenses_available", PlainValue(sub.licensesTotal - now)),
        ])
    }

    public func unassign(_ id: String, emails raw: [String]) throws -> PlainValue {
        let sub = try accessibleSubscription(id, .change)
        try requireChangeable(sub)
        guard !raw.isEmpty else { throw SelfServeError(.usage, "name at least one user to take a license from") }
        let emails = try uniqueEmails(raw)
        // As assign skips who already holds a license, unassign skips (and reports) who holds none.
        let holding = try store.assignedEmails(subscription: sub.id, among: emails)
        let taken = emails.filter { holding.contains($0) }
        let skipped = emails.filter { !holding.contains($0) }
        if !taken.isEmpty {
            try store.deleteAssignments(subscription: sub.id, emails: taken)
            audit(
                "license.unassign",
                target: sub.id,
                [("users", .array(taken.map { .string($0) })), ("skipped", .array(skipped.map { .string($0) }))]
            )
            emit("license.unassigned", target: sub.id, [("users", .array(taken.map { .string($0) }))])
        }
        let d = try details(sub.id)
        return .object([
            ("subscription", .string(sub.id)), ("unassigned", .array(taken.map { .string($0) })),
            ("skipped", .array(skipped.map { .string($0) })),
            ("licenses_total", PlainValue(sub.licensesTotal)), ("licenses_assigned", PlainValue(d.licensesAssigned)),
            ("licenses_available", PlainValue(sub.licensesTotal - d.licensesAssigned)),
        ])
    }

    public func listLicenses(_ id: String) throws -> PlainValue {
        let sub = try accessibleSubscription(id, .read)
        return .array(try store.assignments(subscription: sub.id).map(Shapes.assignment))
    }

    /// Normalised, in the order given, each once; every malformed address is named.
    func uniqueEmails(_ raw: [String]) throws -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        var bad: [String] = []
        for r in raw {
            do {
                let e = try Email.normalize(r)
                if seen.insert(e).inserted { out.append(e) }
            } catch { bad.append("'\(Sanitize.forDisplay(r))'") }
        }
        if !bad.isEmpty {
            throw SelfServeError.invalid(
                "not valid e-mail address\(bad.count == 1 ? "" : "es"): \(bad.joined(separator: ", "))"
            )
        }
        return out
    }
}
