import SelfServeCommands
import SelfServeCore

/// What Tab offers in the shell: the shell's own commands, and for everything else what the command
/// tree declares (`CompletionEngine`): command words, flags, and each argument's values — e-mails,
/// product, subscription, card and invoice ids read through the shell's session.
public struct Completer {
    let session: Session

    public init(session: Session) { self.session = session }

    public func candidates(lineBefore: String, word: String) -> [String] {
        var words: [String]
        switch Tokenizer.split(lineBefore) {
        case .words(let w): words = w
        case .incomplete: words = lineBefore.split(separator: " ").map(String.init)
        }
        // Shell-only commands are not in the tree.
        if words.isEmpty {
            return filter(CompletionEngine.candidates(after: [], word: word) + Interpreter.builtins, word)
        }
        switch words[0] {
        case "help":
            return CompletionEngine.candidates(after: Array(words.dropFirst()), word: word).filter {
                !$0.hasPrefix("-")
            }
        case "format": return filter(OutputFormat.allCases.filter { $0 != .html }.map(\.rawValue), word)
        case "timing": return filter(["on", "off"], word)
        default: break
        }
        LiveValues.session = session
        defer { LiveValues.session = nil }
        return CompletionEngine.candidates(after: words, word: word)
    }

    func filter(_ all: [String], _ prefix: String) -> [String] { all.filter { $0.hasPrefix(prefix) } }
}
