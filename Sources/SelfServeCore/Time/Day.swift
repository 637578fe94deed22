import Foundation

/// A calendar day in UTC, `YYYY-MM-DD`. Terms, expiry dates and invoice periods are days, not instants:
/// day arithmetic here is exact integer arithmetic on the proleptic Gregorian calendar.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Day.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; rejects impossible days such as 2026-02-30.
    public init?(_ text: String) {
        // Read in the string's own bytes (every row of subscriptions and invoices holds a few days);
        // a copy into an array cost an allocation per day read.
        let parsed = text.utf8.withContiguousStorageIfAvailable(Self.fields) ?? Self.fields(Array(text.utf8))
        guard let (y, m, d) = parsed else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Year, month and day of exactly `YYYY-MM-DD` (digits and dashes only), or nil.
    private static func fields<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> (Int, Int, Int)?
    where Bytes.Index == Int {
        guard bytes.count == 10 else { return nil }
        let start = bytes.startIndex
        guard bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                let byte = bytes[start + i]
                guard (48...57).contains(byte) else { return nil }
                n = n * 10 + Int(byte - 48)
            }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        return (y, m, d)
    }

    public init(daysSinceEpoch z0: Int) {
        // Howard Hinnant's civil_from_days.
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public init(_ date: Date) {
        self.init(daysSinceEpoch: Int(floorDiv(Int64(date.timeIntervalSince1970.rounded(.down)), 86_400)))
    }

    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var startDate: Date { Date(timeIntervalSince1970: Double(daysSinceEpoch) * 86_400) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public func adding(days: Int) -> Day { Day(daysSinceEpoch: daysSinceEpoch + days) }

    /// Adds calendar months, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29).
    public func adding(months: Int) -> Day { adding(months: months, anchorDay: day) }

    /// The earliest and latest days that arithmetic stays within: a date past them is clamped, never
    /// a trap (`SELFSERVE_NOW` itself is kept well inside).
    public static let first = Day(year: 1, month: 1, day: 1)!
    public static let last = Day(year: 9999, month: 12, day: 31)!

    /// Adds calendar months keeping a billing anchor day: a subscription bought on the 31st renews on
    /// Feb 28 and then on Mar 31 again, not on the 28th for ever.
    public func adding(months: Int, anchorDay: Int) -> Day {
        let index = year * 12 + (month - 1) + months
        guard index >= 12 else { return .first }
        guard index < 10_000 * 12 else { return .last }
        let y = index / 12
        let m = index % 12 + 1
        return Day(year: y, month: m, day: min(max(1, anchorDay), Day.daysIn(month: m, year: y))) ?? .last
    }

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    public func days(to other: Day) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    /// `YYYY-MM-DD`, written into one ten-byte string. A billing run prints a few days per renewal;
    /// three padded numbers joined by `+` were 6% of its instructions.
    public var description: String {
        // `init(daysSinceEpoch:)` does not clamp: a day outside years 1…9999 keeps the general form.
        guard (1...9999).contains(year) else {
            return year.zeroPadded(4) + "-" + month.zeroPadded(2) + "-" + day.zeroPadded(2)
        }
        return String(unsafeUninitializedCapacity: 10) { bytes in
            func put(_ value: Int, _ width: Int, at end: Int) {
                var value = value
                for i in stride(from: end - 1, through: end - width, by: -1) {
                    bytes[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 4)
            bytes[4] = UInt8(ascii: "-")
            put(month, 2, at: 7)
            bytes[7] = UInt8(ascii: "-")
            put(day, 2, at: 10)
            return 10
        }
    }

    public static func < (a: Day, b: Day) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = Day(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)")
            )
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension Day {
    /// Parses a user-supplied date, naming the option in the error.
    public static func parse(_ text: String, option: String) throws -> Day {
        guard let d = Day(text) else {
            throw SelfServeError.invalid("\(option): '\(text)' is not a valid date (expected YYYY-MM-DD)")
        }
        return d
    }
}
