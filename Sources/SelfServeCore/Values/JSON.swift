import Foundation

/// JSON text for `PlainValue`, written by hand so that keys keep their order and large lists can be
/// streamed item by item.
public enum JSON {
    public static func write(_ value: PlainValue, pretty: Bool = false) -> String {
        // Into bytes, turned into a String once: appending to a String costs a check per piece.
        var out = JSONBytes(capacity: 256)
        write(value, into: &out, pretty: pretty, indent: 0)
        return out.string()
    }

    static func write(_ value: PlainValue, into out: inout JSONBytes, pretty: Bool, indent: Int) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .double(let d):
            if d.isFinite {
                out.append(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d))
            } else {
                out.append("null")
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append("[]")
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(into: &out, indent: indent + 1) }
                write(item, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(into: &out, indent: indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            if pairs.isEmpty {
                out.append("{}")
                return
            }
            out.append(UInt8(ascii: "{"))
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(into: &out, indent: indent + 1) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(item, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(into: &out, indent: indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(into out: inout JSONBytes, indent: Int) {
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<(2 * indent) { out.append(UInt8(ascii: " ")) }
    }

    /// A byte copied as it is: printable ASCII but the quote and the backslash, and every byte of a
    /// multi-byte character but 0xC2 (the first byte of a C1 control, U+0080…U+009F, looked at twice).
    @inline(__always) private static func isPlain(_ b: UInt8) -> Bool {
        if b >= 0x20 && b < 0x7F { return b != 0x22 && b != 0x5C }
        return b > 0x7F && b != 0xC2
    }

    /// Eight bytes that are all printable ASCII but the quote and the backslash. A byte below `n` sets
    /// its high bit in `(w - n…n) & ~w`, with no false report when no byte is below `n` (n ≤ 0x80); a
    /// byte equal to `c` is a zero byte of `w ^ c…c`.
    @inline(__always) private static func isPlainASCII(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasByteBelow(_ v: UInt64, _ n: UInt8) -> Bool {
            (v &- ones &* UInt64(n)) & ~v & highs != 0
        }
        @inline(__always) func hasByte(_ c: UInt8) -> Bool { hasByteBelow(w ^ (ones &* UInt64(c)), 1) }
        return w & highs == 0 && !hasByteBelow(w, 0x20) && !hasByte(0x22) && !hasByte(0x5C) && !hasByte(0x7F)
    }

    /// A JSON string: quotes, backslashes and control characters (C0, DEL and C1) escaped, everything
    /// else copied as it is, a run of plain bytes at a time (one copy for most strings).
    static func writeString(_ s: String, into out: inout JSONBytes) {
        out.append(UInt8(ascii: "\""))
        if s.utf8.withContiguousStorageIfAvailable({ writeEscaped($0, into: &out) }) == nil {
            var s = s
            s.withUTF8 { writeEscaped($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout JSONBytes) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        // A string shorter than a word (most keys), padded with spaces: one test instead of a test a byte.
        if count < 8 {
            var word: UInt64 = 0x2020_2020_2020_2020
            withUnsafeMutableBytes(of: &word) { $0.baseAddress!.copyMemory(from: base, byteCount: count) }
            if isPlainASCII(word) {
                out.append(bytes)
                return
            }
        }
        var plain = 0  // the first byte not yet copied
        var i = 0
        while i < count {
            // Eight bytes at a time while they are all plain ASCII (emails, ids, dates): a word test is
            // a dozen instructions where a byte test is six a byte.
            while i + 8 <= count && isPlainASCII(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                i += 8
            }
            // Fewer than eight left of a string of eight or more: the eight that end it, which hold them.
            if i < count && count - i < 8 && count >= 8
                && isPlainASCII(UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self))
            {
                i = count
            }
            guard i < count else { break }
            let b = base[i]
            if isPlain(b) {
                i += 1
                continue
            }
            let escaped: String
            var n = 1
            switch b {
            case UInt8(ascii: "\""): escaped = "\\\""
            case UInt8(ascii: "\\"): escaped = "\\\\"
            case UInt8(ascii: "\n"): escaped = "\\n"
            case UInt8(ascii: "\r"): escaped = "\\r"
            case UInt8(ascii: "\t"): escaped = "\\t"
            case 0..<0x20, 0x7F: escaped = "\\u" + UInt32(b).zeroPadded(4, radix: 16)
            // U+0080…U+009F (C1 controls) are 0xC2 0x80…0x9F in UTF-8.
            case 0xC2 where i + 1 < count && (0x80...0x9F).contains(base[i + 1]):
                escaped = "\\u" + UInt32(base[i + 1]).zeroPadded(4, radix: 16)
                n = 2
            default:
                i += 1
                continue
            }
            out.append(UnsafeBufferPointer(start: base + plain, count: i - plain))
            out.append(escaped)
            i += n
            plain = i
        }
        out.append(UnsafeBufferPointer(start: base + plain, count: count - plain))
    }

    /// Parses JSON text (for `product import` and stored audit details), keeping the order of keys.
    public static func parse(_ text: String) throws -> PlainValue {
        var parser = JSONParser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> SelfServeError {
        // Line and column of the problem, as an editor shows them.
        var line = 1
        var column = 1
        for b in bytes[..<min(index, bytes.count)] {
            if b == 10 {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return .invalid("not valid JSON at line \(line), column \(column): \(message)")
    }

    mutating func skipSpace() {
        while index < bytes.count, [9, 10, 13, 32].contains(bytes[index]) { index += 1 }
    }

    mutating func value(depth: Int) throws -> PlainValue {
        guard depth < 200 else { throw error("nested too deeply") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var pairs: [(String, PlainValue)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a string key")
                }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipSpace()
                pairs.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(pairs)
                }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [PlainValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default:
            return try number()
        }
    }

    mutating func literal(_ word: String, _ value: PlainValue) throws -> PlainValue {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
            throw error("unexpected character")
        }
        index += w.count
        return value
    }

    mutating func number() throws -> PlainValue {
        let start = index
        while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty else { throw error("unexpected character") }
        if let i = Int64(text) { return .int(i) }
        if let d = Double(text), d.isFinite { return .double(d) }
        throw error("'\(text)' is not a number")
    }

    mutating func string() throws -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: "\"") {
                flush()
                return String(scalars)
            }
            if b < 0x20 { throw error("control character in a string") }
            if b != UInt8(ascii: "\\") {
                raw.append(b)
                continue
            }
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "n"): raw.append(10)
            case UInt8(ascii: "t"): raw.append(9)
            case UInt8(ascii: "r"): raw.append(13)
            case UInt8(ascii: "b"): raw.append(8)
            case UInt8(ascii: "f"): raw.append(12)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): raw.append(e)
            case UInt8(ascii: "u"):
                flush()
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: throw error("bad escape in a string")
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count,
            let v = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else {
            throw error("bad \\u escape")
        }
        index += 4
        return v
    }
}

/// The bytes of JSON text being written. Writing appends a byte or a few at a time, hundreds of thousands
/// of times in a batch of `subscription show --json`; an `[UInt8]` checks its uniqueness and its capacity
/// through the standard library on each append (a quarter of writing, callgrind), this buffer, which is
/// never shared, only its capacity.
struct JSONBytes: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        start = .allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    @inline(__always) mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: 1) }
        start[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if capacity - count < bytes.count { grow(toHold: bytes.count) }
        (start + count).initialize(from: base, count: bytes.count)
        count += bytes.count
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    private mutating func grow(toHold more: Int) {
        let larger = max(count + more, capacity * 2)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: start, count: count)
        start.deallocate()
        start = moved
        capacity = larger
    }

    consuming func string() -> String {
        String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }
}
