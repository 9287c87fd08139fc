import AzureCore
import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import PropertyBased
import StrictJSON
import Testing

@testable import Inventory

/// Lease ids that name their IPv4 block: every block survives the round trip through its id, the id is a
/// version-8 UUID whose other bits are the seed's, no other id names a block, and only a lease whose id names its
/// one block goes without an `hlease_` row.
@Suite("Lease ids that name their block")
struct LeaseIdentityTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)

    static func prefix(_ raw: UInt32, _ length: Int) -> IPPrefix {
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return IPPrefix(address: IPAddress(v4: raw & mask), length: length)!
    }

    /// The version-4 UUID drawn from `first` then `second`.
    static func seed(_ first: UInt64, _ second: UInt64) -> String {
        struct Draws: RandomNumberGenerator {
            var values: [UInt64]
            mutating func next() -> UInt64 { values.removeFirst() }
        }
        var draws = Draws(values: [first, second])
        return ASCIIFormat.uuidV4(using: &draws)
    }

    @Test("any IPv4 block round-trips through its id, a version-8 UUID that keeps the seed's random bits")
    func roundTrip() async {
        await propertyCheck(count: 500, input: Gen.uint32(), Gen.int(in: 0...32), Gen.uint64(), Gen.uint64()) {
            raw, length, first, second in
            let block = Self.prefix(raw, length)
            let seed = Self.seed(first, second)
            guard let id = LeaseIdentity.naming(block, seed: seed) else {
                Issue.record("no id for \(block)")
                return
            }
            #expect(LeaseIdentity.block(named: id) == block, "\(id)")
            #expect(LeaseIdentity.block(named: id.uppercased()) == block, "either case")
            #expect(UUID(uuidString: id) != nil && id == id.lowercased())
            let characters = Array(id)
            #expect(characters[14] == "8" && "89ab".contains(characters[19]), "version 8, RFC 9562 variant: \(id)")
            // The seed's random bits are kept: everything after the length byte but the version and variant bits.
            let ours = Array(id.replacingOccurrences(of: "-", with: ""))
            let theirs = Array(seed.replacingOccurrences(of: "-", with: ""))
            #expect(
                ours[10..<12] == theirs[10..<12] && ours[13..<16] == theirs[13..<16] && ours[18...] == theirs[18...])
            #expect(
                LeaseIdentity.naming(block, seed: Self.seed(first ^ 1 << 63, second)) != id
                    || LeaseIdentity.naming(block, seed: Self.seed(first, second ^ 1)) != id,
                "two seeds, two ids")
        }
    }

    @Test("no other id names a block: version-4 ids, malformed text, lengths past 32, host bits set")
    func othersNameNothing() async {
        await propertyCheck(count: 500, input: Gen.uint64(), Gen.uint64()) { first, second in
            #expect(LeaseIdentity.block(named: Self.seed(first, second)) == nil, "a version-4 id")
        }
        let named = LeaseIdentity.naming(try! IPPrefix(parsing: "10.64.0.0/24"), seed: Self.seed(7, 9))!
        #expect(named.hasPrefix("0a400000-18"), "the address and length read in the id: \(named)")
        for bad in [
            "", "lease-1", String(named.dropLast()), named + "0", named.replacingOccurrences(of: "-", with: "_"),
            "0a400000-21" + named.dropFirst(11), // length 33
            "0a400001-18" + named.dropFirst(11), // 10.64.0.1/24: host bits
            "0a400000-18" + named.dropFirst(11).replacingOccurrences(of: "-8", with: "-4"), // not version 8
            "0a40000g-18" + named.dropFirst(11),
        ] {
            #expect(LeaseIdentity.block(named: bad) == nil, "\(bad)")
        }
        #expect(LeaseIdentity.naming(try! IPPrefix(parsing: "fd00::/56"), seed: Self.seed(1, 2)) == nil, "IPv6")
        #expect(LeaseIdentity.naming(try! IPPrefix(parsing: "10.0.0.0/24"), seed: "lease-1") == nil, "no UUID seed")
    }

    @Test("any text an attacker sends as a lease id names nothing or a block whose own id reads back to it")
    func anyText() async {
        // Mostly hex digits and dashes, so many draws get past the first checks.
        let alphabet = Array("0123456789abcdefABCDEF-8g\u{0301}é ")
        await propertyCheck(count: 2000, input: Gen.int(in: 0...(alphabet.count - 1)).array(of: 30...40)) { picks in
            var text = String(picks.map { alphabet[$0] })
            if text.count >= 36, picks.first.map({ $0 % 2 == 0 }) == true {
                // Half of them in the exact shape: dashes where a UUID has them, version 8, the variant.
                var characters = Array(text.prefix(36))
                for index in [8, 13, 18, 23] { characters[index] = "-" }
                characters[14] = "8"
                characters[19] = "9"
                text = String(characters)
            }
            guard let block = LeaseIdentity.block(named: text) else { return }
            #expect(block.version == .v4 && block.length <= 32)
            let again = LeaseIdentity.naming(block, seed: text.lowercased().replacingOccurrences(of: "-8", with: "-4"))
            #expect(again.flatMap { LeaseIdentity.block(named: $0) } == block, "\(text)")
        }
    }

    @Test(
        "a Vendor's lease of one IPv4 block names it and writes no hlease_ row; a pair, an IPv6 block or a given id keep theirs"
    )
    func onlyANamingLeaseGoesWithoutItsRow() throws {
        let scope = Scope(subscriptionId: "s", region: "r")
        var draft = LeaseDraft(
            leaseId: Self.seed(11, 13), sessionId: "s-1", requestHash: "h", requester: nil, leasedAt: Self.at,
            expiresAt: Self.at.addingTimeInterval(60))
        let v4 = try IPPrefix(parsing: "10.64.3.0/24")
        let v6 = try IPPrefix(parsing: "fd00:1::/56")
        func leaseRows(_ rows: [NetworkRow]) -> [TableTransactionAction] {
            Inventory.historyActions(rows, action: .lease, scope: scope, now: Self.at, newLease: true).filter {
                if case .insert(let entity) = $0 { return entity.rowKey.hasPrefix(RowKeys.historyLeasePrefix) }
                return false
            }
        }
        let given = draft.rows(on: v4)
        #expect(given.network.leaseId == Self.seed(11, 13) && leaseRows([given.network]).count == 1, "an id given")

        draft.namesItsBlock = true
        let (row, session) = draft.rows(on: v4)
        let id = try #require(row.leaseId)
        #expect(LeaseIdentity.block(named: id) == v4 && session.leaseId == id)
        #expect(leaseRows([row]).isEmpty, "its id is its row")
        #expect(
            Inventory.historyActions([row], action: .lease, scope: scope, now: Self.at, newLease: true).count == 1,
            "its mark is still written")

        let single6 = draft.rows(on: v6)
        #expect(single6.network.leaseId == Self.seed(11, 13) && leaseRows([single6.network]).count == 1, "IPv6")
        let pair = draft.pairRows(v4: v4, v6: v6)
        #expect(pair.v4.leaseId == Self.seed(11, 13) && pair.v6.leaseId == Self.seed(11, 13))
        #expect(leaseRows([pair.v4, pair.v6]).count == 1, "a pair's row keeps both blocks")
    }
}
