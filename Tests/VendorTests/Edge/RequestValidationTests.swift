import Foundation
import IPAMCore
import NetworkMath
import Testing
import VendorHTTP

/// The configuration the request validation tests check bodies against: two scopes (one dual-stack).
enum RequestValidationTests {
    static let subscription = "11111111-1111-1111-1111-111111111111"
    static let environment: [String: String] = [
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "26", "CIDR_SIZE_DEFAULT": "22", "LEASE_DURATION_HOURS": "0.5",
        "SUPERNETS_CONFIG": """
        [{"subscriptionId":"\(subscription)","regions":[
          {"region":"eastus","supernets":["10.64.0.0/14"],"exclude":["10.64.0.0/24"]},
          {"region":"westeurope","supernets":["10.72.0.0/14","fd00:72::/44"],"isolated":false}]}]
        """,
        "SCOPE_CONFIG_MANIFEST": """
        {"defaultScope":{"subscriptionId":"\(subscription)","region":"eastus"},
         "scopes":[{"subscriptionId":"\(subscription)","region":"eastus","stock":{"22":8,"24":16}}]}
        """,
    ]
}

@Suite("getNewNetwork request validation")
struct LeaseRequestValidationTests {
    let configuration = try! IPAMConfiguration.load(environment: RequestValidationTests.environment)
    let subscription = RequestValidationTests.subscription

    func decode(_ body: String) throws(RequestProblem) -> LeaseRequest {
        try RequestValidation.lease(Array(body.utf8), configuration: configuration)
    }

    @Test func smallestBody() throws {
        let request = try decode(#"{"SessionId": "test-123"}"#)
        #expect(request.sessionId == "test-123")
        #expect(request.prefixLength == 22)
        #expect(request.scope == configuration.defaultScope)
    }

    @Test func fullBodyCaseInsensitive() throws {
        let request = try decode(
            #"{"sessionid":"mcp-7f3a","PREFIXLENGTH":24,"SubscriptionId":"\#(subscription)","Region":"WestEurope","requester":"terraform-mcp","tags":{"env":"dev"},"subnets":[{"name":"app","prefixLength":26},{"Name":"db","PrefixLength":27}]}"#
        )
        #expect(request.scope.region == "westeurope" && request.prefixLength == 24)
        #expect(request.subnets.map(\.name) == ["app", "db"])
        #expect(request.tags == ["env": "dev"])
    }

    @Test func hashIgnoresFieldOrderAndCaseButNotValues() throws {
        let a = try decode(#"{"SessionId":"s","prefixLength":24,"tags":{"a":"1","b":"2"}}"#)
        let b = try decode(#"{"tags":{"b":"2","a":"1"},"PrefixLength":24,"sessionId":"s"}"#)
        let c = try decode(#"{"SessionId":"s","prefixLength":23}"#)
        #expect(a.requestHash == b.requestHash)
        #expect(a.requestHash != c.requestHash)
    }

    @Test(
        "dualStack: an IPv4 block and an IPv6 block (default CIDR_SIZE_V6_DEFAULT) with a /64 per subnet; part of the request hash"
    )
    func dualStack() throws {
        let request = try decode(
            #"{"SessionId":"d","region":"westeurope","dualStack":true,"prefixLength":24,"prefixLengthV6":60,"subnets":[{"name":"app","prefixLength":26}]}"#
        )
        #expect(request.ipVersion == .v4 && request.prefixLength == 24 && request.dualStackV6Length == 60)
        let half = try #require(request.v6Half)
        #expect(
            half.ipVersion == .v6 && half.prefixLength == 60 && half.subnets == [.init(name: "app", prefixLength: 64)]
                && half.scope == request.scope)
        let single = try decode(
            #"{"SessionId":"d","region":"westeurope","prefixLength":24,"subnets":[{"name":"app","prefixLength":26}]}"#)
        #expect(single.v6Half == nil && single.requestHash != request.requestHash)
        #expect(try decode(#"{"SessionId":"d","region":"westeurope","dualStack":true}"#).dualStackV6Length == 56)
        #expect(
            try decode(#"{"SessionId":"d","region":"westeurope","dualStack":false}"#).requestHash
                == (try decode(#"{"SessionId":"d","region":"westeurope"}"#)).requestHash,
            "dualStack: false is a lease of one block")
    }

    @Test(
        "bad dual-stack bodies get a code and name the field",
        arguments: [
            (#"{"SessionId":"s","dualStack":true}"#, "OutsideSupernets", "dualStack"), // eastus has no IPv6 supernet
            (#"{"SessionId":"s","region":"westeurope","dualStack":1}"#, "InvalidField", "dualStack"),
            (
                #"{"SessionId":"s","region":"westeurope","dualStack":true,"ipVersion":"v6"}"#, "InvalidCombination",
                "ipVersion"
            ),
            (#"{"SessionId":"s","region":"westeurope","prefixLengthV6":56}"#, "InvalidCombination", "prefixLengthV6"),
            (
                #"{"SessionId":"s","region":"westeurope","dualStack":true,"prefixLengthV6":65}"#, "InvalidPrefixLength",
                "prefixLengthV6"
            ),
            (
                #"{"SessionId":"s","region":"westeurope","dualStack":true,"prefixLengthV6":"56"}"#, "InvalidField",
                "prefixLengthV6"
            ),
            (
                #"{"SessionId":"s","region":"westeurope","dualStack":true,"prefixLengthV6":64,"prefixLength":24,"subnets":[{"name":"a","prefixLength":26},{"name":"b","prefixLength":26}]}"#,
                "SubnetsDoNotFit", "subnets"
            ),
        ])
    func badDualStackBodies(body: String, code: String, field: String?) {
        badBodies(body: body, code: code, field: field)
    }

    @Test(
        "bad bodies get a code and name the field",
        arguments: [
            ("", "InvalidJSON", nil), ("[1]", "InvalidJSON", nil), ("{", "InvalidJSON", nil),
            ("{}", "MissingField", "SessionId"),
            (#"{"SessionId":""}"#, "InvalidSessionId", "SessionId"),
            (#"{"SessionId":"a/b"}"#, "InvalidSessionId", "SessionId"),
            (#"{"SessionId":12}"#, "InvalidField", "SessionId"),
            (#"{"SessionId":"s","prefixLength":"24"}"#, "InvalidField", "prefixLength"),
            (#"{"SessionId":"s","prefixLength":24.5}"#, "InvalidField", "prefixLength"),
            (#"{"SessionId":"s","region":null}"#, "InvalidField", "region"),
            (#"{"SessionId":"s","prefixLength":true}"#, "InvalidField", "prefixLength"),
            (#"{"SessionId":"s","prefixLength":19}"#, "InvalidPrefixLength", "prefixLength"),
            (#"{"SessionId":"s","prefixLength":27}"#, "InvalidPrefixLength", "prefixLength"),
            (#"{"SessionId":"s","colour":"red"}"#, "UnknownField", "colour"),
            // a regular expression's `$` once let a trailing newline through
            (#"{"SessionId":"s\n"}"#, "InvalidSessionId", "SessionId"),
            (#"{"SessionId":"s\r\n"}"#, "InvalidSessionId", "SessionId"),
            (#"{"SessionId":"\u00e9"}"#, "InvalidSessionId", "SessionId"),
            (#"{"SessionId":"s","sessionid":"t"}"#, "DuplicateField", nil),
            (#"{"SessionId":"s","region":"mars"}"#, "UnknownScope", "region"),
            (#"{"SessionId":"s","tags":{"a":1}}"#, "InvalidField", "tags.a"),
            (
                #"{"SessionId":"s","prefixLength":24,"subnets":[{"name":"a","prefixLength":25},{"name":"b","prefixLength":25},{"name":"c","prefixLength":26}]}"#,
                "SubnetsDoNotFit", "subnets"
            ),
            (#"{"SessionId":"s","subnets":[{"name":"a","prefixLength":26,"x":1}]}"#, "UnknownField", "subnets[0].x"),
        ])
    func badBodies(body: String, code: String, field: String?) {
        do {
            _ = try decode(body)
            Issue.record("\(body) must be refused")
        } catch {
            #expect(error.code.rawValue == code, "\(body): \(error.message)")
            if let field { #expect(error.field == field, "\(body)") }
        }
    }
}
