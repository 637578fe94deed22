import ArgumentParser
import SelfServeCore

/// Words → a typed command, through the one registry. Usage errors become `SelfServeError(.usage)`
/// with ArgumentParser's message, and unknown commands get the closest known one suggested.
public enum CommandParser {
    public enum Parsed {
        case command(any SelfServeCommand)
        /// Text to print: help, a version, a completion script or completion candidates.
        case help(String)
        /// No command, only options for the whole run (`-f FILE`, `--bail`, `--db`, …): a batch or the
        /// shell. Only the process's own arguments may be this.
        case session(SelfServeRoot)
    }

    /// Where words come from: the process's arguments may start a batch or a shell; a line of a batch
    /// or the shell, or `ss.exec`, must name a command.
    public enum Origin {
        case processArguments
        case line
    }

    /// The one parse of the CLI, the shell, batch lines and `ss.exec`: words → a command, or help, or
    /// (from the process's arguments) a session. Every failure is `SelfServeError(.usage)`.
    public static func parse(_ words: [String], from origin: Origin = .line) throws -> Parsed {
        // `help user add`, also after options (`--db x help user`).
        let bare = bareWords(words)
        if bare.first == "help" { return .help(try helpText(Array(bare.dropFirst()))) }
        if let help = try helpRequest(words) { return .help(help) }
        if let command = leafParse(words) { return .command(command) }
        let parsed: ParsableCommand
        do {
            parsed = try SelfServeRoot.parseAsRoot(words)
        } catch {
            if SelfServeRoot.exitCode(for: error) == .success {
                return .help(SelfServeRoot.fullMessage(for: error))
            }
            throw usageError(words, error)
        }
        if let command = parsed as? any SelfServeCommand { return .command(command) }
        if let root = parsed as? SelfServeRoot {
            if hasStrayWords(words) { throw SelfServeError(.usage, "unexpected arguments") }
            if origin == .processArguments { return .session(root) }
            if words.contains(where: { $0 == "-f" || $0 == "--bail" || $0 == "--atomic" || $0 == "--resume" }) {
                throw SelfServeError(
                    .usage,
                    "-f, --bail, --atomic and --resume apply to a whole run, not to one command"
                )
            }
        }
        // A group without its subcommand (`user`) does nothing: a usage error naming the subcommands.
        throw SelfServeError(.usage, missingSubcommand(words))
    }

    /// Parses with the leaf command alone: ArgumentParser then builds one command's arguments instead
    /// of the whole tree's, which is half of a one-shot command's start-up. Nil when the words do not
    /// name a leaf or do not parse: the full parse then gives the proper message.
    public static func leafParse(_ words: [String]) -> (any SelfServeCommand)? {
        let walk = walk(words)
        guard walk.unknown == nil, let leaf = walk.type as? any SelfServeCommand.Type, !walk.indices.isEmpty else {
            return nil
        }
        var rest = words
        for i in walk.indices.reversed() { rest.remove(at: i) }
        if rest.contains(where: { $0 == "-f" || $0 == "--bail" || ($0 == "--atomic" && leaf != RunCommand.self) }) {
            return nil
        }
        return LeafParse.$omitsHelpFlags.withValue(true) { parseLeaf(leaf, rest) }
    }

    /// `parseAsRoot`, not `parse`, which validates the command a second time; and the result cast to
    /// the command's own type: a cast to `any SelfServeCommand` would first ask whether the existential
    /// `ParsableCommand` itself conforms (a first-time scan of every conformance in the binary).
    private static func parseLeaf<Leaf: SelfServeCommand>(_ leaf: Leaf.Type, _ words: [String]) -> Leaf? {
        try? Leaf.parseAsRoot(words) as? Leaf
    }

    /// `… --help` or `-h` anywhere: the help of the deepest command named before it; `--help-hidden`
    /// (ArgumentParser's) the same with the hidden options.
    public static func helpRequest(_ words: [String]) throws -> String? {
        guard let i = words.firstIndex(where: { $0 == "--help" || $0 == "-h" || $0 == "--help-hidden" }) else {
            return nil
        }
        return try helpText(walk(Array(words[..<i])).path, includeHidden: words[i] == "--help-hidden")
    }

    /// `help user add`: the help of that command, as `--help` prints it.
    public static func helpText(_ path: [String], includeHidden: Bool = false) throws -> String {
        let walk = walk(path)
        let words = bareWords(path)
        if walk.path.count < words.count {
            let word = words[walk.path.count]
            let shown = Sanitize.forDisplay((walk.path + [word]).joined(separator: " "))
            throw SelfServeError(
                .usage,
                "no command '" + shown + "'" + suggestion(word, among: walk.unknown?.children ?? [])
            )
        }
        return SelfServeRoot.helpMessage(for: walk.type, includeHidden: includeHidden)
    }

    public static func subcommands(of type: ParsableCommand.Type) -> [ParsableCommand.Type] {
        type == SelfServeRoot.self ? SelfServeRoot.commandGroups : type.configuration.subcommands
    }

    /// Options that take a value and may stand before or between command words: the root's
    /// (`GlobalOptions` and `-f`). The walk down the tree skips them with their values; everything after
    /// the command words is the leaf's to parse, as it declares.
    public static let valuedOptions: Set<String> = ["--db", "--as", "--format", "--idempotency-key", "-f"]

    /// The words that are neither options nor option values.
    public static func bareWords(_ words: [String]) -> [String] {
        bareWordIndices(words, stoppingAtDoubleDash: false).map { words[$0] }
    }

    static func bareWordIndices(_ words: [String], stoppingAtDoubleDash: Bool) -> [Int] {
        var out: [Int] = []
        var skip = false
        for (i, w) in words.enumerated() {
            if skip {
                skip = false
                continue
            }
            if w == "--" && stoppingAtDoubleDash { break }  // nothing after it names a command
            if w.hasPrefix("-") {
                skip = valuedOptions.contains(w)
                continue
            }
            out.append(i)
        }
        return out
    }

    /// How far words go down the command tree.
    public struct Walk {
        /// The deepest command named.
        public var type: ParsableCommand.Type = SelfServeRoot.self
        /// The command words, and where they stand among the words given.
        public var path: [String] = []
        public var indices: [Int] = []
        /// The first word that names no child of a group, with the names it could have been.
        public var unknown: (word: String, children: [String])?
    }

    /// Follows the bare words (options and their values skipped) down the tree, stopping at a leaf
    /// or at the first word that names no child: the one walk behind parsing, help, errors and completion.
    public static func walk(_ words: [String]) -> Walk {
        var walk = Walk()
        for i in bareWordIndices(words, stoppingAtDoubleDash: true) {
            let children = subcommands(of: walk.type)
            if children.isEmpty { break }
            guard let next = children.first(where: { $0._commandName == words[i] }) else {
                walk.unknown = (words[i], children.map { $0._commandName })
                break
            }
            walk.type = next
            walk.path.append(words[i])
            walk.indices.append(i)
        }
        return walk
    }

    public static func usageError(_ words: [String], _ error: Error) -> SelfServeError {
        let walk = walk(words)
        let path = walk.path
        if let (word, children) = walk.unknown {
            let hint = suggestion(word, among: children)
            let prefix = path.isEmpty ? "" : path.joined(separator: " ") + " "
            return SelfServeError(
                .usage,
                "unknown command '\(Sanitize.forDisplay(prefix + word))'\(hint)\nSee 'selfserve \(prefix)--help'."
            )
        }
        var message = SelfServeRoot.message(for: error)
        // A negative number reads as an option to the parser; say so instead of "missing argument".
        if let negative = words.first(where: {
            $0.count > 1 && $0.first == "-" && $0.dropFirst().allSatisfy(\.isNumber)
        }) {
            message =
                "'\(negative)' is not a valid value: numbers here are at least 0 (a leading '-' reads as an option)"
        }
        if !path.isEmpty { message += "\nUsage: selfserve \(path.joined(separator: " ")) --help" }
        return SelfServeError(.usage, Sanitize.forDisplayKeepingNewlines(message))
    }

    /// Whether argv for the root holds words that are not options (a typo'd command that parsed as nothing).
    public static func hasStrayWords(_ words: [String]) -> Bool { !bareWords(words).isEmpty }

    public static func missingSubcommand(_ words: [String]) -> String {
        let walk = walk(words)
        let path = walk.path
        let children = subcommands(of: walk.type).map { $0._commandName }
        if path.isEmpty {
            return "missing command; one of: \(children.joined(separator: ", ")). See 'selfserve --help'."
        }
        return
            "'\(path.joined(separator: " "))' needs a subcommand: \(children.joined(separator: ", "))\nSee 'selfserve \(path.joined(separator: " ")) --help'."
    }

    /// ". Did you mean 'user'?" for the closest name within a small edit distance, else "".
    public static func suggestion(_ word: String, among names: [String]) -> String {
        Suggestion.closest(word, among: names).map { ". Did you mean '\($0)'?" } ?? ""
    }

    public static func editDistance(_ a: String, _ b: String) -> Int { Suggestion.editDistance(a, b) }
}

extension Sanitize {
    /// Like `forDisplay`, but keeps line breaks of multi-line messages.
    public static func forDisplayKeepingNewlines(_ text: String) -> String {
        if isPlain(text) { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { forDisplay(String($0)) }.joined(
            separator: "\n"
        )
    }
}
