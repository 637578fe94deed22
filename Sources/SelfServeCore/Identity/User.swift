/// A person of the organization (tenant).
public struct User: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case member, guest }
    public enum Role: String, Sendable, Codable, CaseIterable { case admin, user }
    public enum Status: String, Sendable, Codable, CaseIterable { case active, blocked }

    public var email: String
    public var name: String
    public var kind: Kind
    public var role: Role
    public var status: Status
    public var createdAt: String

    public init(
        email: String,
        name: String,
        kind: Kind = .member,
        role: Role = .user,
        status: Status = .active,
        createdAt: String
    ) {
        self.email = email
        self.name = name
        self.kind = kind
        self.role = role
        self.status = status
        self.createdAt = createdAt
    }

    public var isAdmin: Bool { role == .admin && status == .active }
    public var isActiveMember: Bool { kind == .member && status == .active }

    enum CodingKeys: String, CodingKey {
        case email, name, kind, role, status
        case createdAt = "created_at"
    }
}

/// E-mail addresses as identities: trimmed, lower-cased, and checked for a shape that can be typed
/// back into the shell (no spaces, no control characters).
public enum Email {
    public static func normalize(_ raw: String) throws -> String {
        let email = raw.trimmed.lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
            parts[1].count >= 1, !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
            email.unicodeScalars.allSatisfy({
                $0.value > 0x20 && $0.value != 0x7F && !"\"(),:;<>[\\]'`".unicodeScalars.contains($0)
            })
        else {
            throw SelfServeError.invalid("'\(Sanitize.forDisplay(raw))' is not a valid e-mail address")
        }
        return email
    }
}

/// Text that came from users may hold terminal escape sequences; they are never replayed raw.
public enum Sanitize {
    public static func forDisplay(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if s.value < 0x20 || (0x7F...0x9F).contains(s.value) {
                out += s == "\t" ? " " : "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(s)
            }
        }
        return out
    }

    /// A display name: trimmed, non-empty, without control characters, at most 200 characters.
    public static func name(_ raw: String, field: String = "name") throws -> String {
        let name = raw.trimmed
        guard !name.isEmpty else { throw SelfServeError.invalid("\(field) must not be empty") }
        guard name.count <= 200 else { throw SelfServeError.invalid("\(field) is longer than 200 characters") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            throw SelfServeError.invalid("\(field) must not contain control characters")
        }
        return name
    }
}
