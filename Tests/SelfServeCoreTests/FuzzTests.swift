import Foundation
import SelfServeCommands
import SelfServeCore
import SelfServeShell
import XCTest

/// Random words, quotes, unicode, huge numbers, bad dates and odd e-mails through the tokenizer and the
/// whole command layer on a real temporary database: no crash, no trap, every rejection a clear error.
final class FuzzTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
    }

    static let pieces = [
        "user", "add", "list", "show", "block", "product", "policy", "subscription", "buy", "set-licenses", "cancel",
        "reasons",
        "trial", "start", "convert", "license", "assign", "unassign", "admin", "purchases", "audit", "invoice",
        "billing", "run",
        "payment-method", "org", "whoami", "--licenses", "--json", "--format", "csv", "--reason", "--comment",
        "--since", "--from", "--to",
        "--last", "3m", "--name", "--term", "annual", "--yes", "--dry-run", "power-bi-pro", "Power BI Pro", "-1", "0",
        "99999999999999999999",
        "2026-02-30", "2026-13-01", "1e9", "a@b", "@", "x@y.z", "user1@contoso.com", "guest@fabrikam.com", "sub_",
        "sub_abc", "pm_x",
        "'", "\"", "\\", "#", "ñandú@éxample.com", "👩‍💻", "\u{1b}[31m", "", " ", "--", "-", "--db", "/dev/null",
        "enabled", "trials-only",
        "other", "help", "--help", "--as", "nobody@nowhere", String(repeating: "x", count: 5000),
    ]

    func testRandomCommandLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("f.sqlite").path
        let env = ["HOME": dir.path, "XDG_STATE_HOME": dir.path, "SELFSERVE_NOW": "2026-03-02"]
        let setup = Session(
            databasePath: db,
            actingUser: "admin@contoso.com",
            isInteractive: false,
            environment: env,
            backends: .standard
        )
        _ = try setup.run(words: ["init", "--org", "Fuzz", "--admin", "admin@contoso.com", "--test-clock"])
        _ = try setup.run(words: ["user", "add", "user1@contoso.com", "--name", "U1"])
        let session = Session(
            databasePath: db,
            actingUser: "user1@contoso.com",
            isInteractive: false,
            environment: env,
            backends: .standard
        )
        session.output = { _ in }
        session.errorOutput = { _ in }
        var rng = Rng(s: UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? 42)
        let iterations = Int(ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"] ?? "") ?? 1500
        var rejected = 0
        for _ in 0..<iterations {
            let count = Int(rng.next() % 7)
            let line = (0..<count).map { _ in rng.pick(Self.pieces) }.joined(separator: rng.pick([" ", "  ", "\t"]))
            guard case .words(let words) = Tokenizer.split(line) else { continue }
            do {
                _ = try session.run(words: words)
            } catch let e as SelfServeError {
                rejected += 1
                XCTAssertFalse(e.message.isEmpty, "empty message for \(words)")
            } catch {
                XCTFail("not a SelfServeError for \(words): \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, iterations / 4)
        // The database is still consistent.
        let ok = try setup.withStore { try $0.userCount() }
        XCTAssertGreaterThanOrEqual(ok, 2)
    }

    /// Random lines never trap the tokenizer, and what it answers holds up: words quoted back and
    /// joined tokenize to the same words; an incomplete line becomes complete once what it left open
    /// (a quote, a trailing backslash) is closed on a next line.
    func testTokenizerNeverTrapsAndItsAnswersHoldUp() {
        var rng = Rng(s: 7)
        let alphabet = Array("ab '\"\\#\n\t\u{0}é👩‍💻$`;|&")
        var incomplete = 0
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 40)
            let text = String((0..<n).map { _ in rng.pick(alphabet) })
            switch Tokenizer.split(text) {
            case .words(let w):
                guard case .words(let again) = Tokenizer.split(w.map(Tokenizer.quote).joined(separator: " ")) else {
                    XCTFail("\(w.debugDescription) quoted back is incomplete")
                    continue
                }
                XCTAssertEqual(again, w, text.debugDescription)
            case .incomplete:
                incomplete += 1
                let closer = Tokenizer.unclosedQuote(text).map { "\n" + String($0) } ?? "\nx"
                guard case .words = Tokenizer.split(text + closer) else {
                    XCTFail("\(text.debugDescription) stays incomplete after \(closer.debugDescription)")
                    continue
                }
                XCTAssertThrowsError(try Tokenizer.words(text))
            }
        }
        XCTAssertGreaterThan(incomplete, 1000, "the corpus exercises unfinished lines")
        XCTAssertNoThrow(try Tokenizer.words(String(repeating: "word ", count: 200_000)))
    }
}
