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
        // An ASCII address (nearly all) is checked byte by byte: its bytes are its characters. Splitting
        // and searching by Character cost more than the rest of a `license assign` of 20 users did.
        // Through the string's own buffer where it has one (a native string does): walking the UTF-8
        // view index by index cost three times as much.
        func ascii(_ bytes: some BidirectionalCollection<UInt8>) -> Bool? {
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return hasValidShape(
                bytes,
                at: UInt8(ascii: "@"),
                dot: UInt8(ascii: "."),
                allowed: { isAllowed(Unicode.Scalar($0)) }
            )
        }
        let valid =
            (email.utf8.withContiguousStorageIfAvailable { ascii($0) } ?? ascii(email.utf8))
            ?? hasValidShape(Array(email), at: "@", dot: ".", allowed: { $0.unicodeScalars.allSatisfy(isAllowed) })
        guard valid else {
            throw SelfServeError.invalid("'\(Sanitize.forDisplay(raw))' is not a valid e-mail address")
        }
        return email
    }

    /// One `@` between a non-empty local part of at most 64 characters and a domain that neither starts
    /// nor ends with a dot nor holds two in a row; at most 254 characters in all, every one allowed.
    private static func hasValidShape<Units: BidirectionalCollection>(
        _ units: Units,
        at: Units.Element,
        dot: Units.Element,
        allowed: (Units.Element) -> Bool
    ) -> Bool where Units.Element: Equatable {
        let parts = units.split(separator: at, omittingEmptySubsequences: false)
        guard units.count <= 254, parts.count == 2 else { return false }
        let (local, domain) = (parts[0], parts[1])
        return !local.isEmpty && local.count <= 64 && !domain.isEmpty && domain.first != dot && domain.last != dot
            && !zip(domain, domain.dropFirst()).contains { $0 == dot && $1 == dot } && units.allSatisfy(allowed)
    }

    /// Printable, and none of the characters a shell or an address list reads as syntax.
    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\u{0}"..."\u{20}", "\u{7F}", "\"", "(", ")", ",", ":", ";", "<", ">", "[", "\\", "]", "'", "`": false
        default: true
        }
    }
}

/// Text that came from users may hold terminal escape sequences; they are never replayed raw.
public enum Sanitize {
    /// Whether `text` holds nothing to replace: no C0 control, DEL or C1 control (U+0080…U+009F, 0xC2
    /// 0x80…0x9F in UTF-8). Most text does, and is then shown as it is, not rebuilt a scalar at a time.
    public static func isPlain(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 })
    }

    public static func forDisplay(_ text: String) -> String {
        if isPlain(text) { return text }
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
