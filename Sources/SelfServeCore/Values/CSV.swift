/// RFC 4180 CSV: reading with the line number where each record starts, and writing with quoting.
public enum CSV {
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String]
    }

    public static func parse(_ text: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowStart = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        var i = chars.startIndex
        var atFieldStart = true
        while i < chars.endIndex {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.endIndex && chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && atFieldStart {
                inQuotes = true
            } else if c == "," {
                fields.append(field)
                field = ""
                atFieldStart = true
                i += 1
                continue
            } else if c == "\n" || c == "\r" {
                if c == "\r" && i + 1 < chars.endIndex && chars[i + 1] == "\n" { i += 1 }
                fields.append(field)
                rows.append(Row(line: rowStart, fields: fields))
                fields = []
                field = ""
                line += 1
                rowStart = line
                atFieldStart = true
                i += 1
                continue
            } else if c == "\"" {
                throw SelfServeError.invalid("line \(line): a quote inside an unquoted field")
            } else {
                field.unicodeScalars.append(c)
            }
            atFieldStart = false
            i += 1
        }
        if inQuotes { throw SelfServeError.invalid("line \(rowStart): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append(Row(line: rowStart, fields: fields))
        }
        return rows
    }

    /// A text cell as spreadsheets may open it: one starting with `=`, `+`, `-`, `@`, TAB or CR is
    /// prefixed with `'`, so that it is never run as a formula. Numbers (`-52.00`) are left as they are.
    public static func neutralized(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return cell }
        if isNumber(cell) { return cell }
        return "'" + cell
    }

    static func isNumber(_ s: String) -> Bool {
        var digits = 0
        var dots = 0
        for (i, c) in s.utf8.enumerated() {
            if c >= 48 && c <= 57 {
                digits += 1
            } else if c == 46 {
                dots += 1
            } else if !(i == 0 && (c == 45 || c == 43)) {
                return false
            }
        }
        return digits > 0 && dots <= 1
    }

    /// One record, fields quoted when they hold a comma, quote, or line break.
    public static func record(_ fields: [String]) -> String {
        fields.map { f in
            if f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || f.hasPrefix(" ")
                || f.hasSuffix(" ")
            {
                return "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return f
        }.joined(separator: ",")
    }
}
