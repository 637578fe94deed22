import SelfServeCore

/// The file formats of `invoice export`.
enum ExportFormat: String, CaseIterable {
    case csv, json, html

    /// The invoice (its JSON shape, with lines) as a file of this format. CSV text cells are neutralized
    /// for spreadsheets; amounts are numbers and stay as they are.
    static func render(_ format: ExportFormat, invoice inv: PlainValue, html: () throws -> String) throws -> String {
        switch format {
        case .json:
            return JSON.write(inv, pretty: true) + "\n"
        case .html:
            return try html()
        case .csv:
            let id = inv["id"]?.stringValue ?? "", date = inv["date"]?.stringValue ?? "", currency = inv["currency"]?.stringValue ?? ""
            var s = CSV.record(["invoice", "date", "description", "subscription", "quantity", "unit_price", "amount", "currency"]) + "\r\n"
            for l in inv["lines"]?.arrayValue ?? [] {
                s += CSV.record([id, date, CSV.neutralized(l["description"]?.stringValue ?? ""), CSV.neutralized(l["subscription"]?.stringValue ?? ""),
                                 l["quantity"].map { Renderer.plainText($0) } ?? "", l["unit_price"]?.stringValue ?? "",
                                 l["amount"]?.stringValue ?? "", currency]) + "\r\n"
            }
            return s + CSV.record([id, date, "Total", "", "", "", inv["total"]?.stringValue ?? "", currency]) + "\r\n"
        }
    }
}
