/// Plain data: what commands return, what the output formats render, what the audit log's details hold
/// and what Lua sees as tables. Never live objects. Objects keep their keys in order, so that table columns
/// and JSON read in a stable, documented field order.
///
/// Not `indirect`: arrays and objects already hold their elements on the heap, and an indirect case
/// boxes every scalar too (an allocation per field of every row printed).
public enum PlainValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([PlainValue])
    /// Keys keep their order, so that tables print as written.
    case object([(String, PlainValue)])

    public static func == (a: PlainValue, b: PlainValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(i)
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o):
            for (k, v) in o {
                hasher.combine(k)
                hasher.combine(v)
            }
        }
    }

    public subscript(key: String) -> PlainValue? {
        if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
        return nil
    }
}

extension PlainValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PlainValue {
    public init(_ s: String?) { self = s.map { .string($0) } ?? .null }
    public init(_ i: Int) { self = .int(Int64(i)) }
    public init(_ d: Day?) { self = d.map { .string($0.description) } ?? .null }
    /// Money as JSON output carries it: a decimal string with two decimals.
    public init(_ m: Money) { self = .string(m.decimalString) }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }
    public var arrayValue: [PlainValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    public var objectValue: [(String, PlainValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}

extension PlainValue {
    /// The value as Lua's `print` and `ss.log` show it: strings bare, `nil` for null, JSON for structures.
    public var printed: String {
        switch self {
        case .null: return "nil"
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        default: return JSON.write(self)
        }
    }
}
