import Crypto
import Foundation

/// What makes a command, or a batch, safe to run again.

/// A write command's result kept under an idempotency key (`--idempotency-key`), per acting user: the
/// same key with the same command returns it again and does nothing; with another command it is a
/// `conflict`. Kept 24 hours.
public struct IdempotencyRecord: Hashable, Sendable {
    public var actor: String
    public var key: String
    /// The command, canonical: its path and argument values (not its output options).
    public var command: String
    /// The result as it was rendered from (`CommandResult` as JSON).
    public var result: String
    public var createdAt: String

    public init(actor: String, key: String, command: String, result: String, createdAt: String) {
        self.actor = actor
        self.key = key
        self.command = command
        self.result = result
        self.createdAt = createdAt
    }

    public static let lifetimeSeconds: Double = 24 * 3600

    /// A key is what a script makes up: a UUID, `order-1234`. Printable, at most 255 characters.
    public static func validate(_ key: String) throws {
        guard !key.isEmpty, key.count <= 255, key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else {
            throw SelfServeError(.usage, "--idempotency-key takes 1 to 255 printable characters without spaces")
        }
    }
}

/// A line of a batch file that committed: `--resume` skips it when the same acting user runs the same
/// file again and the line is still the same text at the same number.
public struct BatchMark: Hashable, Sendable {
    public var actor: String
    /// The batch file's absolute path.
    public var file: String
    public var line: Int
    /// SHA-256 of the line's text, so that a mended line runs again.
    public var textHash: String
    public var committedAt: String

    public init(actor: String, file: String, line: Int, textHash: String, committedAt: String) {
        self.actor = actor
        self.file = file
        self.line = line
        self.textHash = textHash
        self.committedAt = committedAt
    }

    /// How long a committed line is remembered.
    public static let lifetimeSeconds: Double = 30 * 24 * 3600

    /// The hash kept for a line's text.
    public static func hash(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).hexDigits
    }
}
