import SelfServeCore

#if canImport(Glibc)
import Glibc
#endif

/// One connection to a PostgreSQL server, by libpq's conventions: a `postgresql://` URI or
/// `postgresql:` alone, the `PG*` variables, `~/.pgpass`, `pg_service.conf`, every `sslmode`.
/// Statements are sent with their parameters apart (`$1`, `$2`, … as text): a value is never SQL.
public final class PGConnection {
    private let pq: LibPQ
    private let handle: LibPQ.Connection
    /// Where it is connected, without any password, for messages.
    public let location: String

    public init(_ uri: String) throws {
        let pq = try LibPQ.shared()
        let location = Self.redacted(uri)
        self.pq = pq
        self.location = location
        // `postgresql:` alone: everything from the environment and the service files.
        let conninfo = uri == "postgresql:" || uri == "postgres:" ? "" : uri
        guard let conn = conninfo.withCString({ pq.connectdb($0) }) else {
            throw SelfServeError.invalid("cannot connect to \(location): out of memory")
        }
        guard pq.status(conn) == LibPQ.connectionOK else {
            let message = pq.errorMessage(conn).map { String(cString: $0) } ?? "unknown error"
            pq.finish(conn)
            throw Self.connectionError(message, location: location)
        }
        handle = conn
        _ = pq.setNoticeReceiver(conn, Self.warningsOnly, nil)
    }

    deinit { pq.finish(handle) }

    /// Notices (a role granted twice, a table already gone) are the server talking to itself, not to
    /// the person at the terminal; libpq would print them all on stderr. Warnings still are. Filtered
    /// here rather than by `SET client_min_messages`, which cost a round trip at every start.
    private static let warningsOnly: LibPQ.NoticeReceiver = { _, result in
        guard let pq = try? LibPQ.shared(),
            let severity = pq.resultErrorField(result, LibPQ.diagSeverityNonLocalized).map({ String(cString: $0) }),
            severity == "WARNING", let message = pq.resultErrorMessage(result)
        else { return }
        _ = write(STDERR_FILENO, message, strlen(message))
    }

    /// The rows of one statement, every value as PostgreSQL's text form (nil for NULL).
    public struct Rows: Sendable {
        public var columns: [String]
        public var values: [[String?]]
        /// Rows inserted, updated or deleted (`PQcmdTuples`), 0 for others.
        public var affected: Int

        /// The value of `column` in row `row`.
        public func value(_ row: Int, _ column: String) -> String? {
            guard let c = columns.firstIndex(of: column), values.indices.contains(row) else { return nil }
            return values[row][c]
        }
    }

    /// Runs one statement with parameters `$1…$n`.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
        let result: LibPQ.Result? = try withCStrings(parameters) { pointers in
            sql.withCString { pq.execParams(handle, $0, Int32(parameters.count), nil, pointers, nil, nil, 0) }
        }
        defer { pq.clear(result) }
        return try rows(of: result)
    }

    /// Runs several statements without parameters in one round trip (the schema: one transaction
    /// unless it says otherwise); the rows of the last one.
    @discardableResult
    public func execute(script: String) throws -> Rows {
        let result = script.withCString { pq.exec(handle, $0) }
        defer { pq.clear(result) }
        return try rows(of: result)
    }

    private func rows(of result: LibPQ.Result?) throws -> Rows {
        guard let result else { throw lostConnection() }
        if let failure = failure(of: result) { throw failure }
        let columns = columnNames(result)
        let values = (0..<pq.ntuples(result)).map { row(result, $0, columns: columns.count) }
        let affected = pq.cmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return Rows(columns: columns, values: values, affected: affected)
    }

    private func columnNames(_ result: LibPQ.Result) -> [String] {
        (0..<pq.nfields(result)).map { pq.fname(result, $0).map { String(cString: $0) } ?? "" }
    }

    private func row(_ result: LibPQ.Result, _ row: Int32, columns: Int) -> [String?] {
        (0..<Int32(columns)).map { column in
            guard pq.getisnull(result, row, column) == 0, let p = pq.getvalue(result, row, column) else { return nil }
            let length = Int(pq.getlength(result, row, column))
            return p.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
        }
    }

    /// Runs a query and hands its rows over one at a time as the server sends them (libpq's single-row
    /// mode): a list of any length is never held whole. When `body` throws, the rest of the result is
    /// read and dropped, so that the connection stays usable, and the error is rethrown.
    public func each(
        _ sql: String,
        _ parameters: [String?] = [],
        _ body: (_ columns: [String], _ values: [String?]) throws -> Void
    ) throws {
        let sent = try withCStrings(parameters) { pointers in
            sql.withCString { pq.sendQueryParams(handle, $0, Int32(parameters.count), nil, pointers, nil, nil, 0) }
        }
        guard sent == 1 else { throw lostConnection() }
        _ = pq.setSingleRowMode(handle)
        var failure: Error?
        var columns: [String]?
        while let result = pq.getResult(handle) {
            defer { pq.clear(result) }
            guard failure == nil else { continue }
            let status = pq.resultStatus(result)
            if status == LibPQ.singleTuple {
                let names = columns ?? columnNames(result)
                columns = names
                do { try body(names, row(result, 0, columns: names.count)) } catch { failure = error }
            } else {
                failure = self.failure(of: result)
            }
        }
        if let failure { throw failure }
    }

    /// Savepoints open on this connection, which name each one uniquely.
    private var savepoints = 0

    /// Runs `body` in a savepoint of the open transaction: released or rolled back as it says, rolled
    /// back (and the error rethrown) when it throws.
    public func savepoint(_ body: () throws -> Completion) throws {
        savepoints += 1
        defer { savepoints -= 1 }
        let name = "ss_\(savepoints)"
        try execute("SAVEPOINT \(name)")
        do {
            if try body() == .commit {
                try execute("RELEASE SAVEPOINT \(name)")
                return
            }
        } catch {
            _ = try? execute("ROLLBACK TO SAVEPOINT \(name)")
            _ = try? execute("RELEASE SAVEPOINT \(name)")
            throw error
        }
        try execute("ROLLBACK TO SAVEPOINT \(name)")
        try execute("RELEASE SAVEPOINT \(name)")
    }

    /// Nil when the statement succeeded; else why: the connection lost, or the statement's own error.
    private func failure(of result: LibPQ.Result) -> SelfServeError? {
        let status = pq.resultStatus(result)
        if status == LibPQ.commandOK || status == LibPQ.tuplesOK { return nil }
        return pq.status(handle) != LibPQ.connectionOK ? lostConnection() : statementError(result)
    }

    /// The SQLSTATE of the last failure, for callers that retry (`40001`, `40P01`).
    public private(set) var lastSQLState: String?

    private func withCStrings<T>(
        _ values: [String?],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> T
    ) throws -> T {
        var owned: [UnsafeMutablePointer<CChar>?] = values.map { $0.flatMap { strdup($0) } }
        defer {
            for p in owned { free(p) }
        }
        guard !owned.isEmpty else { return try body(nil) }
        return try owned.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return try body(nil) }
            return try base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                try body(UnsafePointer($0))
            }
        }
    }

    private func lostConnection() -> SelfServeError {
        let message = pq.errorMessage(handle).map { String(cString: $0) } ?? ""
        return .invalid(
            "the PostgreSQL server at \(location) closed the connection during the command (\(Self.firstLine(message))); nothing of this command was kept — try again"
        )
    }

    private func statementError(_ result: LibPQ.Result) -> SelfServeError {
        let state = pq.resultErrorField(result, LibPQ.diagSQLState).map { String(cString: $0) } ?? ""
        let message = pq.resultErrorField(result, LibPQ.diagMessagePrimary).map { String(cString: $0) } ?? "error"
        lastSQLState = state
        switch state {
        case "23505": return .conflict("the change conflicts with data already there (\(message))")
        case "23503", "23514", "23502": return .conflict("the change breaks a rule of the database (\(message))")
        case "40001", "40P01":
            return .conflict("the database could not serialize this command with another one; try again")
        case "42501": return .forbidden("the database refused it: \(message)")
        case "42P01": return .invalid("\(location) is not a selfserve database (\(message))")
        case "57014": return .invalid("interrupted")
        default: return .invalid("database error on \(location): \(message) [\(state)]")
        }
    }

    /// A connection failure in the words of what went wrong, libpq's own message after it.
    static func connectionError(_ message: String, location: String) -> SelfServeError {
        let m = message.lowercased()
        let detail = firstLine(message)
        if m.contains("password authentication failed") || m.contains("authentication failed")
            || m.contains("no password supplied") || (m.contains("role") && m.contains("does not exist"))
        {
            return .invalid("authentication to \(location) failed (\(detail))")
        }
        if m.contains("database") && m.contains("does not exist") {
            return .notFound("no such database at \(location) (\(detail)); create it first (createdb)")
        }
        if m.contains("no such file or directory") || m.contains("connection refused")
            || m.contains("could not connect")
            || m.contains("could not translate host name") || m.contains("timeout expired")
        {
            return .invalid(
                "cannot reach the PostgreSQL server of \(location): is it running, and is the address right? (\(detail))"
            )
        }
        if m.contains("invalid") && (m.contains("uri") || m.contains("connection option") || m.contains("conninfo")) {
            return SelfServeError(.usage, "\(location) is not a valid PostgreSQL address (\(detail))")
        }
        return .invalid("cannot connect to \(location) (\(detail))")
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map { String($0).trimmed } ?? text.trimmed
    }

    /// The URI without a password (`postgresql://bea:secret@host/db` → `postgresql://bea@host/db`).
    public static func redacted(_ uri: String) -> String {
        guard let scheme = uri.range(of: "://"), let at = uri[scheme.upperBound...].firstIndex(of: "@") else {
            return Sanitize.forDisplay(uri)
        }
        let userInfo = uri[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return Sanitize.forDisplay(uri) }
        return Sanitize.forDisplay(String(uri[..<colon]) + String(uri[at...]))
    }
}
