/// The command reference (`docs/COMMANDS.md`), generated from the same declarations as `--help`, the man
/// page and completion. A test compares the file in the repository with this text, so the reference
/// cannot go stale.
extension DeclaredCommand {
    public func markdownReference() -> String {
        var out = """
            # selfserve command reference

            Generated from the command tree (`selfserve --help` shows the same); do not edit by hand. To
            regenerate it after changing a command: `UPDATE_REFERENCE=1 swift test --filter testCommandReferenceIsCurrent`.

            Every command also takes the global options: `--db PATH`, `--as EMAIL`, `--json`, `--format
            table|json|ndjson|csv`, `--dry-run`, `--explain` (every policy decision on stderr). Exit codes: 0 success, 1 the command failed, 64 usage error,
            77 permission denied or refused by a policy. Billing, plugins and safety rules are in the README
            and SECURITY.md.

            """
        for (path, command) in leaves([]) {
            out += "\n## selfserve \(path.joined(separator: " "))\n\n"
            if !command.abstract.isEmpty { out += command.abstract + "\n\n" }
            if !command.discussion.isEmpty { out += command.discussion + "\n\n" }
            let own = command.arguments.filter { $0.isShown && !Self.globalNames.contains($0.names.first ?? "") }
            out += "```\n" + (["selfserve"] + path + own.map(\.synopsis)).joined(separator: " ") + "\n```\n"
            if !own.isEmpty {
                out += "\n| argument | meaning |\n|---|---|\n"
                for argument in own {
                    var meaning = argument.abstract
                    if let d = argument.defaultValue, !d.isEmpty { meaning += " (default: \(d))" }
                    if case .list(let values)? = argument.completion {
                        meaning += " One of: \(values.joined(separator: ", "))."
                    }
                    out += "| `\(argument.usage)` | \(meaning.replacingOccurrences(of: "|", with: "\\|")) |\n"
                }
            }
        }
        return out
    }

    /// The options every command has (`GlobalOptions`), listed once at the top, and help's own flags.
    static let globalNames: Set<String> = [
        "--db", "--as", "--json", "--format", "--dry-run", "--help", "-h", "--version",
    ]

    /// Every leaf command with its path, in the order of the tree.
    public func leaves(_ path: [String] = []) -> [([String], DeclaredCommand)] {
        subcommands.isEmpty ? [(path, self)] : subcommands.flatMap { $0.leaves(path + [$0.name]) }
    }
}

extension DeclaredArgument {
    /// `--licenses <licenses>`, `<subscription>`, `--force`.
    var usage: String {
        switch kind {
        case .positional: return "<\(valueName)>" + (isRepeating ? " ..." : "")
        case .option: return "\(names.first ?? "") <\(valueName)>"
        case .flag: return names.first ?? ""
        }
    }

    /// The usage, in brackets when optional.
    var synopsis: String { isOptional ? "[\(usage)]" : usage }
}
