/// The tenant a database belongs to.
public struct Organization: Hashable, Sendable {
    public enum Cloud: String, Sendable, Codable, CaseIterable {
        case global
        /// Microsoft 365 operated by 21Vianet.
        case china

        public var portalURL: String {
            switch self {
            case .global: return "https://admin.microsoft.com"
            case .china: return "https://portal.partner.microsoftonline.cn"
            }
        }
    }

    public var name: String
    public var cloud: Cloud
    public var createdAt: String

    public init(name: String, cloud: Cloud, createdAt: String) {
        self.name = name
        self.cloud = cloud
        self.createdAt = createdAt
    }
}
