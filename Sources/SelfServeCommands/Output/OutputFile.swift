import Foundation
import SelfServeCore

#if canImport(Glibc)
import Glibc
#endif

/// Writing a file the user named (`invoice export --out`), by the rules people expect of a careful CLI:
/// a new file is created 0600 (an invoice is private); an existing regular file is replaced only with
/// `--force`, atomically (a new file renamed over it, so a crash leaves the old one or the new one);
/// a symbolic link, FIFO, device or directory is never replaced or written through.
enum OutputFile {
    static func write(_ text: String, to path: String, force: Bool) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                guard force else { throw SelfServeError.conflict("\(path) exists; pass --force to replace it") }
            case S_IFLNK:
                throw SelfServeError.invalid("\(path) is a symbolic link; it is never written through or replaced")
            case S_IFDIR: throw SelfServeError.invalid("\(path) is a directory; name a file")
            case S_IFIFO:
                throw SelfServeError.invalid("\(path) is a FIFO; it is never replaced (use --out - for stdout)")
            case S_IFCHR, S_IFBLK:
                throw SelfServeError.invalid("\(path) is a device; it is never replaced (use --out - for stdout)")
            default: throw SelfServeError.invalid("\(path) is not a regular file; it is never replaced")
            }
        } else if errno != ENOENT {
            throw SelfServeError.invalid("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let temp = (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SelfServeError.invalid("cannot write \(path): \(String(cString: strerror(errno)))") }
        var ok = true
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                ok = false
                break
            }
            written += n
        }
        if ok && fsync(fd) != 0 { ok = false }
        let reason = String(cString: strerror(errno))
        Glibc.close(fd)
        guard ok, rename(temp, path) == 0 else {
            let why = ok ? String(cString: strerror(errno)) : reason
            unlink(temp)
            throw SelfServeError.invalid("cannot write \(path): \(why)")
        }
    }
}
