import Foundation
import SelfServeCore
import SelfServeLua

/// A Lua state for automation (`run`, the shell's `lua`): the sandbox plus `io.lines`/`io.open` for
/// reading, `print` to stdout, the read-only helpers and `ss.exec`, which runs any command as the
/// acting user through the same executor as everything else.
public final class ScriptHost {
    let lua: LuaState
    let api = ReadOnlyAPI()
    unowned let env: CommandEnvironment
    public var budget: Int64

    public init(env: CommandEnvironment, arguments: [String], scriptName: String, budget: Int64 = 1_000_000_000) throws
    {
        self.env = env
        self.budget = budget
        lua = try LuaState(flavor: .script)
        api.withStore = { [unowned env] body in try env.withStore(body) }
        api.clock = { [unowned env] in (try? env.clock()) ?? SystemClock() }
        api.audience = .actingUser { [unowned env] in env.actor(for: nil) }
        api.install(in: lua)
        lua.register(nil, "print") { [unowned env] l in
            env.printLine((1..<(l.argumentCount + 1)).map { l.argument($0).printed }.joined(separator: "\t"))
            return 0
        }
        lua.register("ss", "exec") { [unowned env] l in
            var words: [String] = []
            for i in 1..<(l.argumentCount + 1) {
                switch l.argument(i) {
                case .string(let s): words.append(s)
                case .int(let n): words.append(String(n))
                case .double(let d): words.append(String(d))
                case .bool(let b): words.append(b ? "true" : "false")
                case .null: continue
                default:
                    return l.raise(
                        .object([
                            ("code", "usage"),
                            ("message", .string("ss.exec: argument \(i) must be a string or a number")),
                        ])
                    )
                }
            }
            do {
                return l.returning(try env.execute(words: words))
            } catch {
                let e = (error as? SelfServeError) ?? .invalid("\(error)")
                var pairs: [(String, PlainValue)] = [
                    ("code", .string(e.code.rawValue)), ("message", .string(e.message)),
                ]
                if let p = e.plugin { pairs.append(("plugin", .string(p))) }
                return l.raise(.object(pairs))
            }
        }
        // `arg`, as the standalone interpreter sets it: arg[0] the script, arg[1…] its arguments.
        try lua.run(
            "local name, args = ...; arg = args; arg[0] = name",
            chunkName: "=arg",
            arguments: [.string(scriptName), .array(arguments.map { .string($0) })]
        )
    }

    /// Runs a chunk; an uncaught error becomes `invalid_argument` with `FILE:LINE: message`, or keeps
    /// the code of the command that failed.
    /// Ctrl-C during the chunk stops it: the state catches SIGINT for the length of each call and puts
    /// the previous handling back after it.
    public func run(_ source: String, chunkName: String) throws {
        LuaState.clearInterrupt()
        do {
            try lua.run(source, chunkName: chunkName, budget: budget)
        } catch let f as LuaState.Failure {
            switch f {
            case .error(let message, let value):
                let code = value?["code"]?.stringValue.flatMap(SelfServeError.Code.init(rawValue:)) ?? .invalidArgument
                throw SelfServeError(code, message, plugin: value?["plugin"]?.stringValue)
            case .budget, .memory, .interrupted, .timeout:
                throw SelfServeError.invalid("\(chunkName.dropFirst()): \(f)")
            }
        }
    }
}
