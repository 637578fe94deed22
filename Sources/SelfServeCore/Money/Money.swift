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
        if s.first == "-" {
            negative = true
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 13,
            whole.allSatisfy({ $0.isASCII && $0.isNumber }),
            let units = Int64(whole)
        else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard (1...2).contains(frac.count), frac.allSatisfy({ $0.isASCII && $0.isNumber }), let f = Int64(frac)
            else { return nil }
            cents = frac.count == 1 ? f * 10 : f
        }
        let total = units * 100 + cents
        self.init(minorUnits: negative ? -total : total, currency: currency)
    }

    /// `"14.00"`, `"-3.25"`: money in JSON output (a string, so that no reader rounds it).
    public var decimalString: String {
        let sign = minorUnits < 0 ? "-" : ""
        let m = minorUnits.magnitude
        let cents = m % 100
        return "\(sign)\(m / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    public var description: String { "\(decimalString) \(currency)" }

    public static func < (a: Money, b: Money) -> Bool { a.minorUnits < b.minorUnits }

    /// The most a price may be: 100,000.00 per license and month (SPEC: `product import`).
    public static let maxUnitPrice = Money(minorUnits: 10_000_000)

    /// Money arithmetic is checked: an amount that would not fit is `limit_exceeded` at the command
    /// that would make it, never a trap that stops every later billing run.
    static func overflow(_ what: String) -> SelfServeError {
        SelfServeError(.limitExceeded, "\(what) is too large to compute")
    }

    public func adding(_ other: Money) throws -> Money {
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw Self.overflow("an invoice total") }
        return Money(minorUnits: sum, currency: currency)
    }

    public func times(_ n: Int) throws -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: Int64(n))
        guard !overflow else { throw Self.overflow("an amount of \(decimalString) \(currency) × \(n)") }
        return Money(minorUnits: product, currency: currency)
    }

    /// `self × numerator / denominator`, rounded half away from zero to the cent.
    public func scaled(_ numerator: Int64, over denominator: Int64) throws -> Money {
        guard denominator > 0 else { throw SelfServeError.invalid("internal: a period of \(denominator) days") }
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: numerator)
        guard !overflow else { throw Self.overflow("a prorated amount") }
        let q = product / denominator
        let r = product % denominator
        var result = q
        if 2 * r.magnitude >= UInt64(denominator) { result += product < 0 ? -1 : 1 }
        return Money(minorUnits: result, currency: currency)
    }
}
