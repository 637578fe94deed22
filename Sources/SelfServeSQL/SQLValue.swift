import SelfServeCore

/// A value as both SQL backends store it: SQLite's storage classes, PostgreSQL's text form read back.
public enum SQLValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The text PostgreSQL is sent (parameters go as text); nil for NULL.
    public var text: String? {
        switch self {
        case .null: return nil
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .text(let s): return s
        }
    }
}

/// A Swift value that is stored as one column. Decoding is strict: a value this version does not know
/// (a status, a day) fails the read — it never becomes a default that grants more than was stored.
public protocol SQLValueConvertible {
    var sqlValue: SQLValue { get }
    /// Nil when the stored value is not one of this type (PostgreSQL hands every value back as text).
    static func fromSQL(_ value: SQLValue) -> Self?
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public static func fromSQL(_ value: SQLValue) -> String? {
        if case .text(let s) = value { return s }
        return nil
    }
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public static func fromSQL(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let i): return i
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func fromSQL(_ value: SQLValue) -> Int? { Int64.fromSQL(value).flatMap { Int(exactly: $0) } }
}

/// Booleans are stored as 0 and 1 on both backends.
extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public static func fromSQL(_ value: SQLValue) -> Bool? {
        switch Int64.fromSQL(value) {
        case 0: return false
        case 1: return true
        default: return nil
        }
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { map { $0.sqlValue } ?? .null }
    public static func fromSQL(_ value: SQLValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        return Wrapped.fromSQL(value).map { .some($0) }
    }
}

/// A day is stored as its `YYYY-MM-DD` text, which sorts and compares in SQL as the day does.
extension Day: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(description) }
    public static func fromSQL(_ value: SQLValue) -> Day? { String.fromSQL(value).flatMap(Day.init) }
}

/// Stored enums: their raw text.
public protocol SQLTextEnum: SQLValueConvertible, RawRepresentable where RawValue == String {}

extension SQLTextEnum {
    public var sqlValue: SQLValue { .text(rawValue) }
    public static func fromSQL(_ value: SQLValue) -> Self? { String.fromSQL(value).flatMap(Self.init(rawValue:)) }
}

extension Subscription.Status: SQLTextEnum {}
extension Term: SQLTextEnum {}
extension SelfServicePolicy: SQLTextEnum {}
extension CardBrand: SQLTextEnum {}
extension Invoice.Status: SQLTextEnum {}
extension Organization.Cloud: SQLTextEnum {}
extension User.Kind: SQLTextEnum {}
extension User.Role: SQLTextEnum {}
extension User.Status: SQLTextEnum {}
extension AuditEntry.Outcome: SQLTextEnum {}

/// The parameters of a statement, written as an array literal of values (`[id, name, 3]`).
public struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [SQLValue]

    public init(arrayLiteral elements: (any SQLValueConvertible)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }

    public init(_ elements: [any SQLValueConvertible]) {
        values = elements.map(\.sqlValue)
    }

    /// Values as a row gave them (a copy passes them on untouched), or converted by their own types at
    /// the call site (`[id.sqlValue, total.sqlValue]`): statements run per row use that, as the array
    /// literal boxes each value in an existential (about 550 instructions a value).
    public init(values: [SQLValue]) { self.values = values }

    public static func + (a: SQLArguments, b: SQLArguments) -> SQLArguments {
        var c = a
        c.values += b.values
        return c
    }

    public static func += (a: inout SQLArguments, b: SQLArguments) { a.values += b.values }
}
