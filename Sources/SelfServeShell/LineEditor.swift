@preconcurrency import CEditline
import CSupport
import Foundation
import SelfServeCore

/// libedit's readline interface: prompt, history file, Tab completion, `~/.editrc`.
///
/// libedit calls back through plain C function pointers that cannot capture context, so the one
/// completion function lives in a global; the shell is the only line editor of the process.
final class LineEditor {
    let historyFile: String
    static let historySize: Int32 = 2000

    init(historyFile: String, completer: @escaping (String, String) -> [String]) {
        self.historyFile = historyFile
        activeCompleter = completer
        // The name `~/.editrc` sections refer to (`selfserve:bind …`).
        rl_readline_name = UnsafePointer(strdup("selfserve"))
        rl_attempted_completion_function = completeLine
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n\"'"))
        using_history()
        stifle_history(Self.historySize)
        Self.ensurePrivateFile(historyFile)
        _ = read_history(historyFile)
        // libedit has read ~/.editrc by now (using_history initializes it). Tab completes in whichever
        // keymap that left: `bind -v` switches to vi, whose insert map would insert a literal tab.
        _ = rl_parse_and_bind("bind ^I rl_complete")
        _ = rl_parse_and_bind("bind -a ^I rl_complete")
    }

    /// A line, or nil at end of input (Ctrl-D). `interrupted` tells Ctrl-C apart from Ctrl-D.
    func readLine(prompt: String) -> (line: String?, interrupted: Bool) {
        ss_sigint_clear()
        guard let raw = readline(prompt) else {
            let interrupted = ss_sigint_received() != 0
            ss_sigint_clear()
            return (nil, interrupted)
        }
        defer { free(raw) }
        let interrupted = ss_sigint_received() != 0
        ss_sigint_clear()
        return (String(cString: raw), interrupted)
    }

    /// Adds a line to the history, unless it holds a card number: such a line is never written.
    func add(_ entry: String) {
        guard !CardData.containsCardNumber(entry) else { return }
        _ = add_history(entry)
        _ = write_history(historyFile)
        chmod(historyFile, 0o600)
    }

    var entries: [String] {
        var out: [String] = []
        let n = history_length
        for i in 0..<n {
            if let e = history_get(history_base + i), let line = e.pointee.line { out.append(String(cString: line)) }
        }
        return out
    }

    /// History holds commands people typed: readable by its owner only, created before libedit writes it.
    static func ensurePrivateFile(_ path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: dir,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        chmod(path, 0o600)
    }
}

nonisolated(unsafe) private var activeCompleter: ((String, String) -> [String])?

/// libedit's completion entry point: the candidates for the word between `start` and `end`,
/// as a NULL-terminated array whose first entry is their common prefix. libedit frees it all.
private func completeLine(
    _ text: UnsafePointer<CChar>?,
    _ start: Int32,
    _ end: Int32
) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    rl_attempted_completion_over = 1
    guard let text, let completer = activeCompleter else { return nil }
    let word = String(cString: text)
    var before = ""
    if let buffer = rl_line_buffer {
        let bytes = Array(
            UnsafeBufferPointer(
                start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                count: Int(strlen(buffer))
            )
        )
        before = String(decoding: bytes.prefix(max(0, Int(start))), as: UTF8.self)
    }
    let candidates = completer(before, word)
    guard !candidates.isEmpty else { return nil }
    var common = candidates[0]
    for c in candidates.dropFirst() {
        while !c.hasPrefix(common) { common.removeLast() }
    }
    // malloc'd, since libedit frees it with free(): [common prefix, each candidate…, NULL]. A single
    // match is [it, it, NULL]: libedit reads matches[2] to recognise it and append a space.
    let array = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (candidates.count + 2))!.bindMemory(
        to: UnsafeMutablePointer<CChar>?.self,
        capacity: candidates.count + 2
    )
    array[0] = strdup(common)
    for (i, c) in candidates.enumerated() { array[i + 1] = strdup(c) }
    array[candidates.count + 1] = nil
    return array
}
