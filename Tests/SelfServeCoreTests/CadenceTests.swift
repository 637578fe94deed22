import Foundation
import SelfServeCommands
import SelfServeCore
import SelfServePostgres
import SelfServeShell
import XCTest

/// Billing must not depend on when the billing run happens (README "Billing").
///
/// A metamorphic test: seeded random scenarios (buyers, monthly and annual terms, purchases on the
/// 28th–31st and in leap years, license changes on random days and on a period's first and last day,
/// early and late cancellations, trials that convert or expire, product policy changes, cards that
/// expire and are edited, past-due invoices paid) each run twice through the real executor — once
/// with a billing run every day (before or after that day's commands, at random), once with sparse
/// runs (weekly, monthly, quarterly or a single catch-up) — and the two must agree on every command's
/// outcome, the amounts invoiced per subscription and day, the invoice dates, and the final statuses.
///
/// `CADENCE_SCENARIOS` (default 200) and `CADENCE_SEED` choose how many and which; `scripts/stress`
/// runs thousands.
final class CadenceTests: XCTestCase {
    func testBillingDoesNotDependOnTheRunCadence() throws {
        let env = ProcessInfo.processInfo.environment
        let count = Int(env["CADENCE_SCENARIOS"] ?? "") ?? 200
        let seed = UInt64(env["CADENCE_SEED"] ?? "") ?? 20_271_115
        var failures = 0
        for n in 0..<count {
            let scenario = Scenario(seed: seed &+ UInt64(n))
            let daily = try scenario.play(.daily)
            let sparse = try scenario.play(scenario.sparse)
            if let difference = daily.difference(from: sparse) {
                failures += 1
                XCTFail("scenario seed \(seed &+ UInt64(n)) (\(scenario.sparse)): \(difference)\n\(scenario.script)")
                if failures >= 3 { break }
            }
        }
    }
}

/// A small random deterministic generator (SplitMix64), so a failing seed replays exactly.
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
}

struct Scenario {
    enum Cadence: CustomStringConvertible {
        case daily
        case every(Int)
        case once
        var description: String {
            switch self {
            case .daily: return "daily"
            case .every(let n): return "every \(n) days"
            case .once: return "one catch-up run"
            }
        }
    }

    enum Action {
        case buy(buyer: Int, product: String, licenses: Int, annual: Bool)
        case trial(buyer: Int, product: String)
        case setLicenses(sub: Int, total: Int)
        case cancel(sub: Int)
        case convert(sub: Int, licenses: Int?)
        case policy(product: String, value: String)
        case editCard(buyer: Int, expiry: String)
        /// Pays the buyer's oldest past_due invoice, if any (only on a day both cadences ran billing).
        case pay(buyer: Int)
    }

    struct Event {
        var day: Day
        var action: Action
    }

    static let buyers = ["bea@contoso.com", "ben@contoso.com", "bo@contoso.com"]
    static let monthly = ["power-bi-pro", "project-plan-3", "teams-essentials", "project-plan-1"]
    static let annual = ["visio-plan-1", "microsoft-365-copilot"]
    static let withTrials = ["power-bi-pro", "teams-premium", "visio-plan-2"]

    let start: Day
    let end: Day
    let events: [Event]
    let cardExpiry: [String]
    let sparse: Cadence
    /// Days on which a run comes before that day's commands (on the others: after them).
    let runsFirst: Set<Day>

    init(seed: UInt64) {
        var r = SeededRandom(state: seed)
        // Start in 2027 or in leap 2028, often on the 28th–31st.
        let year = r.pick([2027, 2028])
        let month = r.int(1...12)
        let dayOfMonth = r.chance(0.6) ? min(r.int(28...31), Day.daysIn(month: month, year: year)) : r.int(1...28)
        start = Day(year: year, month: month, day: dayOfMonth)!
        end = start.adding(days: r.int(200...430))
        sparse = r.pick([.every(7), .every(30), .every(91), .once])
        let sparseDays = Scenario.runDays(sparse, from: start, to: end)
        // One buyer's card may expire inside the scenario: renewals after it fail (past_due).
        var expiries: [String] = []
        for _ in Scenario.buyers {
            let e = start.adding(days: r.int(20...300))
            expiries.append(r.chance(0.35) ? "\(e.month < 10 ? "0" : "")\(e.month)/\(e.year % 100)" : "12/39")
        }
        cardExpiry = expiries
        var list: [Event] = []
        /// Purchases made so far: (sub index, day, months of the term), to aim at period boundaries.
        var bought: [(Int, Day, Int)] = []
        var subs = 0
        var day = start
        let n = r.int(6...18)
        for _ in 0..<n {
            day = day.adding(days: r.chance(0.3) ? 0 : r.int(0...40))
            if day > end { break }
            let buyer = r.int(0...(Scenario.buyers.count - 1))
            switch r.int(0...99) {
            case 0..<26:
                let annual = r.chance(0.25)
                let product = annual && r.chance(0.5) ? r.pick(Scenario.annual) : r.pick(Scenario.monthly)
                list.append(
                    Event(
                        day: day,
                        action: .buy(buyer: buyer, product: product, licenses: r.int(1...40), annual: annual)
                    )
                )
                bought.append((subs, day, annual || Scenario.annual.contains(product) ? 12 : 1))
                subs += 1
            case 26..<36:
                list.append(Event(day: day, action: .trial(buyer: buyer, product: r.pick(Scenario.withTrials))))
                bought.append((subs, day, 0))
                subs += 1
            case 36..<62 where subs > 0:
                let (sub, from, months) = r.pick(bought)
                var when = day
                if months > 0, r.chance(0.5) {
                    // A period's first day, or its last day.
                    let k = r.int(1...3)
                    when = from.adding(months: k * months, anchorDay: from.day).adding(days: r.chance(0.5) ? 0 : -1)
                }
                guard when >= day, when <= end else { continue }
                list.append(Event(day: when, action: .setLicenses(sub: sub, total: r.int(1...45))))
            case 62..<76 where subs > 0:
                let (sub, from, months) = r.pick(bought)
                var when = day
                if months > 0, r.chance(0.5) {
                    // Within the grace days after a renewal, or late in a period.
                    when = from.adding(months: r.int(1...3) * months, anchorDay: from.day).adding(
                        days: r.chance(0.5) ? r.int(0...8) : r.int(9...27)
                    )
                }
                guard when >= day, when <= end else { continue }
                list.append(Event(day: when, action: .cancel(sub: sub)))
            case 76..<82 where subs > 0:
                list.append(
                    Event(
                        day: day,
                        action: .convert(sub: r.pick(bought).0, licenses: r.chance(0.5) ? nil : r.int(1...30))
                    )
                )
            case 82..<90:
                list.append(
                    Event(
                        day: day,
                        action: .policy(
                            product: r.pick(Scenario.withTrials),
                            value: r.pick(["enabled", "trials-only", "enabled", "disabled"])
                        )
                    )
                )
            case 90..<95:
                let e = day.adding(days: r.int(30...700))
                list.append(
                    Event(
                        day: day,
                        action: .editCard(buyer: buyer, expiry: "\(e.month < 10 ? "0" : "")\(e.month)/\(e.year % 100)")
                    )
                )
            default:
                // Paying happens on a day both cadences ran billing, after the run.
                if let payDay = sparseDays.first(where: { $0 >= day }) {
                    list.append(Event(day: payDay, action: .pay(buyer: buyer)))
                }
            }
        }
        self.events = list.enumerated().sorted { ($0.element.day, $0.offset) < ($1.element.day, $1.offset) }.map(
            \.element
        )
        var first = Set<Day>()
        var d = start
        while d <= end {
            if r.chance(0.5) { first.insert(d) }
            d = d.adding(days: 1)
        }
        // On a paying day the invoice must exist: the run comes first.
        for e in self.events { if case .pay = e.action { first.insert(e.day) } }
        runsFirst = first
    }

    static func runDays(_ cadence: Cadence, from start: Day, to end: Day) -> Set<Day> {
        var days: Set<Day> = [end]
        switch cadence {
        case .daily:
            var d = start
            while d <= end {
                days.insert(d)
                d = d.adding(days: 1)
            }
        case .every(let n):
            var d = start.adding(days: n)
            while d <= end {
                days.insert(d)
                d = d.adding(days: n)
            }
        case .once: break
        }
        return days
    }

    var script: String {
        events.map { "  \($0.day) \($0.action)" }.joined(separator: "\n")
            + "\n  cards expire \(cardExpiry), ends \(end)"
    }

    /// What a play ends with: what must not depend on the cadence.
    struct Outcome {
        var results: [String] = []
        /// "sub#k date" → amount in minor units, summed over every invoice line.
        var amounts: [String: Int64] = [:]
        var invoiceDates: [String: Set<String>] = [:]
        var statuses: [Int: String] = [:]
        var runFailures: [String] = []

        func difference(from other: Outcome) -> String? {
            if !runFailures.isEmpty || !other.runFailures.isEmpty {
                return "billing runs failed: daily \(runFailures), sparse \(other.runFailures)"
            }
            if results != other.results {
                let i =
                    zip(results, other.results).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(results.count, other.results.count)
                return
                    "command \(i) differs: daily \(results.dropFirst(i).first ?? "-") vs sparse \(other.results.dropFirst(i).first ?? "-")"
            }
            if amounts != other.amounts {
                let keys = Set(amounts.keys).union(other.amounts.keys).sorted().filter {
                    amounts[$0] != other.amounts[$0]
                }
                return "amounts differ: "
                    + keys.prefix(6).map { "\($0): daily \(amounts[$0] ?? 0) vs sparse \(other.amounts[$0] ?? 0)" }
                    .joined(separator: "; ")
            }
            if invoiceDates != other.invoiceDates {
                return "invoice dates differ: daily \(invoiceDates) vs sparse \(other.invoiceDates)"
            }
            if statuses != other.statuses { return "statuses differ: daily \(statuses) vs sparse \(other.statuses)" }
            return nil
        }
    }

    /// Where a play keeps its organization: a SQLite file, or a fresh database on a PostgreSQL server.
    enum Backend {
        case sqlite
        /// A fresh database on the test cluster (`TestCluster`).
        case postgres
    }

    func play(_ cadence: Cadence, on backend: Backend = .sqlite) throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cadence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var db = dir.appendingPathComponent("c.sqlite").path
        var backends = Backends.standard
        if case .postgres = backend {
            db = try TestCluster.freshDatabase("cadence")
            backends.open = { location, create, interrupted in
                // One session plays every person: --as names them, as on a file (identity on a server is
                // RowSecurityTests' subject; this is about the money).
                try PostgresDatabase(uri: location, create: create, interrupted: interrupted, assertingIdentity: true)
            }
        }
        let admin = "admin@contoso.com"
        var outcome = Outcome()
        var subs: [Int: String] = [:]
        var nextSub = 0

        // One session for the whole play, as a shell would be; each command says who acts and when.
        let session = Session(
            databasePath: db,
            actingUser: nil,
            isInteractive: false,
            environment: ["HOME": dir.path, "XDG_STATE_HOME": dir.path],
            backends: backends
        )
        session.output = { _ in }
        session.errorOutput = { _ in }
        defer { session.closeDatabase() }
        func exec(
            _ words: [String],
            as user: String?,
            on day: Day,
            hour: Int = 12,
            stdin: [String] = []
        ) -> Result<PlainValue, SelfServeError> {
            var lines = stdin
            session.environment["SELFSERVE_NOW"] = "\(day)T\(hour < 10 ? "0" : "")\(hour):00:00Z"
            session.stdinLines = { lines.isEmpty ? nil : lines.removeFirst() }
            do {
                return .success(try session.run(words: words + (user.map { ["--as", $0] } ?? [])).value)
            } catch {
                return .failure((error as? SelfServeError) ?? .invalid("\(error)"))
            }
        }
        func record(_ what: String, _ r: Result<PlainValue, SelfServeError>) {
            switch r {
            case .success(let v): outcome.results.append("\(what): ok \(v["status"]?.stringValue ?? "")")
            case .failure(let e): outcome.results.append("\(what): \(e.code.rawValue)")
            }
        }

        /// A billing run must succeed; what it made is compared at the end, not its own output.
        func run(on day: Day, hour: Int) {
            if case .failure(let e) = exec(["billing", "run"], as: nil, on: day, hour: hour) {
                outcome.runFailures.append("\(day): \(e.message)")
            }
        }

        _ = try exec(["init", "--org", "Cadence", "--admin", admin, "--test-clock"], as: nil, on: start, hour: 0).get()
        for (i, buyer) in Scenario.buyers.enumerated() {
            _ = try exec(["user", "add", buyer, "--name", "Buyer \(i)"], as: admin, on: start, hour: 0).get()
            _ = try exec(
                ["payment-method", "add", "--card-stdin"],
                as: buyer,
                on: start,
                hour: 0,
                stdin: ["4242424242424242", cardExpiry[i], "123"]
            ).get()
        }

        let runDays = Scenario.runDays(cadence, from: start, to: end)
        let byDay = Dictionary(grouping: events, by: \.day)
        var day = start
        while day <= end {
            let runs = runDays.contains(day)
            let first = runs && runsFirst.contains(day)
            if first { run(on: day, hour: 0) }
            for event in byDay[day] ?? [] {
                let label = "\(event.day) \(event.action)"
                switch event.action {
                case .buy(let b, let product, let licenses, let annual):
                    let r = exec(
                        ["subscription", "buy", product, "--licenses", "\(licenses)"]
                            + (annual ? ["--term", "annual"] : []),
                        as: Scenario.buyers[b],
                        on: day
                    )
                    if case .success(let v) = r { subs[nextSub] = v["id"]?.stringValue }
                    nextSub += 1
                    record(label, r)
                case .trial(let b, let product):
                    let r = exec(["trial", "start", product], as: Scenario.buyers[b], on: day)
                    if case .success(let v) = r { subs[nextSub] = v["id"]?.stringValue }
                    nextSub += 1
                    record(label, r)
                case .setLicenses(let k, let total):
                    guard let id = subs[k] else { continue }
                    record(label, exec(["subscription", "set-licenses", id, "\(total)"], as: owner(k), on: day))
                case .cancel(let k):
                    guard let id = subs[k] else { continue }
                    record(
                        label,
                        exec(["subscription", "cancel", id, "--reason", "too_expensive"], as: owner(k), on: day)
                    )
                case .convert(let k, let licenses):
                    guard let id = subs[k] else { continue }
                    record(
                        label,
                        exec(
                            ["trial", "convert", id] + (licenses.map { ["--licenses", "\($0)"] } ?? []),
                            as: owner(k),
                            on: day
                        )
                    )
                case .policy(let product, let value):
                    record(label, exec(["product", "policy", product, value], as: admin, on: day))
                case .editCard(let b, let expiry):
                    let buyer = Scenario.buyers[b]
                    let pm =
                        try exec(["payment-method", "list"], as: buyer, on: day).get().arrayValue?.first?["id"]?
                        .stringValue ?? ""
                    record(
                        label,
                        exec(
                            ["payment-method", "edit", pm, "--expiry", expiry, "--card-stdin"],
                            as: buyer,
                            on: day,
                            stdin: ["123"]
                        )
                    )
                case .pay(let b):
                    let buyer = Scenario.buyers[b]
                    let invoices = try exec(["invoice", "list"], as: buyer, on: day, hour: 13).get().arrayValue ?? []
                    guard
                        let due = invoices.last(where: { $0["status"]?.stringValue == "past_due" })?["id"]?.stringValue
                    else {
                        outcome.results.append("\(label): nothing to pay")
                        continue
                    }
                    record(label, exec(["invoice", "pay", due], as: buyer, on: day, hour: 13))
                }
            }
            if runs && !first { run(on: day, hour: 23) }
            day = day.adding(days: 1)
        }

        // What was invoiced, per subscription and day, and the final state.
        let index = Dictionary(uniqueKeysWithValues: subs.map { ($0.value, $0.key) })
        for buyer in Scenario.buyers {
            for invoice in try exec(["invoice", "list"], as: buyer, on: end, hour: 23).get().arrayValue ?? [] {
                let id = invoice["id"]?.stringValue ?? ""
                let date = invoice["date"]?.stringValue ?? ""
                outcome.invoiceDates[buyer, default: []].insert(date)
                for line in try exec(["invoice", "show", id], as: buyer, on: end, hour: 23).get()["lines"]?.arrayValue
                    ?? []
                {
                    let sub = line["subscription"]?.stringValue.flatMap { index[$0] }.map { "sub#\($0)" } ?? "-"
                    let amount = Money(decimal: line["amount"]?.stringValue ?? "")?.minorUnits ?? .min
                    outcome.amounts["\(sub) \(date)", default: 0] += amount
                }
            }
        }
        for (k, id) in subs {
            let shown = try exec(["subscription", "show", id], as: owner(k), on: end, hour: 23).get()
            outcome.statuses[k] = "\(shown["status"]?.stringValue ?? "?") until \(shown["expires"]?.stringValue ?? "?")"
        }
        return outcome

        func owner(_ k: Int) -> String {
            var n = 0
            for e in events {
                switch e.action {
                case .buy(let b, _, _, _), .trial(let b, _):
                    if n == k { return Scenario.buyers[b] }
                    n += 1
                default: break
                }
            }
            return admin
        }
    }
}
