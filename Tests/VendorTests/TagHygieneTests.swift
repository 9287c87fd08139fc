import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// Tags go to Azure, logs, webhooks and the console: a control character in a tag (or in `requester`) is
/// refused with a structured 400 wherever a request carries tags, and nothing is written.
@Suite("Tag hygiene")
struct TagHygieneTests {
    static let keys = APIKeys(reader: nil, lease: "ci=ci-key-1", admin: "ops=ops-key-1")

    /// Tag objects as JSON text (escapes as a client would send them), and the field the refusal names.
    static let hostile: [(tags: String, field: String)] = [
        (#"{"env":"dev\nX-Injected: yes"}"#, "tags.env"), (#"{"env":"a\u0000b"}"#, "tags.env"),
        (#"{"env":"bell\u0007"}"#, "tags.env"),
        (#"{"env":"del\u007f"}"#, "tags.env"), (#"{"env":"next\u0085line"}"#, "tags.env"),
        (#"{"env":"line\u2028sep"}"#, "tags.env"),
        (#"{"env":"\u202Eved"}"#, "tags.env"), (#"{"env":"\u2066iso"}"#, "tags.env"), (#"{"e\tnv":"dev"}"#, "tags"),
        (#"{"env\r":"dev"}"#, "tags"),
    ]

    @Test(
        "getNewNetwork and adoptNetwork refuse control characters in tag names and values (and in requester): 400 InvalidField, nothing written"
    )
    func controlCharacters() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let before = try await table.queryAll().map(\.rowKey)
            for (index, item) in Self.hostile.enumerated() {
                let lease = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"tag-\#(index)","tags":\#(item.tags)}"#,
                    headers: ["x-functions-key": "ci-key-1"])
                #expect(
                    lease.status == 400 && lease.code == "InvalidField" && lease.string("field") == item.field,
                    "\(item.tags): \(lease.status) \(lease.text)")
                let adopt = try await HTTPCalls.send(
                    "POST", url + "/api/adoptNetwork",
                    body: #"{"SessionId":"tag-a-\#(index)","cidr":"10.64.220.0/23","tags":\#(item.tags)}"#,
                    headers: ["x-functions-key": "ops-key-1"])
                #expect(
                    adopt.status == 400 && adopt.code == "InvalidField" && adopt.string("field") == item.field,
                    "\(item.tags): \(adopt.status) \(adopt.text)")
            }
            let requester = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"tag-r","requester":"ci\u0085"}"#,
                headers: ["x-functions-key": "ci-key-1"])
            #expect(
                requester.status == 400 && requester.code == "InvalidField" && requester.string("field") == "requester",
                "\(requester.text)")
            #expect(try await table.queryAll().map(\.rowKey) == before, "nothing was written")
            // Printable text of any script is fine.
            let fine = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork",
                body: #"{"SessionId":"tag-ok","tags":{"env":"dév ünïcode – 東京","owner":"a b"}}"#,
                headers: ["x-functions-key": "ci-key-1"])
            #expect(fine.status == 201, "\(fine.text)")
        }
    }
}
