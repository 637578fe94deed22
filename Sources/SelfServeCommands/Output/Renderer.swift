import SelfServeCore

/// Turns command results into text for stdout: one place for every format.
///
/// Tables are for people: aligned, fitted to the terminal, control characters escaped. JSON, NDJSON
/// and CSV are for programs: every field, nothing truncated.
public struct Renderer: Sendable {
    public var format: OutputFormat
    /// The terminal's width when stdout is one; nil means never truncate.
    public var width: Int?
    /// Pretty-printed JSON (on a terminal).
    public var prettyJSON: Bool

    public init(format: OutputFormat, width: Int? = nil, prettyJSON: Bool = false) {
        self.format = format
        self.width = width
        self.prettyJSON = prettyJSON
    }

    /// The text for stdout, with its final newline, or "" when there is nothing to print.
    public func render(_ result: CommandResult) -> String {
        if result.streamed { return "" }
        // By bytes: in Swift "\r\n" is one Character, which `hasSuffix("\n")` does not see.
        if let text = result.text { return text.utf8.last == UInt8(ascii: "\n") || text.isEmpty ? text : text + "\n" }
        if case .none = result.shape, format == .table { return "" }
        switch format {
        case .json:
            if case .none = result.shape {
                return result.value.isNull ? "" : JSON.write(result.value, pretty: prettyJSON) + "\n"
            }
            return JSON.write(result.value, pretty: prettyJSON) + "\n"
        case .ndjson:
            if let items = result.value.arrayValue { return items.map { JSON.write($0) + "\n" }.joined() }
            return result.value.isNull ? "" : JSON.write(result.value) + "\n"
        case .csv:
            if let rows = result.tableRows { return csv(.array(rows), columns: result.columns) }
            return csv(result.value, columns: result.columns)
        case .html:
            return JSON.write(result.value, pretty: true) + "\n"  // refused earlier by the executor
        case .table:
            if let rows = result.tableRows { return table(rows, columns: result.columns) }
            switch result.shape {
            case .created(let id): return Sanitize.forDisplay(id) + "\n"
            case .list: return table(result.value.arrayValue ?? [result.value], columns: result.columns)
            case .object, .none: return vertical(result.value)
            }
        }
    }

    /// Writes streamed rows as they come (JSON, NDJSON, CSV); a table needs every width first.
    public func renderStream(_ result: CommandResult, write: (String) -> Void) throws {
        guard let stream = result.stream else {
            write(render(result))
            return
        }
        if let field = result.streamedField {
            return try renderStreamedField(field, of: result, stream, write: write)
        }
        switch format {
        case .json, .html:
            var first = true
            write("[")
            try stream { row in
                write((first ? "" : ",") + JSON.write(row))
                first = false
            }
            write("]\n")
        case .ndjson:
            try stream { write(JSON.write($0) + "\n") }
        case .csv:
            var columns = result.columns
            if let columns { write(CSV.record(columns) + "\r\n") }
            try stream { row in
                if columns == nil {
                    columns = Self.columns([row])
                    write(CSV.record(columns!) + "\r\n")
                }
                write(CSV.record(columns!.map { csvCell(row[$0] ?? .null) }) + "\r\n")
            }
        case .table:
            var rows: [PlainValue] = []
            try stream { rows.append($0) }
            write(table(rows, columns: result.columns))
        }
    }

    /// An object whose field `field` streams: in JSON and NDJSON the object with that list last, in
    /// CSV the list's rows, in a table the object with how many rows there were (the list itself is
    /// for programs; a table would have to hold it to size its columns).
    private func renderStreamedField(
        _ field: String,
        of result: CommandResult,
        _ stream: @escaping ((PlainValue) throws -> Void) throws -> Void,
        write: (String) -> Void
    ) throws {
        let fields = result.value.objectValue ?? []
        switch format {
        case .json, .ndjson, .html:
            var head = "{"
            for (key, value) in fields { head += JSON.write(.string(key)) + ":" + JSON.write(value) + "," }
            write(head + JSON.write(.string(field)) + ":[")
            var first = true
            try stream { row in
                write((first ? "" : ",") + JSON.write(row))
                first = false
            }
            write("]}\n")
        case .csv:
            let columns = result.columns ?? []
            write(CSV.record(columns) + "\r\n")
            try stream { row in write(CSV.record(columns.map { csvCell(row[$0] ?? .null) }) + "\r\n") }
        case .table:
            var count = 0
            try stream { _ in count += 1 }
            write(vertical(.object(fields + [(field, PlainValue(count))])))
        }
    }

    // MARK: CSV

    func csv(_ value: PlainValue, columns declared: [String]? = nil) -> String {
        let rows = value.arrayValue ?? (value.isNull ? [] : [value])
        let columns = Self.columns(rows, declared: declared)
        guard !columns.isEmpty else { return "" }
        var out = CSV.record(columns) + "\r\n"
        for row in rows {
            out += CSV.record(columns.map { csvCell(row[$0] ?? .null) }) + "\r\n"
        }
        return out
    }

    /// A CSV cell: stored text neutralized for spreadsheets, and its control characters escaped when
    /// stdout is a terminal (`width` is set only then).
    func csvCell(_ v: PlainValue) -> String {
        var text = Self.plainText(v)
        if case .string = v { text = CSV.neutralized(text) }
        return width == nil ? text : Sanitize.forDisplay(text)
    }

    // MARK: Tables

    /// The declared columns first (every one, even when no row has it), then any other field a row has.
    static func columns(_ rows: [PlainValue], declared: [String]? = nil) -> [String] {
        var seen = Set<String>(declared ?? [])
        var columns: [String] = declared ?? []
        for row in rows {
            guard let pairs = row.objectValue else { continue }
            for (k, _) in pairs where seen.insert(k).inserted { columns.append(k) }
        }
        if columns.isEmpty && !rows.isEmpty { return ["value"] }
        return columns
    }

    /// A cell's text: as Lua's `print` shows a value, except that null is empty and a list of strings
    /// reads as "a, b".
    public static func plainText(_ v: PlainValue) -> String {
        switch v {
        case .null: return ""
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
            return items.compactMap(\.stringValue).joined(separator: ", ")
        default: return v.printed
        }
    }

    /// Rows as aligned columns; when they do not fit the terminal, one record after another with a
    /// field per line (psql's `\\x auto`). Nothing is ever cut: ids must stay copyable.
    func table(_ rows: [PlainValue], columns declared: [String]? = nil) -> String {
        if rows.isEmpty { return "" }
        let columns = Self.columns(rows, declared: declared)
        let cells: [[String]] = rows.map { row in
            if row.objectValue == nil { return [Sanitize.forDisplay(Self.plainText(row))] }
            return columns.map { Sanitize.forDisplay(Self.plainText(row[$0] ?? .null)) }
        }
        let headers = columns.map { $0.uppercased() }
        var widths = headers.map(DisplayWidth.of)
        for r in cells {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], DisplayWidth.of(c)) }
        }
        if let width, widths.reduce(0, +) + 2 * max(0, widths.count - 1) > width,
            rows.allSatisfy({ $0.objectValue != nil })
        {
            return expanded(headers: columns, cells: cells)
        }
        var out = line(headers, widths)
        for r in cells { out += line(r, widths) }
        return out
    }

    /// psql's expanded display: `-[ RECORD 1 ]-` and `field | value` lines.
    func expanded(headers: [String], cells: [[String]]) -> String {
        let keyWidth = headers.map(DisplayWidth.of).max() ?? 0
        var out = ""
        for (n, r) in cells.enumerated() {
            out +=
                "-[ RECORD \(n + 1) ]"
                + String(repeating: "-", count: max(0, min(width ?? 40, 40) - 13 - String(n + 1).count)) + "\n"
            for (k, v) in zip(headers, r) { out += DisplayWidth.padded(k, to: keyWidth) + " | " + v + "\n" }
        }
        return out
    }

    func line(_ cells: [String], _ widths: [Int]) -> String {
        var parts: [String] = []
        for (i, c) in cells.enumerated() {
            parts.append(i == cells.count - 1 ? c : DisplayWidth.padded(c, to: i < widths.count ? widths[i] : 0))
        }
        return parts.joined(separator: "  ") + "\n"
    }

    /// One object: `key  value` lines; lists of objects inside it follow as tables of their own.
    func vertical(_ value: PlainValue) -> String {
        guard let pairs = value.objectValue else {
            return value.isNull ? "" : Sanitize.forDisplay(Self.plainText(value)) + "\n"
        }
        let keyWidth = pairs.map { DisplayWidth.of($0.0) }.max() ?? 0
        var out = ""
        var nested = ""
        for (k, v) in pairs {
            if let items = v.arrayValue, items.contains(where: { $0.objectValue != nil }) {
                nested += "\n\(k) (\(items.count)):\n" + table(items)
                continue
            }
            if let obj = v.objectValue, !obj.isEmpty, k != "details" {
                let text = obj.compactMap { $0.1.isNull ? nil : Self.plainText($0.1) }.joined(separator: ", ")
                out += DisplayWidth.padded(k, to: keyWidth) + "  " + Sanitize.forDisplay(text) + "\n"
                continue
            }
            // Multi-line text (a plugin's source) keeps its lines.
            out +=
                DisplayWidth.padded(k, to: keyWidth) + "  " + Sanitize.forDisplayKeepingNewlines(Self.plainText(v))
                + "\n"
        }
        return out + nested
    }
}

/// How errors are printed on stderr: `FILE:LINE: error: …` in batches, `{"error": {code, message}}` with `--json`.
public enum ErrorReport {
    /// `error: …`, `FILE:LINE: error: …`, or the JSON error object with `--json`.
    /// Card numbers in a message (a card typed where a command was expected, say) are masked.
    public static func text(
        _ e: SelfServeError,
        json: Bool,
        file: String? = nil,
        line: Int? = nil,
        words: [String] = []
    ) -> String {
        var e = e
        e.message = CardData.masked(e.message, words: words)
        if json {
            var pairs: [(String, PlainValue)] = [("code", .string(e.code.rawValue)), ("message", .string(e.message))]
            if let p = e.plugin { pairs.append(("plugin", .string(p))) }
            if let line { pairs.append(("line", PlainValue(line))) }
            return JSON.write(.object([("error", .object(pairs))]))
        }
        let message = Sanitize.forDisplayKeepingNewlines(e.message)
        if let file, let line { return "\(file):\(line): error: \(message)" }
        return "error: \(message)"
    }

    /// Whether the words ask for JSON output (`--json`, `--format json|ndjson`), for errors raised
    /// before or instead of a parsed command.
    public static func wantsJSON(_ words: [String], otherwise fallback: Bool = false) -> Bool {
        if words.contains("--json") { return true }
        if let i = words.firstIndex(of: "--format"), i + 1 < words.count {
            return words[i + 1] == "json" || words[i + 1] == "ndjson"
        }
        return fallback
    }
}
