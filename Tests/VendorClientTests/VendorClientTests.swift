import Foundation
import HTTPTransport
import StrictJSON
import Synchronization
import TableEmulator
import TestSupport
import Testing
import VendorAPI
import VendorClient

/// `VendorClient` over real sockets: against a real Vendor, and against servers that refuse, vanish or answer
/// what the API does not say.
@Suite("Vendor client")
struct VendorClientTests {
    @Test("a lease made, replayed, looked up and released through the client's typed answers")
    func lifecycle() async throws {
        try await VendorHarness.withVendor(keys: ["client-key"]) { url, _, _ in
            let client = VendorClient(baseURL: url + "/", key: "client-key")
            let request = API.NewNetworkRequest(sessionId: "client-session-1")
            let made = try await client.getNewNetwork(request)
            #expect(made.created)
            #expect(made.value.sessionId == "client-session-1" && made.value.state == "leased")
            #expect(made.json["leaseId"]?.stringValue == made.value.leaseId, "the JSON as it arrived rides along")
            let again = try await client.getNewNetwork(request)
            #expect(!again.created && again.value.leaseId == made.value.leaseId && again.value.cidr == made.value.cidr)
            let found = try await client.lease(.id(made.value.leaseId))
            #expect(found.value.cidr == made.value.cidr)
            let released = try await client.release(.id(made.value.leaseId))
            #expect(released.value.state != "leased")
        }
    }

    @Test("a refusal keeps the Vendor's status, code and message; a wrong key is Unauthorized")
    func refused() async throws {
        try await VendorHarness.withVendor(keys: ["client-key"]) { url, _, _ in
            let client = VendorClient(baseURL: url, key: "wrong-key")
            let failure = await #expect(throws: VendorClient.Failure.self) {
                _ = try await client.getNewNetwork(API.NewNetworkRequest(sessionId: "client-session-2"))
            }
            guard case .refused(let status, let body) = failure else {
                Issue.record("not a refusal: \(String(describing: failure))")
                return
            }
            #expect(status == 401)
            #expect(failure?.code == "Unauthorized")
            #expect(body["requestId"]?.stringValue?.isEmpty == false)
            #expect(failure?.message == body["message"]?.stringValue)
        }
    }

    @Test("a Vendor that cannot be reached is VendorUnavailable, in the API's error shape")
    func unreachable() async throws {
        // A port that was just free: nothing listens there.
        let port = try await TestServers.withFakeServer({ _ in EmulatorResponse.json(200, .object([])) }) { $0 }
        let client = VendorClient(baseURL: "http://127.0.0.1:\(port)", key: nil)
        let failure = await #expect(throws: VendorClient.Failure.self) { _ = try await client.pools() }
        #expect(failure?.code == "VendorUnavailable")
        #expect(failure?.json["code"]?.stringValue == "VendorUnavailable")
        #expect(failure?.json["message"]?.stringValue?.isEmpty == false)
    }

    @Test("an answer that does not fit the API is InvalidAnswer, not a crash or a half-read value")
    func unreadable() async throws {
        let wrong: JSONValue = .object([("leaseId", .number("5")), ("cidr", .bool(true))])
        try await TestServers.withFakeServer({ _ in EmulatorResponse.json(201, wrong) }) { port in
            let client = VendorClient(baseURL: "http://127.0.0.1:\(port)", key: "k")
            let failure = await #expect(throws: VendorClient.Failure.self) {
                _ = try await client.getNewNetwork(API.NewNetworkRequest(sessionId: "s"))
            }
            #expect(failure?.code == "InvalidAnswer")
        }
    }

    @Test("a refusal without the error shape still has a code (HTTP status) and never an empty message")
    func refusedWithoutShape() async throws {
        try await TestServers.withFakeServer({ _ in
            EmulatorResponse(status: 502, headers: [:], body: Array("<html>".utf8))
        }
        ) { port in
            let client = VendorClient(baseURL: "http://127.0.0.1:\(port)", key: nil)
            let failure = await #expect(throws: VendorClient.Failure.self) { _ = try await client.pools() }
            #expect(failure?.code == "HTTP502")
            #expect(failure?.message == "the Vendor answered 502")
        }
    }

    @Test("query values are percent-encoded and the key is sent as a bearer token")
    func request() async throws {
        let seen = SeenRequests()
        try await TestServers.withFakeServer({ request in
            seen.record(request)
            return EmulatorResponse.json(200, .object([]))
        }) { port in
            let client = VendorClient(baseURL: "http://127.0.0.1:\(port)", key: "the-key")
            _ = try await client.call("GET", "/api/leases", query: [("requester", "a b&c=d/é")])
        }
        let request = try #require(seen.all.first)
        #expect(request.query == "requester=a%20b%26c%3Dd%2F%C3%A9")
        #expect(request.headers["Authorization"] == "Bearer the-key")
    }

    @Test("request bodies are the API's request types as WireEncoder writes them: only the members given")
    func requestBodies() async throws {
        let seen = SeenRequests()
        try await TestServers.withFakeServer({ request in
            seen.record(request)
            return EmulatorResponse.json(500, .object([]))
        }) { port in
            let client = VendorClient(baseURL: "http://127.0.0.1:\(port)", key: "k")
            _ = try? await client.getNewNetwork(
                API.NewNetworkRequest(
                    sessionId: "s", prefixLength: 24, dualStack: true,
                    tags: API.Tags([.init("b", "2"), .init("a", "1")]),
                    subnets: [.init(name: "app", prefixLength: 26)]))
            _ = try? await client.adoptNetwork(API.AdoptNetworkRequest(sessionId: "s", cidr: "10.0.0.0/22"))
            _ = try? await client.reserve(API.ReservationRequest(prefixLength: 24, owner: "o", reason: "r"))
        }
        let requests = seen.all
        #expect(
            requests.map { "\($0.method) \($0.rawPath)" } == [
                "POST /api/getNewNetwork", "POST /api/adoptNetwork", "POST /api/reservations",
            ])
        #expect(
            requests.map { String(decoding: $0.body, as: UTF8.self) } == [
                #"{"SessionId":"s","prefixLength":24,"dualStack":true,"tags":{"b":"2","a":"1"},"#
                    + #""subnets":[{"name":"app","prefixLength":26}]}"#,
                #"{"SessionId":"s","cidr":"10.0.0.0/22"}"#,
                #"{"prefixLength":24,"owner":"o","reason":"r"}"#,
            ])
        #expect(requests.allSatisfy { $0.headers["Content-Type"] == "application/json" })
    }
}

/// Requests a fake server saw.
final class SeenRequests: Sendable {
    private let requests = Mutex<[EmulatorRequest]>([])
    func record(_ request: EmulatorRequest) { requests.withLock { $0.append(request) } }
    var all: [EmulatorRequest] { requests.withLock { $0 } }
}
