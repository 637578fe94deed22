/// A plugin as stored in the database.
public struct PluginRecord: Hashable, Sendable {
    public var name: String
    public var version: String
    public var description: String
    public var source: String
    public var sha256: String
    public var enabled: Bool
    public var hooks: [String]
    public var installedBy: String
    public var installedAt: String

    public init(
        name: String,
        version: String,
        description: String,
        source: String,
        sha256: String,
        enabled: Bool,
        hooks: [String],
        installedBy: String,
        installedAt: String
    ) {
        self.name = name
        self.version = version
        self.description = description
        self.source = source
        self.sha256 = sha256
        self.enabled = enabled
        self.hooks = hooks
        self.installedBy = installedBy
        self.installedAt = installedAt
    }
}

/// The plugin hooks (README, "Plugins and automation"), as the rules call them. Implementations compose every enabled plugin:
/// any deny wins, the smallest limit wins, plugins are asked in name order.
public protocol PolicyEngine: AnyObject {
    /// Throws `policy_denied` or `policy_error` naming the plugin. The arguments are made only when a
    /// plugin has the hook (they may cost a query).
    func check(_ hook: PolicyHook, _ arguments: @autoclosure () throws -> [PlainValue]) throws
    /// The smallest `license_limit` of all plugins, with the plugin that set it.
    func licenseLimit(_ context: PlainValue) throws -> (limit: Int, plugin: String)?
    func cancellationReasons() throws -> [CancellationReason]
    /// After commit; errors are logged, never undo anything.
    func notify(_ event: PlainValue) -> [String]
    /// Whether any enabled plugin takes events (`on_event`). When none does, commands keep no events:
    /// a billing run's year of catch-up would otherwise hold one per period until it commits.
    var listensToEvents: Bool { get }
    /// Messages plugins passed to `ss.log` during the current command, for the audit details.
    func takeLogMessages() -> [String]
    /// Who decided what during the current command, for `--dry-run` and `--explain`.
    func takeDecisions() -> [PolicyDecision]
}

/// One answer of one plugin's hook during a command.
public struct PolicyDecision: Hashable, Sendable {
    public var plugin: String
    public var hook: String
    /// `allowed`, `denied: MESSAGE`, a limit (`25`), or `error: MESSAGE` (the command then fails closed).
    public var answer: String
    /// How long the hook ran.
    public var milliseconds: Double

    public init(plugin: String, hook: String, answer: String, milliseconds: Double) {
        self.plugin = plugin
        self.hook = hook
        self.answer = answer
        self.milliseconds = milliseconds
    }

    /// `license-limits: license_limit 25`, as a dry run lists it.
    public var summary: String { "\(plugin): \(hook) \(answer)" }

    /// `license-limits license_limit → 25 (0.42 ms)`, as `--explain` prints it.
    public var trace: String {
        "\(plugin) \(hook) → \(answer) (\(String(format: "%.2f", milliseconds)) ms)"
    }
}

public enum PolicyHook: String, Sendable, CaseIterable {
    case beforePurchase = "before_purchase"
    case beforeSetLicenses = "before_set_licenses"
    case beforeAssign = "before_assign"
    case beforeCancel = "before_cancel"
    /// An admin takes over someone's subscription: `(subscription, {admin, action, moved_to | reason, …})`.
    case beforeTakeOver = "before_take_over"
    case validatePaymentMethod = "validate_payment_method"
}

/// No plugins: everything allowed, no limits, the built-in reasons only.
public final class NoPolicy: PolicyEngine {
    public init() {}
    public func check(_ hook: PolicyHook, _ arguments: @autoclosure () throws -> [PlainValue]) throws {}
    public func licenseLimit(_ context: PlainValue) throws -> (limit: Int, plugin: String)? { nil }
    public func cancellationReasons() throws -> [CancellationReason] { [] }
    public func notify(_ event: PlainValue) -> [String] { [] }
    public var listensToEvents: Bool { false }
    public func takeLogMessages() -> [String] { [] }
    public func takeDecisions() -> [PolicyDecision] { [] }
}
