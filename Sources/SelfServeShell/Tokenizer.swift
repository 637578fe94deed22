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
        var words: [String] = []
        // The word so far as UTF-8: a scalar appended to a String costs a String's bookkeeping each time
        // (2% of a batch of `license assign` lines of 20 addresses).
        var current: [UInt8] = []
        func add(_ scalar: Unicode.Scalar) { UTF8.encode(scalar) { current.append($0) } }
        func endWord() {
            words.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
        }
        var inWord = false
        var it = Array(text.unicodeScalars)[...]
        while let c = it.popFirst() {
            switch c {
            case " ", "\t", "\r", "\n":
                if inWord {
                    endWord()
                    inWord = false
                }
            case "#" where !inWord:
                // A comment runs to the end of the line.
                while let n = it.first, n != "\n" { it.removeFirst() }
            case "\\":
                guard let n = it.popFirst() else { return (.incomplete, nil) }
                if n == "\n" { continue }  // continuation
                add(n)
                inWord = true
            case "'":
                inWord = true
                var closed = false
                while let n = it.popFirst() {
                    if n == "'" {
                        closed = true
                        break
                    }
                    add(n)
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
                        add(e)
                        it.removeFirst()
                        continue
                    }
                    if n == "\\", let e = it.first, e == "\n" {
                        it.removeFirst()
                        continue
                    }
                    add(n)
                }
                if !closed { return (.incomplete, "\"") }
            default:
                add(c)
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
