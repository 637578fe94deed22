import Foundation
import XCTest

/// The interactive shell in a real pseudo-terminal (tmux): prompt, Tab completion, Ctrl-C, history
/// that survives a restart.
final class ShellTerminalTests: XCTestCase {
    func tmux(_ args: [String]) -> String {
        let p = Process()
        // Through bash (unlike dash, it redirects descriptors above 9), closing every inherited descriptor
        // above 2: a tmux server started here would otherwise keep Foundation's child-watch socket open,
        // and waiting for the tmux client would never end (seen when no tmux server was running yet, as in CI).
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments =
            [
                "-c",
                "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done; exec /usr/bin/tmux \"$@\"",
                "tmux",
            ] + args
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        // Only capture-pane's output is read: a tmux server started by new-session would inherit a
        // pipe and keep it open for ever.
        guard args.first == "capture-pane" else {
            p.standardOutput = FileHandle.nullDevice
            try? p.run()
            p.waitUntilExit()
            return ""
        }
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits until the screen shows `text` (the shell answers asynchronously).
    @discardableResult
    func waitFor(_ session: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        var screen = ""
        for _ in 0..<100 {
            screen = tmux(["capture-pane", "-t", session, "-p", "-S", "-200"])
            if screen.contains(text) { return screen }
            usleep(100_000)
        }
        XCTFail("the screen never showed \(text.debugDescription):\n\(screen)", file: file, line: line)
        return screen
    }

    /// A demo organization and a shell on it in a tmux session `name` (as `user`, `columns` wide), at its
    /// prompt; nil (after recording why) when tmux is missing.
    func demoShell(
        _ name: String,
        as user: String = "lee.gu@contoso.com",
        columns: Int = 160,
        prepare: (Sandbox) -> Void = { _ in },
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Sandbox? {
        guard FileManager.default.fileExists(atPath: "/usr/bin/tmux") else {
            XCTFail("tmux is missing: scripts/setup installs it", file: file, line: line)
            return nil
        }
        let s = Sandbox()
        XCTAssertExit(
            s.run(["init", "--org", "Contoso", "--admin", "admin@contoso.com", "--demo"]),
            0,
            file: file,
            line: line
        )
        prepare(s)
        startShell(s, name, as: user, columns: columns)
        waitFor(name, "selfserve(Contoso:\(user))>", file: file, line: line)
        return s
    }

    func startShell(_ s: Sandbox, _ name: String, as user: String = "lee.gu@contoso.com", columns: Int = 160) {
        let env = s.env.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        _ = tmux(["kill-session", "-t", name])
        _ = tmux([
            "new-session", "-d", "-s", name, "-x", "\(columns)", "-y", "50",
            "env -i \(env) TERM=xterm \(Sandbox.binary) \(s.arguments(as: user).map { "'\($0)'" }.joined(separator: " ")); sleep 30",
        ])
    }

    func testPromptCompletionCtrlCAndHistory() throws {
        guard FileManager.default.fileExists(atPath: "/usr/bin/tmux") else {
            XCTFail("tmux is missing: scripts/setup installs it")
            return
        }
        let s = Sandbox()
        let r = s.run(["init", "--org", "Contoso", "--admin", "admin@contoso.com", "--demo"])
        XCTAssertExit(r, 0)
        let name = "selfserve-test-\(getpid())"
        defer { _ = tmux(["kill-session", "-t", name]) }
        startShell(s, name)
        waitFor(name, "selfserve(Contoso:lee.gu@contoso.com)>")

        // Command words, then a live e-mail, completed with Tab.
        _ = tmux(["send-keys", "-t", name, "user sh", "Tab"])
        waitFor(name, "> user show")
        _ = tmux(["send-keys", "-t", name, "megan.b", "Tab"])
        waitFor(name, "> user show megan.bowen@contoso.com")
        _ = tmux(["send-keys", "-t", name, "Enter"])
        waitFor(name, "Megan Bowen")

        // An error is printed and the shell goes on; Ctrl-C abandons a line.
        _ = tmux(["send-keys", "-t", name, "subscription bye", "Enter"])
        waitFor(name, "Did you mean 'buy'?")
        _ = tmux(["send-keys", "-t", name, "user list --this-is-abandoned", "C-c"])
        waitFor(name, "^C")
        _ = tmux(["send-keys", "-t", name, "whoami", "Enter"])
        waitFor(name, "kind   member")
        // Ctrl-C interrupts a running Lua chunk, not the shell.
        _ = tmux(["send-keys", "-t", name, "lua", "Enter"])
        waitFor(name, "lua>")
        _ = tmux(["send-keys", "-t", name, "while true do end", "Enter", ".", "Enter"])
        usleep(500_000)
        _ = tmux(["send-keys", "-t", name, "C-c"])
        waitFor(name, "interrupted")
        _ = tmux(["send-keys", "-t", name, "exit", "Enter"])
        usleep(300_000)

        let history = s.dir.appendingPathComponent("state/selfserve/history").path
        let mode = try FileManager.default.attributesOfItem(atPath: history)[.posixPermissions] as? Int ?? 0
        XCTAssertEqual(mode & 0o777, 0o600)
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        XCTAssertFalse(saved.contains("this-is-abandoned"))

        // After a restart, Up brings back what was typed before.
        startShell(s, name)
        waitFor(name, "selfserve(Contoso:lee.gu@contoso.com)>")
        _ = tmux(["send-keys", "-t", name, "Up", "Up", "Up", "Up"])
        waitFor(name, "> whoami")
        _ = tmux(["send-keys", "-t", name, "C-u", "history", "Enter"])
        let screen = waitFor(name, "user show megan.bowen@contoso.com")
        XCTAssertTrue(screen.contains("subscription bye"), screen)

        // A card typed where it does not belong: the error masks it and the line never reaches history.
        _ = tmux(["send-keys", "-t", name, "C-l", "payment-method add 5425 2334 3010 9903 04/28 836", "Enter"])
        let masked = waitFor(name, "unexpected arguments")
        XCTAssertTrue(masked.contains("9903"), masked)
        XCTAssertFalse(
            masked.split(separator: "\n").contains {
                $0.contains("error") && ($0.contains("3010") || $0.contains("836"))
            },
            masked
        )
        // --card-stdin on a terminal reads without echo.
        _ = tmux(["send-keys", "-t", name, "C-l", "payment-method add --card-stdin", "Enter"])
        usleep(300_000)
        for secret in ["4000056655665556", "12/30", "123"] { _ = tmux(["send-keys", "-t", name, secret, "Enter"]) }
        let added = waitFor(name, "ending 5556")
        XCTAssertFalse(added.contains("4000056655665556"), added)
        let later = try String(contentsOfFile: history, encoding: .utf8)
        XCTAssertFalse(later.contains("3010") || later.contains("4000056655665556"), later)
        XCTAssertTrue(later.contains("--card-stdin"), later)  // libedit stores spaces as \\040
        // Ctrl-C at the card prompt cancels, and says so.
        _ = tmux(["send-keys", "-t", name, "C-l", "payment-method add", "Enter"])
        waitFor(name, "Card number:")
        _ = tmux(["send-keys", "-t", name, "C-c"])
        waitFor(name, "canceled (Ctrl-C); nothing was changed")
        _ = tmux(["send-keys", "-t", name, "C-d"])
    }

    /// Ctrl-C stops a command that waits for another process's write lock, instead of the whole timeout.
    func testCtrlCInterruptsAWaitOnALockedDatabase() throws {
        // PostgreSQL: a wait on the writers' lock is not yet interruptible (PQcancel is the next step).
        if Sandbox.onPostgreSQL { throw XCTSkip("SQLite only: the lock is taken with the sqlite3 shell") }
        let name = "selfserve-lock-\(getpid())"
        defer { _ = tmux(["kill-session", "-t", name]) }
        guard let s = demoShell(name) else { return }
        // Another process holds the write lock for 8 seconds.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/bash")
        holder.arguments = ["-c", "(echo 'BEGIN IMMEDIATE;'; sleep 8; echo 'ROLLBACK;') | sqlite3 '\(s.db)'"]
        try holder.run()
        defer { holder.terminate() }
        usleep(500_000)
        let start = Date()
        _ = tmux(["send-keys", "-t", name, "trial start teams-premium", "Enter"])
        usleep(1_000_000)
        _ = tmux(["send-keys", "-t", name, "C-c"])
        let screen = waitFor(name, "interrupted (Ctrl-C) while waiting for the database")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, screen)
        _ = tmux(["send-keys", "-t", name, "C-d"])
    }

    /// With `bind -v` in ~/.editrc (vi mode), Tab still completes.
    func testTabCompletesInViMode() throws {
        let name = "selfserve-vi-\(getpid())"
        defer { _ = tmux(["kill-session", "-t", name]) }
        let editrc: (Sandbox) -> Void = { s in
            do {
                try "bind -v\n".write(to: s.dir.appendingPathComponent(".editrc"), atomically: true, encoding: .utf8)
            } catch {
                XCTFail("cannot write .editrc: \(error)")
            }
        }
        // The sandbox must outlive the shell: its directory holds the database.
        guard let sandbox = demoShell(name, prepare: editrc) else { return }
        defer { withExtendedLifetime(sandbox) {} }
        _ = tmux(["send-keys", "-t", name, "user sh", "Tab"])
        waitFor(name, "> user show")
        _ = tmux(["send-keys", "-t", name, "megan.b", "Tab"])
        waitFor(name, "> user show megan.bowen@contoso.com")
        _ = tmux(["send-keys", "-t", name, "Enter"])
        waitFor(name, "Megan Bowen")
        _ = tmux(["send-keys", "-t", name, "C-d"])
    }

    /// At 120 columns a list too wide is shown a record at a time with whole ids, and CJK names align.
    func testWideListsAndCJKNamesInARealTerminal() throws {
        let name = "selfserve-wide-\(getpid())"
        defer { _ = tmux(["kill-session", "-t", name]) }
        var ids: [String] = []
        let prepare = { (s: Sandbox) in
            XCTAssertExit(s.run(["user", "add", "yamada@contoso.com", "--name", "山田太郎"], as: "admin@contoso.com"), 0)
            ids = s.run(["subscription", "list", "--json"], as: "megan.bowen@contoso.com").array.compactMap {
                $0["id"] as? String
            }
        }
        guard let sandbox = demoShell(name, as: "megan.bowen@contoso.com", columns: 120, prepare: prepare) else {
            return
        }
        defer { withExtendedLifetime(sandbox) {} }
        XCTAssertFalse(ids.isEmpty)
        _ = tmux(["send-keys", "-t", name, "subscription list", "Enter"])
        let screen = waitFor(name, "-[ RECORD 1 ]")
        for id in ids { XCTAssertTrue(screen.contains(id), "\(id) is cut or missing:\n\(screen)") }
        XCTAssertFalse(screen.contains("sub…"), screen)
        _ = tmux(["send-keys", "-t", name, "C-l", "user list --members", "Enter"])
        let users = waitFor(name, "yamada@contoso.com")
        // Where the KIND column starts, in terminal columns (CJK characters take two).
        func column(of word: String, in line: Substring) -> Int? {
            guard let r = line.range(of: word) else { return nil }
            return line[..<r.lowerBound].reduce(0) { $0 + ($1.unicodeScalars.first!.value >= 0x1100 ? 2 : 1) }
        }
        let lines = users.split(separator: "\n")
        let header = lines.first { $0.hasPrefix("EMAIL") }.flatMap { column(of: "KIND", in: $0) }
        let cjk = lines.first { $0.contains("山田太郎") }.flatMap { column(of: "member", in: $0) }
        let latin = lines.first { $0.hasPrefix("megan.bowen@contoso.com") }.flatMap { column(of: "member", in: $0) }
        XCTAssertNotNil(header)
        XCTAssertEqual(cjk, header, users)
        XCTAssertEqual(latin, header, users)
        _ = tmux(["send-keys", "-t", name, "C-d"])
    }
}
