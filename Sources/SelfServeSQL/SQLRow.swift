import SelfServeCore

/// One row of a result: its columns' names and values.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column` as `T`; a missing column or a value that is not a `T` is an error.
    public func decode<T: SQLValueConvertible>(_ type: T.Type = T.self, forColumn column: String) throws -> T {
        guard let i = columns.firstIndex(of: column) else { throw SQLDecodingError(column: column, value: nil) }
        guard let value = T.fromSQL(values[i]) else { throw SQLDecodingError(column: column, value: values[i]) }
        return value
    }
}

/// A stored value this version cannot read (reported as a damaged database, never defaulted).
public struct SQLDecodingError: Error, CustomStringConvertible {
    public let column: String
    public let value: SQLValue?

    /// The error users see: the database named, the value refused, never a default guessed for it.
    public func selfServeError(in location: String) -> SelfServeError {
        .invalid(
            "\(location) holds a value selfserve cannot read (\(self)); it was changed outside selfserve or is damaged"
        )
    }

    public var description: String {
        guard let value else { return "no column \(column)" }
        return "column \(column) holds \(value.text.map { "'\($0.prefix(40))'" } ?? "NULL")"
    }
}
