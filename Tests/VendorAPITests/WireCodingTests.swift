import CSVFormat
import Foundation
import IPAMCore
import StrictJSON
import Testing

@testable import VendorAPI

@Suite("Wire encoding and strict decoding")
struct WireCodingTests {
    static func problem(_ body: String, as type: (some Decodable).Type) -> RequestProblem? {
        do {
            _ = try WireDecoder.strict.decode(type, from: Array(body.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("answers keep their declared member order, write nil as null, dates as ISO 8601, tags sorted")
    func leaseRecordOrder() throws {
        let record = API.LeaseRecord(
            leaseId: "l-1", sessionId: nil, cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: nil, scope: "s/r",
            subscription: "s", region: "r", state: "leased", leasedAt: Date(timeIntervalSince1970: 0), expiresAt: nil,
            anchoredAt: nil, resourceId: nil, requester: "me", tags: ["z": "1", "a": "2"], pool: "team-a")
        #expect(
            WireEncoder.json(record).serialized()
                == #"{"leaseId":"l-1","sessionId":null,"cidr":"10.0.0.0/24","prefixLength":24,"cidrV6":null,"#
                + #""scope":"s/r","subscription":"s","region":"r","state":"leased","leasedAt":"1970-01-01T00:00:00.000Z","#
                + #""expiresAt":null,"anchoredAt":null,"resourceId":null,"requester":"me","tags":{"a":"2","z":"1"},"#
                + #""pool":"team-a"}"#)
        let back = try WireDecoder.lenient.decode(API.LeaseRecord.self, from: WireEncoder.json(record))
        #expect(back == record)
    }

    @Test(
        "the leases CSV: pool, prefixLength and tags (one JSON cell, keys sorted) after the old columns; hostile tags come back whole"
    )
    func leaseCSVColumns() throws {
        let tags = ["z": "=1+2, \"q\"\nnext", "a": "@SUM(1)", "team, \"x\"": "-", "é": "\u{2028}"]
        let record = API.LeaseRecord(
            leaseId: "l-1", sessionId: "s-1", cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: "fd00::/64", scope: "s_r",
            subscription: "s", region: "r", state: "leased", leasedAt: nil, expiresAt: nil, anchoredAt: nil,
            resourceId: nil, requester: nil, tags: tags, pool: "team-a")
        #expect(API.LeaseCSV.columns.suffix(4) == ["cidrV6", "pool", "prefixLength", "tags"])
        let cells = API.LeaseCSV.cells(record)
        #expect(cells.count == API.LeaseCSV.columns.count)
        #expect(Array(cells.suffix(3).prefix(2)) == ["team-a", "24"])
        #expect(
            cells.last == #"{"a":"@SUM(1)","team, \"x\"":"-","z":"=1+2, \"q\"\nnext","é":"\#u{2028}"}"#,
            "\(cells.last ?? "")")
        // The API's JSON with its tags in another order (ipam's way in) gives the same cells.
        var json = WireEncoder.json(record)
        if case .object(var members) = json, let index = members.firstIndex(where: { $0.0 == "tags" }),
            case .object(let tagMembers) = members[index].1
        {
            members[index].1 = .object(tagMembers.reversed())
            json = .object(members)
        }
        #expect(API.LeaseCSV.cells(json) == cells)
        // Outside a pool, without tags: an empty cell and an empty object.
        var plain = record
        (plain.pool, plain.tags) = (nil, [:])
        #expect(Array(API.LeaseCSV.cells(plain).suffix(3)) == ["", "24", "{}"])
        // Written and read back as CSV, the tags cell parses to the same tags.
        let text =
            CSVWriter.record(API.LeaseCSV.columns) + CSVWriter.lineEnd + CSVWriter.record(cells)
            + CSVWriter.lineEnd
        let read = try CSVReader.records(Array(text.utf8))
        #expect(read.count == 2 && read[1].fields.count == API.LeaseCSV.columns.count)
        let cell = CSVReader.undefused(try #require(read[1].fields.last))
        let parsed = try #require(try JSONValue.parse(cell).objectValue)
        #expect(Dictionary(uniqueKeysWithValues: parsed.map { ($0.0, $0.1.stringValue ?? "") }) == tags)
    }

    @Test("the error body leaves out field and details when there are none, and sorts details")
    func errorBody() throws {
        let plain = API.ErrorBody(.notFound, "no such route", requestId: "r-1")
        #expect(plain.json.serialized() == #"{"code":"NotFound","message":"no such route","requestId":"r-1"}"#)
        let full = API.ErrorBody(
            .invalidField, "bad", requestId: "r-2", field: "SessionId", details: ["z": "1", "a": "2"])
        #expect(
            full.json.serialized()
                == #"{"code":"InvalidField","message":"bad","requestId":"r-2","field":"SessionId","details":{"a":"2","z":"1"}}"#
        )
        #expect(API.ErrorBody(json: full.json) == full)
        #expect(API.ErrorBody(json: .string("<html>")) == nil)
        #expect(API.ErrorBody(json: try JSONValue.parse(#"{"code":"X","message":"m"}"#))?.requestId == "")
    }

    @Test("a host address given back carries the address's members after released; none held names the principal")
    func hostIPRelease() throws {
        let address = API.HostIP(
            ip: "10.0.0.4", principal: "vm", subnet: nil, subnetCidr: "10.0.0.0/26", leaseId: "l",
            allocatedAt:
                Date(timeIntervalSince1970: 60), ipV6: nil, subnetCidrV6: nil)
        let given = API.HostIPRelease(principal: "vm", leaseId: "l", address: address)
        #expect(
            WireEncoder.json(given).serialized()
                == #"{"released":true,"ip":"10.0.0.4","principal":"vm","subnet":null,"subnetCidr":"10.0.0.0/26","#
                + #""leaseId":"l","allocatedAt":"1970-01-01T00:01:00.000Z","ipV6":null,"subnetCidrV6":null}"#)
        let none = API.HostIPRelease(principal: "vm", leaseId: "l", address: nil)
        #expect(WireEncoder.json(none).serialized() == #"{"released":false,"principal":"vm","leaseId":"l"}"#)
        #expect(try WireDecoder.lenient.decode(API.HostIPRelease.self, from: WireEncoder.json(given)) == given)
        #expect(try WireDecoder.lenient.decode(API.HostIPRelease.self, from: WireEncoder.json(none)) == none)
    }

    @Test(
        "a pool report writes its sizes' states and stock in the order given, the definition inline, big counts exactly"
    )
    func poolReport() throws {
        let report = API.Pools.Report(
            scope: "s/r", subscription: "s", region: "r", pool: "team", freeAddresses: UInt128(1) << 100,
            largestFreePrefixLength: nil, freeAddressesV6: 0, largestFreePrefixLengthV6: 48,
            sizes: [
                API.Pools.Size(
                    prefixLength: 24, ipVersion: "v4", states: API.Counts([.init("stock", 1), .init("leased", 2)]))
            ],
            stock: API.Counts([.init("v4/24", 3), .init("v4/16", 1)]),
            definition: API.Pools.Definition(
                parent: nil, cidr: "10.0.0.0/8", owner: nil, labels: [:],
                rules: API.Pools.Rules(
                    minPrefixLength: 16, maxPrefixLength: 28, defaultPrefixLength: 24, requiredTags: [],
                    allowedRequesters: nil),
                quota: API.Pools.Quota(maxLeasesPerRequester: 2, maxAddressesPerRequester: nil), usage: []))
        let text = WireEncoder.json(report).serialized()
        #expect(
            text
                == #"{"scope":"s/r","subscription":"s","region":"r","pool":"team","freeAddresses":1267650600228229401496703205376,"#
                + #""largestFreePrefixLength":null,"freeAddressesV6":0,"largestFreePrefixLengthV6":48,"#
                + #""sizes":[{"prefixLength":24,"ipVersion":"v4","stock":1,"leased":2}],"stock":{"v4/24":3,"v4/16":1},"#
                + #""parent":null,"cidr":"10.0.0.0/8","owner":null,"labels":{},"rules":{"minPrefixLength":16,"#
                + #""maxPrefixLength":28,"defaultPrefixLength":24,"requiredTags":[],"allowedRequesters":null},"#
                + #""quota":{"maxLeasesPerRequester":2,"maxAddressesPerRequester":null},"usage":[]}"#)
        let back = try WireDecoder.lenient.decode(API.Pools.Report.self, from: try JSONValue.parse(text))
        #expect(back.freeAddresses == report.freeAddresses && back.definition == report.definition)
        #expect(back.sizes[0].states["leased"] == 2 && back.stock["v4/16"] == 1)
        // read back and written again, member for member in the same order
        #expect(WireEncoder.json(back).serialized() == text)
    }

    @Test("a lease reference decodes case-insensitively and encodes only what it names")
    func leaseReference() throws {
        let reference = try WireDecoder.strict.decode(
            API.LeaseReference.self, from: Array(#"{"sessionid":"a","REGION":"eastus"}"#.utf8))
        #expect(reference == API.LeaseReference(sessionId: "a", region: "eastus"))
        #expect(WireEncoder.json(API.LeaseReference(leaseId: "x")).serialized() == #"{"leaseId":"x"}"#)
        #expect(
            WireEncoder.json(API.LeaseReference(sessionId: "s", subscriptionId: "sub")).serialized()
                == #"{"SessionId":"s","subscriptionId":"sub"}"#)
    }

    @Test("strict decoding refuses unknown fields, duplicates, nulls and wrong types, naming the field")
    func strictRefusals() {
        let cases: [(String, ErrorCode, String?, String)] = [
            (#"{"SessionId":"a","color":"red"}"#, .unknownField, "color", "unknown field 'color'"),
            (
                #"{"SessionId":"a","sessionid":"b"}"#, .duplicateField, "sessionid",
                "field 'sessionid' appears more than once (names are case-insensitive)"
            ),
            (#"{"SessionId":null}"#, .invalidField, "SessionId", "'SessionId' must be a string"),
            (#"{"leaseId":7}"#, .invalidField, "leaseId", "'leaseId' must be a string"),
            (#"{"region":["eastus"]}"#, .invalidField, "region", "'region' must be a string"),
            ("[]", .invalidJSON, nil, "the request body must be a JSON object"),
            ("", .invalidJSON, nil, "the request body is empty; send a JSON object"),
        ]
        for (body, code, field, message) in cases {
            let problem = Self.problem(body, as: API.LeaseReference.self)
            #expect(problem?.code == code, "\(body)")
            #expect(problem?.field == field, "\(body)")
            #expect(problem?.message == message, "\(body)")
        }
        #expect(
            Self.problem("{nope", as: API.LeaseReference.self)?.message.hasPrefix("the request body is not valid JSON")
                == true)
        #expect(Self.problem(#"{"role":false}"#, as: API.MemberRequest.self)?.message == "'role' must be a string")
        #expect(Self.problem(#"{"principal":"a","subnet":1}"#, as: API.HostIPRequest.self)?.field == "subnet")
        // unknown fields are found before any type is checked, in document order
        #expect(Self.problem(#"{"principal":1,"extra":true}"#, as: API.HostIPRequest.self)?.field == "extra")
    }

    @Test("a time written and read back is the same to the millisecond, for any millisecond")
    func timesRoundTrip() throws {
        for _ in 0..<2000 {
            let millis = Int64.random(in: 1_600_000_000_000...2_000_000_000_000)
            let text = ISO8601.format(Date(timeIntervalSince1970: Double(millis) / 1000))
            let read = try WireDecoder.lenient.decode(Date.self, from: .string(text))
            #expect(
                WireEncoder.json(API.Member(principal: "p", role: "member", addedAt: read))["addedAt"] == .string(text))
        }
    }

    @Test("lenient decoding ignores members it does not know and reads null as absent")
    func lenient() throws {
        let json = try JSONValue.parse(#"{"caller":null,"newer":1}"#)
        #expect(try WireDecoder.lenient.decode(API.WhoAmI.self, from: json) == API.WhoAmI(caller: nil))
    }

    @Test("members left out when nil: unreservation and readiness")
    func omittedMembers() {
        #expect(
            WireEncoder.json(API.Unreservation(reservationId: "r", released: false)).serialized()
                == #"{"reservationId":"r","released":false}"#)
        #expect(
            WireEncoder.json(API.Unreservation(reservationId: "r", released: true, cidr: "10.0.0.0/24", scope: "s/r"))
                .serialized() == #"{"reservationId":"r","released":true,"cidr":"10.0.0.0/24","scope":"s/r"}"#)
        #expect(WireEncoder.json(API.Readiness(status: "ready")).serialized() == #"{"status":"ready"}"#)
        #expect(WireEncoder.json(API.Health()).serialized() == #"{"status":"ok"}"#)
    }

    /// A type whose `encode(to:)` uses every container the way a hand-written one may: a member written twice, a
    /// nested object filled in after a later sibling was written, arrays of objects, a dictionary, nil and JSON.
    struct Containers: Encodable {
        enum Key: String, CodingKey { case first, nested, later, list, map, missing, raw, number, flag }
        enum Inner: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode("replaced", forKey: .first)
            var nested = container.nestedContainer(keyedBy: Inner.self, forKey: .nested)
            try container.encode(1, forKey: .later)
            try nested.encode("x\n\"y\"", forKey: .a)
            try nested.encodeNil(forKey: .b)
            try container.encode("kept", forKey: .first)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            for index in 0..<3 { try list.encode(["i": index]) }
            try container.encode(["z": [1, 2], "a": []], forKey: .map)
            try container.encodeIfPresent(nil as Date?, forKey: .missing)
            try container.encode(JSONValue.object([("k", .array([.null, .bool(true)]))]), forKey: .raw)
            try container.encode(2.5, forKey: .number)
            try container.encodeIfPresent(false as Bool?, forKey: .flag)
        }
    }

    @Test("an answer's bytes are exactly its JSON's: every container, members rewritten in place, long lists")
    func bytesAreTheJSON() throws {
        let containers = Containers()
        let expected =
            #"{"first":"kept","nested":{"a":"x\n\"y\"","b":null},"later":1,"#
            + #""list":[{"i":0},{"i":1},{"i":2}],"map":{"a":[],"z":[1,2]},"missing":null,"#
            + #""raw":{"k":[null,true]},"number":2.5,"flag":false}"#
        #expect(WireEncoder.json(containers).serialized() == expected)
        #expect(WireEncoder.bytes(containers) == Array(expected.utf8))
        let records = (0..<1_000).map { index -> API.LeaseRecord in
            let pool: String? = index % 3 == 0 ? nil : "p-\(index % 3)"
            return API.LeaseRecord(
                leaseId: "l-\(index)", sessionId: index % 2 == 0 ? nil : "s-\(index)", cidr: "10.0.\(index % 256).0/24",
                prefixLength: 24, cidrV6: nil, scope: "s/r", subscription: "s", region: "r", state: "leased",
                leasedAt: Date(timeIntervalSince1970: Double(index)), expiresAt: nil, anchoredAt: nil, resourceId: nil,
                requester: "me", tags: ["n": "\(index)"], pool: pool)
        }
        let bytes = WireEncoder.bytes(records)
        #expect(bytes == WireEncoder.json(records).serializedBytes)
        let parsed = try #require(try JSONValue.parse(bytes).arrayValue)
        #expect(parsed.count == 1_000)
        #expect(WireEncoder.bytes([String]()) == Array("[]".utf8))
        #expect(WireEncoder.bytes("text") == Array(#""text""#.utf8))
    }
}
