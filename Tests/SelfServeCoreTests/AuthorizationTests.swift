import Foundation
import SelfServeCore
import SelfServeStore
import XCTest

/// The authorization rules (buyer, admin, others, guests) against a real temporary SQLite store, without the binary.
final class AuthorizationTests: XCTestCase {
    // XCTest makes an instance per test method: each test has a file of its own.
    let file = TemporaryDatabaseFile("auth")
    var path: String { file.path }

    override func tearDown() { file.remove() }

    func context(_ store: Store, _ actor: String?) -> CommandContext {
        CommandContext(
            store: store,
            clock: FixedClock(Day("2026-03-02")!.startDate),
            actorEmail: actor,
            ids: IdGenerator(seed: 1)
        )
    }

    /// The code of the `SelfServeError` that `body` throws, nil when it succeeds. Any other error (a
    /// database error, say) is a failure of the test at the caller's line, never a success.
    func code(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> SelfServeError.Code? {
        do {
            _ = try body()
            return nil
        } catch let e as SelfServeError {
            return e.code
        } catch {
            XCTFail("expected success or a SelfServeError, got \(error)", file: file, line: line)
            return .invalidArgument
        }
    }

    func testBuyerAdminAndOthers() throws {
        let db = try SQLiteDatabase(path: path, create: true)
        try db.read { store in
            let admin = context(store, "admin@c.com")
            _ = try admin.initialize(
                orgName: "C",
                adminEmail: "admin@c.com",
                adminName: nil,
                cloud: .global,
                fingerprintKey: [1, 2, 3]
            )
            _ = try admin.addUser(email: "bea@c.com", name: "Bea", guest: false, admin: false)
            _ = try admin.addUser(email: "olly@c.com", name: "Olly", guest: false, admin: false)
            _ = try admin.addUser(email: "gus@f.com", name: "Gus", guest: true, admin: false)
            let bea = context(store, "bea@c.com")
            _ = try bea.addPaymentMethod(
                CardInput(number: "4242424242424242", expiry: "12/29", securityCode: "123"),
                .init()
            )
            let sub = try bea.buy(product: "power-bi-pro", licenses: 5, term: nil, paymentMethod: nil).subscription.id

            XCTAssertNil(code { try bea.setLicenses(sub, total: 6) })
            XCTAssertEqual(code { try self.context(store, "admin@c.com").setLicenses(sub, total: 7) }, .forbidden)
            XCTAssertNil(code { try self.context(store, "admin@c.com").showSubscription(sub) })
            XCTAssertEqual(code { try self.context(store, "olly@c.com").showSubscription(sub) }, .notFound)
            XCTAssertEqual(
                code { try self.context(store, "olly@c.com").showSubscription("sub_doesnotexist") },
                .notFound
            )
            XCTAssertEqual(
                code { try self.context(store, "olly@c.com").adminPurchases(product: nil, buyer: nil, status: nil) },
                .forbidden
            )
            XCTAssertEqual(
                code {
                    try self.context(store, "gus@f.com").buy(
                        product: "power-bi-pro",
                        licenses: 1,
                        term: nil,
                        paymentMethod: nil
                    )
                },
                .forbidden
            )
            XCTAssertEqual(
                code { try self.context(store, "bea@c.com").assign(sub, emails: ["gus@f.com"]) },
                .invalidArgument
            )
            XCTAssertEqual(code { try self.context(store, nil).whoami() }, .notSignedIn)
            XCTAssertEqual(
                code {
                    try self.context(store, "olly@c.com").addUser(
                        email: "x@c.com",
                        name: "X",
                        guest: false,
                        admin: false
                    )
                },
                .forbidden
            )
            let pm = try XCTUnwrap(bea.listPaymentMethods().arrayValue?.first?["id"]?.stringValue)
            XCTAssertEqual(code { try self.context(store, "olly@c.com").showPaymentMethod(pm) }, .notFound)
        }
    }
}
