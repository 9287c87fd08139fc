import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import StrictJSON
import Testing

@testable import Inventory

/// Actions, states and origins are enums in code and the same strings in storage and answers: known names read
/// as their case, names this build does not know (older or newer writers') are kept and written back as stored.
@Suite("Recorded names: actions, states, origins")
struct RecordedNamesTests {
    @Test(
        "every audit action and state reads as its case and writes its stored string", arguments: AuditAction.allCases)
    func actions(_ action: AuditAction) {
        let recorded = Recorded<AuditAction>(rawValue: action.rawValue)
        #expect(recorded == .known(action) && recorded.known == action && recorded.rawValue == action.rawValue)
    }

    @Test("states: each known one and an unknown one round-trip their strings")
    func states() {
        for state in NetworkState.allCases {
            #expect(Recorded<NetworkState>(rawValue: state.rawValue) == .known(state))
        }
        let unknown = Recorded<NetworkState>(rawValue: "retired")
        #expect(unknown == .unknown("retired") && unknown.known == nil && unknown.rawValue == "retired")
        #expect(Recorded<AuditAction>(rawValue: "Lease") == .unknown("Lease"), "names are case-sensitive, as stored")
    }

    @Test("an audit event's action and states read from storage and write back exactly, unknown ones included")
    func eventRoundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        var event = AuditEvent(
            action: .known(.release), actor: "a", cidr: "10.0.0.0/24", leaseId: "l", sessionId: "s",
            before: .known(.leased), after: .known(.quarantined))
        var entity = event.entity(partitionKey: "p", at: date)
        #expect(entity["Action"] == .string("release"))
        #expect(entity["Before"] == .string("leased") && entity["After"] == .string("quarantined"))
        var read = try #require(AuditEvent(entity: entity))
        #expect(read.action == .known(.release) && read.before == .known(.leased) && read.after == .known(.quarantined))

        event = AuditEvent(
            action: "legacy-action", actor: "a", cidr: "", leaseId: "", sessionId: "", before: nil, after: "retired")
        entity = event.entity(partitionKey: "p", at: date)
        #expect(entity["Action"] == .string("legacy-action"))
        #expect(entity["Before"] == .string("") && entity["After"] == .string("retired"))
        read = try #require(AuditEvent(entity: entity))
        #expect(read.action == .unknown("legacy-action") && read.before == nil && read.after == .unknown("retired"))
        let json = read.json(scope: Scope(subscriptionId: "s", region: "r"))
        #expect(json["action"]?.stringValue == "legacy-action" && json["before"] == .null)
        #expect(json["after"]?.stringValue == "retired")
    }

    @Test("a row's origin: observed as the Manager writes it, another stored value kept, none not written")
    func origins() throws {
        let prefix = try IPPrefix(parsing: "10.3.0.0/24")
        #expect(
            NetworkRow(prefix: prefix, holding: .occupied(.init(vnet: "v"))).entity(partitionKey: "p")["Origin"] == nil)
        let seen = Date(timeIntervalSince1970: 1_800_000_000)
        let row = NetworkRow.observed(prefix, usedBy: "v", seenAt: seen)
        var entity = row.entity(partitionKey: "p")
        #expect(entity["Origin"] == .string("observed"))
        #expect(entity["LastSeenAt"] == .dateTime(seen), "seen in the listing it was recorded from")
        #expect(NetworkRow(entity: entity)?.origin == .known(.observed))
        entity.properties["Origin"] = .string("imported")
        let other = try #require(NetworkRow(entity: entity))
        #expect(other.origin == .unknown("imported"))
        #expect(other.entity(partitionKey: "p")["Origin"] == .string("imported"))
    }
}
