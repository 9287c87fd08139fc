import Foundation
import IPAMCore
import NetworkMath
import StrictJSON
import VendorAPI
import VendorDomain
import VendorHTTP

/// The Vendor's request-body decoders, over the same body: `getNewNetwork`, `adoptNetwork` and reservations
/// (`WireDecoder.strict` and `RequestValidation`), and the lease-reference, host-address and member bodies. Each
/// gives a request or a `RequestProblem` (a structured 4xx); a decoded request keeps what the decoder promises
/// (a valid SessionId, a length in range).
enum RequestBodyTarget: FuzzTarget {
    static let name = "request-body"

    static let subscription = "11111111-1111-1111-1111-111111111111"
    /// The configuration of the Configuration tests: two scopes (one dual-stack), a pool with rules and a quota.
    static let configuration: IPAMConfiguration = {
        let environment = [
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "SUPERNETS_CONFIG": """
            [{"subscriptionId":"\(subscription)","regions":[
              {"region":"eastus","supernets":["10.64.0.0/14"],"exclude":["10.64.0.0/24"]},
              {"region":"westeurope","supernets":["10.72.0.0/14","fd00:72::/44"],"isolated":false}]}]
            """,
            "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"}}"#,
            "POOLS_CONFIG": """
            [{"name":"team-a","subscriptionId":"\(subscription)","region":"eastus","cidr":"10.64.128.0/17",
              "rules":{"minPrefixLength":24,"maxPrefixLength":26,"defaultPrefixLength":24,"requiredTags":["env"]},
              "quota":{"maxLeasesPerRequester":10}},
             {"name":"team-a-ci","parent":"team-a","cidr":"10.64.192.0/18"},
             {"name":"v6","subscriptionId":"\(subscription)","region":"westeurope","cidr":"fd00:72::/48"}]
            """,
        ]
        do { return try IPAMConfiguration.load(environment: environment) } catch {
            fatalError("the fuzz configuration does not load: \(error)")
        }
    }()
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func run(_ bytes: [UInt8]) {
        if let request = try? RequestValidation.lease(bytes, configuration: configuration) { check(request) }
        if let request = try? RequestValidation.adoption(bytes, configuration: configuration) {
            guard RequestRules.isValidSessionId(request.sessionId) else {
                violated("adoption with SessionId '\(request.sessionId)'")
            }
        }
        if let reservation = try? RequestValidation.reservation(bytes, configuration: configuration, now: now) {
            if let prefix = reservation.prefix, prefix.length != reservation.prefixLength {
                violated("reservation \(prefix) with prefixLength \(reservation.prefixLength)")
            }
        }
        if let reference = try? WireDecoder.strict.decode(API.LeaseReference.self, from: bytes) {
            _ = try? RequestRules.resolveScope(
                subscriptionId: reference.subscriptionId, region: reference.region, configuration: configuration)
            if let id = reference.sessionId { _ = RequestRules.isValidSessionId(id) }
        }
        _ = try? WireDecoder.strict.decode(API.HostIPRequest.self, from: bytes)
        _ = try? WireDecoder.strict.decode(API.MemberRequest.self, from: bytes)
    }

    static func check(_ request: LeaseRequest) {
        guard RequestRules.isValidSessionId(request.sessionId) else {
            violated("lease with SessionId '\(request.sessionId)'")
        }
        let limits = configuration.lengths(pool: request.pool, version: request.ipVersion)
        guard (limits.min...limits.max).contains(request.prefixLength) else {
            violated("prefixLength \(request.prefixLength) outside \(limits) for pool \(request.pool ?? "-")")
        }
        guard configuration.scopes[request.scope] != nil else { violated("unconfigured scope \(request.scope)") }
        for subnet in request.subnets where subnet.prefixLength < request.prefixLength {
            violated("subnet /\(subnet.prefixLength) larger than the /\(request.prefixLength) block")
        }
    }
}
