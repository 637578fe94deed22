import Foundation
import XCTest

/// Issue 15: the bash completion script completes values too — subscription ids, product ids, e-mails,
/// invoice ids — by calling the binary back, read-only, and quietly completes nothing when it cannot.
final class CompletionScriptTests: XCTestCase {
    /// What bash offers for `line` (Tab at its end), through the generated script's own function.
    func complete(_ s: Sandbox, _ line: String) -> [String] {
        let script = s.dir.appendingPathComponent("completion.bash").path
        if !FileManager.default.fileExists(atPath: script) {
            XCTAssertTrue(
                FileManager.default.createFile(
                    atPath: script,
                    contents: Data(s.run(["--generate-completion-script", "bash"], useDB: false).out.utf8)
                )
            )
        }
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(
            separator: " "
        )
        let program = """
            source '\(script)'
            COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            _selfserve; printf '%s\\n' "${COMPREPLY[@]}"
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", program]
        var env = s.env
        env["PATH"] = (Sandbox.binary as NSString).deletingLastPathComponent + ":/usr/bin:/bin"
        env["SELFSERVE_DB"] = s.db
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func testBashCompletesLiveValues() {
        let s = Sandbox()
        s.initialize()
        let buyer = "buyer@contoso.com"
        _ = s.addCard(buyer)
        let sub = s.buy(buyer, "power-bi-pro", licenses: 2)
        XCTAssertEqual(complete(s, "selfserve --as \(buyer) subscription show sub_"), [sub])
        XCTAssertEqual(
            complete(s, "selfserve --as other@contoso.com subscription show sub_"),
            [],
            "someone else's ids are not offered"
        )
        XCTAssertEqual(complete(s, "selfserve subscription show sub_"), [], "nobody signed in: nothing, and no error")
        XCTAssertTrue(complete(s, "selfserve subscription buy power-bi-p").contains("power-bi-pro"))
        XCTAssertTrue(complete(s, "selfserve --as \(buyer) license assign \(sub) user1").contains("user1@contoso.com"))
        XCTAssertEqual(complete(s, "selfserve --db /nonexistent/x.sqlite user show a"), [])
        XCTAssertTrue(complete(s, "selfserve subscription se").contains("set-licenses"))
    }
}
