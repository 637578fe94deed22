import SelfServeCore

/// Splits a command line into words: the one tokenizer of the shell and batch files (`LogicalLine` calls
/// it, reading more lines while it answers `.incomplete`).
///
/// Rules, as in a POSIX shell without expansions: spaces separate words; `'…'` keeps everything literally;
/// `"…"` keeps everything but `\"` and `\\`; outside quotes a backslash escapes the next character;
/// `#` at the start of a word begins a comment; a trailing `\` continues on the next line.
public enum Tokenizer {
    public enum Outcome: Equatable {
        case words([String])
        /// The line ends inside a quote or with a continuation backslash: more input is needed.
        case incomplete
    }

    /// Tokenizes, or tells that the text needs another line. Continuation lines are joined with a
    /// newline, which a trailing backslash swallows and a quote keeps.
    public static func split(_ text: String) -> Outcome { scan(text).outcome }

    /// The quote a text leaves open (`'` or `"`), nil when it is complete or ends with a continuation
    /// backslash: the same scan as `split`, so that messages name the quote `split` found open.
    public static func unclosedQuote(_ text: String) -> Character? { scan(text).openQuote }

    private static func scan(_ text: String) -> (outcome: Outcome, openQuote: Character?) {
        // Byte by byte: every character the rules name is ASCII, and the bytes of any other character
        // (all 0x80 or above in UTF-8) are copied as they come, so a word's bytes are its characters'.
        // Walking scalars into an array first cost 3% of the instructions of a batch of `license assign`.
        var words: [String] = []
        var current: [UInt8] = []
        func endWord() {
            words.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
        }
        let bytes = Array(text.utf8)
        let (space, tab, cr, newline) = (UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"))
        let (hash, backslash, single, double) = (
            UInt8(ascii: "#"), UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\"")
        )
        var inWord = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            switch c {
            case space, tab, cr, newline:
                if inWord {
                    endWord()
                    inWord = false
                }
            case hash where !inWord:
                // A comment runs to the end of the line.
                while i < bytes.count, bytes[i] != newline { i += 1 }
            case backslash:
                guard i < bytes.count else { return (.incomplete, nil) }
                let n = bytes[i]
                i += 1
                if n == newline { continue }  // continuation
                current.append(n)
                inWord = true
            case single:
                inWord = true
                guard let close = bytes[i...].firstIndex(of: single) else { return (.incomplete, "'") }
                current.append(contentsOf: bytes[i..<close])
                i = close + 1
            case double:
                inWord = true
                var closed = false
                while i < bytes.count {
                    let n = bytes[i]
                    i += 1
                    if n == double {
                        closed = true
                        break
                    }
                    if n == backslash, i < bytes.count, bytes[i] == double || bytes[i] == backslash {
                        current.append(bytes[i])
                        i += 1
                        continue
                    }
                    if n == backslash, i < bytes.count, bytes[i] == newline {
                        i += 1
                        continue
                    }
                    current.append(n)
                }
                if !closed { return (.incomplete, "\"") }
            default:
                current.append(c)
                inWord = true
            }
        }
        if inWord { endWord() }
        return (.words(words), nil)
    }

    /// Tokenizes a complete text; an unfinished quote is an error naming it.
    public static func words(_ text: String) throws -> [String] {
        switch split(text) {
        case .words(let w): return w
        case .incomplete:
            let quote = unclosedQuote(text)
            throw SelfServeError(
                .usage,
                quote.map { "unterminated \($0) quote" } ?? "the line ends with a backslash but nothing follows"
            )
        }
    }

    /// Quotes a word so that `split` gives it back unchanged (for history and completion).
    public static func quote(_ word: String) -> String {
        if !word.isEmpty
            && word.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || "0123456789@._-/:+=,%".unicodeScalars.contains($0)
            })
        {
            return word
        }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
