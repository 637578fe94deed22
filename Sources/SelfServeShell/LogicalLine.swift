import SelfServeCore

/// What one runs, read from physical lines: a command whose quotes or trailing `\` may carry it over
/// several lines, or a `lua` chunk up to a line holding only `.`. The one reader behind the shell and
/// batch runs, so that a batch file is read exactly as the same lines typed.
enum LogicalLine: Equatable {
    /// A command's words, and its text as typed (continuation lines joined with newlines).
    case command([String], text: String)
    /// The source of a chunk that followed a `lua` line.
    case lua(String)
    /// Nothing to run (an empty line, a comment).
    case blank
    /// The lines ran out (end of file, Ctrl-C or Ctrl-D) before the command or chunk ended.
    case unfinished(SelfServeError)

    /// Which kind of line `next` is asked for (the shell shows a different prompt for each).
    enum Continuation {
        /// The rest of a command (an open quote, a trailing backslash).
        case command
        /// A line of a `lua` chunk.
        case lua
    }

    /// Reads one logical line starting with `first`; `next` gives the following physical lines, nil
    /// when there are none.
    static func read(_ first: String, next: (Continuation) -> String?) -> LogicalLine {
        var text = first
        var words: [String]
        while true {
            if case .words(let w) = Tokenizer.split(text) {
                words = w
                break
            }
            guard let more = next(.command) else {
                let problem =
                    Tokenizer.unclosedQuote(text).map { "unterminated \($0) quote" }
                    ?? "the file ends after a continuation backslash"
                return .unfinished(SelfServeError(.usage, problem))
            }
            text += "\n" + more
        }
        if words.isEmpty { return .blank }
        guard words == ["lua"] else { return .command(words, text: text) }
        var lines: [String] = []
        while let line = next(.lua) {
            if line == "." { return .lua(lines.joined(separator: "\n")) }
            lines.append(line)
        }
        return .unfinished(SelfServeError(.usage, "the lua chunk starting here has no closing '.' line"))
    }
}
