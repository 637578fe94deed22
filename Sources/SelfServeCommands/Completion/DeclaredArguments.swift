import ArgumentParser
import SelfServeCore

/// The command tree with each command's arguments as the commands declare them — kinds, names,
/// completion — read from swift-argument-parser's own description of the tool
/// (`--experimental-dump-help`). Completion in the shell works from this, so that what Tab offers
/// is declared once, next to each argument, and the bash/zsh/fish scripts offer the same.
public struct DeclaredCommand: Sendable {
    public var name: String
    public var abstract: String = ""
    public var discussion: String = ""
    public var subcommands: [DeclaredCommand]
    public var arguments: [DeclaredArgument]

    /// The command at `path` (`["license", "assign"]`), if there is one.
    public func command(at path: [String]) -> DeclaredCommand? {
        var node = self
        for word in path {
            guard let next = node.subcommands.first(where: { $0.name == word }) else { return nil }
            node = next
        }
        return node
    }

    /// The declared positional arguments, in order.
    public var positionals: [DeclaredArgument] { arguments.filter { $0.kind == .positional } }

    /// The option or flag called `name` (`--as`, `-f`).
    public func option(named name: String) -> DeclaredArgument? {
        arguments.first { $0.kind != .positional && $0.names.contains(name) }
    }
}

public struct DeclaredArgument: Sendable {
    public enum Kind: String, Sendable {
        case positional, option, flag
    }

    /// How values of the argument are completed.
    public enum Completion: Sendable, Equatable {
        /// These values.
        case list([String])
        /// A function of the command (`completion: .custom`), reached through the parser.
        case custom
        /// A file name; the shell offers none (libedit's own file completion is not wired in).
        case file
    }

    public var kind: Kind
    /// `--as`, `-f`; empty for a positional.
    public var names: [String]
    public var isRepeating: Bool
    public var completion: Completion?
    public var isShown: Bool
    public var isOptional: Bool = true
    public var valueName: String = ""
    public var abstract: String = ""
    public var defaultValue: String?

    /// The name that `---completion` takes for this argument: its long name, or `positional@N`.
    func completionKey(positionalIndex: Int?) -> String {
        if let positionalIndex { return "positional@\(positionalIndex)" }
        return names.first { $0.hasPrefix("--") } ?? names.first ?? ""
    }
}

extension DeclaredCommand {
    /// The whole tree, read once per process (the shell asks on its first Tab).
    public static let tree: DeclaredCommand = {
        let dump: String
        do {
            _ = try SelfServeRoot.parseAsRoot(["--experimental-dump-help"])
            dump = ""
        } catch {
            dump = SelfServeRoot.fullMessage(for: error)
        }
        guard let value = try? JSON.parse(dump), let command = value["command"] else {
            return DeclaredCommand(name: "selfserve", subcommands: [], arguments: [])
        }
        return DeclaredCommand(command)
    }()

    init(_ v: PlainValue) {
        name = v["commandName"]?.stringValue ?? ""
        abstract = v["abstract"]?.stringValue ?? ""
        discussion = v["discussion"]?.stringValue ?? ""
        subcommands = (v["subcommands"]?.arrayValue ?? []).map(DeclaredCommand.init)
        arguments = (v["arguments"]?.arrayValue ?? []).compactMap(DeclaredArgument.init)
    }
}

extension DeclaredArgument {
    init?(_ v: PlainValue) {
        guard let kind = v["kind"]?.stringValue.flatMap(Kind.init(rawValue:)) else { return nil }
        self.kind = kind
        names = (v["names"]?.arrayValue ?? []).compactMap { n in
            guard let name = n["name"]?.stringValue else { return nil }
            return n["kind"]?.stringValue == "long" ? "--" + name : "-" + name
        }
        isRepeating = v["isRepeating"]?.boolValue ?? false
        isShown = v["shouldDisplay"]?.boolValue ?? true
        isOptional = v["isOptional"]?.boolValue ?? true
        valueName = v["valueName"]?.stringValue ?? ""
        abstract = v["abstract"]?.stringValue ?? ""
        defaultValue = v["defaultValue"]?.stringValue
        let completion = v["completionKind"]
        if let values = completion?["list"]?["values"]?.arrayValue {
            self.completion = .list(values.compactMap(\.stringValue))
        } else if completion?["custom"] != nil {
            self.completion = .custom
        } else if completion?["file"] != nil || completion?["directory"] != nil {
            self.completion = .file
        } else if let values = v["allValues"]?.arrayValue {
            self.completion = .list(values.compactMap(\.stringValue))
        } else {
            self.completion = nil
        }
    }
}
