import Foundation
import SelfServeCore

#if canImport(Glibc)
import Glibc
#endif

/// The lines of a batch, from a file or stdin, as editors on every system write them: LF, CRLF and CR
/// all end a line, and a UTF-8 byte-order mark at the start is dropped. (Swift's `"\r\n"` is one
/// Character, so splitting a String on "\n" would read a Windows file as one line.) A line that is not
/// UTF-8 is an error naming it, never a line of replacement characters run as a command.
final class LineReader {
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private let fd: Int32?
    private var started = false

    /// Reads stdin (or another descriptor) as lines arrive.
    init(fd: Int32) { self.fd = fd }

    /// Reads a file's bytes, all in memory.
    init(bytes: [UInt8]) {
        fd = nil
        buffer = bytes
        atEnd = true
    }

    struct InvalidText: Error {}

    /// The next line without its end, nil at the end of the input.
    func next() throws -> String? {
        while true {
            if let end = buffer[position...].firstIndex(where: { $0 == 10 || $0 == 13 }) {
                // A CR at the end of what was read so far may be the first half of a CRLF.
                if buffer[end] == 13 && end + 1 == buffer.count && !atEnd {
                    fill()
                    continue
                }
                let line = Array(buffer[position..<end])
                position = end + (buffer[end] == 13 && end + 1 < buffer.count && buffer[end + 1] == 10 ? 2 : 1)
                return try decode(line)
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                let line = Array(buffer[position...])
                position = buffer.count
                return try decode(line)
            }
            fill()
        }
    }

    private func decode(_ bytes: [UInt8]) throws -> String {
        var bytes = bytes[...]
        if !started {
            started = true
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw InvalidText() }
        return text
    }

    private func fill() {
        guard let fd else {
            atEnd = true
            return
        }
        if position > 65536 {
            buffer.removeFirst(position)
            position = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                atEnd = true
                return
            }
            buffer += chunk[..<n]
            return
        }
    }
}
