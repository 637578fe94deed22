import Foundation

/// Where "now" comes from. Rules never read the system clock themselves, so that tests and
/// `SELFSERVE_NOW` what-if runs see one consistent instant.
public protocol Clock: Sendable {
    var now: Date { get }
}

public struct SystemClock: Clock {
    public init() {}
    public var now: Date { Date() }
}

public struct FixedClock: Clock {
    public let now: Date
    public init(_ now: Date) { self.now = now }

    /// Parses `SELFSERVE_NOW`: an ISO 8601 date (`2026-01-31`, midnight UTC) or date-time.
    public init(parsing text: String) throws {
        if let day = Day(text) {
            self.now = day.startDate
        } else if let date = Timestamp.parse(text) {
            self.now = date
        } else {
            throw SelfServeError.invalid(
                "SELFSERVE_NOW '\(text)' is not an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ)"
            )
        }
        // Terms, trials and lifecycle steps reach years ahead and invoice filters years back.
        guard (1970...9000).contains(Day(now).year) else {
            throw SelfServeError.invalid("SELFSERVE_NOW '\(text)' is out of range: use a date from 1970 to 9000")
        }
    }
}

/// ISO 8601 UTC timestamps as stored and printed: `2026-11-25T10:15:00Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let day = Day(daysSinceEpoch: Int(floorDiv(seconds, 86_400)))
        let rest = Int(seconds - Int64(day.daysSinceEpoch) * 86_400)
        return "\(day)T\((rest / 3600).zeroPadded(2)):\((rest / 60 % 60).zeroPadded(2)):\((rest % 60).zeroPadded(2))Z"
    }

    /// Accepts `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`; a time without offset is UTC.
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let day = Day(String(parts[0])) else { return nil }
        var time = Substring(parts[1])
        var offset = 0
        if time.hasSuffix("Z") || time.hasSuffix("z") {
            time = time.dropLast()
        } else if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = time[time.index(after: sign)...].split(separator: ":")
            guard zone.count == 2, let h = Int(zone[0]), let m = Int(zone[1]), h < 24, m < 60 else { return nil }
            offset = (h * 3600 + m * 60) * (time[sign] == "+" ? 1 : -1)
            time = time[..<sign]
        }
        let hms = time.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 2 || hms.count == 3,
            let h = Int(hms[0]), let m = Int(hms[1]), h < 24, m < 60, hms[0].count == 2, hms[1].count == 2
        else { return nil }
        var s = 0.0
        if hms.count == 3 {
            guard let sec = Double(hms[2]), sec >= 0, sec < 61, hms[2].first?.isNumber == true else { return nil }
            s = sec
        }
        let total = Double(day.daysSinceEpoch) * 86_400 + Double(h * 3600 + m * 60) + s - Double(offset)
        return Date(timeIntervalSince1970: total)
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
