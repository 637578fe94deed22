import ArgumentParser
import SelfServeCommands
import SelfServeCore
@_spi(Reflection) import Swift
import XCTest

final class RulesTests: XCTestCase {
    /// Every leaf of the command tree with its command words.
    static func leafCommands() -> [(path: [String], type: ParsableCommand.Type)] {
        var groups: [(ParsableCommand.Type, [String])] = [(SelfServeRoot.self, [])]
        var leaves: [(path: [String], type: ParsableCommand.Type)] = []
        while let (type, path) = groups.popLast() {
            let children = CommandParser.subcommands(of: type)
            groups += children.map { ($0, path + [$0._commandName]) }
            if children.isEmpty { leaves.append((path, type)) }
        }
        return leaves
    }

    /// A type's stored properties as the runtime's field records give them, the reference for mirrors.
    static func storedFields(of type: Any.Type) -> [(name: String, type: Any.Type)] {
        var fields: [(name: String, type: Any.Type)] = []
        _ = _forEachField(of: type) { name, _, fieldType, _ in
            fields.append((String(cString: name), fieldType))
            return true
        }
        return fields
    }

    func testDays() {
        XCTAssertNil(Day("2026-02-30"))
        XCTAssertNil(Day("2026-13-01"))
        XCTAssertNil(Day("26-01-01"))
        XCTAssertEqual(Day("2024-02-29")?.description, "2024-02-29")
        XCTAssertEqual(Day("2026-01-31")!.adding(months: 1).description, "2026-02-28")
        XCTAssertEqual(Day("2024-01-31")!.adding(months: 1).description, "2024-02-29")
        XCTAssertEqual(Day("2026-12-15")!.adding(months: 1).description, "2027-01-15")
        XCTAssertEqual(Day("2026-03-01")!.days(to: Day("2027-03-01")!), 365)
        XCTAssertEqual(Day("2026-03-01")!.adding(days: -1).description, "2026-02-28")
        XCTAssertEqual(Day("2026-02-28")!.adding(months: 1, anchorDay: 31).description, "2026-03-31")
        XCTAssertEqual(Day("2026-03-31")!.adding(months: 1, anchorDay: 31).description, "2026-04-30")
    }

    func testDayArithmeticClampsInsteadOfTrapping() {
        XCTAssertEqual(Day("9999-12-15")!.adding(months: 1), Day.last)
        XCTAssertEqual(Day("0001-01-01")!.adding(months: -6), Day.first)
        XCTAssertEqual(Day("9999-11-30")!.adding(months: 1, anchorDay: 31).description, "9999-12-31")
        XCTAssertThrowsError(try FixedClock(parsing: "9999-12-15"))
        XCTAssertThrowsError(try FixedClock(parsing: "0001-01-01T00:00:00Z"))
        XCTAssertNoThrow(try FixedClock(parsing: "2028-02-29"))
    }

    func testMoneyIsExact() throws {
        XCTAssertEqual(Money(decimal: "14.00")?.minorUnits, 1400)
        XCTAssertEqual(Money(decimal: "0.1")?.minorUnits, 10)
        XCTAssertNil(Money(decimal: "1.234"))
        XCTAssertNil(Money(decimal: "abc"))
        XCTAssertEqual(Money(minorUnits: -250).decimalString, "-2.50")
        // 14.00 for 10 of 31 days: 4.516… → 4.52; halves round away from zero.
        XCTAssertEqual(try Money(minorUnits: 1400).scaled(10, over: 31).minorUnits, 452)
        XCTAssertEqual(try Money(minorUnits: 1).scaled(1, over: 2).minorUnits, 1)
        XCTAssertEqual(try Money(minorUnits: -1).scaled(1, over: 2).minorUnits, -1)
    }

    func testMoneyArithmeticIsCheckedNotTrapped() {
        let huge = Money(minorUnits: 999_999_999_999_999)
        for attempt in [
            { try huge.times(100_000) }, { try huge.times(-100_000) }, { try huge.scaled(Int64.max / 2, over: 3) },
            { try Money(minorUnits: .max).adding(Money(minorUnits: 1)) }, { try Money(minorUnits: .min).times(-1) },
        ] {
            XCTAssertThrowsError(try attempt()) { XCTAssertEqual(($0 as? SelfServeError)?.code, .limitExceeded) }
        }
        // The largest amounts the bounds allow still fit: 100,000.00 × 100,000 licenses × 12 months.
        XCTAssertEqual(try Money.maxUnitPrice.times(12).times(100_000).minorUnits, 12_000_000_000_000)
    }

    func testNextLifecycleStep() {
        let day = Day("2027-01-15")!
        var sub = Subscription(
            id: "sub_x",
            product: "p",
            buyer: "b",
            status: .active,
            term: .monthly,
            licensesTotal: 1,
            unitPrice: Money(minorUnits: 100),
            started: day,
            periodStart: day,
            expires: day.adding(months: 1),
            billingProfile: nil,
            paymentMethod: nil,
            isTrial: false,
            convertsAutomatically: false,
            statusSince: day,
            createdAt: ""
        )
        XCTAssertEqual(sub.nextStepDay, day.adding(months: 1))
        for (status, days) in [(Subscription.Status.pastDue, 30), (.expired, 30), (.disabled, 90)] {
            sub.status = status
            XCTAssertEqual(sub.nextStepDay, day.adding(days: days), "\(status)")
        }
        sub.status = .deleted
        XCTAssertNil(sub.nextStepDay)
    }

    func testCSVParsingKeepsLineNumbers() throws {
        let rows = try CSV.parse("a,b\n\"x,1\",\"multi\nline\"\nlast,\"q\"\"q\"\n")
        XCTAssertEqual(rows.map(\.line), [1, 2, 4])
        XCTAssertEqual(rows[1].fields, ["x,1", "multi\nline"])
        XCTAssertEqual(rows[2].fields, ["last", "q\"q"])
        XCTAssertEqual(CSV.record(["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"")
    }

    func testCardValidation() throws {
        let key = [UInt8](repeating: 7, count: 32)
        let today = Day("2026-03-02")!
        // Public test numbers published by payment providers.
        let cards: [(String, CardBrand, String)] = [
            ("4242424242424242", .visa, "123"), ("4000056655665556", .visa, "123"),
            ("5555555555554444", .mastercard, "123"),
            ("2223003122003222", .mastercard, "123"), ("378282246310005", .amex, "1234"),
            ("6011111111111117", .discover, "123"),
            ("3566002020360505", .jcb, "123"), ("36227206271667", .diners, "123"),
            ("6200000000000005", .unionpay, "123"),
        ]
        for (number, brand, code) in cards {
            let c = try CardValidator.validate(
                CardInput(number: number, expiry: "12/29", securityCode: code),
                today: today,
                fingerprintKey: key
            )
            XCTAssertEqual(c.brand, brand, number)
            XCTAssertEqual(c.last4, String(number.suffix(4)))
            XCTAssertFalse(c.fingerprint.contains(number))
        }
        func declined(_ n: String, _ e: String, _ c: String) -> String? {
            do {
                _ = try CardValidator.validate(
                    CardInput(number: n, expiry: e, securityCode: c),
                    today: today,
                    fingerprintKey: key
                )
                return nil
            } catch let error as SelfServeError {
                XCTAssertEqual(error.code, .paymentDeclined)
                XCTAssertFalse(error.message.contains(n))
                return error.message
            } catch { return "\(error)" }
        }
        XCTAssertNotNil(declined("4242424242424241", "12/29", "123"))  // Luhn
        XCTAssertNotNil(declined("4242424242424242", "02/26", "123"))  // expired
        XCTAssertNil(declined("4242424242424242", "03/26", "123"))  // this month is still valid
        XCTAssertNotNil(declined("378282246310005", "12/29", "123"))  // amex needs 4 digits
        XCTAssertNotNil(declined("9999999999999995", "12/29", "123"))  // unknown brand
        XCTAssertNotNil(declined("4242424242424242", "13/29", "123"))
        let a = try CardValidator.validate(
            CardInput(number: "4242 4242 4242 4242", expiry: "12/29", securityCode: "123"),
            today: today,
            fingerprintKey: key
        )
        let b = try CardValidator.validate(
            CardInput(number: "4242424242424242", expiry: "01/30", securityCode: "999"),
            today: today,
            fingerprintKey: key
        )
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        let other = try CardValidator.validate(
            CardInput(number: "4242424242424242", expiry: "01/30", securityCode: "999"),
            today: today,
            fingerprintKey: [UInt8](repeating: 8, count: 32)
        )
        XCTAssertNotEqual(a.fingerprint, other.fingerprint)
    }

    func testSuggestionsAndEditDistance() {
        XCTAssertEqual(CommandParser.editDistance("usr", "user"), 1)
        XCTAssertEqual(CommandParser.suggestion("usr", among: ["user", "product"]), ". Did you mean 'user'?")
        XCTAssertEqual(CommandParser.suggestion("zzzzzz", among: ["user", "product"]), "")
    }

    /// Every leaf names selfserve as its super-command and parses on its own: `CommandParser.leafParse`
    /// parses a batch line with its leaf alone, and ArgumentParser makes two more parses of the words,
    /// looking for a root's `--generate-completion-script`, in a command that has no super-command.
    func testEveryLeafParsesOnItsOwnAsPartOfSelfserve() throws {
        let leaves = Self.leafCommands()
        for (path, type) in leaves {
            XCTAssertEqual(type.configuration._superCommandName, "selfserve", "\(path)")
            // Words a leaf refuses are left to the whole tree's parse, which words the message.
            XCTAssertNil(CommandParser.leafParse(path + ["--no-such-option"]), "\(path)")
        }
        XCTAssertGreaterThan(leaves.count, 40)
        let show = try XCTUnwrap(CommandParser.leafParse(["subscription", "show", "sub_1", "--json"]))
        XCTAssertTrue(show.globals.json)
    }

    /// `GlobalOptions` lists its children for ArgumentParser's reflection by hand (its `customMirror`):
    /// they must be exactly its stored properties, as the runtime lays them out, each a property wrapper
    /// of ArgumentParser's — an option declared and not listed would be silently ignored. And every global
    /// option parses.
    func testGlobalOptionsMirrorIsTheirStoredProperties() throws {
        let stored = Self.storedFields(of: GlobalOptions.self).map(\.name)
        let listed = GlobalOptions().customMirror.children.map { $0.label ?? "" }
        XCTAssertEqual(listed, stored)
        XCTAssertGreaterThanOrEqual(stored.count, 7)
        for child in GlobalOptions().customMirror.children {
            let wrapper = "\(type(of: child.value))"
            XCTAssertTrue(
                wrapper.hasPrefix("Option<") || wrapper.hasPrefix("Flag<"),
                "\(child.label ?? ""): \(wrapper)"
            )
        }
        let words = [
            "--db", "x.sqlite", "--as", "a@contoso.com", "--json", "--format", "csv", "--dry-run", "--explain",
            "--idempotency-key", "k1",
        ]
        let show = try XCTUnwrap(CommandParser.leafParse(["subscription", "show", "sub_1"] + words))
        let g = show.globals
        XCTAssertEqual(g.db, "x.sqlite")
        XCTAssertEqual(g.actingUser, "a@contoso.com")
        XCTAssertTrue(g.json)
        XCTAssertEqual(g.format, .csv)
        XCTAssertTrue(g.dryRun)
        XCTAssertTrue(g.explain)
        XCTAssertEqual(g.idempotencyKey, "k1")
        XCTAssertTrue(try CommandParser.helpText(["subscription", "show"]).contains("--idempotency-key <key>"))
    }

    /// Every command answers `customMirror` from its table of stored properties: the children must be
    /// what the runtime's reflection finds — every stored property, in order, under its name, with a
    /// value of the property's type — or ArgumentParser would miss (or misread) an argument.
    func testEveryCommandMirrorsItsStoredProperties() throws {
        let leaves = Self.leafCommands().compactMap { $0.type as? any SelfServeCommand.Type }
        XCTAssertGreaterThan(leaves.count, 50)
        for leaf in leaves {
            let stored = Self.storedFields(of: leaf)
            let children = Array(leaf.init().customMirror.children)
            XCTAssertEqual(children.map { $0.label ?? "" }, stored.map(\.name), "\(leaf)")
            XCTAssertGreaterThanOrEqual(children.count, 1, "\(leaf): at least the global options")
            for (child, (name, type)) in zip(children, stored) {
                XCTAssertTrue(Swift.type(of: child.value) == type, "\(leaf).\(name): \(Swift.type(of: child.value))")
            }
            XCTAssertEqual(leaf.init().customMirror.displayStyle, .struct, "\(leaf)")
        }
        // The values are the instance's own, not a fresh one's: a parsed command reads back its arguments.
        let assign = try XCTUnwrap(
            CommandParser.leafParse(["license", "assign", "sub_1", "a@x.com", "b@x.com", "--json"])
        )
        let described = assign.customMirror.children.map { String(describing: $0.value) }.joined(separator: " ")
        XCTAssertTrue(described.contains("sub_1") && described.contains("b@x.com"), described)
    }

    /// The leaf parse drops the help flags (it has looked for them first); everything else sees them, so
    /// help still lists `-h, --help`, and `-h`/`--help` anywhere still print help.
    func testHelpFlagsOutsideTheLeafParse() throws {
        let whoami = CommandParser.walk(["whoami"]).type
        XCTAssertNil(whoami.configuration.helpNames)
        let lean = LeafParse.$omitsHelpFlags.withValue(true) { SelfServeRoot.helpMessage(for: whoami) }
        XCTAssertTrue(lean.contains("USAGE:") && !lean.contains("--help"), lean)
        XCTAssertTrue(try CommandParser.helpText(["whoami"]).contains("-h, --help"))
        for words in [
            ["whoami", "--help"], ["whoami", "-h"], ["license", "assign", "sub_1", "--help"], ["-h", "user", "add"],
            ["whoami", "--help-hidden"], ["--help-hidden"],
        ] {
            guard case .help(let text) = try CommandParser.parse(words) else {
                XCTFail("\(words): not help")
                continue
            }
            XCTAssertTrue(text.contains("USAGE:"), "\(words)")
        }
        guard case .command(let command) = try CommandParser.parse(["whoami", "--json"]) else {
            return XCTFail("whoami did not parse")
        }
        XCTAssertTrue(command.globals.json)
        XCTAssertFalse(LeafParse.omitsHelpFlags)
    }

    /// The enums of options declare no value descriptions, as ArgumentParser's default would find none:
    /// each value's description is its raw value.
    func testOptionEnumsDescribeThemselvesByTheirRawValues() {
        func check<E: ExpressibleByArgument & CaseIterable & RawRepresentable>(_: E.Type) where E.RawValue == String {
            XCTAssertTrue(E.allValueDescriptions.isEmpty, "\(E.self)")
            for value in E.allCases {
                XCTAssertEqual(value.defaultValueDescription, value.rawValue.defaultValueDescription, "\(E.self)")
            }
        }
        check(OutputFormat.self)
        check(Term.self)
        check(Organization.Cloud.self)
        check(Subscription.Status.self)
    }

    /// What Tab offers comes from the arguments' declarations: every leaf offers its real flags, enum
    /// options their values, and an option's value never counts as a positional.
    func testCompletionComesFromTheDeclarations() throws {
        let all = DeclaredCommand.tree.leaves().map(\.0)
        XCTAssertGreaterThan(all.count, 40)
        for path in all {
            let flags = CompletionEngine.candidates(after: path, word: "--")
            XCTAssertTrue(flags.contains("--json") && flags.contains("--db"), "\(path): \(flags)")
            for f in flags {
                XCTAssertTrue(
                    f.hasPrefix("--") && f.dropFirst(2).allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" },
                    "\(path): \(f)"
                )
            }
        }
        func offered(_ words: [String], _ word: String = "") -> [String] {
            CompletionEngine.candidates(after: words, word: word)
        }
        XCTAssertTrue(offered(["subscription", "buy"], "--pay").contains("--payment-method"))
        XCTAssertTrue(offered(["invoice", "export"], "--f").contains("--force"))
        XCTAssertTrue(offered(["run"], "--b").contains("--budget"))
        XCTAssertEqual(offered(["subscription", "buy", "power-bi-pro", "--term"]), ["monthly", "annual"])
        XCTAssertEqual(offered(["product", "policy", "power-bi-pro"], "t"), ["trials-only"])
        XCTAssertEqual(offered(["admin", "purchases", "--status"], "tr"), ["trial"])
        XCTAssertEqual(offered(["subscription", "list", "--format"]), ["table", "json", "ndjson", "csv"])
        XCTAssertEqual(offered(["invoice", "export", "inv_1", "--format"]), ["json", "csv", "html"])
        XCTAssertTrue(offered(["subscription", "cancel", "sub_1", "--reason"]).count >= 3)
        XCTAssertEqual(offered([], "sub"), ["subscription"])
        XCTAssertEqual(offered(["license"], "as"), ["assign"])
        XCTAssertEqual(
            offered(["--db", "x.sqlite", "--as", "a@b.c", "user"], "l"),
            ["list"],
            "root options are skipped with their values"
        )
        // The value of an option is not a positional: after `--budget 5`, a script's argument is next.
        let run = try XCTUnwrap(DeclaredCommand.tree.command(at: ["run"]))
        XCTAssertEqual(CompletionEngine.positionalCount(["run", "--budget", "5"], command: run, pathIndices: [0]), 0)
        XCTAssertEqual(
            CompletionEngine.positionalCount(
                ["run", "--budget", "5", "x.lua", "--dry-run"],
                command: run,
                pathIndices: [0]
            ),
            1
        )
        let assign = try XCTUnwrap(DeclaredCommand.tree.command(at: ["license", "assign"]))
        XCTAssertEqual(
            CompletionEngine.positionalCount(
                ["license", "assign", "--as", "a@b.c", "sub_1", "x@y.z"],
                command: assign,
                pathIndices: [0, 1]
            ),
            2
        )
    }

    /// `docs/COMMANDS.md` is what the command tree says today; a command changed without regenerating
    /// it fails here, naming the first line that differs.
    func testCommandReferenceIsCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appendingPathComponent("docs/COMMANDS.md")
        let generated = DeclaredCommand.tree.markdownReference()
        if ProcessInfo.processInfo.environment["UPDATE_REFERENCE"] == "1" {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        let committed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        let a = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let b = generated.split(separator: "\n", omittingEmptySubsequences: false)
        if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
            ?? (a.count == b.count ? nil : min(a.count, b.count))
        {
            XCTFail(
                "docs/COMMANDS.md is stale at line \(i + 1): it says \(i < a.count ? String(a[i]).debugDescription : "nothing"), the command tree says \(i < b.count ? String(b[i]).debugDescription : "nothing"). Regenerate: UPDATE_REFERENCE=1 swift test --filter testCommandReferenceIsCurrent"
            )
        }
        XCTAssertTrue(generated.contains("## selfserve license assign") && generated.contains("`--budget <budget>`"))
    }

    func testRendererFormats() {
        let rows: PlainValue = .array([
            .object([("email", "a@b.c"), ("name", "A, \"x\"")]),
            .object([("email", "d@e.f"), ("name", "Esc\u{1b}[31m")]),
        ])
        let columns = ["email", "name"]
        let csv = Renderer(format: .csv).render(.list(rows, columns: columns))
        XCTAssertEqual(csv, "email,name\r\na@b.c,\"A, \"\"x\"\"\"\r\nd@e.f,Esc\u{1b}[31m\r\n")
        XCTAssertEqual(
            Renderer(format: .csv, width: 80).render(.list(rows, columns: columns)).contains("\u{1b}"),
            false,
            "escaped on a terminal"
        )
        XCTAssertEqual(
            Renderer(format: .csv).render(.list(.array([]), columns: columns)),
            "email,name\r\n",
            "an empty list has its header"
        )
        let formulas: PlainValue = .array([.object([("name", "=1+1"), ("total", "-52.00"), ("n", .int(-3))])])
        XCTAssertEqual(
            Renderer(format: .csv).render(.list(formulas, columns: ["name", "total", "n"])),
            "name,total,n\r\n'=1+1,-52.00,-3\r\n"
        )
        let table = Renderer(format: .table).render(.list(rows, columns: columns))
        XCTAssertFalse(table.contains("\u{1b}"), "escape sequences are shown, not replayed")
        XCTAssertTrue(table.hasPrefix("EMAIL  NAME"))
        // Too wide for the terminal: one record after another, nothing cut.
        let long = String(repeating: "x", count: 80)
        let narrow = Renderer(format: .table, width: 30).render(
            .list(.array([.object([("a", .string(long)), ("b", "y")])]), columns: ["a", "b"])
        )
        XCTAssertTrue(narrow.hasPrefix("-[ RECORD 1 ]") && narrow.contains("a | \(long)"), narrow)
        // Columns align by display width: CJK and emoji take two columns.
        let wide = Renderer(format: .table).render(
            .list(
                .array([.object([("name", "山田太郎"), ("x", "1")]), .object([("name", "Bo 👩‍💻"), ("x", "2")])]),
                columns: ["name", "x"]
            )
        )
        let positions = wide.split(separator: "\n").map { line in DisplayWidth.of(String(line.dropLast())) }
        XCTAssertEqual(Set(positions).count, 1, wide)
        XCTAssertEqual(DisplayWidth.of("山田"), 4)
        XCTAssertEqual(DisplayWidth.of("é"), 1)
        XCTAssertEqual(Renderer(format: .ndjson).render(.list(rows, columns: columns)).split(separator: "\n").count, 2)
    }
}
