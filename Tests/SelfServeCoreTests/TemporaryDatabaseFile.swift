import Foundation

/// A SQLite file name of its own in the temporary directory, for a test that opens a real store;
/// `remove()` deletes the file with the WAL and shared-memory files SQLite keeps beside it.
struct TemporaryDatabaseFile {
    let path: String

    init(_ prefix: String) {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString).sqlite")
            .path
    }

    func remove() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
