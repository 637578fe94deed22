import SelfServeCommands
import SelfServeCore

/// What Tab offers: command words and flags from the registry, live values (e-mails, product ids,
/// subscription ids, payment methods) from the store, matching what has been typed so far.
public struct Completer {
    let session: Session

    public init(session: Session) { self.session = session }

    public func candidates(lineBefore: String, word: String) -> [String] {
        var words: [String]
        switch Tokenizer.split(lineBefore) {
        case .words(let w): words = w
        case .incomplete: words = lineBefore.split(separator: " ").map(String.init)
        }
        if words.isEmpty {
            return filter(CommandParser.completions(after: []).commands + Interpreter.builtins, word)
        }
        if words[0] == "help" { return filter(CommandParser.completions(after: Array(words.dropFirst())).commands, word) }
        if words[0] == "format" { return filter(OutputFormat.allCases.filter { $0 != .html }.map(\.rawValue), word) }
        if words[0] == "timing" { return filter(["on", "off"], word) }
        let (commands, flags) = CommandParser.completions(after: words)
        if word.hasPrefix("-") { return filter(flags, word) }
        // Still choosing a command: only the words of the tree.
        let path = CommandParser.walk(words).path
        if path.count == words.count && !commands.isEmpty { return filter(commands, word) }

        let previous = words.last ?? ""
        switch previous {
        case "--as", "--buyer", "--actor": return emails(word)
        case "--product": return products(word)
        case "--payment-method": return paymentMethods(word)
        case "--format":
            // html is a file format of `invoice export` only.
            let formats = words.starts(with: ["invoice", "export"]) ? ["csv", "json", "html"] : OutputFormat.allCases.filter { $0 != .html }.map(\.rawValue)
            return filter(formats, word)
        case "--term": return filter(Term.allCases.map(\.rawValue), word)
        case "--status": return filter(Subscription.Status.allCases.map(\.rawValue), word)
        case "--reason": return filter(CancellationReason.builtin.map(\.code), word)
        case "--cloud": return filter(Organization.Cloud.allCases.map(\.rawValue), word)
        default: break
        }
        if word.hasPrefix("sub_") { return subscriptions(word) }
        if word.hasPrefix("pm_") { return paymentMethods(word) }
        let positional = positionals(words, after: path.count)
        switch path.joined(separator: " ") {
        case "subscription buy", "trial start", "product show":
            return positional == 0 ? products(word) : []
        case "product policy":
            return positional == 0 ? products(word) : positional == 1 ? filter(SelfServicePolicy.allValueStrings, word) : []
        case "subscription show", "subscription set-licenses", "subscription cancel", "trial convert", "license list", "admin purchase":
            return positional == 0 ? subscriptions(word) : []
        case "license assign", "license unassign":
            return positional == 0 ? subscriptions(word) : emails(word)
        case "user show", "user block", "user unblock", "login":
            return emails(word)
        case "billing profile set-payment-method":
            return positional == 1 ? paymentMethods(word) : []
        case "payment-method show", "payment-method edit", "payment-method remove":
            return paymentMethods(word)
        default:
            return word.contains("@") ? emails(word) : []
        }
    }

    /// How many positional words follow the command path (option values are not counted).
    func positionals(_ words: [String], after pathCount: Int) -> Int {
        var n = 0, skipNext = false, seenPath = 0
        let valued = CommandParser.valuedOptions
        for w in words {
            if skipNext { skipNext = false; continue }
            if w.hasPrefix("-") { skipNext = valued.contains(w); continue }
            if seenPath < pathCount { seenPath += 1; continue }
            n += 1
        }
        return n
    }

    func filter(_ all: [String], _ prefix: String) -> [String] { all.filter { $0.hasPrefix(prefix) } }

    func live(_ body: (Store) throws -> [String]) -> [String] {
        (try? session.withStore(body)) ?? []
    }

    func emails(_ prefix: String) -> [String] { live { LiveValues.emails($0, prefix: prefix) } }

    func products(_ prefix: String) -> [String] { live { LiveValues.products($0, prefix: prefix) } }

    /// Your own subscriptions; an admin's completion offers everyone's, since admins may read them all.
    func subscriptions(_ prefix: String) -> [String] {
        let actor = session.actor()
        return live { LiveValues.subscriptions($0, actor: actor, prefix: prefix) }
    }

    func paymentMethods(_ prefix: String) -> [String] {
        guard let actor = session.actor(), let email = try? Email.normalize(actor) else { return [] }
        return live { try $0.paymentMethods(owner: email).map(\.id).filter { $0.hasPrefix(prefix) } }
    }
}
