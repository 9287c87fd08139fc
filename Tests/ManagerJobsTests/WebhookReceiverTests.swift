import Foundation
import HTTPTransport
import IPAMCore
import Synchronization
import TestSupport
import Testing

/// The sample receiver (`ipam-dev webhook-receiver`) as a process over a real socket: signatures with old or
/// far-off timestamps are refused, and a redelivered event id is acknowledged but not handled twice.
@Suite("ipam-dev webhook-receiver")
struct WebhookReceiverTests {
    static let secret = "whsec-receiver-0123456789"

    /// The lines a process prints, collected on a thread of its own.
    final class Lines: Sendable {
        private let text = Mutex("")
        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                while true {
                    let chunk = PipeReader.chunk(handle)
                    if chunk.isEmpty { return }
                    text.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
                }
            }
        }
        var all: [String] { text.withLock { $0.split(separator: "\n").map(String.init) } }

        /// Waits (bounded) until a line passes `test`.
        func first(where test: (String) -> Bool) async throws -> String? {
            for _ in 0..<400 {
                if let line = all.first(where: test) { return line }
                try await Task.sleep(for: .milliseconds(25))
            }
            return nil
        }
    }

    static func deliver(_ url: String, id: String, signedAt: Date, eventIdHeader: String? = nil) async throws
        -> HTTPAnswer
    {
        let body =
            #"{"type":"leased","cidr":"10.64.1.0/24","leaseId":"l-1","actor":"alice","at":"2026-01-01T00:00:00Z","id":"\#(id)"}"#
        return try await HTTPCalls.send(
            "POST", url, body: body,
            headers: [
                WebhookSignature.header: WebhookSignature.sign(body: Array(body.utf8), secret: secret, at: signedAt),
                "ipam-event-id": eventIdHeader ?? id,
            ])
    }

    @Test(
        "timestamps 30 days old, zero, negative or an hour ahead are refused (401); a fresh one is handled once; the same id again is dropped (200)"
    )
    func replayAndDuplicates() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let pipe = Pipe()
        _ = try stack.start(
            "ipam-dev", arguments: ["webhook-receiver", "--port", "0", "--secret", Self.secret], environment: [:],
            output: pipe)
        let lines = Lines(pipe)
        let portLine = try #require(try await lines.first { $0.hasPrefix("port: ") })
        let url = "http://127.0.0.1:\(portLine.dropFirst(6))/hook"

        // A capture replayed later, or a timestamp made up: correctly signed, still refused.
        for (index, t) in [
            Date().addingTimeInterval(-30 * 86400), Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -5),
            Date().addingTimeInterval(3600),
        ].enumerated() {
            let answer = try await Self.deliver(url, id: "event_old_\(index)", signedAt: t)
            #expect(answer.status == 401, "signed at \(t)")
            #expect(
                try await lines.first { $0.hasPrefix("STALE TIMESTAMP") && $0.hasSuffix("id event_old_\(index)") }
                    != nil)
        }
        let forged = try await HTTPCalls.send(
            "POST", url, body: #"{"id":"event_x"}"#,
            headers: [WebhookSignature.header: "t=\(Int(Date().timeIntervalSince1970)),v1=00"])
        #expect(forged.status == 401)

        // At least once: the same event id twice (a dispatcher taken over mid-delivery) is handled once.
        #expect(try await Self.deliver(url, id: "event_1", signedAt: Date()).status == 204)
        #expect(try await Self.deliver(url, id: "event_1", signedAt: Date()).status == 200)
        // The id that counts is the signed body's: a replay with another (unsigned) ipam-event-id header is the same event.
        #expect(
            try await Self.deliver(url, id: "event_1", signedAt: Date(), eventIdHeader: "event_1-again").status == 200)
        #expect(try await Self.deliver(url, id: "event_2", signedAt: Date()).status == 204)
        _ = try await lines.first { $0.hasSuffix("id event_2") }
        #expect(lines.all.filter { $0.hasPrefix("verified") && $0.hasSuffix("id event_1") }.count == 1, "\(lines.all)")
        #expect(
            lines.all.filter { $0.hasPrefix("duplicate dropped") && $0.hasSuffix("id event_1") }.count == 2,
            "\(lines.all)")
        #expect(
            !lines.all.contains { $0.hasPrefix("verified") && $0.contains("event_old") },
            "refused deliveries are never handled")
    }

    @Test("an unsigned delivery cannot mark an id as seen: the real one still arrives")
    func unsignedDoesNotPoison() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let pipe = Pipe()
        _ = try stack.start(
            "ipam-dev", arguments: ["webhook-receiver", "--port", "0", "--secret", Self.secret, "--remember", "2"],
            environment: [:], output: pipe)
        let lines = Lines(pipe)
        let url = "http://127.0.0.1:\(try #require(try await lines.first { $0.hasPrefix("port: ") }).dropFirst(6))/hook"
        let bogus = try await HTTPCalls.send(
            "POST", url, body: #"{"id":"event_7"}"#, headers: ["ipam-event-id": "event_7"])
        #expect(bogus.status == 401)
        #expect(try await Self.deliver(url, id: "event_7", signedAt: Date()).status == 204)
        // It remembers the last 2 ids only (bounded memory): a third id pushes out the first.
        #expect(try await Self.deliver(url, id: "event_8", signedAt: Date()).status == 204)
        #expect(try await Self.deliver(url, id: "event_9", signedAt: Date()).status == 204)
        #expect(try await Self.deliver(url, id: "event_9", signedAt: Date()).status == 200)
        #expect(
            try await Self.deliver(url, id: "event_7", signedAt: Date()).status == 204,
            "forgotten: the oldest goes first")
    }
}
