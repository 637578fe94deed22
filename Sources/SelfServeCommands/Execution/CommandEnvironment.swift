import SelfServeCore
import SelfServeLua

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
    /// The limits of every plugin call (`SELFSERVE_LUA_TIMEOUT_MS`, …).
    var luaLimits: LuaLimits { get }
    /// Saved sign-ins (`login`/`logout`).
    var logins: LoginStore { get }
    /// Runs one command given as words, as `ss.exec` does, and returns its result value.
    func execute(words: [String]) throws -> PlainValue
    /// Writes a line to stdout (Lua's `print`).
    func printLine(_ text: String)
    /// A message for people, on stderr.
    func warn(_ text: String)
}
