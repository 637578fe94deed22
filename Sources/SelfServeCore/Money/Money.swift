/// An amount of money in minor units (cents). Never a floating-point number: every computation on money
/// is integer arithmetic with one stated rounding rule, half away from zero.
public struct Money: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: String

    public init(minorUnits: Int64, currency: String = "USD") {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses `14`, `14.5`, `14.00`, `-3.25`; at most two decimals.
    public init?(decimal text: String, currency: String = "USD") {
        var s = Substring(text.trimmed)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 13, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              let units = Int64(whole) else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard (1...2).contains(frac.count), frac.allSatisfy({ $0.isASCII && $0.isNumber }), let f = Int64(frac) else { return nil }
            cents = frac.count == 1 ? f * 10 : f
        }
        let total = units * 100 + cents
        self.init(minorUnits: negative ? -total : total, currency: currency)
    }

    /// `"14.00"`, `"-3.25"`: the JSON form of SPEC.md.
    public var decimalString: String {
        let sign = minorUnits < 0 ? "-" : ""
        let m = minorUnits.magnitude
        let cents = m % 100
        return "\(sign)\(m / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    public var description: String { "\(decimalString) \(currency)" }

    public static func < (a: Money, b: Money) -> Bool { a.minorUnits < b.minorUnits }

    public static func + (a: Money, b: Money) -> Money { Money(minorUnits: a.minorUnits + b.minorUnits, currency: a.currency) }

    public func times(_ n: Int) -> Money { Money(minorUnits: minorUnits * Int64(n), currency: currency) }

    /// `self × numerator / denominator`, rounded half away from zero to the cent.
    public func scaled(_ numerator: Int64, over denominator: Int64) -> Money {
        precondition(denominator > 0)
        let product = minorUnits * numerator
        let q = product / denominator, r = product % denominator
        var result = q
        if 2 * r.magnitude >= UInt64(denominator) { result += product < 0 ? -1 : 1 }
        return Money(minorUnits: result, currency: currency)
    }
}
