import Foundation
import SelfServePostgres
import XCTest

/// The throwaway PostgreSQL cluster `scripts/test` starts (`scripts/pg-cluster`) and names in
/// `SELFSERVE_TEST_PG`. Without one, a test that needs it is skipped with a message — and fails, at the
/// caller's line, under CI or `SELFSERVE_REQUIRE_PG=1`: never a silent pass.
enum TestCluster {
    /// The URI of the cluster's `postgres` database.
    static func server(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let server = env["SELFSERVE_TEST_PG"], !server.isEmpty else {
            if env["CI"] != nil || env["SELFSERVE_REQUIRE_PG"] == "1" {
                XCTFail(
                    "no PostgreSQL test cluster (SELFSERVE_TEST_PG is unset): run the tests with scripts/test",
                    file: file,
                    line: line
                )
            }
            throw XCTSkip("no PostgreSQL test cluster: scripts/test starts one (SELFSERVE_TEST_PG)")
        }
        return server
    }

    /// A new, empty database on the cluster (named `PREFIX_…`), and its URI.
    static func freshDatabase(_ prefix: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let server = try server(file: file, line: line)
        let name = prefix + "_" + UUID().uuidString.prefix(8).lowercased()
        try PGConnection(server).execute("CREATE DATABASE \(name)")
        return server.replacingOccurrences(of: "postgresql:///postgres", with: "postgresql:///\(name)")
    }
}
