import Foundation

/// How a unit of work ends when its body returns normally. A body that throws is always rolled back.
public enum Completion: Sendable {
    case commit
    case rollback
}

/// One selfserve database as a session uses it: a single connection to a SQLite file (or, later, a
/// PostgreSQL database), opened once per process. This is the storage seam: the executor (`Session`)
/// knows only this protocol and `Store`; each backend implements both.
///
/// Units of work are closures, so that every begin has its commit or rollback on every path. The
/// one exception is a transaction that outlives a single call — the shell's `begin` … `commit`, an
/// `--atomic` batch, a dry run of a whole batch — which the person (or the batch runner) ends later.
public protocol SelfServeDatabase: AnyObject {
    /// Runs `body` as one unit of work: a transaction of its own when none is open (taking the write
    /// lock up front when `write`, so that a reader never has to upgrade), or a savepoint inside the
    /// open one. It ends as `body` says; when `body` throws, its changes are undone and the error
    /// rethrown.
    func unit<T>(write: Bool, _ body: (Store) throws -> (T, Completion)) throws -> T

    /// Runs `body` outside any unit of work: short reads for completion and the prompt (each
    /// statement its own transaction), or the work of a command that opens units itself.
    func read<T>(_ body: (Store) throws -> T) throws -> T

    /// Opens a write transaction that later units run inside, as savepoints.
    func beginTransaction() throws
    /// Ends the transaction opened by `beginTransaction`.
    func endTransaction(_ completion: Completion) throws
    /// Whether a transaction is open (`beginTransaction`, or a unit running).
    var isInTransaction: Bool { get }

    /// Whether this process created the database (or filled an empty file): a failed or dry-run
    /// `init` then puts back what it found with `undoCreation`.
    var isNew: Bool { get }
    func undoCreation()
    /// Fails when the database is no longer the one opened (a file deleted or replaced under a shell).
    func checkStillThere() throws
    /// Closes the connection; the object is unusable afterwards.
    func close() throws

    /// Copies every row of this database into `target`, which must hold no organization yet, in one
    /// transaction of the target's (kept only when `commit` and both sides' counts and invoice totals
    /// agree). Reads this database as it is: run it inside a unit of work for a consistent snapshot.
    /// `admin` is the person copying: on a server target, the connecting role is mapped to them.
    func copyOrganization(to target: SelfServeDatabase, by admin: String, commit: Bool) throws -> OrganizationCopy

    /// Who the database says is connected: nobody in particular for a file (the acting user is asserted
    /// with `--as`), the login role's user on PostgreSQL.
    func identity() throws -> DatabaseIdentity

    /// The server's clock (`now()`), so that machines with skewed clocks agree on what is due; nil for a
    /// file, where the machine's clock is the only one.
    func serverNow() throws -> Date?

    /// Any error raised while using the database — the driver's own included — as the one error
    /// type users see, worded for this backend.
    func describe(_ error: Error) -> SelfServeError
}

/// Opens the database of a session: where it is (`--db`), whether `init` may create it, and what to
/// ask while waiting for another process's lock (Ctrl-C stops the wait). Chosen by the composition
/// root (the process's `main`), so that the executor names no backend.
public typealias DatabaseOpener = (_ location: String, _ create: Bool, _ interrupted: @escaping @Sendable () -> Bool)
    throws
    -> SelfServeDatabase

/// Who acts, as the database knows it.
public enum DatabaseIdentity: Sendable, Equatable {
    /// A file proves nothing: `--as`, `SELFSERVE_USER` or the saved login name the acting user.
    case asserted
    /// A server authenticated the login `role`; `email` is the user mapped to it (nil: nobody), and
    /// `billing` whether the role may run the organization-wide billing run.
    case proven(role: String, email: String?, billing: Bool)
}
