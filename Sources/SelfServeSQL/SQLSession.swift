/// One connection as the SQL store uses it, whatever the engine. Statements use `?` placeholders; a
/// backend that wants `$1…` rewrites them. Nothing here opens or ends a transaction except `savepoint`,
/// which the store's `isolated` needs inside the command's transaction.
public protocol SQLSession: AnyObject {
    /// Every row of the statement.
    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow]
    /// The rows one at a time, for output that streams. `body` must not run other statements on the
    /// session: a server sends the rows on the same connection while it runs.
    func each(_ sql: String, _ arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws
    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
    /// Whether the engine has login roles (`pg_roles`): a server does, a file does not.
    var hasDatabaseRoles: Bool { get }
    /// Runs `body` in a savepoint: released when it returns, rolled back (and rethrown) when it throws.
    func savepoint(_ body: () throws -> Void) throws
}
