import SelfServeCore
import SelfServeShell
import XCTest

final class TokenizerTests: XCTestCase {
    func words(_ s: String) -> [String]? {
        if case .words(let w) = Tokenizer.split(s) { return w }
        return nil
    }

    func testQuotingEscapesAndComments() {
        XCTAssertEqual(words("user add a@b.c --name 'Ann O''Neil'"), ["user", "add", "a@b.c", "--name", "Ann ONeil"])
        XCTAssertEqual(words(#"x "a \"b\" \\ c" d\ e"#), ["x", #"a "b" \ c"#, "d e"])
        XCTAssertEqual(words("a 'it'\\''s' b"), ["a", "it's", "b"])
        XCTAssertEqual(words("user list # the members"), ["user", "list"])
        XCTAssertEqual(words("a#b"), ["a#b"])
        XCTAssertEqual(words("   "), [])
        XCTAssertEqual(words("''"), [""])
        XCTAssertEqual(words("naïve 日本 🙂"), ["naïve", "日本", "🙂"])
    }

    func testContinuationAndUnfinishedInput() {
        XCTAssertEqual(Tokenizer.split("user add \\"), .incomplete)
        XCTAssertEqual(words("user add \\\n x@y.z"), ["user", "add", "x@y.z"])
        XCTAssertEqual(Tokenizer.split("echo 'open"), .incomplete)
        XCTAssertEqual(words("say 'two\nlines'"), ["say", "two\nlines"])
        XCTAssertThrowsError(try Tokenizer.words("a \"b")) { e in
            XCTAssertEqual((e as? SelfServeError)?.code, .usage)
            XCTAssertTrue((e as? SelfServeError)?.message.contains("unterminated") ?? false)
        }
    }

    func testQuoteRoundTrips() {
        for w in ["plain", "with space", "it's", "a\"b", "", "x\\y", "#hash"] {
            XCTAssertEqual(words(Tokenizer.quote(w)), [w], w)
        }
        // Words of any script come back whole, combining marks and emoji included.
        let pieces = ["a", " ", "'", "\"", "\\", "é", "e\u{301}", "山田", "👍🏽", "\u{200D}", "#", "\t"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let line = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                (0..<Int.random(in: 0...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                    .joined()
            }
            XCTAssertEqual(words(line.map(Tokenizer.quote).joined(separator: " ")), line, "\(line)")
        }
    }

    /// The tokenizer walks bytes; the rules are about characters. Random lines of every construct (and
    /// escapes, quotes and comments next to non-ASCII characters) split as the rules, written out here
    /// scalar by scalar as they were first implemented, split them.
    func testBytesSplitAsTheCharacterRules() {
        func reference(_ text: String) -> (Tokenizer.Outcome, Character?) {
            var words: [String] = []
            var current = ""
            var inWord = false
            var it = Array(text.unicodeScalars)[...]
            while let c = it.popFirst() {
                switch c {
                case " ", "\t", "\r", "\n":
                    if inWord {
                        words.append(current)
                        current = ""
                        inWord = false
                    }
                case "#" where !inWord:
                    while let n = it.first, n != "\n" { it.removeFirst() }
                case "\\":
                    guard let n = it.popFirst() else { return (.incomplete, nil) }
                    if n == "\n" { continue }
                    current.unicodeScalars.append(n)
                    inWord = true
                case "'":
                    inWord = true
                    var closed = false
                    while let n = it.popFirst() {
                        if n == "'" {
                            closed = true
                            break
                        }
                        current.unicodeScalars.append(n)
                    }
                    if !closed { return (.incomplete, "'") }
                case "\"":
                    inWord = true
                    var closed = false
                    while let n = it.popFirst() {
                        if n == "\"" {
                            closed = true
                            break
                        }
                        if n == "\\", let e = it.first, e == "\"" || e == "\\" {
                            current.unicodeScalars.append(e)
                            it.removeFirst()
                            continue
                        }
                        if n == "\\", let e = it.first, e == "\n" {
                            it.removeFirst()
                            continue
                        }
                        current.unicodeScalars.append(n)
                    }
                    if !closed { return (.incomplete, "\"") }
                default:
                    current.unicodeScalars.append(c)
                    inWord = true
                }
            }
            if inWord { words.append(current) }
            return (.words(words), nil)
        }
        let pieces = [
            "a", "Z", " ", "  ", "\t", "\n", "\r\n", "'", "\"", "\\", "#", "é", "e\u{301}", "山田", "👍🏽", "\u{85}",
            "\u{2028}", "\u{A0}", "\\é", "\\山", "'é'", "\"\\\"\"", "\\\n", "\"a\\\nb\"", "#é\n", "x@y.z",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let line = (0..<Int.random(in: 0...10, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let (outcome, quote) = reference(line)
            XCTAssertEqual(Tokenizer.split(line), outcome, line.debugDescription)
            XCTAssertEqual(Tokenizer.unclosedQuote(line), quote, line.debugDescription)
        }
    }

    func testHugeLineDoesNotTrap() {
        let line = String(repeating: "a'b' ", count: 200_000)
        XCTAssertEqual(words(line)?.count, 200_000)
    }
}
