import Crypto
import Foundation

/// A card as typed by its holder. It lives only in memory, for the length of one command: nothing in it
/// is stored except what `CardValidator.validate` derives (`ValidatedCard`: brand, first six and last four
/// digits, expiry, and the keyed fingerprint).
public struct CardInput: Sendable {
    public var number: String
    public var expiry: String
    public var securityCode: String

    public init(number: String, expiry: String, securityCode: String) {
        self.number = number
        self.expiry = expiry
        self.securityCode = securityCode
    }
}

/// What survives validation: never the full number nor the security code.
public struct ValidatedCard: Sendable, Hashable {
    public var brand: CardBrand
    /// The first six digits (the issuer range), given to payment-validation plugins.
    public var bin: String
    public var last4: String
    public var expMonth: Int
    public var expYear: Int
    public var fingerprint: String
}

/// Card checks run before anything is stored. Every failure is `payment_declined` with a message that
/// names the problem but never repeats the number or the code.
public enum CardValidator {
    public static func validate(_ input: CardInput, today: Day, fingerprintKey: [UInt8]) throws -> ValidatedCard {
        let compact = input.number.filter { $0 != " " && $0 != "-" }
        guard !compact.isEmpty, compact.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw declined("the card number must contain only digits (spaces and dashes are ignored)")
        }
        let digits = compact.utf8.map { $0 - 48 }
        guard (12...19).contains(digits.count) else {
            throw declined("the card number has \(digits.count) digits; card numbers have 12 to 19")
        }
        guard let brand = CardBrand.detect(digits) else {
            throw declined(
                "the card brand is not recognised from its first digits (accepted: \(CardBrand.allCases.map(\.displayName).joined(separator: ", ")))"
            )
        }
        guard brand.acceptsLength(digits.count) else {
            throw declined("a \(brand.displayName) card number cannot have \(digits.count) digits")
        }
        guard luhnValid(digits) else {
            throw declined("the card number is not valid (check digit mismatch); check for a typing error")
        }
        let (month, year) = try parseExpiry(input.expiry)
        if hasExpired(month: month, year: year, on: today) {
            throw declined("the card expired at the end of \(month.zeroPadded(2))/\(year.zeroPadded(4))")
        }
        try validateSecurityCode(input.securityCode, brand: brand)
        return ValidatedCard(
            brand: brand,
            bin: String(compact.prefix(6)),
            last4: String(compact.suffix(4)),
            expMonth: month,
            expYear: year,
            fingerprint: fingerprint(compact, key: fingerprintKey)
        )
    }

    public static func validateSecurityCode(_ code: String, brand: CardBrand) throws {
        let code = code.trimmed
        guard code.allSatisfy({ $0.isASCII && $0.isNumber }), code.count == brand.securityCodeLength else {
            throw declined("the security code of a \(brand.displayName) card has \(brand.securityCodeLength) digits")
        }
    }

    /// A card is valid through the last day of its expiry month.
    public static func hasExpired(month: Int, year: Int, on day: Day) -> Bool {
        year < day.year || (year == day.year && month < day.month)
    }

    /// The Luhn (mod 10) check.
    public static func luhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            var v = Int(d)
            if i % 2 == 1 {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
        }
        return sum % 10 == 0
    }

    /// `MM/YY` or `MM/YYYY`.
    public static func parseExpiry(_ text: String) throws -> (month: Int, year: Int) {
        let parts = text.trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2 || parts[1].count == 4,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let m = Int(parts[0]), let y = Int(parts[1]), (1...12).contains(m)
        else { throw declined("the expiry '\(Sanitize.forDisplay(text))' is not a date of the form MM/YY") }
        return (m, parts[1].count == 2 ? 2000 + y : y)
    }

    /// A keyed HMAC-SHA256 of the number: recognises the same card without being reversible, and
    /// without the key (kept per database) cannot be checked against guessed numbers.
    public static func fingerprint(_ number: String, key: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(number.utf8), using: SymmetricKey(data: key))
        return "fp_" + mac.prefix(12).hexDigits
    }

    static func declined(_ message: String) -> SelfServeError { SelfServeError(.paymentDeclined, message) }
}
