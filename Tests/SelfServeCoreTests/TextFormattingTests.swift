import Foundation
import SelfServeCore
import XCTest

/// The plain-Swift replacements of `String(format:)` and `trimmingCharacters(in:)` must print what the
/// Foundation calls printed: dates, timestamps, expiry dates and fingerprints are stored and compared.
final class TextFormattingTests: XCTestCase {
    func testZeroPaddedMatchesPrintf() {
        XCTAssertEqual(7.zeroPadded(2), "07")
        XCTAssertEqual(2026.zeroPadded(2), "2026")
        XCTAssertEqual(0.zeroPadded(4), "0000")
        XCTAssertEqual(31.zeroPadded(4), "0031")
        XCTAssertEqual((-5).zeroPadded(3), "-005")
        XCTAssertEqual(UInt32(0x1F).zeroPadded(4, radix: 16), "001f")
        XCTAssertEqual([UInt8(0), 0xAB, 0x0F].hexDigits, "00ab0f")
        XCTAssertEqual(Int.min.zeroPadded(2), "-9223372036854775808")
        XCTAssertEqual(UInt8.max.zeroPadded(10, radix: 16, uppercase: true), "00000000FF")
        for _ in 0..<2_000 {
            let value = Int.random(in: -100_000...100_000) * (Bool.random() ? 1 : 100_000)
            let width = Int.random(in: 0...12)
            let radix = [2, 8, 10, 16, 36].randomElement()!
            let digits = String(value.magnitude, radix: radix)
            let reference =
                (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
            XCTAssertEqual(value.zeroPadded(width, radix: radix), reference, "\(value) \(width) \(radix)")
        }
    }

    /// A day prints as `YYYY-MM-DD` (stored, compared as text in SQL) and parses back to itself, from the
    /// first day to the last; arithmetic that leaves years 1…9999 still prints, never traps.
    func testDayPrintsAsPaddedFieldsAndParsesBack() {
        var days = [Day.first, Day.last, Day(year: 2026, month: 2, day: 28)!, Day(year: 2000, month: 12, day: 31)!]
        for _ in 0..<5_000 {
            days.append(Day(daysSinceEpoch: Int.random(in: Day.first.daysSinceEpoch...Day.last.daysSinceEpoch)))
        }
        for day in days {
            let text = day.description
            XCTAssertEqual(text, "\(day.year.zeroPadded(4))-\(day.month.zeroPadded(2))-\(day.day.zeroPadded(2))")
            XCTAssertEqual(Day(text), day, text)
        }
        XCTAssertEqual(Day.first.description, "0001-01-01")
        XCTAssertEqual(Day.last.description, "9999-12-31")
        XCTAssertEqual(Day.last.adding(days: 1).description, "10000-01-01")
        XCTAssertNil(Day(Day.last.adding(days: 1).description))
        XCTAssertEqual(Day.first.adding(days: -1).description, "0000-12-31")
        // Exactly YYYY-MM-DD of a real day; the text of a substring or a bridged string reads the same.
        for bad in [
            "", "2026-1-01", "2026-02-30", "2026/01/01", "+026-01-01", "2026-01-01 ", "0000-01-01", "2026-13-01",
            "２０２６-01-01", "2026-0１-01", "2026-01-0a", "20260-1-01",
        ] {
            XCTAssertNil(Day(bad), bad)
        }
        XCTAssertEqual(Day(String("x2026-02-28x".dropFirst().dropLast())), Day(year: 2026, month: 2, day: 28))
        XCTAssertEqual(Day(NSString(string: "2024-02-29") as String), Day(year: 2024, month: 2, day: 29))
    }

    /// The printable-ASCII shortcuts of display width and sanitizing agree with the character-by-character
    /// rules, whatever surrounds the ASCII: control and C1 characters never pass, wide ones count two.
    func testDisplayShortcutsAgreeWithTheFullRules() {
        let pieces = [
            "a", "Z", " ", "~", "-", "@", "\u{1B}[31m", "\t", "\r\n", "\u{7F}", "\u{85}", "\u{9B}", "é", "©", "山田",
            "e\u{301}", "👍", "#\u{FE0F}\u{20E3}", "\u{200B}", "\u{C2}",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }
            .joined()
            let clean = Sanitize.forDisplay(text)
            XCTAssertFalse(
                clean.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
                "\(text.debugDescription) → \(clean.debugDescription)"
            )
            if !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                XCTAssertEqual(clean, text)
            }
            XCTAssertEqual(DisplayWidth.of(clean + "ab c"), DisplayWidth.of(clean) + 4, clean.debugDescription)
        }
        XCTAssertEqual(Sanitize.forDisplay("a\u{1B}b\u{9B}c"), "a\\u{1B}b\\u{9B}c")
        XCTAssertEqual(DisplayWidth.of("user000001@contoso.com"), 22)
        XCTAssertEqual(DisplayWidth.of("山田 x"), 6)
    }

    /// E-mail addresses are checked byte by byte when ASCII: the verdict is the one the character rules
    /// (written out here as they were) give, for addresses near every rule's edge.
    func testEmailChecksAgreeWithTheCharacterRules() {
        func reference(_ raw: String) -> String? {
            let email = raw.trimmed.lowercased()
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
                parts[1].count >= 1, !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
                email.unicodeScalars.allSatisfy({
                    $0.value > 0x20 && $0.value != 0x7F && !"\"(),:;<>[\\]'`".unicodeScalars.contains($0)
                })
            else { return nil }
            return email
        }
        let pieces = [
            "a", "B", "0", ".", "..", "@", "-", "_", "+", " ", "\t", "\n", "\u{7F}", "\u{85}", "\"", "(", ")", ",", ":",
            ";", "<", ">", "[", "]", "\\", "'", "`", "é", "山", "e\u{301}", "@\u{301}", ".\u{301}", "👍", "\u{A0}",
            String(repeating: "x", count: 63), String(repeating: "y", count: 190),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let raw = (0..<Int.random(in: 1...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)!
            }
            .joined()
            XCTAssertEqual(try? Email.normalize(raw), reference(raw), raw.debugDescription)
        }
        for raw in [
            "Ann@Contoso.COM", " a@b ", "a@b.", "a@.b", "a@b..c", "@b", "a@", "a@b@c", "a b@c", "a@b\u{301}",
            "a@\u{301}b", String(repeating: "x", count: 64) + "@b", String(repeating: "x", count: 65) + "@b",
            "a@" + String(repeating: "y", count: 252), "a@" + String(repeating: "y", count: 251), "山田@例え.jp",
        ] {
            XCTAssertEqual(try? Email.normalize(raw), reference(raw), raw.debugDescription)
        }
    }

    func testDaysAndTimestampsKeepTheirFormat() {
        XCTAssertEqual(Day("0999-01-02")?.description, "0999-01-02")
        XCTAssertEqual(Day("2026-02-28")?.description, "2026-02-28")
        let date = Timestamp.parse("2026-11-25T07:05:09Z")!
        XCTAssertEqual(Timestamp.format(date), "2026-11-25T07:05:09Z")
    }

    func testTrimmedRemovesWhitespaceAndNewlinesAtBothEnds() {
        XCTAssertEqual("  a b \t\n".trimmed, "a b")
        XCTAssertEqual("\u{00A0}x\u{2003}".trimmed, "x")
        XCTAssertEqual(" \n ".trimmed, "")
        XCTAssertEqual("".trimmed, "")
        XCTAssertEqual(try Email.normalize("  Ann@Contoso.COM\n"), "ann@contoso.com")
    }

    func testJSONStringsAreEscapedOnlyWhenNeeded() {
        XCTAssertEqual(JSON.write(.string("plain@contoso.com")), #""plain@contoso.com""#)
        XCTAssertEqual(JSON.write(.string("a\"b\\c\u{1}\u{85}é")), #""a\"b\\c\u0001\u0085é""#)
        // Whatever the mix, a string is written as a plain per-character escaper writes it (the writer
        // tests eight bytes at a time, so lengths and positions vary), reads back as it was, and its JSON
        // holds no raw control character.
        let pieces = [
            "a", "~", " ", "plain text ", "user000123@contoso.com", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}",
            "\u{7F}", "\u{80}", "\u{9F}", "\u{A0}", "é", "Â", "山", "👍", String(repeating: "long ascii ", count: 30),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<4_000 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }
            .joined()
            let json = JSON.write(.string(text))
            XCTAssertEqual(json, Self.escapedOneCharacterAtATime(text))
            XCTAssertEqual(try JSON.parse(json), .string(text), json)
            XCTAssertFalse(json.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, json)
        }
    }

    /// JSON string escaping as the grammar says it, one scalar at a time: the reference the writer's
    /// faster loop must match.
    private static func escapedOneCharacterAtATime(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    func testJSONWritesNestedValuesAndLargeStrings() throws {
        let large = String(repeating: "0123456789abcdef", count: 8_192) + "\u{1}"
        let value: PlainValue = .object([
            ("s", .string(large)), ("list", .array([1, .null, true, .double(2.5), .double(.infinity), .object([])])),
            ("nested", .object([("a", .array([]))])),
        ])
        let json = JSON.write(value)
        XCTAssertTrue(json.hasPrefix(#"{"s":"0123456789abcdef"#))
        XCTAssertTrue(json.hasSuffix(#"\u0001","list":[1,null,true,2.5,null,{}],"nested":{"a":[]}}"#))
        XCTAssertEqual(json.utf8.count, #"{"s":""#.count + 16 * 8_192 + #"\u0001""#.count + 52)
        XCTAssertEqual(
            JSON.write(.object([("a", .array([1, 2]))]), pretty: true),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        )
    }
}
