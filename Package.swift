// swift-tools-version:6.2
import PackageDescription

/// Every warning is an error in this package's own code (not in its dependencies): the build is kept
/// at zero warnings.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "selfserve",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "selfserve", targets: ["selfserve"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian, wrapped with a shim header each.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .systemLibrary(
            name: "CEditline",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The few C functions that must be real C: the Lua trampolines that are the only
        // place allowed to raise Lua errors, the capped allocator, the limits of a call (budget,
        // deadline timer, SIGINT), the bounded pattern matcher, the charged library functions, and
        // SQLite's process-wide settings (`sqlite3_config` is variadic).
        .target(
            name: "CSupport",
            dependencies: ["CLua"],
            cSettings: [.treatAllWarnings(as: .error)]
        ),

        // Domain rules: no I/O, no SQLite, no Lua, an injected clock.
        .target(
            name: "SelfServeCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: strict
        ),
        // The store in SQL both backends accept, on a backend's session: the only place with queries.
        .target(
            name: "SelfServeSQL",
            dependencies: ["SelfServeCore"],
            swiftSettings: strict
        ),
        // SQLite (GRDB): the file, its schema and migrations, the SQL store's session on it.
        .target(
            name: "SelfServeStore",
            dependencies: [
                "SelfServeCore", "SelfServeSQL", "CSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API as GRDB links it: statement arguments are bound directly (GRDBSession).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // PostgreSQL through libpq, loaded at run time only when a postgresql:// database is named.
        .target(
            name: "SelfServePostgres",
            dependencies: ["SelfServeCore", "SelfServeSQL"],
            swiftSettings: strict
        ),
        // Embedded Lua 5.4: sandboxed states, policy plugins, automation scripts.
        .target(
            name: "SelfServeLua",
            dependencies: [
                "SelfServeCore", "CLua", "CSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The one command registry, the executor (transactions, audit, no backend named), completion
        // from the arguments' declarations, and output rendering.
        .target(
            name: "SelfServeCommands",
            dependencies: [
                "SelfServeCore", "SelfServeLua",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The composition root (SQLite + Lua backends), line editor, history, tokenizer, logical-line
        // reader and batch runner.
        .target(
            name: "SelfServeShell",
            dependencies: [
                "SelfServeCommands", "SelfServeCore", "SelfServeStore", "SelfServeLua", "SelfServePostgres",
                "CEditline", "CSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "selfserve",
            dependencies: ["SelfServeShell", "SelfServeCommands"],
            swiftSettings: strict
        ),

        .testTarget(
            name: "SelfServeCoreTests",
            dependencies: [
                "SelfServeCore", "SelfServeShell", "SelfServeCommands", "SelfServeLua", "SelfServeStore",
                "SelfServePostgres", "CLua",
                "CSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SelfServeEndToEndTests",
            dependencies: [],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
