#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor: a batch of thousands of commands makes a few large writes,
/// not one system call per line. Flushed before every prompt, every error and at exit, so that stdout
/// and stderr interleave in the order things happened.
public final class OutputStream: @unchecked Sendable {
    public static let standardOutput = OutputStream(fd: 1)
    public static let standardError = OutputStream(fd: 2)

    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func writeLine(_ text: String) {
        write(text)
        write("\n")
    }

    public func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                break  // EPIPE and the like: the reader went away; nothing more to do.
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public var isTerminal: Bool { isatty(fd) == 1 }

    /// The terminal's width in columns, when this is a terminal.
    public var terminalWidth: Int? {
        guard isTerminal else { return nil }
        var ws = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return nil
    }
}
