import SelfServeCore
import Testing

/// Card numbers as people type them: every accepted format gives the same brand, last four and
/// fingerprint as the bare digits; every refused one is `payment_declined` with a message that never
/// repeats the number or the code.
@Suite struct CardFormatTests {
    static let today = Day(year: 2026, month: 3, day: 2) ?? Day(daysSinceEpoch: 0)
    static let key: [UInt8] = Array(repeating: 7, count: 32)

    struct Accepted: Sendable, CustomTestStringConvertible {
        var typed: String
        var digits: String
        var brand: CardBrand
        var code: String
        var testDescription: String { "\(brand.rawValue) typed \(typed.debugDescription)" }
    }

    static let accepted: [Accepted] = [
        .init(typed: "4242424242424242", digits: "4242424242424242", brand: .visa, code: "123"),
        .init(typed: "4242 4242 4242 4242", digits: "4242424242424242", brand: .visa, code: "123"),
        .init(typed: "4242-4242-4242-4242", digits: "4242424242424242", brand: .visa, code: "123"),
        .init(typed: " 4242 4242-4242 4242 ", digits: "4242424242424242", brand: .visa, code: "123"),
        .init(typed: "4222222222222", digits: "4222222222222", brand: .visa, code: "123"),
        .init(typed: "5555 5555 5555 4444", digits: "5555555555554444", brand: .mastercard, code: "321"),
        .init(typed: "2223003122003222", digits: "2223003122003222", brand: .mastercard, code: "321"),
        .init(typed: "3782 822463 10005", digits: "378282246310005", brand: .amex, code: "1234"),
        .init(typed: "6011 1111 1111 1117", digits: "6011111111111117", brand: .discover, code: "123"),
        .init(typed: "3530111333300000", digits: "3530111333300000", brand: .jcb, code: "123"),
        .init(typed: "3056 9300 0902 0004", digits: "3056930009020004", brand: .diners, code: "123"),
    ]

    @Test(arguments: accepted)
    func acceptedFormatsAreTheSameCard(_ card: Accepted) throws {
        let typed = try CardValidator.validate(
            CardInput(number: card.typed, expiry: "12/29", securityCode: card.code),
            today: Self.today,
            fingerprintKey: Self.key
        )
        let bare = try CardValidator.validate(
            CardInput(number: card.digits, expiry: "12/2029", securityCode: card.code),
            today: Self.today,
            fingerprintKey: Self.key
        )
        #expect(typed.brand == card.brand)
        #expect(typed.last4 == String(card.digits.suffix(4)))
        #expect(typed.fingerprint == bare.fingerprint)
        #expect(!typed.fingerprint.contains(card.digits))
    }

    static let refused: [(number: String, expiry: String, code: String, problem: String)] = [
        ("4242424242424241", "12/29", "123", "check digit"),
        ("4242 4242 4242 424", "12/29", "123", "digits"),
        ("4242.4242.4242.4242", "12/29", "123", "only digits"),
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "12/29", "123", "only digits"),
        ("4242424242424242", "13/29", "123", "MM/YY"),
        ("4242424242424242", "02/26", "123", "expired"),
        ("4242424242424242", "12/29", "12", "security code"),
        ("378282246310005", "12/29", "123", "security code"),
        ("9999999999999995", "12/29", "123", "brand"),
        ("", "12/29", "123", "only digits"),
    ]

    @Test(arguments: refused)
    func refusedFormatsNameTheProblemNotTheNumber(
        _ card: (number: String, expiry: String, code: String, problem: String)
    ) {
        do {
            _ = try CardValidator.validate(
                CardInput(number: card.number, expiry: card.expiry, securityCode: card.code),
                today: Self.today,
                fingerprintKey: Self.key
            )
            Issue.record("\(card.number.debugDescription) was accepted")
        } catch let error as SelfServeError {
            #expect(error.code == .paymentDeclined)
            #expect(error.message.contains(card.problem), "\(error.message)")
            let digits = card.number.filter(\.isNumber)
            #expect(digits.count < 12 || !error.message.contains(digits))
            #expect(card.code.count < 3 || !error.message.contains(card.code))
        } catch {
            Issue.record("not a SelfServeError: \(error)")
        }
    }
}
