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
    /// The whole batch is one transaction rolled back at its end.
    let dryRun: Bool
    private var next: () throws -> String?
    private var lineNumber = 0
    /// A line read for a card that turned out to be a command: it runs next.
    private var pushedBack: String?

    public init(
        interpreter: Interpreter,
        name: String,
        bail: Bool,
        atomic: Bool,
        dryRun: Bool = false,
        file: String? = nil,
        resume: Bool = false,
        lines: @escaping () throws -> String?
    ) {
        self.interpreter = interpreter
        self.name = name
        self.bail = bail
        self.atomic = atomic
        self.dryRun = dryRun
        self.file = file
        self.resume = resume
        self.next = lines
    }

    /// The batch file's absolute path, whose committed lines are recorded (nil for stdin).
    let file: String?
    /// Skip the lines an earlier run of the same file committed.
    let resume: Bool
    private var skipped = 0

    /// Whether `--resume` skips this command line: an earlier run committed it, unchanged. Its card
    /// lines, if it read a card, are skipped with it (never shown, never run).
    private func skipsCommitted(_ words: [String], text: String, line: Int) -> Bool {
        guard resume, let file else { return false }
        guard (try? interpreter.session.committedBefore(file: file, line: line, textHash: BatchMark.hash(text))) == true
        else {
            return false
        }
        if words.contains("--card-stdin") {
            for _ in 0..<3 where cardLine() != nil {}
        }
        skipped += 1
        return true
    }

    /// The next physical line, counted; `--card-stdin` of a command in a stdin batch reads from here too.
    func physicalLine() throws -> String? {
        if let l = pushedBack {
            pushedBack = nil
            lineNumber += 1
            return l
        }
        do {
            guard let l = try next() else { return nil }
            lineNumber += 1
            return l
        } catch is LineReader.InvalidText {
            lineNumber += 1
            throw SelfServeError.invalid("line \(lineNumber) is not UTF-8 text; the rest of the file is not read")
        }
    }

    /// A line of a `--card-stdin` command's card: only while the next line is card data. A command
    /// where a card line should be leaves the card short (an error of that command) and runs next.
    func cardLine() -> String? {
        guard let l = try? physicalLine() else { return nil }
        if Self.isCardData(l) { return l }
        pushBack(l)
        return nil
    }

    /// Gives a line read too far back: it is read (and counted) again next.
    private func pushBack(_ line: String) {
        pushedBack = line
        lineNumber -= 1
    }

    /// Digits, spaces, dashes and slashes only: a card number, an expiry or a security code. No
    /// command looks like this, so such a line is never run or echoed as one.
    static func isCardData(_ line: String) -> Bool {
        let t = line.utf8.filter { $0 != 13 }
        return t.contains { $0 >= 48 && $0 <= 57 }
            && t.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 32 || $0 == 9 || $0 == 45 || $0 == 47 }
    }

    /// Runs everything; returns the process exit code (0 when every command succeeded, else 1).
    public func run() -> Int32 {
        let session = interpreter.session
        // The lines after a `--card-stdin` command are its card, in a file as on stdin.
        session.stdinLines = { [unowned self] in self.cardLine() }
        var failures = 0
        if dryRun {
            do { try session.beginDryRun() } catch {
                report((error as? SelfServeError) ?? .invalid("\(error)"), json: interpreter.format == .json, line: 0)
                return 1
            }
        } else if atomic {
            do { try session.begin() } catch {
                report((error as? SelfServeError) ?? .invalid("\(error)"), json: interpreter.format == .json, line: 0)
                return 1
            }
        }
        loop: while true {
            let first: String
            do {
                guard let line = try physicalLine() else { break loop }
                first = line
            } catch {
                // A file that cannot be read to its end: an atomic batch keeps none of it.
                _ = finish(
                    .failed((error as? SelfServeError) ?? .invalid("\(error)"), json: interpreter.format == .json),
                    line: lineNumber,
                    failures: &failures
                )
                break loop
            }
            let start = lineNumber
            if Self.isCardData(first) {
                // Card lines no command asked for (a short card block, a command that failed to
                // parse): skipped with the ones that follow, and never shown.
                while let more = try? physicalLine() {
                    if !Self.isCardData(more) {
                        pushBack(more)
                        break
                    }
                }
                let lines = lineNumber > start ? "lines \(start)-\(lineNumber)" : "line \(start)"
                if case .exit = finish(
                    .failed(
                        SelfServeError(
                            .usage,
                            "card data outside a --card-stdin command (\(lines)); skipped, not shown"
                        ),
                        json: interpreter.format == .json
                    ),
                    line: start,
                    failures: &failures
                ) {
                    return 1
                }
                if bail && failures > 0 { break loop }
                continue
            }
            let outcome: Interpreter.Outcome
            switch LogicalLine.read(first, next: { _ in try? self.physicalLine() }) {
            case .blank:
                continue
            case .command(let words, let text):
                if skipsCommitted(words, text: text, line: start) { continue }
                if let file { session.batchLine = (file, start, BatchMark.hash(text)) }
                outcome = interpreter.handle(words)
                session.batchLine = nil
            case .lua(let chunk):
                outcome = interpreter.runLua(chunk)
            case .unfinished(let problem):
                // The file ends inside a command or chunk: an atomic batch keeps none of it.
                _ = finish(.failed(problem, json: interpreter.format == .json), line: start, failures: &failures)
                break loop
            }
            if case .exit = outcome { break loop }
            if case .exit = finish(outcome, line: start, failures: &failures) { return 1 }
            if bail && failures > 0 { break loop }
        }
        if dryRun {
            interpreter.out.flush()
            interpreter.err.writeLine(Sanitize.forDisplayKeepingNewlines(session.endDryRun()))
        } else if atomic && session.inTransaction {
            do { try session.commit() } catch {
                report(
                    (error as? SelfServeError) ?? .invalid("\(error)"),
                    json: interpreter.format == .json,
                    line: lineNumber
                )
                failures += 1
            }
        } else if session.inTransaction {
            // A `begin` without `commit` at the end of a batch: keep nothing half-done, as psql does.
            try? session.rollback()
            interpreter.err.writeLine("\(name): warning: the batch ended inside 'begin'; rolled back")
        }
        if skipped > 0 {
            interpreter.out.flush()
            interpreter.err.writeLine(
                "\(name): resumed: skipped \(skipped) line\(skipped == 1 ? "" : "s") that an earlier run committed"
            )
        }
        interpreter.out.flush()
        return failures == 0 ? 0 : 1
    }

    /// Reports a failed line; in an atomic batch rolls everything back and says so (`.exit`: stop now).
    private func finish(_ outcome: Interpreter.Outcome, line: Int, failures: inout Int) -> Interpreter.Outcome {
        guard case .failed(let e, let json) = outcome else { return .ok }
        failures += 1
        report(e, json: json, line: line)
        guard atomic else { return .ok }
        try? interpreter.session.rollback()
        interpreter.err.writeLine(
            "\(name == "-" ? "<stdin>" : name): rolled back: the batch is atomic and line \(line) failed"
        )
        interpreter.out.flush()
        return .exit
    }

    func report(_ e: SelfServeError, json: Bool, line: Int) {
        interpreter.out.flush()
        interpreter.err.writeLine(ErrorReport.text(e, json: json, file: name == "-" ? "<stdin>" : name, line: line))
        interpreter.err.flush()
    }
}
