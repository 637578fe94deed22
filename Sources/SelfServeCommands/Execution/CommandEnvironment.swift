import SelfServeCore

/// What commands may ask of the process they run in, beyond the store: files, the terminal, stdin.
/// The session implements it; commands stay free of global state.
public protocol CommandEnvironment: AnyObject {
    /// Whether a person is at the keyboard (stdin is a terminal and this is not a batch).
    var isInteractive: Bool { get }
    /// The database file of this session, absolute.
    var databasePath: String { get }
    /// The text of a file the user named; `-` is stdin.
    func readTextFile(_ path: String) throws -> String
    /// A line of stdin, without its newline (`--card-stdin`); nil at end of input.
    func readStdinLine() -> String?
    /// Asks on the terminal without echo (card number, security code).
    func readSecret(prompt: String) throws -> String
    /// Asks a yes/no question on the terminal.
    func confirm(_ question: String) -> Bool
    /// The variables the session runs with (`SELFSERVE_LUA_TIMEOUT_MS`, …).
    var environment: [String: String] { get }
    /// The acting user: `--as` > `SELFSERVE_USER` > the saved login.
    func actor(for command: GlobalOptions?) -> String?
    /// Now, as commands see it (`SELFSERVE_NOW` or the system clock).
    func clock() throws -> Clock
    /// A short read of the database outside any command: a script's read-only helpers.
    func withStore<T>(_ body: (Store) throws -> T) throws -> T
    /// Copies this session's organization into the database at `location` (`copy --to`) for `admin`,
    /// kept only when `commit`; a target this created is removed again when the copy is not kept.
    func copyOrganization(to location: String, by admin: String, commit: Bool) throws -> OrganizationCopy
    /// Who the database says is connected (a server's login role), asked when it was opened.
    var databaseIdentity: DatabaseIdentity { get }
    /// Saved sign-ins (`login`/`logout`).
    var logins: LoginStore { get }
    /// Runs one command given as words, as `ss.exec` does, and returns its result value.
    func execute(words: [String]) throws -> PlainValue
    /// Writes a line to stdout (Lua's `print`).
    func printLine(_ text: String)
    /// A message for people, on stderr.
    func warn(_ text: String)
}
