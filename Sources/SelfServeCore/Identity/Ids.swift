/// Opaque ids with a type prefix (`sub_…`, `pm_…`, `ba_…`, `bp_…`, `inv_…`).
public enum IdKind: String, Sendable, CaseIterable {
    case subscription = "sub"
    case paymentMethod = "pm"
    case billingAccount = "ba"
    case billingProfile = "bp"
    case invoice = "inv"
}

/// Makes ids. Random by default; a seeded generator makes demo and benchmark data reproducible.
public struct IdGenerator: Sendable {
    private static let alphabet = Array("0123456789abcdefghijkmnpqrstuvwxyz".utf8)
    private var state: UInt64?

    public init(seed: UInt64? = nil) { state = seed }

    public mutating func make(_ kind: IdKind) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(14)
        guard var s = state else {
            // Two system random numbers, seven characters from each (34⁷ < 2⁶⁴; the modulo bias is
            // below 10⁻⁸): one getrandom call per character made ids cost a system call each.
            for var r in [UInt64.random(in: 0...UInt64.max), UInt64.random(in: 0...UInt64.max)] {
                for _ in 0..<7 {
                    bytes.append(Self.alphabet[Int(r % UInt64(Self.alphabet.count))])
                    r /= UInt64(Self.alphabet.count)
                }
            }
            return kind.rawValue + "_" + String(decoding: bytes, as: UTF8.self)
        }
        for _ in 0..<14 {
            // splitmix64: small, fast, good enough for reproducible fixture ids.
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes.append(Self.alphabet[Int((z ^ (z >> 31)) % UInt64(Self.alphabet.count))])
        }
        state = s
        return kind.rawValue + "_" + String(decoding: bytes, as: UTF8.self)
    }
}
