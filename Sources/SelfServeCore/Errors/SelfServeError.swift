/// The one error type every command fails with.
///
/// The codes are a stable contract (docs/COMMANDS.md, README): scripts match on them, and the process exit code
/// is derived from them, never chosen at the throw site.
public struct SelfServeError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable, Codable {
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case conflict
        case insufficientLicenses = "insufficient_licenses"
        case limitExceeded = "limit_exceeded"
        case forbidden
        case policyDenied = "policy_denied"
        case policyError = "policy_error"
        case notSignedIn = "not_signed_in"
        case productNotAvailable = "product_not_available"
        case paymentDeclined = "payment_declined"
        case usage
    }

    public var code: Code
    public var message: String
    /// The plugin that decided, when a policy plugin denied or failed.
    public var plugin: String?

    public init(_ code: Code, _ message: String, plugin: String? = nil) {
        self.code = code
        self.message = message
        self.plugin = plugin
    }

    /// The process exit code for this error: 64 usage, 77 forbidden or refused by a policy, 1 otherwise.
    public var exitCode: Int32 {
        switch code {
        case .usage: return 64
        case .forbidden, .policyDenied, .policyError: return 77
        default: return 1
        }
    }

    /// Whether the audit log records this failure as `denied` rather than `failed`.
    public var isDenial: Bool {
        if plugin != nil { return true }
        switch code {
        case .forbidden, .policyDenied, .policyError, .productNotAvailable: return true
        default: return false
        }
    }

    public var description: String { message }
}

extension SelfServeError {
    public static func invalid(_ message: String) -> SelfServeError { .init(.invalidArgument, message) }
    public static func notFound(_ message: String) -> SelfServeError { .init(.notFound, message) }
    public static func conflict(_ message: String) -> SelfServeError { .init(.conflict, message) }
    public static func forbidden(_ message: String) -> SelfServeError { .init(.forbidden, message) }
}
