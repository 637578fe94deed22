import Foundation
@_spi(Reflection) import Swift

// ArgumentParser finds a command's arguments by reflecting a fresh instance (`Mirror(reflecting:)`),
// twice per parse. The runtime's own reflection of a struct costs a one-shot command twice:
// - it decodes each field's type from its mangled name on every reflection (12,000 instructions a field);
// - its children are a lazy map over `Range<Int>`, whose type-erasing box the runtime sets up the first
//   time with about eleven scans of every protocol conformance in the binary (7,200 records, ~270,000
//   instructions each): 2.9 M of the 12.1 M instructions of `selfserve whoami`.
// Commands answer `customMirror` instead, from a table of their stored properties built once per type
// (names, offsets and types, from the same field records the runtime reads), with children in a
// collection whose box needs three such scans. The children are exactly the runtime's (a test compares
// them for every command), so ArgumentParser sees the same properties.

/// The children of a mirror: an array, as a collection of its own type with unconditional conformances.
/// The runtime sets up the type-erasing box of the first mirror's children with three conformance scans
/// for it, eleven for the runtime's own lazy map over `Range<Int>`, whose conformances are conditional
/// (the scans of `selfserve whoami`, counted).
public struct MirrorChildren: RandomAccessCollection {
    private let children: [Mirror.Child]
    public init(_ children: [Mirror.Child]) { self.children = children }
    public var startIndex: Int { 0 }
    public var endIndex: Int { children.count }
    public subscript(position: Int) -> Mirror.Child { children[position] }
}

/// One stored property of a struct: its name, where it is in the value, and its type.
struct StoredProperty {
    let label: String
    let offset: Int
    let type: Any.Type
}

/// The stored properties of struct types, read once per type and kept for the process.
enum StoredProperties {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var tables: [ObjectIdentifier: [StoredProperty]] = [:]

    static func of(_ type: Any.Type) -> [StoredProperty] {
        let key = ObjectIdentifier(type)
        lock.lock()
        defer { lock.unlock() }
        if let table = tables[key] { return table }
        var table: [StoredProperty] = []
        // The options spelled out: the default (`[]`) builds the option set from an array through a
        // generic initializer, one more first-time conformance scan.
        _forEachField(of: type, options: _EachFieldOptions(rawValue: 0)) { name, offset, fieldType, _ in
            table.append(StoredProperty(label: String(cString: name), offset: offset, type: fieldType))
            return true
        }
        tables[key] = table
        return table
    }
}

extension Mirror {
    /// The mirror the runtime would make of a struct — its stored properties, in order, under their
    /// names — from the type's table, without decoding a type. Only for structs: a class's properties
    /// are not in the value.
    init<Subject>(storedPropertiesOf subject: Subject) {
        let table = StoredProperties.of(Subject.self)
        var children: [Mirror.Child] = []
        children.reserveCapacity(table.count)
        withUnsafeBytes(of: subject) { bytes in
            for property in table {
                children.append((property.label, bytes.copy(at: property.offset, as: property.type)))
            }
        }
        self.init(subject, children: MirrorChildren(children), displayStyle: .struct)
    }
}

extension UnsafeRawBufferPointer {
    /// A copy of the value of dynamic type `type` stored at `offset`.
    fileprivate func copy(at offset: Int, as type: Any.Type) -> Any {
        func load<T>(_: T.Type) -> Any { self.load(fromByteOffset: offset, as: T.self) }
        return load(type)
    }
}
