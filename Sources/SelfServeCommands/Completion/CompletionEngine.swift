import ArgumentParser
import SelfServeCore

/// What Tab offers after some words: command words of the tree, a command's flags, or values of the
/// argument being typed, as that argument declares them (`completion:`). The shell asks it in-process;
/// the bash/zsh/fish scripts reach the same declarations through the binary.
public enum CompletionEngine {
    /// Candidates for `word`, the word being typed, after `words` (the ones before it on the line).
    public static func candidates(after words: [String], word: String) -> [String] {
        let tree = DeclaredCommand.tree
        let walk = CommandParser.walk(words)
        guard let command = tree.command(at: walk.path) else { return [] }
        // Still choosing a command: only the words of the tree.
        if !command.subcommands.isEmpty {
            guard walk.unknown == nil, !word.hasPrefix("-") else {
                return word.hasPrefix("-") ? filter(flags(of: command), word) : []
            }
            return filter(command.subcommands.map(\.name), word)
        }
        if word.hasPrefix("-") { return filter(flags(of: command), word) }
        // The value of an option typed just before.
        if let previous = words.last, previous.hasPrefix("-"), let option = command.option(named: previous),
            option.kind == .option
        {
            return values(of: option, positionalIndex: nil, path: walk.path, words: words, word: word)
        }
        let positionals = command.positionals
        guard !positionals.isEmpty else { return [] }
        let typed = positionalCount(words, command: command, pathIndices: Set(walk.indices))
        let index = min(typed, positionals.count - 1)
        guard typed < positionals.count || positionals[index].isRepeating else { return [] }
        return values(of: positionals[index], positionalIndex: index, path: walk.path, words: words, word: word)
    }

    /// The long flags and options of a command (the shown ones), for a word starting with `-`.
    static func flags(of command: DeclaredCommand) -> [String] {
        var seen = Set<String>()
        return command.arguments.filter { $0.kind != .positional && $0.isShown }
            .flatMap { $0.names.filter { $0.hasPrefix("--") } }
            .filter { seen.insert($0).inserted }
    }

    /// How many positional values follow the command words (option values skipped, as declared).
    public static func positionalCount(_ words: [String], command: DeclaredCommand, pathIndices: Set<Int>) -> Int {
        var count = 0
        var skipNext = false
        for (i, w) in words.enumerated() {
            if skipNext {
                skipNext = false
                continue
            }
            if pathIndices.contains(i) { continue }
            if w.hasPrefix("-") && w.count > 1 {
                skipNext = command.option(named: w)?.kind == .option
                continue
            }
            count += 1
        }
        return count
    }

    static func values(
        of argument: DeclaredArgument,
        positionalIndex: Int?,
        path: [String],
        words: [String],
        word: String
    ) -> [String] {
        switch argument.completion {
        case .list(let values):
            return filter(values, word)
        case .custom:
            // The argument's own closure, called the way the completion scripts call it.
            let key = argument.completionKey(positionalIndex: positionalIndex)
            let line = words + [word]
            let request = ["---completion"] + path + ["--", key, String(line.count - 1), String(word.count)] + line
            do {
                _ = try SelfServeRoot.parseAsRoot(request)
                return []
            } catch {
                let text = SelfServeRoot.fullMessage(for: error)
                return filter(text.split(separator: "\n").map(String.init), word)
            }
        case .file, nil:
            return []
        }
    }

    static func filter(_ all: [String], _ prefix: String) -> [String] { all.filter { $0.hasPrefix(prefix) } }
}
