/// `whoami`, `user add/import/list/show/block/unblock`.
extension CommandContext {
    public func whoami() throws -> PlainValue {
        let u = try actor()
        return .object([
            ("email", .string(u.email)), ("name", .string(u.name)), ("role", .string(u.role.rawValue)),
            ("kind", .string(u.kind.rawValue)),
        ])
    }

    public func addUser(
        email raw: String,
        name: String,
        guest: Bool,
        admin isAdmin: Bool,
        databaseRole: String? = nil
    ) throws -> User {
        try admin("add users")
        let user = try newUser(email: raw, name: name, kind: guest ? .guest : .member, role: isAdmin ? .admin : .user)
        let role = try databaseRole.map { try checkedDatabaseRole($0) }
        try store.insertUser(user)
        if let role { try store.setDatabaseRole(email: user.email, role: role) }
        audit(
            "user.add",
            target: user.email,
            [
                ("name", .string(user.name)), ("kind", .string(user.kind.rawValue)),
                ("role", .string(user.role.rawValue)),
            ] + (role.map { [("db_role", PlainValue.string($0))] } ?? [])
        )
        return user
    }

    /// `user map EMAIL --db-role ROLE`: the login role that is this user on a server (the DBA created it).
    public func mapUser(email raw: String, databaseRole: String) throws -> (user: User, previous: String?) {
        try admin("map users to login roles")
        let user = try existingUser(raw)
        let role = try checkedDatabaseRole(databaseRole, for: user.email)
        let previous = try store.user(databaseRole: role)
        try store.setDatabaseRole(email: user.email, role: role)
        audit("user.map", target: user.email, [("db_role", .string(role))])
        return (user, previous)
    }

    /// A login role's name as PostgreSQL takes it (at most 63 bytes, printable), that exists on the server
    /// when there is one, and is nobody else's.
    private func checkedDatabaseRole(_ raw: String, for email: String? = nil) throws -> String {
        let role = raw.trimmed
        guard !role.isEmpty, role.utf8.count <= 63,
            !role.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw SelfServeError.invalid(
                "--db-role must be a login role's name (1 to 63 bytes, printable), not '\(Sanitize.forDisplay(raw))'"
            )
        }
        if try store.databaseRoleExists(role) == false {
            throw SelfServeError.notFound(
                "the server has no role \(role); its DBA creates it first (CREATE ROLE \(role) LOGIN …; GRANT selfserve_user TO \(role))"
            )
        }
        if let other = try store.user(databaseRole: role), other != email {
            throw SelfServeError.conflict("the login role \(role) is already \(other); one role is one person")
        }
        return role
    }

    func newUser(email raw: String, name: String, kind: User.Kind, role: User.Role) throws -> User {
        let email = try Email.normalize(raw)
        if try store.user(email: email) != nil { throw SelfServeError.conflict("user \(email) already exists") }
        if kind == .guest && role == .admin { throw SelfServeError.invalid("a guest cannot be an admin") }
        return User(
            email: email,
            name: try Sanitize.name(name),
            kind: kind,
            role: role,
            status: .active,
            createdAt: timestamp
        )
    }

    /// Imports CSV rows (header `email,name,kind,role`) all or nothing; every bad line is named.
    public func importUsers(csv text: String, file: String) throws -> [User] {
        try admin("import users")
        let rows = try CSV.parse(text)
        guard let header = rows.first?.fields.map({ $0.trimmed.lowercased() }) else {
            throw SelfServeError.invalid("\(file): the file is empty; expected the header email,name,kind,role")
        }
        guard let ei = header.firstIndex(of: "email"), let ni = header.firstIndex(of: "name") else {
            throw SelfServeError.invalid(
                "\(file):\(rows[0].line): the header must name the columns email,name (and optionally kind,role)"
            )
        }
        let ki = header.firstIndex(of: "kind")
        let ri = header.firstIndex(of: "role")
        var problems: [String] = []
        var users: [User] = []
        var seen: [String: Int] = [:]
        for row in rows.dropFirst() where !(row.fields.count == 1 && row.fields[0].isEmpty) {
            func field(_ i: Int?) -> String? { i.flatMap { $0 < row.fields.count ? row.fields[$0].trimmed : nil } }
            do {
                guard row.fields.count == header.count else {
                    throw SelfServeError.invalid("has \(row.fields.count) fields, the header has \(header.count)")
                }
                let kindText = (field(ki) ?? "").isEmpty ? "member" : field(ki)!.lowercased()
                let roleText = (field(ri) ?? "").isEmpty ? "user" : field(ri)!.lowercased()
                guard let kind = User.Kind(rawValue: kindText) else {
                    throw SelfServeError.invalid("kind '\(Sanitize.forDisplay(kindText))' is not member or guest")
                }
                guard let role = User.Role(rawValue: roleText) else {
                    throw SelfServeError.invalid("role '\(Sanitize.forDisplay(roleText))' is not admin or user")
                }
                let user = try newUser(email: field(ei) ?? "", name: field(ni) ?? "", kind: kind, role: role)
                if let first = seen[user.email] {
                    throw SelfServeError.conflict("\(user.email) is also on line \(first)")
                }
                seen[user.email] = row.line
                users.append(user)
            } catch let error as SelfServeError {
                problems.append("\(file):\(row.line): \(error.message)")
            }
        }
        if !problems.isEmpty {
            throw SelfServeError.invalid(
                "nothing imported; \(problems.count) bad line\(problems.count == 1 ? "" : "s"):\n"
                    + problems.joined(separator: "\n")
            )
        }
        for user in users { try store.insertUser(user) }
        audit("user.import", target: file, [("users", PlainValue(users.count))])
        return users
    }

    public func listUsers(kind: User.Kind?) throws -> PlainValue {
        _ = try actor()
        return .array(try store.users(kind: kind).map(Shapes.user))
    }

    public func showUser(_ raw: String) throws -> PlainValue {
        _ = try actor()
        return Shapes.user(try existingUser(raw))
    }

    public func existingUser(_ raw: String) throws -> User {
        let email = try Email.normalize(raw)
        guard let user = try store.user(email: email) else { throw SelfServeError.notFound("no user \(email)") }
        return user
    }

    public func setUserStatus(_ raw: String, _ status: User.Status) throws -> PlainValue {
        let me = try admin(status == .blocked ? "block users" : "unblock users")
        var user = try existingUser(raw)
        if status == .blocked && user.email == me.email { throw SelfServeError.conflict("you cannot block yourself") }
        user.status = status
        try store.updateUser(user)
        audit(status == .blocked ? "user.block" : "user.unblock", target: user.email)
        return Shapes.user(user)
    }
}
