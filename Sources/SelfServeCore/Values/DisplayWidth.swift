/// How many terminal columns text takes: East Asian wide and fullwidth characters and emoji take two,
/// combining marks and joiners none, everything else one. Aligning by `count` (characters) would
/// misalign every column after a CJK name or an emoji.
public enum DisplayWidth {
    public static func of(_ text: String) -> Int {
        // Printable ASCII, most of what tables hold: one column a byte, without the Unicode property
        // lookups of each character below.
        if text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return text.utf8.count }
        var total = 0
        for ch in text {
            let scalars = ch.unicodeScalars
            guard let first = scalars.first else { continue }
            if scalars.contains(where: { $0.properties.isEmojiPresentation })
                || (scalars.contains { $0.value == 0xFE0F } && first.properties.isEmoji)
            {
                total += 2
            } else if isWide(first.value) {
                total += 2
            } else if first.properties.generalCategory == .nonspacingMark
                || first.properties.generalCategory == .enclosingMark
                || first.value == 0x200B || first.value == 0x200D
            {
                continue
            } else {
                total += 1
            }
        }
        return total
    }

    /// `text` followed by spaces up to `width` columns.
    public static func padded(_ text: String, to width: Int) -> String {
        let w = of(text)
        return w >= width ? text : text + String(repeating: " ", count: width - w)
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
