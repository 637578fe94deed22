import SelfServeCore

#if canImport(Glibc)
import Glibc
#endif

/// libpq, loaded at run time (`dlopen("libpq.so.5")`) the first time a PostgreSQL database is named.
///
/// Linking libpq would cost every start — SQLite commands included — ~3.7 ms for its 21 shared
/// libraries (OpenSSL, Kerberos, LDAP, GnuTLS), and Debian ships no static archives of those, so the
/// static release binary could not have it at all. Only the few functions used are resolved, with
/// their C signatures written out here (libpq's ABI has been stable since libpq.so.5, PostgreSQL 8.0).
final class LibPQ: @unchecked Sendable {
    typealias Connection = OpaquePointer
    typealias Result = OpaquePointer

    let connectdb: @convention(c) (UnsafePointer<CChar>?) -> Connection?
    let status: @convention(c) (Connection?) -> Int32
    let errorMessage: @convention(c) (Connection?) -> UnsafeMutablePointer<CChar>?
    let finish: @convention(c) (Connection?) -> Void
    let execParams:
        @convention(c) (
            Connection?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?,
            UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
        ) -> Result?
    let exec: @convention(c) (Connection?, UnsafePointer<CChar>?) -> Result?
    let sendQueryParams:
        @convention(c) (
            Connection?, UnsafePointer<CChar>?, Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?,
            UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
        ) -> Int32
    let setSingleRowMode: @convention(c) (Connection?) -> Int32
    let getResult: @convention(c) (Connection?) -> Result?
    let resultStatus: @convention(c) (Result?) -> Int32
    let resultErrorField: @convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?
    let ntuples: @convention(c) (Result?) -> Int32
    let nfields: @convention(c) (Result?) -> Int32
    let fname: @convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?
    let getvalue: @convention(c) (Result?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    let getlength: @convention(c) (Result?, Int32, Int32) -> Int32
    let getisnull: @convention(c) (Result?, Int32, Int32) -> Int32
    let cmdTuples: @convention(c) (Result?) -> UnsafeMutablePointer<CChar>?
    let clear: @convention(c) (Result?) -> Void
    let libVersion: @convention(c) () -> Int32
    typealias NoticeReceiver = @convention(c) (UnsafeMutableRawPointer?, Result?) -> Void
    let setNoticeReceiver: @convention(c) (Connection?, NoticeReceiver?, UnsafeMutableRawPointer?) -> NoticeReceiver?
    let resultErrorMessage: @convention(c) (Result?) -> UnsafeMutablePointer<CChar>?

    // libpq's enum values used here (libpq-fe.h).
    static let connectionOK: Int32 = 0
    static let commandOK: Int32 = 1
    static let tuplesOK: Int32 = 2
    static let singleTuple: Int32 = 9
    static let diagSeverityNonLocalized = Int32(UInt8(ascii: "V"))
    static let diagSQLState = Int32(UInt8(ascii: "C"))
    static let diagMessagePrimary = Int32(UInt8(ascii: "M"))
    static let diagMessageDetail = Int32(UInt8(ascii: "D"))

    private init(_ handle: UnsafeMutableRawPointer) throws {
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                throw SelfServeError.invalid("libpq.so.5 has no \(name); install a libpq of PostgreSQL 10 or newer")
            }
            return unsafeBitCast(p, to: T.self)
        }
        connectdb = try symbol("PQconnectdb", type(of: connectdb))
        status = try symbol("PQstatus", type(of: status))
        errorMessage = try symbol("PQerrorMessage", type(of: errorMessage))
        finish = try symbol("PQfinish", type(of: finish))
        execParams = try symbol("PQexecParams", type(of: execParams))
        exec = try symbol("PQexec", type(of: exec))
        sendQueryParams = try symbol("PQsendQueryParams", type(of: sendQueryParams))
        setSingleRowMode = try symbol("PQsetSingleRowMode", type(of: setSingleRowMode))
        getResult = try symbol("PQgetResult", type(of: getResult))
        resultStatus = try symbol("PQresultStatus", type(of: resultStatus))
        resultErrorField = try symbol("PQresultErrorField", type(of: resultErrorField))
        ntuples = try symbol("PQntuples", type(of: ntuples))
        nfields = try symbol("PQnfields", type(of: nfields))
        fname = try symbol("PQfname", type(of: fname))
        getvalue = try symbol("PQgetvalue", type(of: getvalue))
        getlength = try symbol("PQgetlength", type(of: getlength))
        getisnull = try symbol("PQgetisnull", type(of: getisnull))
        cmdTuples = try symbol("PQcmdTuples", type(of: cmdTuples))
        clear = try symbol("PQclear", type(of: clear))
        libVersion = try symbol("PQlibVersion", type(of: libVersion))
        setNoticeReceiver = try symbol("PQsetNoticeReceiver", type(of: setNoticeReceiver))
        resultErrorMessage = try symbol("PQresultErrorMessage", type(of: resultErrorMessage))
    }

    /// The library, loaded once per process.
    static func shared() throws -> LibPQ {
        try loaded.get()
    }

    private static let loaded: Swift.Result<LibPQ, SelfServeError> = {
        guard let handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(
                .invalid(
                    "cannot load libpq (\(why)); install it to use a PostgreSQL database (Debian: apt install libpq5)"
                )
            )
        }
        do {
            return .success(try LibPQ(handle))
        } catch let error as SelfServeError {
            return .failure(error)
        } catch {
            return .failure(.invalid("\(error)"))
        }
    }()
}
