/// Card brands recognised from the number's leading digits (its IIN range).
public enum CardBrand: String, Sendable, Codable, CaseIterable {
    case visa, mastercard, amex, discover, jcb, diners, unionpay

    /// Allowed lengths of the card number for this brand.
    public var numberLengths: ClosedRange<Int> {
        switch self {
        case .visa: return 13...19
        case .mastercard: return 16...16
        case .amex: return 15...15
        case .discover: return 16...19
        case .jcb: return 16...19
        case .diners: return 14...19
        case .unionpay: return 16...19
        }
    }

    /// Visa allows 13, 16 and 19 digits only.
    public func acceptsLength(_ n: Int) -> Bool {
        self == .visa ? [13, 16, 19].contains(n) : numberLengths.contains(n)
    }

    /// American Express prints a 4-digit code on the front; the others a 3-digit code on the back.
    public var securityCodeLength: Int { self == .amex ? 4 : 3 }

    public var displayName: String {
        switch self {
        case .visa: return "Visa"
        case .mastercard: return "Mastercard"
        case .amex: return "American Express"
        case .discover: return "Discover"
        case .jcb: return "JCB"
        case .diners: return "Diners Club"
        case .unionpay: return "UnionPay"
        }
    }

    /// Detects the brand from the leading digits. Order matters: Discover's co-branded range
    /// 622126–622925 sits inside UnionPay's 62.
    public static func detect(_ digits: [UInt8]) -> CardBrand? {
        func prefix(_ n: Int) -> Int? {
            guard digits.count >= n else { return nil }
            return digits.prefix(n).reduce(0) { $0 * 10 + Int($1) }
        }
        guard let p1 = prefix(1), let p2 = prefix(2) else { return nil }
        let p3 = prefix(3) ?? 0
        let p4 = prefix(4) ?? 0
        let p6 = prefix(6) ?? 0
        if p1 == 4 { return .visa }
        if (34...34).contains(p2) || p2 == 37 { return .amex }
        if (51...55).contains(p2) || (2221...2720).contains(p4) { return .mastercard }
        if p4 == 6011 || (644...649).contains(p3) || p2 == 65 || (622_126...622_925).contains(p6) { return .discover }
        if (3528...3589).contains(p4) { return .jcb }
        if (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 { return .diners }
        if p2 == 62 || p2 == 81 { return .unionpay }
        return nil
    }
}
