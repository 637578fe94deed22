import CSupport
import Foundation
import SelfServeCore

#if canImport(Glibc)
import Glibc
#endif

/// Terminal input outside libedit: secrets without echo, yes/no questions.
///
/// Secrets are read here, never through the line editor, so that they cannot reach its history.
public enum Terminal {
    public static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// Reads one line from the terminal with echo off.
    public static func readSecret(prompt: String) throws -> String {
        guard isatty(0) == 1 else {
            throw SelfServeError(.usage, "no terminal to ask on; pass --card-stdin and give the values on stdin")
        }
        OutputStream.standardOutput.flush()
        var old = termios()
        tcgetattr(0, &old)
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ICANON)
        tcsetattr(0, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(0, TCSAFLUSH, &old)
            OutputStream.standardError.write("\n")
            OutputStream.standardError.flush()
        }
        OutputStream.standardError.write(prompt)
        OutputStream.standardError.flush()
        guard let line = readRawLine() else {
            if ss_sigint_received() != 0 { throw SelfServeError(.usage, "canceled (Ctrl-C); nothing was changed") }
            throw SelfServeError(.usage, "no input")
        }
        return line
    }

    public static func confirm(_ question: String) -> Bool {
        OutputStream.standardOutput.flush()
        OutputStream.standardError.write("\(question) [y/N] ")
        OutputStream.standardError.flush()
        guard let answer = readRawLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// A line read byte by byte from fd 0: no buffering that could swallow what follows.
    static func readRawLine() -> String? {
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while true {
            let n = read(0, &c, 1)
            if n < 0 && errno == EINTR { return nil }
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if c == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(c)
        }
    }
}
