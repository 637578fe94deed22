import ArgumentParser
import SelfServeCore

/// Values that completion offers from the database: the acting user's subscription ids, product ids,
/// e-mails, invoice ids. The shell's Tab and the bash/zsh/fish scripts (which call the binary back) use
/// the same lookups. They only read, never need a signed-in user to answer, and never fail loudly:
/// anything that goes wrong completes nothing.
public enum LiveValues {
    /// How many live values to fetch at most; completion must stay instant on a large organization.
    public static let limit = 200

    /// The acting user's subscriptions (an admin's: everyone's, since admins may read them all).
    public static func subscriptions(_ store: Store, actor: String?, prefix: String) -> [String] {
        let me = actor.flatMap { try? store.user(email: (try? Email.normalize($0)) ?? $0) } ?? nil
        return (try? store.subscriptionIds(prefix: prefix, buyer: me?.isAdmin == true ? nil : me?.email ?? "", limit: limit)) ?? []
    }

    public static func products(_ store: Store, prefix: String) -> [String] {
        ((try? store.products()) ?? []).map(\.id).filter { $0.hasPrefix(prefix) }
    }

    public static func emails(_ store: Store, prefix: String) -> [String] {
        (try? store.emails(prefix: prefix.lowercased(), limit: limit)) ?? []
    }

    public static func invoices(_ store: Store, actor: String?, prefix: String) -> [String] {
        guard let actor, let email = try? Email.normalize(actor) else { return [] }
        return ((try? store.invoices(owner: email, profile: nil, from: nil, to: nil)) ?? []).map(\.id).filter { $0.hasPrefix(prefix) }.prefix(limit).map { $0 }
    }

    /// Runs a lookup for a completion script: the database and acting user as the words on the command
    /// line (`--db`, `--as`) or the environment give them.
    static func lookup(_ words: [String], _ body: @escaping (Store, String?) -> [String]) -> [String] {
        func option(_ name: String) -> String? {
            guard let i = words.firstIndex(of: name), i + 1 < words.count else { return nil }
            return words[i + 1]
        }
        let session = Session(databasePath: option("--db"), actingUser: option("--as"), isInteractive: false)
        defer { session.closeDatabase() }
        let actor = session.actor()
        return (try? session.withStore { body($0, actor) }) ?? []
    }
}

extension CompletionKind {
    /// The acting user's subscription ids.
    static var subscriptionIds: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { LiveValues.subscriptions($0, actor: $1, prefix: prefix) } }
    }
    static var productIds: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { store, _ in LiveValues.products(store, prefix: prefix) } }
    }
    static var emails: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { store, _ in LiveValues.emails(store, prefix: prefix) } }
    }
    static var invoiceIds: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { LiveValues.invoices($0, actor: $1, prefix: prefix) } }
    }
}
