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
    }
}
