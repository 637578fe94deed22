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
        return
            (try? store.subscriptionIds(
                prefix: prefix,
                buyer: me?.isAdmin == true ? nil : me?.email ?? "",
                limit: limit
            )) ?? []
    }

    public static func products(_ store: Store, prefix: String) -> [String] {
        ((try? store.products()) ?? []).map(\.id).filter { $0.hasPrefix(prefix) }
    }

    public static func emails(_ store: Store, prefix: String) -> [String] {
        (try? store.emails(prefix: prefix.lowercased(), limit: limit)) ?? []
    }

    /// The acting user's cards.
    public static func paymentMethods(_ store: Store, actor: String?, prefix: String) -> [String] {
        guard let actor, let email = try? Email.normalize(actor) else { return [] }
        return ((try? store.paymentMethods(owner: email)) ?? []).map(\.id).filter { $0.hasPrefix(prefix) }.prefix(limit)
            .map { $0 }
    }

    /// The acting user's billing profiles.
    public static func billingProfiles(_ store: Store, actor: String?, prefix: String) -> [String] {
        guard let actor, let email = try? Email.normalize(actor) else { return [] }
        return ((try? store.billingProfiles(owner: email, account: nil)) ?? []).map(\.id).filter {
            $0.hasPrefix(prefix)
        }.prefix(limit).map { $0 }
    }

    /// Installed plugins (names are not secret; managing them is for admins).
    public static func plugins(_ store: Store, prefix: String) -> [String] {
        ((try? store.plugins()) ?? []).map(\.name).filter { $0.hasPrefix(prefix) }
    }

    public static func invoices(_ store: Store, actor: String?, prefix: String) -> [String] {
        guard let actor, let email = try? Email.normalize(actor) else { return [] }
        return ((try? store.invoices(owner: email, profile: nil, from: nil, to: nil)) ?? []).map(\.id).filter {
            $0.hasPrefix(prefix)
        }.prefix(limit).map { $0 }
    }

    /// What a completion script's lookup opens the database with; set by the composition root before
    /// anything is parsed (completion closures are declared statically, with the arguments).
    nonisolated(unsafe) public static var backends: Backends?
    /// The shell's session while its Tab is answered: lookups read through it — its open database, its
    /// acting user — rather than opening what the line names.
    nonisolated(unsafe) public static var session: Session?

    /// Runs a lookup: in the shell through its session; for a completion script, on the database and
    /// acting user that the words on the command line (`--db`, `--as`) or the environment give.
    static func lookup(_ words: [String], _ body: @escaping (Store, String?) -> [String]) -> [String] {
        if let session {
            let actor = session.actor()
            return (try? session.withStore { body($0, actor) }) ?? []
        }
        guard let backends else { return [] }
        func option(_ name: String) -> String? {
            guard let i = words.firstIndex(of: name), i + 1 < words.count else { return nil }
            return words[i + 1]
        }
        let session = Session(
            databasePath: option("--db"),
            actingUser: option("--as"),
            isInteractive: false,
            backends: backends
        )
        defer { session.closeDatabase() }
        let actor = session.actor()
        return (try? session.withStore { body($0, actor) }) ?? []
    }
}

extension CompletionKind {
    /// The acting user's subscription ids.
    static var subscriptionIds: CompletionKind {
        .custom { words, _, prefix in
            LiveValues.lookup(words) { LiveValues.subscriptions($0, actor: $1, prefix: prefix) }
        }
    }
    static var productIds: CompletionKind {
        .custom { words, _, prefix in
            LiveValues.lookup(words) { store, _ in LiveValues.products(store, prefix: prefix) }
        }
    }
    static var emails: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { store, _ in LiveValues.emails(store, prefix: prefix) }
        }
    }
    static var paymentMethodIds: CompletionKind {
        .custom { words, _, prefix in
            LiveValues.lookup(words) { LiveValues.paymentMethods($0, actor: $1, prefix: prefix) }
        }
    }
    static var billingProfileIds: CompletionKind {
        .custom { words, _, prefix in
            LiveValues.lookup(words) { LiveValues.billingProfiles($0, actor: $1, prefix: prefix) }
        }
    }
    static var pluginNames: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { store, _ in LiveValues.plugins(store, prefix: prefix) }
        }
    }
    /// Output formats; `html` only where it is one (`invoice export`).
    static var outputFormats: CompletionKind {
        .custom { words, _, _ in
            let html = CommandParser.walk(words).path == ["invoice", "export"]
            return OutputFormat.allCases.filter { html ? $0 != .table && $0 != .ndjson : $0 != .html }.map(\.rawValue)
        }
    }
    static var cancellationReasons: CompletionKind { .list(CancellationReason.builtin.map(\.code)) }
    static var invoiceIds: CompletionKind {
        .custom { words, _, prefix in LiveValues.lookup(words) { LiveValues.invoices($0, actor: $1, prefix: prefix) } }
    }
}
