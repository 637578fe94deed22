import Foundation
import SelfServeCore

/// The user saved by `login`, per database file, in `$XDG_STATE_HOME/selfserve/logins.json` (0600).
///
/// Keyed by the database's absolute path so that signing in to a test database does not change who
/// you are in the real one.
public struct LoginStore: Sendable {
    public let file: String

    public init(environment: [String: String]) {
        file = Paths.stateDirectory(environment) + "/logins.json"
    }

    public func user(for database: String) -> String? {
        load()[database]
    }

    public func save(_ email: String?, for database: String) throws {
        var all = load()
        all[database] = email
        let object = PlainValue.object(all.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        try Paths.writePrivate(JSON.write(object, pretty: true) + "\n", to: file)
    }

    private func load() -> [String: String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8), let value = try? JSON.parse(text),
            let pairs = value.objectValue
        else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in pairs { if let s = v.stringValue { out[k] = s } }
        return out
    }
}

/// Where selfserve keeps its files, following the XDG base directory specification.
public enum Paths {
    static func home(_ env: [String: String]) -> String { env["HOME"] ?? NSHomeDirectory() }

    public static func defaultDatabase(_ env: [String: String]) -> String {
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home(env) + "/.local/share"
        return base + "/selfserve/selfserve.sqlite"
    }

    public static func stateDirectory(_ env: [String: String]) -> String {
        let base = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home(env) + "/.local/state"
        return base + "/selfserve"
    }

    /// A file path made absolute, with links, `.` and `..` resolved: the same file however it is named.
    /// A PostgreSQL URI (`postgresql://…`, `postgres://…`, `postgresql:`) is a location of its own and
    /// stays as it is.
    public static func absolute(_ path: String) -> String {
        if isPostgreSQL(path) { return path }
        // A path that exists: realpath(3), one call. Foundation's spelling below (a readlink per
        // component, FileManager and NSString bridging) was 5% of a one-shot command, and it leaves a
        // relative link in the middle of a path unresolved.
        if !path.hasPrefix("~") {
            if let full = resolved(path) { return full }
            // A file not created yet (`init`) in a directory that exists: the directory resolved the same
            // way, so that the file has one name before and after it exists.
            let slash = path.lastIndex(of: "/")
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            if !name.isEmpty, name != ".", name != "..", let base = resolved(directory) {
                return base == "/" ? "/" + name : base + "/" + name
            }
        }
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath + "/" + expanded) as NSString).standardizingPath
    }

    /// realpath(3): nil when the path does not exist (or cannot be reached).
    private static func resolved(_ path: String) -> String? {
        guard let full = realpath(path, nil) else { return nil }
        defer { free(full) }
        return String(cString: full)
    }

    /// Whether `location` names a PostgreSQL database rather than a file.
    public static func isPostgreSQL(_ location: String) -> Bool {
        let lower = location.lowercased()
        return lower.hasPrefix("postgresql:") || lower.hasPrefix("postgres:")
    }

    /// Writes a file readable by its owner only, creating its directory (0700) if needed.
    public static func writePrivate(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: dir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let tmp = path + ".tmp"
        let fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SelfServeError.invalid("cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(tmp, path) == 0 else {
            throw SelfServeError.invalid("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
