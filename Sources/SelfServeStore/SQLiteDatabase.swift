import CSupport
import Foundation
import GRDB
import SelfServeCore
import SelfServeSQL

#if canImport(Glibc)
import Glibc
#endif

/// The selfserve database file: opened once per process, checked before anything is written to it.
///
/// A file that is not a selfserve database (another application's SQLite file, a text file, a corrupt
/// file) is refused and never overwritten. A new file is created with mode 0600, because it holds the
/// organization's purchase history and the card fingerprint key.
public final class SQLiteDatabase: SQLDatabase {
    /// `PRAGMA application_id` of selfserve databases ("SSRV").
    static let applicationID: Int32 = 0x5353_5256

    public let path: String
    let queue: DatabaseQueue
    /// What the file was before this process opened it: `init` that fails or is a dry run puts it back.
    public enum Origin { case existing, created, empty }
    public let origin: Origin
    /// The file opened (device and inode), to notice it being deleted or replaced under a long session.
    private let fileIdentity: (dev_t, ino_t)

    /// Opens `path`. With `create`, a missing (or empty) file is made a database (for `init`); otherwise
    /// it must be a selfserve database. Directories, FIFOs, devices and sockets are refused before
    /// anything opens them (opening a FIFO would wait for a writer for ever).
    /// How long a command waits for another process's write lock before it gives up.
    public static let busyTimeoutMilliseconds = 10_000

    /// `SELFSERVE_SQL_TRACE=FILE`: every statement a command runs, one per line (its own line breaks
    /// made spaces), appended to FILE — what `psql -E` or `sqlite3 .trace` show, to see (and test)
    /// what a command asks of the database.
    nonisolated(unsafe) static let traceFile: UnsafeMutablePointer<FILE>? = {
        // getenv, not ProcessInfo: Foundation's environment costs every start (README, "Performance").
        guard let path = getenv("SELFSERVE_SQL_TRACE"), path.pointee != 0 else { return nil }
        return fopen(path, "a")
    }()

    /// SQLite's process-wide settings (CSupport's `ss_configure_sqlite`: no memory statistics, savepoint
    /// journals in memory up to 4 MiB), made before the first connection opens; SQLITE_OK once made.
    public static let sqliteSettings: Int32 = ss_configure_sqlite()

    /// `interrupted` is asked while a command waits on a locked database: Ctrl-C in the shell stops
    /// the wait instead of sitting out the whole timeout.
    public init(path: String, create: Bool, interrupted: @escaping @Sendable () -> Bool = { false }) throws {
        _ = Self.sqliteSettings
        self.path = path
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw SelfServeError.invalid("\(path) is a directory, not a database file")
            case S_IFIFO: throw SelfServeError.invalid("\(path) is a FIFO, not a database file")
            case S_IFCHR, S_IFBLK: throw SelfServeError.invalid("\(path) is a device, not a database file")
            default: throw SelfServeError.invalid("\(path) is not a regular file, not a database file")
            }
            if st.st_size == 0 {
                guard create else {
                    throw SelfServeError.invalid(
                        "\(path) is an empty file, not a selfserve database; create one with 'selfserve --db \(path) init --org NAME --admin EMAIL'"
                    )
                }
                // It holds the card fingerprint key: whatever mode the empty file had, it becomes private.
                guard chmod(path, 0o600) == 0 else {
                    throw SelfServeError.invalid("cannot make \(path) private: \(String(cString: strerror(errno)))")
                }
                origin = .empty
            } else {
                try Self.checkHeader(path)
                origin = .existing
            }
        } else {
            guard create else {
                throw SelfServeError.notFound(
                    "no database at \(path); create one with 'selfserve --db \(path) init --org NAME --admin EMAIL'"
                )
            }
            try Self.createFile(path)
            origin = .created
        }
        guard stat(path, &st) == 0 else {
            throw SelfServeError.invalid("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        fileIdentity = (st.st_dev, st.st_ino)
        var config = Configuration()
        // WAL is a property of the file: it is set once, when a file is not yet in WAL mode (a new file).
        // GRDB's `journalMode = .wal` would also write a dummy table whenever the WAL file is empty — and
        // SQLite deletes it when the last connection closes, so every one-shot read became a write with
        // three fsyncs. A queue (one connection) does not need that workaround, which is for pools.
        config.journalMode = .default
        config.prepareDatabase { db in
            if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                    throw SelfServeError.invalid("cannot switch \(path) to WAL mode")
                }
            }
            // In WAL mode NORMAL keeps the file consistent after a crash; only the last commits before a
            // power loss may be lost.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if let trace = Self.traceFile {
                // The SQL as prepared, with its placeholders: never a value (no card data can leak here).
                db.trace(options: .statement) { event in
                    if case .statement(let statement) = event {
                        fputs(statement.sql.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n", trace)
                    }
                }
            }
        }
        // SQLite's own busy timeout sleeps without looking up; this waits in 10 ms steps and stops at
        // Ctrl-C (or the timeout).
        config.busyMode = .callback { tries in
            guard !interrupted() else { return false }
            usleep(10_000)
            return tries * 10 < Self.busyTimeoutMilliseconds
        }
        config.foreignKeysEnabled = true
        config.allowsUnsafeTransactions = true
        config.label = "selfserve"
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            let migrator = Migrations.migrator
            let upToDate = try queue.inDatabase { db in
                try Self.checkIdentity(db, path: path)
                return try migrator.checkNotNewer(db, path: path)
            }
            // SELFSERVE_SCHEMA_UPTO builds a database of an older schema, for upgrade tests.
            if let target = getenv("SELFSERVE_SCHEMA_UPTO").map({ String(cString: $0) }), !target.isEmpty {
                try migrator.migrate(queue, upTo: target)
            } else if !upToDate {
                // Only an old (or new) file takes the write lock to migrate; an up-to-date one is just read.
                try migrator.migrate(queue)
            }
        } catch let error as DatabaseError {
            throw Self.describe(error, path: path)
        }
    }

    /// Fails when the file opened is no longer at `path` (deleted, or replaced by another file): writes
    /// would go to a file nobody can open again.
    public func checkStillThere() throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_dev == fileIdentity.0, st.st_ino == fileIdentity.1 else {
            throw SelfServeError.invalid(
                "the database file \(path) was deleted or replaced while this session had it open; nothing more is written to it — start selfserve again"
            )
        }
    }

    /// Puts back what `init` found: no file, or an empty one (a failed or dry-run `init` leaves nothing).
    public func undoCreation() {
        try? close()
        for suffix in ["-wal", "-shm", "-journal"] { unlink(path + suffix) }
        switch origin {
        case .created: unlink(path)
        case .empty: truncate(path, 0)
        case .existing: break
        }
    }

    /// Closes the connection now (SQLite checkpoints the WAL and removes it when it is the last one).
    /// The object is unusable afterwards; a one-shot command calls this just before the process exits.
    public func close() throws {
        do { try queue.close() } catch let error as DatabaseError { throw Self.describe(error, path: path) }
    }

    // MARK: SelfServeDatabase

    /// The connection while a closure of this object runs on it: a unit or read started from inside
    /// another (a plugin's read-only helper during a command, an audit row written while delivering
    /// events) uses it directly, since GRDB's queue may not be entered twice.
    private var current: Database?
    /// Set between `beginTransaction` and `endTransaction`.
    private var userTransaction = false

    private func withConnection<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            if let current { return try body(current) }
            return try queue.inDatabase { db in
                current = db
                defer { current = nil }
                return try body(db)
            }
        } catch let error as DatabaseError {
            throw Self.describe(error, path: path)
        }
    }

    public func unit<T>(write: Bool, _ body: (Store) throws -> (T, Completion)) throws -> T {
        try withConnection { db in
            var result: T?
            let work = { () throws -> Database.TransactionCompletion in
                let (value, completion) = try body(SQLStore(GRDBSession(db)))
                result = value
                return completion == .commit ? .commit : .rollback
            }
            // GRDB ends both on every path: commit or rollback as told, rollback when `work` throws.
            if db.isInsideTransaction {
                try db.inSavepoint(work)
            } else {
                try db.inTransaction(write ? .immediate : .deferred, work)
            }
            guard let result else { throw SelfServeError.invalid("a unit of work on \(path) ended without its result") }
            return result
        }
    }

    public func read<T>(_ body: (Store) throws -> T) throws -> T {
        try withConnection { db in try body(SQLStore(GRDBSession(db))) }
    }

    public func beginTransaction() throws {
        try withConnection { db in try db.beginTransaction(.immediate) }
        userTransaction = true
    }

    public func endTransaction(_ completion: Completion) throws {
        userTransaction = false
        try withConnection { db in
            // SQLite may already have rolled back on its own (a full disk, an I/O error).
            guard db.isInsideTransaction else { return }
            switch completion {
            case .commit: try db.commit()
            case .rollback: try db.rollback()
            }
        }
    }

    public var isInTransaction: Bool { userTransaction || current?.isInsideTransaction == true }

    public var isNew: Bool { origin != .existing }

    // MARK: SQLDatabase

    public func withSession<T>(_ body: (SQLSession) throws -> T) throws -> T {
        try withConnection { db in try body(GRDBSession(db)) }
    }

    public var displayLocation: String { path }

    /// SQLite gives a new row the largest id plus one, and a file has no login roles: nothing to do.
    public func didCopyRows(generatedIDs tables: [String], by admin: String) throws {}

    public func identity() throws -> DatabaseIdentity { .asserted }

    public func serverNow() throws -> Date? { nil }

    public func describe(_ error: Error) -> SelfServeError { Self.selfServeError(error, path: path) }

    /// Opens the database at `location` (a file path) for a session: the opener of the composition root.
    public static func open(
        _ location: String,
        create: Bool,
        interrupted: @escaping @Sendable () -> Bool
    ) throws -> SelfServeDatabase {
        try SQLiteDatabase(path: location, create: create, interrupted: interrupted)
    }

    static func createFile(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
            try? FileManager.default.createDirectory(
                atPath: dir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SelfServeError.invalid("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        Glibc.close(fd)
    }

    static func checkHeader(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SelfServeError.invalid("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = Glibc.read(fd, &header, 16)
        let magic = Array("SQLite format 3\0".utf8)
        if count > 0 && Array(header[..<count]) != magic {
            throw SelfServeError.invalid(
                "\(path) is not a selfserve database (not an SQLite file); it was left untouched"
            )
        }
    }

    static func checkIdentity(_ db: Database, path: String) throws {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if appID == applicationID { return }
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") ?? 0
        if appID != 0 || tables > 0 {
            throw SelfServeError.invalid(
                "\(path) is an SQLite database of another application, not a selfserve database; it was left untouched"
            )
        }
        try db.execute(sql: "PRAGMA application_id = \(applicationID)")
    }

    /// Any error of a command as the one error type users see.
    public static func selfServeError(_ error: Error, path: String) -> SelfServeError {
        if let e = error as? SelfServeError { return e }
        if let e = error as? DatabaseError { return describe(e, path: path) }
        // A status, day or id this version cannot read: refuse rather than guess a default.
        if let e = error as? SQLDecodingError { return e.selfServeError(in: path) }
        return .invalid("\(error)")
    }

    static func describe(_ error: DatabaseError, path: String) -> SelfServeError {
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return .invalid("\(path) is not a selfserve database (not an SQLite file); it was left untouched")
        case .SQLITE_CORRUPT:
            return .invalid("\(path) is corrupt (\(error.message ?? "malformed")); restore it from a backup")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .conflict("the database is busy (another selfserve holds a write lock for too long); try again")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return .invalid("cannot write \(path): \(error.message ?? "permission denied")")
        case .SQLITE_FULL: return .invalid("the disk holding \(path) is full")
        case .SQLITE_CONSTRAINT:
            return .conflict("the change conflicts with data already there (a duplicate, or a rule of the database)")
        case .SQLITE_INTERRUPT: return .invalid("interrupted")
        default: return .invalid("database error on \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}

extension DatabaseMigrator {
    /// A database migrated by a newer selfserve has migrations this one does not know: refuse it
    /// rather than run old code on a schema it does not understand.
    /// Returns whether every known migration is already applied.
    func checkNotNewer(_ db: Database, path: String) throws -> Bool {
        let known = Set(migrations)
        let applied = try appliedIdentifiers(db)
        let unknown = applied.subtracting(known)
        if !unknown.isEmpty {
            throw SelfServeError.invalid(
                "\(path) was written by a newer selfserve (schema \(unknown.sorted().joined(separator: ", "))); upgrade selfserve to open it"
            )
        }
        return known.isSubset(of: applied)
    }
}
