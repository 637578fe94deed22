import CSupport
import Foundation
import SelfServeCommands
import SelfServeCore

/// The interactive shell: prompt `selfserve(ORG:USER)>`, history, completion, Ctrl-C and Ctrl-D.
public final class InteractiveShell {
    let interpreter: Interpreter
    let editor: LineEditor

    public init(interpreter: Interpreter) {
        self.interpreter = interpreter
        let historyFile = Paths.stateDirectory(interpreter.session.environment) + "/history"
        let completer = Completer(session: interpreter.session)
        editor = LineEditor(historyFile: historyFile) { completer.candidates(lineBefore: $0, word: $1) }
        interpreter.history = { [editor] in editor.entries }
    }

    var prompt: String {
        let session = interpreter.session
        let org = (try? session.withStore { try $0.organization()?.name }) ?? nil
        let user = session.actor() ?? "-"
        let tx = session.inTransaction ? "*" : ""
        return "selfserve(\(Sanitize.forDisplay(org ?? "-")):\(Sanitize.forDisplay(user)))\(tx)> "
    }

    public func run() -> Int32 {
        ss_install_sigint_handler()
        let err = interpreter.err
        if (try? interpreter.session.withStore { try $0.organization() }) == nil {
            err.writeLine(
                "No organization in \(interpreter.session.databasePath) yet: run 'init --org NAME --admin EMAIL' (add --demo for sample data)."
            )
        } else {
            err.writeLine("selfserve shell. 'help' lists commands, Tab completes, Ctrl-D or 'exit' leaves.")
        }
        err.flush()
        loop: while true {
            interpreter.out.flush()
            err.flush()
            let (line, interrupted) = editor.readLine(prompt: prompt)
            if interrupted {
                err.writeLine("^C")
                err.flush()
                continue
            }
            guard let first = line else { break }  // Ctrl-D
            // Ctrl-C abandons a command's continuation or a chunk (shown as ^C); so does Ctrl-D, which
            // says nothing inside a command's continuation.
            var abandoned = false
            let logical = LogicalLine.read(first) { kind in
                let (line, interrupted) = editor.readLine(prompt: kind == .lua ? "lua> " : "      ...> ")
                if interrupted || (line == nil && kind == .lua) { abandoned = true }
                return interrupted ? nil : line
            }
            let outcome: Interpreter.Outcome
            switch logical {
            case .blank:
                continue
            case .unfinished:
                if abandoned { err.writeLine("^C") }
                continue
            case .command(let words, let text):
                editor.add(text)
                outcome = interpreter.handle(words)
            case .lua(let chunk):
                editor.add("lua")
                editor.add(chunk)
                outcome = interpreter.runLua(chunk)
            }
            switch outcome {
            case .ok: break
            case .exit: break loop
            case .failed(let e, let json):
                interpreter.out.flush()
                err.writeLine(ErrorReport.text(e, json: json))
            }
        }
        if interpreter.session.inTransaction {
            try? interpreter.session.rollback()
            err.writeLine("warning: the open transaction was rolled back")
        }
        interpreter.out.flush()
        err.flush()
        return 0
    }
}
