import Foundation
import XCTest

/// Issue 14: database files, export files and the audit log are handled safely.
final class FileSafetyTests: XCTestCase {
    func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { $0 & 0o777 }
    }
    func size(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) }

    func testDatabaseFilesAreCheckedBeforeTheyAreOpened() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("file types and modes")
        // An existing empty file: a read refuses it and leaves it empty; init makes it private.
        XCTAssertTrue(
            FileManager.default.createFile(atPath: s.db, contents: nil, attributes: [.posixPermissions: 0o644])
        )
        let read = s.run(["whoami", "--json"], as: Sandbox.admin)
        XCTAssertExit(read, 1)
        XCTAssertTrue(read.err.contains("empty"), read.err)
        XCTAssertEqual(size(s.db), 0)
        XCTAssertExit(s.run(["init", "--org", "X", "--admin", Sandbox.admin, "--dry-run"]), 0)
        XCTAssertEqual(size(s.db), 0, "a dry-run init leaves the file as it was")
        XCTAssertExit(s.run(["init", "--org", "X", "--admin", Sandbox.admin, "--test-clock"]), 0)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: s.db + suffix) {
            XCTAssertEqual(mode(s.db + suffix), 0o600, suffix)
        }
        // A failed or dry-run init of a new file leaves no file.
        let fresh = s.dir.appendingPathComponent("new.sqlite").path
        XCTAssertExit(s.run(["--db", fresh, "init", "--org", "", "--admin", Sandbox.admin], useDB: false), 1)
        XCTAssertExit(
            s.run(["--db", fresh, "init", "--org", "Y", "--admin", Sandbox.admin, "--dry-run"], useDB: false),
            0
        )
        let left = try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.hasPrefix("new.sqlite") }
        XCTAssertEqual(left, [])
        // A FIFO, a device and a directory are refused at once, and nothing is created beside them.
        let fifo = s.dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, word) in [(fifo, "FIFO"), ("/dev/null", "device"), (s.dir.path, "directory")] {
            let start = Date()
            let r = s.run(["--db", path, "whoami"], as: Sandbox.admin, useDB: false)
            XCTAssertExit(r, 1)
            XCTAssertTrue(r.err.contains(word), r.err)
            XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/null-journal"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fifo + "-journal"))
    }

    func testExportFollowsTheRulesForFiles() throws {
        let s = Sandbox()
        s.initialize()
        let buyer = "buyer@contoso.com"
        _ = s.addCard(buyer)
        _ = s.buy(buyer, "power-bi-pro", licenses: 2)
        XCTAssertExit(s.run(["billing", "run"]), 0)
        let inv = s.run(["invoice", "list", "--json"], as: buyer).array.first?["id"] as? String ?? ""
        let html = s.dir.appendingPathComponent("inv.html").path
        let receipt = s.run(["invoice", "export", inv, "--out", html, "--json"], as: buyer)
        XCTAssertExit(receipt, 0)
        XCTAssertEqual(receipt.object["format"] as? String, "html", "the extension decides; --json shapes the receipt")
        XCTAssertTrue(try String(contentsOfFile: html, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(mode(html), 0o600)
        // A dry run writes no file; a script's ss.exec writes it as the command line does.
        let dry = s.dir.appendingPathComponent("dry.csv").path
        XCTAssertExit(s.run(["invoice", "export", inv, "--out", dry, "--dry-run"], as: buyer), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dry))
        let viaScript = s.dir.appendingPathComponent("script.csv").path
        let script = s.write("export.lua", "ss.exec('invoice', 'export', '\(inv)', '--out', '\(viaScript)')")
        XCTAssertExit(s.run(["run", script], as: buyer), 0)
        XCTAssertTrue((try? String(contentsOfFile: viaScript, encoding: .utf8))?.hasPrefix("invoice,date,") == true)
        // An existing file is replaced only with --force, and stays private.
        try "old".write(toFile: html, atomically: false, encoding: .utf8)
        chmod(html, 0o644)
        XCTAssertEqual(
            s.run(["invoice", "export", inv, "--out", html, "--json"], as: buyer).errorObject["code"] as? String,
            "conflict"
        )
        XCTAssertEqual(try String(contentsOfFile: html, encoding: .utf8), "old")
        XCTAssertExit(s.run(["invoice", "export", inv, "--out", html, "--force", "--format", "json"], as: buyer), 0)
        XCTAssertTrue(
            try String(contentsOfFile: html, encoding: .utf8).hasPrefix("{"),
            "--format names the file's format"
        )
        XCTAssertEqual(mode(html), 0o600)
        // Never through a symbolic link, never over a FIFO or a device, a clear word for a directory.
        let target = s.dir.appendingPathComponent("target.txt").path
        try "keep".write(toFile: target, atomically: false, encoding: .utf8)
        let link = s.dir.appendingPathComponent("link.csv").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let fifo = s.dir.appendingPathComponent("out.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, word) in [
            (link, "symbolic link"), (fifo, "FIFO"), ("/dev/null", "device"), (s.dir.path, "directory"),
        ] {
            let r = s.run(["invoice", "export", inv, "--out", path, "--force"], as: buyer)
            XCTAssertExit(r, 1)
            XCTAssertTrue(r.err.contains(word) && !r.err.contains("NSCocoa"), r.err)
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep")
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        // `-` is stdout; CSV ends with one CRLF.
        let csv = s.run(["invoice", "export", inv, "--out", "-"], as: buyer)
        XCTAssertTrue(csv.out.hasPrefix("invoice,date,description"), csv.out)
        XCTAssertTrue(csv.out.hasSuffix("USD\r\n") && !csv.out.hasSuffix("\r\n\n"), csv.out.debugDescription)
    }

    func testCSVCellsNeverBecomeFormulasAndTheAuditLogIsBounded() {
        let s = Sandbox()
        s.initialize()
        for (i, name) in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab"].enumerated() {
            XCTAssertExit(s.run(["user", "add", "f\(i)@contoso.com", "--name=\(name)"], as: Sandbox.admin), 0)
        }
        let csv = s.run(["user", "list", "--format", "csv"], as: Sandbox.admin).out
        for cell in ["'=HYPERLINK", "'+1+1", "'-2+3", "'@SUM(A1)"] { XCTAssertTrue(csv.contains(cell), csv) }
        // A failing command with a huge argument, planted by any member, adds at most a few KiB.
        let huge = String(repeating: "=A1", count: 400_000)
        let before = Int(s.query("SELECT coalesce(sum(length(details) + length(target)), 0) FROM audit_log")) ?? 0
        XCTAssertExit(
            s.run(
                ["-f", "-"],
                as: "buyer@contoso.com",
                stdin: "user block '\(huge)'\nsubscription cancel '\(huge)' --reason other --comment x\n"
            ),
            1
        )
        let after = Int(s.query("SELECT sum(length(details) + length(target)) FROM audit_log")) ?? 0
        XCTAssertGreaterThan(after, before)
        XCTAssertLessThan(after - before, 2 * (16384 + 4096))
        let audit = s.run(["audit", "list", "--format", "csv"], as: Sandbox.admin).out
        XCTAssertFalse(audit.contains(",=A1"), "no formula in the audit CSV")
    }

    func testADatabaseDeletedUnderASessionIsAnError() throws {
        let s = Sandbox()
        try s.requireSQLiteFile("a file deleted under a session")
        s.initialize()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Sandbox.binary)
        p.arguments = s.arguments(as: Sandbox.admin) + ["-f", "-"]
        p.environment = s.env
        let input = Pipe()
        let err = Pipe()
        p.standardInput = input
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("user add one@contoso.com --name One\n".utf8))
        Thread.sleep(forTimeInterval: 1.0)
        for suffix in ["", "-wal", "-shm"] { unlink(s.db + suffix) }
        input.fileHandleForWriting.write(Data("user add two@contoso.com --name Two\n".utf8))
        try input.fileHandleForWriting.close()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("deleted or replaced"), message)
    }
}
