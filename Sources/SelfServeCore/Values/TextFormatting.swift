// Small text helpers in plain Swift.
//
// Foundation's `String(format:)` and `trimmingCharacters(in:)` are correct but expensive the first
// time a process uses them: varargs formatting casts every argument to several protocols, and each
// first-time protocol lookup scans every conformance record of the binary (~2.5M instructions in a
// one-shot `selfserve` call); trimming bridges through NSString (~1M). A one-shot command pays that on
// every run, so the code that every command reaches uses these instead.

extension BinaryInteger {
    /// The number's digits, left-padded with zeros to `width`: `7.zeroPadded(2)` is `"07"`, like
    /// `String(format: "%02d", 7)`. A negative number keeps its sign in front of the padding.
    public func zeroPadded(_ width: Int, radix: Int = 10, uppercase: Bool = false) -> String {
        // Written from the right into the string's own bytes (one string, inline when short): dates are
        // printed this way, millions of times in a billing run's catch-up, where three strings each were
        // a tenth of the run.
        let base = Magnitude(radix)
        var digitCount = 1
        var rest = magnitude / base
        while rest != 0 {
            digitCount += 1
            rest /= base
        }
        let sign = self < 0 ? 1 : 0
        let count = sign + Swift.max(width, digitCount)
        return String(unsafeUninitializedCapacity: count) { bytes in
            var value = magnitude
            var i = count
            repeat {
                i -= 1
                bytes[i] = asciiDigit(UInt8(value % base), uppercase: uppercase)
                value /= base
            } while value != 0
            while i > sign {
                i -= 1
                bytes[i] = UInt8(ascii: "0")
            }
            if sign == 1 { bytes[0] = UInt8(ascii: "-") }
            return count
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal, two digits per byte (key material, hashes, fingerprints).
    public var hexDigits: String {
        // Two digits per byte into one buffer: a batch hashes every line it runs (`--resume`), where a
        // String per byte cost more than the hash.
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(asciiDigit(byte >> 4))
            out.append(asciiDigit(byte & 0x0f))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The ASCII character of one digit (0…35) in any radix up to 36: `0`–`9`, then letters.
private func asciiDigit(_ digit: UInt8, uppercase: Bool = false) -> UInt8 {
    digit < 10 ? UInt8(ascii: "0") + digit : (uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")) + digit - 10
}

extension StringProtocol {
    /// Without leading and trailing white space, newlines included (`Character.isWhitespace`).
    public var trimmed: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace }) ?? first
        return String(self[first...last])
    }
}
