import SelfServeCore

/// The file formats of `invoice export`, and how an invoice looks in each.
enum ExportFormat: String, CaseIterable {
    case csv, json, html

    /// The invoice as a file of this format. CSV text cells are neutralized for spreadsheets; amounts
    /// are numbers and stay as they are. In HTML every stored text is escaped.
    func render(_ document: InvoiceDocument) -> String {
        let inv = document.invoice
        switch self {
        case .json:
            return JSON.write(Shapes.invoice(inv, lines: true), pretty: true) + "\n"
        case .csv:
            let id = inv.id
            let date = inv.date.description
            let currency = inv.total.currency
            var s =
                CSV.record([
                    "invoice", "date", "description", "subscription", "quantity", "unit_price", "amount", "currency",
                ]) + "\r\n"
            for l in inv.lines {
                s +=
                    CSV.record([
                        id, date, CSV.neutralized(l.description), CSV.neutralized(l.subscription ?? ""),
                        String(l.quantity),
                        l.unitPrice.decimalString, l.amount.decimalString, currency,
                    ]) + "\r\n"
            }
            return s + CSV.record([id, date, "Total", "", "", "", inv.total.decimalString, currency]) + "\r\n"
        case .html:
            return Self.html(document)
        }
    }

    /// A clean, printable page.
    static func html(_ document: InvoiceDocument) -> String {
        let inv = document.invoice
        let org = document.organization
        let me = document.billedTo
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let rows = inv.lines.map { l in
            "<tr><td>\(esc(l.description))</td><td>\(esc(l.subscription ?? ""))</td><td class=n>\(l.quantity)</td>"
                + "<td class=n>\(l.unitPrice.decimalString)</td><td class=n>\(l.amount.decimalString)</td></tr>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Invoice \(esc(inv.id))</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
            td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}.n{text-align:right}tfoot td{font-weight:bold}
            @media print{body{margin:0}}</style></head><body>
            <h1>Invoice \(esc(inv.id))</h1>
            <p>\(esc(org.name)) · billed to \(esc(me.name)) &lt;\(esc(me.email))&gt; · billing profile \(esc(inv.billingProfile))</p>
            <p>Date \(inv.date) · period \(inv.periodStart) to \(inv.periodEnd) · status \(inv.status.rawValue)</p>
            <table><thead><tr><th>Description</th><th>Subscription</th><th class=n>Quantity</th><th class=n>Unit price</th><th class=n>Amount</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            <tfoot><tr><td colspan=4>Total (\(esc(inv.total.currency)))</td><td class=n>\(inv.total.decimalString)</td></tr></tfoot></table>
            <p>Manage billing at <a href="\(org.cloud.portalURL)">\(org.cloud.portalURL)</a></p>
            </body></html>

            """
    }
}
