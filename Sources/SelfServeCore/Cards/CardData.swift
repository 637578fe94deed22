/// Finding card numbers in free text — a shell line, an error message — so that they can be kept out
/// of history and masked wherever text is shown or stored.
///
/// A card number is 13 to 19 digits, written together or in groups separated by single spaces or
/// dashes (`4242 4242 4242 4242`, `3782-822463-10005`), not part of a longer number. Luhn is not
/// required: a mistyped number is as secret as a valid one.
public enum CardData {
    /// The ranges of card numbers in `text`, as UTF-8 offsets.
    static func cardRanges(_ text: String) -> [Range<Int>] {
        let bytes = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i >= 0 && i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 }
        func isJoin(_ i: Int) -> Bool { i >= 0 && i < bytes.count && (bytes[i] == 32 || bytes[i] == 45) }
        var ranges: [Range<Int>] = []
        var i = 0
        while i < bytes.count {
            // A run starts at a digit that does not continue a number ("12.5", "x9").
            guard isDigit(i), !isDigit(i - 1), !(i > 0 && (bytes[i - 1] == 46 || bytes[i - 1] == 44)) else {
                i += 1
                continue
            }
            var j = i
            var digits = 0
            var lastDigitEnd = i
            while j < bytes.count {
                if isDigit(j) {
                    digits += 1
                    j += 1
                    lastDigitEnd = j
                } else if isJoin(j) && isDigit(j + 1) && digits < 19 {
                    j += 1
                } else {
                    break
                }
            }
            let followedByNumber =
                lastDigitEnd < bytes.count && (bytes[lastDigitEnd] == 46 || bytes[lastDigitEnd] == 44)
                && isDigit(lastDigitEnd + 1)
            if (13...19).contains(digits) && !followedByNumber { ranges.append(i..<lastDigitEnd) }
            i = max(lastDigitEnd, i + 1)
        }
        return ranges
    }

    public static func containsCardNumber(_ text: String) -> Bool { !cardRanges(text).isEmpty }

    /// `text` with every card number shown as `•••• 4242`. A text that held a card number may hold its
    /// security code too: its standalone 3- and 4-digit numbers are masked as `•••`.
    public static func masked(_ text: String) -> String {
        let ranges = cardRanges(text)
        guard !ranges.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var at = 0
        for r in ranges {
            out += maskShortNumbers(Array(bytes[at..<r.lowerBound]))
            let digits = bytes[r].filter { $0 >= 48 && $0 <= 57 }
            out += Array("•••• ".utf8) + digits.suffix(4)
            at = r.upperBound
        }
        out += maskShortNumbers(Array(bytes[at...]))
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` (an error about `words`) with what the words held of a card masked: when the words hold a
    /// card number, its digit groups and any 3- or 4-digit number among them (a security code) are
    /// masked wherever they appear in the text, split up or not.
    public static func masked(_ text: String, words: [String]) -> String {
        let line = words.joined(separator: " ")
        let ranges = cardRanges(line)
        guard !ranges.isEmpty else { return masked(text) }
        let bytes = Array(line.utf8)
        var secrets = Set<String>()
        for r in ranges {
            for group in String(decoding: bytes[r], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "-" }) {
                secrets.insert(String(group))
            }
        }
        for w in words where (3...4).contains(w.count) && w.allSatisfy({ $0.isASCII && $0.isNumber }) {
            secrets.insert(w)
        }
        var out = ""
        var digits = ""
        func flush() {
            out += secrets.contains(digits) ? "••••" : digits
            digits = ""
        }
        for ch in text {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
                continue
            }
            flush()
            out.append(ch)
        }
        flush()
        return masked(out)
    }

    private static func maskShortNumbers(_ bytes: [UInt8]) -> [UInt8] {
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        func isWordish(_ b: UInt8) -> Bool {
            isDigit(b) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b == 47 || b == 46
        }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if isDigit(bytes[i]), i == 0 || !isWordish(bytes[i - 1]) {
                var j = i
                while j < bytes.count && isDigit(bytes[j]) { j += 1 }
                if (3...4).contains(j - i), j == bytes.count || !isWordish(bytes[j]) {
                    out += Array("•••".utf8)
                    i = j
                    continue
                }
                out += bytes[i..<j]
                i = j
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}
