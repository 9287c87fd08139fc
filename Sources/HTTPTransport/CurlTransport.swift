import CCurl
import Foundation
import Synchronization

/// `HTTPTransport` on libcurl's multi interface.
///
/// All transfers of one transport run on a single dedicated thread that drives a `CURLM` handle, so
/// no blocking libcurl call ever runs on Swift's cooperative pool. The multi handle owns the
/// connection cache: sequential requests to one host reuse one keep-alive connection, and
/// concurrent requests open as many connections as they need. Task cancellation removes the
/// transfer from the multi handle and throws `TransportError.cancelled`, also when the task was cancelled
/// before the transfer began (nothing is sent then).
package final class CurlTransport: HTTPTransport {
    /// Transport-wide settings.
    package struct Configuration: Sendable {
        /// Limit for establishing a TCP (and TLS) connection.
        package var connectTimeout: Duration
        /// Default limit for a whole transfer when the request sets none.
        package var requestTimeout: Duration
        /// Idle connections kept open for reuse.
        package var maxIdleConnections: Int
        /// Verify TLS peers (turn off only for local test endpoints).
        package var verifyTLS: Bool

        package init(
            connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(30),
            maxIdleConnections: Int = 64, verifyTLS: Bool = true
        ) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxIdleConnections = maxIdleConnections
            self.verifyTLS = verifyTLS
        }
    }

    private let loop: CurlMultiLoop

    package init(configuration: Configuration = .init()) {
        CurlGlobal.ensureInitialized()
        self.loop = CurlMultiLoop(configuration: configuration)
        loop.start()
    }

    deinit { loop.stop() }

    package func execute(_ request: TransportRequest) async throws -> TransportResponse {
        let transfer = CurlTransfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.submit(.add(transfer))
            }
        } onCancel: {
            loop.submit(.cancel(transfer))
        }
    }
}

/// `curl_global_init` exactly once, before any handle exists.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    static func ensureInitialized() { _ = initialized }
}

/// One in-flight request. Touched only on the loop thread after submission.
final class CurlTransfer: @unchecked Sendable {
    // @unchecked: after `submit`, every mutable field is read and written only by the loop thread;
    // `continuation` is set before submission and resumed exactly once on the loop thread.
    let request: TransportRequest
    var continuation: CheckedContinuation<TransportResponse, any Error>?
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseBody: [UInt8] = []
    var responseHeaders = HTTPHeaderList()
    /// Where libcurl writes an error's detail (`CURLOPT_ERRORBUFFER`): memory of the transfer's own, which
    /// stays where it is for as long as the handle may write to it (an array's storage is only promised
    /// inside `withUnsafeMutableBufferPointer`).
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// Its task was cancelled. A task cancelled before `execute` (or while it submits) has its `cancel`
    /// command reach the loop before its `add`; the add then finishes it without sending anything.
    var cancelled = false

    init(request: TransportRequest) {
        self.request = request
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit { errorBuffer.deallocate() }

    func finish(_ result: Result<TransportResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}

/// The thread that owns the multi handle.
final class CurlMultiLoop: @unchecked Sendable {
    // @unchecked: `multi`, `active` and `idleHandles` are confined to the loop thread; the only
    // state shared with callers is `inbox`, guarded by a Mutex. Other threads call only
    // `curl_multi_wakeup`, and only while holding that Mutex with `stopped` false: the loop thread frees
    // the multi handle after it saw `stopped` under the same Mutex, so no wakeup can touch it freed.
    enum Command: Sendable {
        case add(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private let configuration: CurlTransport.Configuration
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex<(commands: [Command], stopped: Bool)>(([], false))
    private var active: [ObjectIdentifier: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: CurlTransport.Configuration) {
        self.configuration = configuration
        self.multi = curl_multi_init()
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxIdleConnections)
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "ipam.curl"
        thread.start()
    }

    func stop() {
        inbox.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            curl_multi_wakeup(multi)
        }
    }

    func submit(_ command: Command) {
        let accepted = inbox.withLock { state -> Bool in
            if state.stopped { return false }
            state.commands.append(command)
            curl_multi_wakeup(multi)
            return true
        }
        if !accepted, case .add(let transfer) = command {
            transfer.finish(.failure(TransportError.cancelled("transport was shut down")))
        }
    }

    private func run() {
        while true {
            let (commands, stopped) = inbox.withLock { state in
                let taken = state.commands
                state.commands.removeAll()
                return (taken, state.stopped)
            }
            if stopped {
                for transfer in active.values {
                    finishAndRelease(transfer, .failure(TransportError.cancelled("transport was shut down")))
                }
                for case .add(let transfer) in commands {
                    transfer.finish(.failure(TransportError.cancelled("transport was shut down")))
                }
                for handle in idleHandles { curl_easy_cleanup(handle) }
                curl_multi_cleanup(multi)
                return
            }
            for command in commands {
                switch command {
                case .add(let transfer): begin(transfer)
                case .cancel(let transfer):
                    transfer.cancelled = true
                    if active[ObjectIdentifier(transfer)] != nil {
                        finishAndRelease(transfer, .failure(TransportError.cancelled()))
                    }
                }
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            drainCompleted()
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func begin(_ transfer: CurlTransfer) {
        if transfer.cancelled {
            transfer.finish(.failure(TransportError.cancelled()))
            return
        }
        let easy = idleHandles.popLast() ?? curl_easy_init()!
        curl_easy_reset(easy)
        transfer.easy = easy
        if let error = configure(easy, for: transfer) {
            transfer.easy = nil
            curl_easy_reset(easy) // it may point at the transfer's memory (its error buffer, its callbacks' data)
            idleHandles.append(easy)
            transfer.finish(.failure(error))
            return
        }
        active[ObjectIdentifier(transfer)] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func configure(_ easy: UnsafeMutableRawPointer, for transfer: CurlTransfer) -> TransportError? {
        let request = transfer.request
        let method = request.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }) else {
            return .invalidRequest("invalid HTTP method '\(request.method)'")
        }
        var check = ccurl_setopt_string(easy, CURLOPT_URL, request.url)
        guard check == CURLE_OK else { return .invalidRequest("invalid URL") }
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_KEEPIDLE, 60)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        _ = ccurl_setopt_long(
            easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.requestTimeout))
        _ = ccurl_setopt_long(easy, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        if !configuration.verifyTLS {
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        }
        _ = ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)

        switch method {
        case "GET":
            _ = ccurl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD":
            _ = ccurl_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            if method != "POST" { _ = ccurl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method) }
            if let body = request.body {
                _ = ccurl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, body.count)
                check = body.withUnsafeBufferPointer { buffer in
                    // COPYPOSTFIELDS copies the bytes, so the request may go away before the transfer ends.
                    ccurl_setopt_pointer(
                        easy, CURLOPT_COPYPOSTFIELDS,
                        UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)))
                }
                guard check == CURLE_OK else { return .invalidRequest("request body could not be set") }
            } else if method == "POST" || method == "PUT" || method == "MERGE" || method == "PATCH" {
                _ = ccurl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, 0)
                _ = ccurl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                _ = ccurl_setopt_long(easy, CURLOPT_HTTPGET, 1)
                _ = ccurl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
            }
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        var sawContentType = false
        for field in request.headers {
            // Scalars, not Characters: Swift folds "\r\n" into one Character that equals neither.
            guard !field.name.unicodeScalars.contains(where: { $0 == ":" || $0 == "\r" || $0 == "\n" }),
                !field.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" })
            else {
                curl_slist_free_all(list)
                return .invalidRequest("header '\(field.name)' contains a line break or colon")
            }
            if field.name.lowercased() == "content-type" { sawContentType = true }
            // "Name;" sends a header with an empty value; "Name:" would remove it.
            let line = field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)"
            list = curl_slist_append(list, line)
        }
        // libcurl would otherwise invent a form Content-Type (breaking signatures) and wait for 100-continue.
        if !sawContentType { list = curl_slist_append(list, "Content-Type:") }
        list = curl_slist_append(list, "Expect:")
        transfer.headerList = list
        _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = ccurl_setopt_write_callback(easy) { pointer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            if let pointer {
                transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
            }
            return length
        }
        _ = ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_header_callback(easy) { pointer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            guard let pointer else { return length }
            let line = UnsafeRawBufferPointer(start: pointer, count: length)
            if line.starts(with: "HTTP/".utf8) {
                // A new status line (after 100-continue or a redirect) starts a new header block.
                transfer.responseHeaders = HTTPHeaderList()
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                // Bytes, not Foundation trimming: this runs for every header of every answer.
                transfer.responseHeaders.add(
                    name: String(decoding: line[..<colon].trimmingASCIIWhitespace(), as: UTF8.self),
                    value: String(decoding: line[(colon + 1)...].trimmingASCIIWhitespace(), as: UTF8.self))
            }
            return length
        }
        _ = ccurl_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        return nil
    }

    private func drainCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            var easy: UnsafeMutableRawPointer? = nil
            var result = CURLE_OK
            guard ccurl_multi_info_done(message, &easy, &result) != 0, let easy else { continue }
            guard let transfer = active.values.first(where: { $0.easy == easy }) else { continue }
            if result == CURLE_OK {
                var status = 0
                var port = 0
                var connects = 0
                _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                _ = ccurl_getinfo_long(easy, CURLINFO_LOCAL_PORT, &port)
                _ = ccurl_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
                let response = TransportResponse(
                    status: status, headers: transfer.responseHeaders, body: transfer.responseBody,
                    connection: ConnectionInfo(localPort: port, newConnections: connects))
                finishAndRelease(transfer, .success(response))
            } else {
                finishAndRelease(transfer, .failure(Self.error(for: result, detail: transfer.errorBuffer)))
            }
        }
    }

    private func finishAndRelease(_ transfer: CurlTransfer, _ result: Result<TransportResponse, any Error>) {
        active[ObjectIdentifier(transfer)] = nil
        if let easy = transfer.easy {
            curl_multi_remove_handle(multi, easy)
            curl_easy_reset(easy)
            idleHandles.append(easy)
            transfer.easy = nil
        }
        curl_slist_free_all(transfer.headerList)
        transfer.headerList = nil
        transfer.finish(result)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    static func error(for code: CURLcode, detail: UnsafePointer<CChar>) -> TransportError {
        let text = String(cString: detail)
        let message = text.isEmpty ? String(cString: curl_easy_strerror(code)) : text
        let raw = Int(code.rawValue)
        switch code {
        case CURLE_COULDNT_CONNECT: return .connectionRefused(message, curlCode: raw)
        case CURLE_OPERATION_TIMEDOUT: return .timeout(message, curlCode: raw)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .dnsFailure(message, curlCode: raw)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_USE_SSL_FAILED:
            return .tls(message, curlCode: raw)
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE:
            return .connectionLost(message, curlCode: raw)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidRequest(message, curlCode: raw)
        default: return .other(message, curlCode: raw)
        }
    }
}
