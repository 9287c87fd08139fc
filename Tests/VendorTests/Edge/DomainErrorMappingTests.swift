import HTTPTypes
import IPAMCore
import NetworkMath
import Testing
import VendorDomain

@testable import VendorHTTP

/// `VendorError(_:)`: the domain's refusal in the one error shape, every part carried over unchanged.
@Suite struct DomainErrorMappingTests {
    @Test func carriesCodeMessageFieldAndDetails() {
        let domain = DomainError.sessionConflict(sessionId: "s-1", leaseId: "l-1")
        let error = VendorError(domain)
        #expect(error.status == .conflict)
        #expect(error.code == .sessionConflict)
        #expect(error.message == "SessionId 's-1' was already used with a different request")
        #expect(error.field == "SessionId")
        #expect(error.details == ["leaseId": "l-1"])
        #expect(error.retryAfter == nil)
    }

    @Test func carriesRetryAfterAndTheCodesStatus() {
        let busy = VendorError(.busy("pool p"))
        #expect(busy.status == .serviceUnavailable)
        #expect(busy.retryAfter == 1)
        #expect(busy.message == "too much contention for this pool right now; retry (pool p)")
        let storage = VendorError(.storageUnavailable("timeout"))
        #expect(storage.status == .serviceUnavailable && storage.retryAfter == 2)
        let unknown = VendorError(.outcomeUnknown(sessionId: "s-1"))
        #expect(unknown.code == .outcomeUnknown && unknown.retryAfter == 1 && unknown.details == ["sessionId": "s-1"])
    }

    @Test func keepsTheStatusOfEachSituation() {
        #expect(VendorError(.leaseGone(sessionId: "s", leaseId: "l", state: nil)).status == .gone)
        #expect(VendorError(.leaseNotFound(leaseId: "l")).status == .notFound)
        #expect(VendorError(.notAMember(leaseId: "l")).status == .forbidden)
        #expect(
            VendorError(
                .poolExhausted(
                    scope: Scope(subscriptionId: "s", region: "r"), prefixLength: 24, pool: nil, version: .v4)
            )
            .code == .poolExhausted)
    }
}
