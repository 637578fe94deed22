import GRDB
import SelfServeCore

// The stored forms of Core's value types. GRDB gives every `RawRepresentable` with a storable raw
// value its conversion for free; what it adds over `Status(rawValue:) ?? .active` is that a value
// this version does not know fails the read (`RowDecodingError`, reported as a damaged database)
// instead of quietly becoming a default that grants more than was stored.

extension Subscription.Status: DatabaseValueConvertible {}
extension Term: DatabaseValueConvertible {}
extension SelfServicePolicy: DatabaseValueConvertible {}
extension CardBrand: DatabaseValueConvertible {}
extension Invoice.Status: DatabaseValueConvertible {}
extension Organization.Cloud: DatabaseValueConvertible {}
extension User.Kind: DatabaseValueConvertible {}
extension User.Role: DatabaseValueConvertible {}
extension User.Status: DatabaseValueConvertible {}
extension AuditEntry.Outcome: DatabaseValueConvertible {}

/// A day is stored as its `YYYY-MM-DD` text, which sorts and compares in SQL as the day does.
extension Day: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Day? {
        String.fromDatabaseValue(dbValue).flatMap(Day.init)
    }
}
