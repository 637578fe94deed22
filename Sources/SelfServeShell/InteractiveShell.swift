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
            err.writeLine("No organization in \(interpreter.session.databasePath) yet: run 'init --org NAME --admin EMAIL' (add --demo for sample data).")
        } else {
            err.writeLine("selfserve shell. 'help' lists commands, Tab completes, Ctrl-D or 'exit' leaves.")
        }
        err.flush()
        loop: while true {
            interpreter.out.flush()
            err.flush()
            var (line, interrupted) = editor.readLine(prompt: prompt)
            if interrupted { err.writeLine("^C"); err.flush(); continue }
            guard var text = line else { break }  // Ctrl-D
            while case .incomplete = Tokenizer.split(text) {
                (line, interrupted) = editor.readLine(prompt: "      ...> ")
                if interrupted || line == nil { text = ""; break }
                text += "\n" + line!
            }
            if interrupted { err.writeLine("^C"); continue }
            guard case .words(let words) = Tokenizer.split(text), !words.isEmpty else { continue }
            editor.add(text)
            var outcome: Interpreter.Outcome
            if words == ["lua"] {
                let chunk = Interpreter.luaChunk {
                    let (line, interrupted) = editor.readLine(prompt: "lua> ")
                    return interrupted ? nil : line
                }
                guard let chunk else { err.writeLine("^C"); continue }
                editor.add(chunk)
                outcome = interpreter.runLua(chunk)
            } else {
                outcome = interpreter.handle(words)
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
