import Foundation
import IPAMCore
import StrictJSON
import Testing

@testable import VendorAPI

/// The request types of `getNewNetwork`, `adoptNetwork` and `reserve`, decoded strictly: what is not the body's
/// JSON is refused with the code, field and message the Vendor has always answered.
@Suite("Request types: strict shape, the Vendor's refusals")
struct RequestTypesTests {
    /// The refusal of `body` as `type`, as (code, field, message): thrown by decoding (the body is no object of
    /// the type's members), or the one member refusal it keeps; nil when it decodes without one.
    static func refusal<T: Decodable>(_ body: String, as type: T.Type, _ refusals: (T) -> API.Refusals) -> [String?]? {
        do {
            let value = try WireDecoder.strict.decode(type, from: Array(body.utf8))
            let kept = refusals(value).problems.values
            #expect(kept.count <= 1, "\(body): one fault, one refusal")
            return kept.first.map { [$0.code.rawValue, $0.field, $0.message] }
        } catch {
            return [error.code.rawValue, error.field, error.message]
        }
    }

    static func decode<T: Decodable>(_ body: String, as type: T.Type) throws -> T {
        try WireDecoder.strict.decode(type, from: Array(body.utf8))
    }

    @Test(
        "getNewNetwork: unknown, duplicate, null, wrongly typed and missing members",
        arguments: [
            ("", ["InvalidJSON", nil, "the request body is empty; send a JSON object"]),
            ("[1]", ["InvalidJSON", nil, "the request body must be a JSON object"]),
            ("{}", ["MissingField", "SessionId", "'SessionId' is required"]),
            (#"{"SessionId":null}"#, ["InvalidField", "SessionId", "'SessionId' must be a string"]),
            (
                #"{"SessionId":"a/b"}"#,
                ["InvalidSessionId", "SessionId", "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -"]
            ),
            (
                #"{"SessionId":"s","ipVersion":"v5"}"#,
                ["InvalidField", "ipVersion", #"'ipVersion' must be "v4" or "v6""#]
            ),
            (
                "{\"SessionId\":\"s\",\"requester\":\"a\\u2028b\"}",
                ["InvalidField", "requester", "'requester' must be at most 256 printable characters"]
            ),
            (
                #"{"SessionId":"s","tags":{"":"x"}}"#,
                ["InvalidField", "tags.", "tag '' must be a string of at most 256 characters (names 1–128)"]
            ),
            (
                "{\"SessionId\":\"s\",\"tags\":{\"a\\u0000\":\"x\"}}",
                ["InvalidField", "tags", "a tag name holds a control character; names and values must be printable"]
            ),
            (
                "{\"SessionId\":\"s\",\"tags\":{\"a\":\"x\\u202Ey\"}}",
                ["InvalidField", "tags.a", "tag 'a' holds a control character; values must be printable"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"","prefixLength":26}]}"#,
                ["InvalidField", "subnets[0].name", "subnet 0 needs a name of 1–80 characters"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"a","prefixLength":65}]}"#,
                ["InvalidField", "subnets[0].prefixLength", "subnet 'a' prefixLength must be 0–64"]
            ),
            (#"{"SessionId":12}"#, ["InvalidField", "SessionId", "'SessionId' must be a string"]),
            (#"{"SessionId":"s","colour":"red"}"#, ["UnknownField", "colour", "unknown field 'colour'"]),
            (
                #"{"SessionId":"s","sessionid":"t"}"#,
                [
                    "DuplicateField", "sessionid",
                    "field 'sessionid' appears more than once (names are case-insensitive)",
                ]
            ),
            (
                #"{"SessionId":"s","prefixLength":"24"}"#,
                ["InvalidField", "prefixLength", "'prefixLength' must be an integer"]
            ),
            (
                #"{"SessionId":"s","prefixLength":24.5}"#,
                ["InvalidField", "prefixLength", "'prefixLength' must be an integer"]
            ),
            (
                #"{"SessionId":"s","prefixLength":null}"#,
                ["InvalidField", "prefixLength", "'prefixLength' must be an integer"]
            ),
            (#"{"SessionId":"s","region":null}"#, ["InvalidField", "region", "'region' must be a string"]),
            (#"{"SessionId":"s","pool":7}"#, ["InvalidField", "pool", "'pool' must be a string"]),
            (#"{"SessionId":"s","ipVersion":4}"#, ["InvalidField", "ipVersion", "'ipVersion' must be a string"]),
            (#"{"SessionId":"s","requester":[]}"#, ["InvalidField", "requester", "'requester' must be a string"]),
            (#"{"SessionId":"s","dualStack":1}"#, ["InvalidField", "dualStack", "'dualStack' must be true or false"]),
            (
                #"{"SessionId":"s","prefixLengthV6":"56"}"#,
                ["InvalidField", "prefixLengthV6", "'prefixLengthV6' must be an integer"]
            ),
            (#"{"SessionId":"s","tags":[]}"#, ["InvalidField", "tags", "'tags' must be an object of strings"]),
            (#"{"SessionId":"s","tags":null}"#, ["InvalidField", "tags", "'tags' must be an object of strings"]),
            (
                #"{"SessionId":"s","tags":{"a":1}}"#,
                ["InvalidField", "tags.a", "tag 'a' must be a string of at most 256 characters (names 1–128)"]
            ),
            (
                #"{"SessionId":"s","subnets":{}}"#,
                ["InvalidField", "subnets", "'subnets' must be an array of at most 64 {name, prefixLength}"]
            ),
            (
                #"{"SessionId":"s","subnets":null}"#,
                ["InvalidField", "subnets", "'subnets' must be an array of at most 64 {name, prefixLength}"]
            ),
            (#"{"SessionId":"s","subnets":[5]}"#, ["InvalidField", "subnets[0]", "'subnets[0]' must be an object"]),
            (
                #"{"SessionId":"s","subnets":[{"name":"a","prefixLength":26},null]}"#,
                ["InvalidField", "subnets[1]", "'subnets[1]' must be an object"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"a","prefixLength":26,"x":1}]}"#,
                ["UnknownField", "subnets[0].x", "unknown field 'subnets[0].x'"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"a","Name":"b","prefixLength":26}]}"#,
                [
                    "DuplicateField", "subnets[0].Name",
                    "field 'subnets[0].Name' appears more than once (names are case-insensitive)",
                ]
            ),
            (
                #"{"SessionId":"s","subnets":[{"prefixLength":26}]}"#,
                ["InvalidField", "subnets[0].name", "subnet 0 needs a name of 1–80 characters"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"a","prefixLength":26},{"name":null,"prefixLength":26}]}"#,
                ["InvalidField", "subnets[1].name", "'subnets[1].name' must be a string"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"app"}]}"#,
                ["MissingField", "subnets[0].prefixLength", "subnet 'app' needs a prefixLength"]
            ),
            (
                #"{"SessionId":"s","subnets":[{"name":"app","prefixLength":"26"}]}"#,
                ["InvalidField", "subnets[0].prefixLength", "'subnets[0].prefixLength' must be an integer"]
            ),
        ])
    func newNetworkRefusals(body: String, expected: [String?]) {
        #expect(Self.refusal(body, as: API.NewNetworkRequest.self, \.refusals) == expected, "\(body)")
    }

    @Test("getNewNetwork: names in any case, whole numbers as 24.0, huge ones clamped for the range check")
    func newNetworkShapes() throws {
        let request = try Self.decode(
            #"{"sessionid":"s","PREFIXLENGTH":24.0,"Tags":{"b":"2","a":"1","b":"3"},"subnets":[{"Name":"app","PrefixLength":26}],"dualstack":true,"prefixLengthV6":1e12}"#,
            as: API.NewNetworkRequest.self)
        #expect(request.sessionId == "s" && request.prefixLength == 24 && request.dualStack == true)
        #expect(request.prefixLengthV6 == 1_000_000_000, "out of range: left to the range check")
        #expect(request.subnets == [.init(name: "app", prefixLength: 26)])
        #expect(request.tags?.entries == [.init("b", "2"), .init("a", "1"), .init("b", "3")], "in order, twice")
    }

    @Test("members refused by themselves are kept, each under its name, for the validation to raise in its order")
    func refusalsAreKept() throws {
        let request = try Self.decode(
            #"{"SessionId":"a b","region":5,"prefixLength":"x","subnets":[{"name":"a","prefixLength":26},{"name":1},{"x":2}]}"#,
            as: API.NewNetworkRequest.self)
        #expect(Set(request.refusals.problems.keys) == ["SessionId", "region", "prefixLength", "subnets[]"])
        #expect(request.sessionId == "" && request.region == nil && request.prefixLength == nil)
        #expect(request.subnets == [.init(name: "a", prefixLength: 26)], "the items before the refused one")
        #expect(throws: RequestProblem.self) { try request.refusals.check("region") }
        #expect(request.refusals.problems["subnets[]"]?.field == "subnets[1].name", "the first refused item")
        #expect(request.refusals.contains("prefixLength") && !request.refusals.contains("pool"))
        let unknown = Self.refusal(
            #"{"SessionId":"a b","zone":1}"#, as: API.NewNetworkRequest.self, \.refusals)
        #expect(
            unknown == ["UnknownField", "zone", "unknown field 'zone'"], "a member not declared: the body is refused")
        let reservation = try Self.decode(#"{"pool":7}"#, as: API.ReservationRequest.self)
        #expect(Set(reservation.refusals.problems.keys) == ["pool", "owner", "reason"])
        #expect(reservation.owner == "" && reservation.reason == "")
    }

    @Test("a request is written with only the members given, and reads back as itself")
    func encoding() throws {
        #expect(WireEncoder.json(API.NewNetworkRequest(sessionId: "s")).serialized() == #"{"SessionId":"s"}"#)
        let full = API.NewNetworkRequest(
            sessionId: "s", prefixLength: 24, ipVersion: "v4", dualStack: true, prefixLengthV6: 60,
            subscriptionId: "sub", region: "eastus", requester: "me", tags: ["env": "dev", "env2": "x"], pool: "p",
            subnets: [.init(name: "app", prefixLength: 26)])
        #expect(
            WireEncoder.json(full).serialized()
                == #"{"SessionId":"s","prefixLength":24,"ipVersion":"v4","dualStack":true,"prefixLengthV6":60,"#
                + #""subscriptionId":"sub","region":"eastus","requester":"me","tags":{"env":"dev","env2":"x"},"#
                + #""pool":"p","subnets":[{"name":"app","prefixLength":26}]}"#)
        #expect(try WireDecoder.strict.decode(API.NewNetworkRequest.self, from: WireEncoder.json(full)) == full)
        let adoption = API.AdoptNetworkRequest(
            sessionId: "s", cidr: "10.0.0.0/22", cidrV6: "fd00::/56", subscriptionId: "sub", region: "r",
            requester: "me", tags: ["a": "1"],
            resourceId: "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v")
        #expect(
            WireEncoder.json(API.AdoptNetworkRequest(sessionId: "s", cidr: "10.0.0.0/22")).serialized()
                == #"{"SessionId":"s","cidr":"10.0.0.0/22"}"#)
        #expect(
            try WireDecoder.strict.decode(API.AdoptNetworkRequest.self, from: WireEncoder.json(adoption)) == adoption)
        let reservation = API.ReservationRequest(
            cidr: "10.0.0.0/24", prefixLength: 24, subscriptionId: "sub", region: "r", pool: "p", owner: "o",
            reason: "why", expiresAt: "2030-01-01T00:00:00Z")
        #expect(
            WireEncoder.json(API.ReservationRequest(prefixLength: 24, owner: "o", reason: "why")).serialized()
                == #"{"prefixLength":24,"owner":"o","reason":"why"}"#)
        #expect(
            try WireDecoder.strict.decode(API.ReservationRequest.self, from: WireEncoder.json(reservation))
                == reservation)
    }

    @Test(
        "adoptNetwork: unknown, duplicate, null, wrongly typed and missing members",
        arguments: [
            (#"{"cidr":"10.0.0.0/22"}"#, ["MissingField", "SessionId", "'SessionId' is required"]),
            (#"{"SessionId":"s"}"#, ["MissingField", "cidr", "'cidr' is required: the existing network's block"]),
            (#"{"SessionId":"s","cidr":null}"#, ["InvalidField", "cidr", "'cidr' must be a string"]),
            (
                #"{"SessionId":"s","cidr":"10.0.0.0/22","resourceId":"/subscriptions/x"}"#,
                [
                    "InvalidField", "resourceId",
                    "'resourceId' must be a VNet's resource id: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}",
                ]
            ),
            (
                #"{"SessionId":"s","cidr":"10.0.0.0/22","prefixLength":22}"#,
                ["UnknownField", "prefixLength", "unknown field 'prefixLength'"]
            ),
            (
                #"{"SessionId":"s","CIDR":"10.0.0.0/22","cidr":"10.0.0.0/22"}"#,
                ["DuplicateField", "cidr", "field 'cidr' appears more than once (names are case-insensitive)"]
            ),
            (
                #"{"SessionId":"s","cidr":"10.0.0.0/22","resourceId":5}"#,
                ["InvalidField", "resourceId", "'resourceId' must be a string"]
            ),
            (
                #"{"SessionId":"s","cidr":"10.0.0.0/22","cidrV6":false}"#,
                ["InvalidField", "cidrV6", "'cidrV6' must be a string"]
            ),
            (
                #"{"SessionId":"s","cidr":"10.0.0.0/22","tags":{"a":null}}"#,
                ["InvalidField", "tags.a", "tag 'a' must be a string of at most 256 characters (names 1–128)"]
            ),
        ])
    func adoptionRefusals(body: String, expected: [String?]) {
        #expect(Self.refusal(body, as: API.AdoptNetworkRequest.self, \.refusals) == expected, "\(body)")
    }

    @Test(
        "reserve: unknown, duplicate, null, wrongly typed and missing members, with the reservation's messages",
        arguments: [
            (#"{"reason":"r"}"#, ["MissingField", "owner", "'owner' is required"]),
            (#"{"owner":"o"}"#, ["MissingField", "reason", "'reason' is required"]),
            (
                #"{"owner":5,"reason":"r"}"#,
                ["InvalidField", "owner", "'owner' must be a string of 1–128 characters on one line"]
            ),
            (
                #"{"owner":"","reason":"r"}"#,
                ["InvalidField", "owner", "'owner' must be a string of 1–128 characters on one line"]
            ),
            (
                #"{"owner":"o","reason":"a\nb"}"#,
                ["InvalidField", "reason", "'reason' must be a string of 1–256 characters on one line"]
            ),
            (
                #"{"owner":"o","reason":"r","prefixLength":129}"#,
                ["InvalidPrefixLength", "prefixLength", "'prefixLength' must be a whole number from 1 to 128"]
            ),
            (
                #"{"owner":null,"reason":"r"}"#,
                ["InvalidField", "owner", "'owner' must be a string of 1–128 characters on one line"]
            ),
            (
                #"{"owner":"o","reason":[]}"#,
                ["InvalidField", "reason", "'reason' must be a string of 1–256 characters on one line"]
            ),
            (
                #"{"owner":"o","reason":"r","cidr":5}"#,
                ["InvalidField", "cidr", "'cidr' must be a string of 1–64 characters on one line"]
            ),
            (
                #"{"owner":"o","reason":"r","prefixLength":24.0}"#,
                ["InvalidPrefixLength", "prefixLength", "'prefixLength' must be a whole number from 1 to 128"]
            ),
            (
                #"{"owner":"o","reason":"r","prefixLength":"24"}"#,
                ["InvalidPrefixLength", "prefixLength", "'prefixLength' must be a whole number from 1 to 128"]
            ),
            (
                #"{"owner":"o","reason":"r","prefixLength":null}"#,
                ["InvalidPrefixLength", "prefixLength", "'prefixLength' must be a whole number from 1 to 128"]
            ),
            (
                #"{"owner":"o","reason":"r","expiresAt":1}"#,
                ["InvalidField", "expiresAt", "'expiresAt' must be a string of 1–64 characters on one line"]
            ),
            (#"{"owner":"o","reason":"r","pool":1}"#, ["InvalidField", "pool", "'pool' must be a string"]),
            (
                #"{"owner":"o","reason":"r","SessionId":"s"}"#,
                ["UnknownField", "SessionId", "unknown field 'SessionId'"]
            ),
            (
                #"{"owner":"o","Owner":"p","reason":"r"}"#,
                ["DuplicateField", "Owner", "field 'Owner' appears more than once (names are case-insensitive)"]
            ),
        ])
    func reservationRefusals(body: String, expected: [String?]) {
        #expect(Self.refusal(body, as: API.ReservationRequest.self, \.refusals) == expected, "\(body)")
    }

    @Test("reserve: a prefixLength is a whole number as written, names in any case")
    func reservationShapes() throws {
        let request = try Self.decode(
            #"{"OWNER":"o","Reason":"r","prefixLength":128,"expiresat":"soon"}"#, as: API.ReservationRequest.self)
        #expect(request.owner == "o" && request.reason == "r" && request.prefixLength == 128)
        #expect(request.expiresAt == "soon", "its meaning is the validation's")
    }
}
