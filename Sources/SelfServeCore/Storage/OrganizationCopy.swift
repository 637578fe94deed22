/// What `copy --to` found on each side: rows per table and invoice totals per currency. The copy is
/// kept only when both sides agree.
public struct OrganizationCopy: Sendable, Equatable {
    public struct Side: Sendable, Equatable {
        /// Where the database is, as the person named it (passwords never shown).
        public var database: String
        /// Rows per table, in the order the tables are copied.
        public var counts: [TableCount]
        /// The sum of every invoice per currency, sorted by currency.
        public var invoiceTotals: [Money]
        /// The licenses assigned over all subscriptions (the stored counters, recounted on the target).
        public var licensesAssigned: Int64

        public init(database: String, counts: [TableCount], invoiceTotals: [Money], licensesAssigned: Int64) {
            self.database = database
            self.counts = counts
            self.invoiceTotals = invoiceTotals
            self.licensesAssigned = licensesAssigned
        }

        /// Whether two sides hold the same organization as far as the copy can tell (not where they are).
        public func agrees(with other: Side) -> Bool {
            counts == other.counts && invoiceTotals == other.invoiceTotals && licensesAssigned == other.licensesAssigned
        }

        /// Rows in every table together.
        public var rows: Int64 { counts.reduce(0) { $0 + $1.rows } }

        /// Whether nothing is stored yet (a new file, an empty database with only the schema).
        public var isEmpty: Bool { rows == 0 }
    }

    public struct TableCount: Sendable, Equatable {
        public var table: String
        public var rows: Int64
        public init(table: String, rows: Int64) {
            self.table = table
            self.rows = rows
        }
    }

    public var source: Side
    public var target: Side

    public init(source: Side, target: Side) {
        self.source = source
        self.target = target
    }
}
