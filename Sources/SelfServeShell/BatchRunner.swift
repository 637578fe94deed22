import SelfServeCommands
import SelfServeCore

/// Runs a file of commands (or stdin), one command per logical line, on one open database.
///
/// Each command is its own transaction unless `atomic`, where the whole batch is one and the first
/// failure rolls everything back. Errors read `FILE:LINE: error: …` (or JSON with `"line"`).
public final class BatchRunner {
    let interpreter: Interpreter
    let name: String
    let bail: Bool
    let atomic: Bool
    private var next: () -> String?
    private var lineNumber = 0

    public init(interpreter: Interpreter, name: String, bail: Bool, atomic: Bool, lines: @escaping () -> String?) {
        self.interpreter = interpreter
        self.name = name
        self.bail = bail
        self.atomic = atomic
        self.next = lines
    }

    /// The next physical line, counted; `--card-stdin` of a command in a stdin batch reads from here too.
    func physicalLine() -> String? {
        guard let l = next() else { return nil }
        lineNumber += 1
        return l
    }

    /// Runs everything; returns the process exit code (0 when every command succeeded, else 1).
    public func run() -> Int32 {
        let session = interpreter.session
        if name == "-" { session.stdinLines = { [unowned self] in self.physicalLine() } }
        var failures = 0
        if atomic {
            do { try session.begin() } catch {
                report((error as? SelfServeError) ?? .invalid("\(error)"), json: interpreter.format == .json, line: 0)
                return 1
            }
        }
        loop: while let first = physicalLine() {
            let start = lineNumber
            var text = first
            var words: [String] = []
            while true {
                if case .words(let w) = Tokenizer.split(text) { words = w; break }
                guard let more = physicalLine() else {
                    words = []
                    failures += 1
                    report(SelfServeError(.usage, Tokenizer.unclosedQuote(text).map { "unterminated \($0) quote" } ?? "the file ends after a continuation backslash"),
                           json: interpreter.format == .json, line: start)
                    break loop
                }
                text += "\n" + more
            }
            if words.isEmpty { continue }
            var outcome: Interpreter.Outcome
            if words == ["lua"] {
                if let chunk = Interpreter.luaChunk(physicalLine) {
                    outcome = interpreter.runLua(chunk)
                } else {
                    outcome = .failed(SelfServeError(.usage, "the lua chunk starting here has no closing '.' line"), json: interpreter.format == .json)
                }
            } else {
                outcome = interpreter.handle(words)
            }
            switch outcome {
            case .ok: continue
            case .exit: break loop
            case .failed(let e, let json):
                failures += 1
                report(e, json: json, line: start)
                if atomic {
                    try? session.rollback()
                    interpreter.err.writeLine("\(name): rolled back: the batch is atomic and line \(start) failed")
                    interpreter.out.flush()
                    return 1
                }
                if bail { break loop }
            }
        }
        if atomic && session.inTransaction {
            do { try session.commit() } catch {
                report((error as? SelfServeError) ?? .invalid("\(error)"), json: interpreter.format == .json, line: lineNumber)
                failures += 1
            }
        } else if session.inTransaction {
            // A `begin` without `commit` at the end of a batch: keep nothing half-done, as psql does.
            try? session.rollback()
            interpreter.err.writeLine("\(name): warning: the batch ended inside 'begin'; rolled back")
        }
        interpreter.out.flush()
        return failures == 0 ? 0 : 1
    }

    func report(_ e: SelfServeError, json: Bool, line: Int) {
        interpreter.out.flush()
        interpreter.err.writeLine(ErrorReport.text(e, json: json, file: name == "-" ? "<stdin>" : name, line: line))
        interpreter.err.flush()
    }
}
