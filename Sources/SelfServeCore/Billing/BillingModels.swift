/// A buyer's billing account; created with a default profile on the buyer's first purchase.
public struct BillingAccount: Hashable, Sendable {
    public var id: String
    public var name: String
    public var owner: String
    public var createdAt: String

    public init(id: String, name: String, owner: String, createdAt: String) {
        self.id = id
        self.name = name
        self.owner = owner
        self.createdAt = createdAt
    }
}

/// Who is invoiced and which card pays, for the subscriptions attached to it.
public struct BillingProfile: Hashable, Sendable {
    public var id: String
    public var account: String
    public var name: String
    public var paymentMethod: String?
    public var invoiceEmail: String
    public var isDefault: Bool
    public var createdAt: String

    public init(
        id: String,
        account: String,
        name: String,
        paymentMethod: String?,
        invoiceEmail: String,
        isDefault: Bool,
        createdAt: String
    ) {
        self.id = id
        self.account = account
        self.name = name
        self.paymentMethod = paymentMethod
        self.invoiceEmail = invoiceEmail
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}

/// A postal address as printed on a card statement.
public struct PostalAddress: Hashable, Sendable, Codable {
    public var line1: String?
    public var line2: String?
    public var city: String?
    public var postalCode: String?
    public var country: String?

    public init(
        line1: String? = nil,
        line2: String? = nil,
        city: String? = nil,
        postalCode: String? = nil,
        country: String? = nil
    ) {
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.postalCode = postalCode
        self.country = country
    }

    enum CodingKeys: String, CodingKey {
        case line1, line2, city
        case postalCode = "postal_code"
        case country
    }
}

extension PaymentMethod {
    public func hasExpired(on day: Day) -> Bool { CardValidator.hasExpired(month: expMonth, year: expYear, on: day) }
}

/// A card, as kept: never the number nor the security code, only what identifies it to a person
/// (brand, last 4, expiry) and a keyed fingerprint that recognises the same card added twice.
public struct PaymentMethod: Hashable, Sendable {
    public var id: String
    public var owner: String
    public var brand: CardBrand
    public var last4: String
    public var expMonth: Int
    public var expYear: Int
    public var holder: String
    public var address: PostalAddress
    public var fingerprint: String
    public var createdAt: String

    public init(
        id: String,
        owner: String,
        brand: CardBrand,
        last4: String,
        expMonth: Int,
        expYear: Int,
        holder: String,
        address: PostalAddress,
        fingerprint: String,
        createdAt: String
    ) {
        self.id = id
        self.owner = owner
        self.brand = brand
        self.last4 = last4
        self.expMonth = expMonth
        self.expYear = expYear
        self.holder = holder
        self.address = address
        self.fingerprint = fingerprint
        self.createdAt = createdAt
    }
}
