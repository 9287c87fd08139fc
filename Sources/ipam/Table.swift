import Foundation
import IPAMCore
import VendorAPI

/// Aligned tables for people (`--json` prints the API's JSON instead), from the API's answer types.
enum Table {
    /// Columns padded to their widest cell, two spaces apart.
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// A cell: the text, or `-` for none.
    static func text(_ value: String?) -> String { value ?? "-" }
    static func text(_ value: Int?) -> String { value.map { String($0) } ?? "-" }
    /// A time as the API writes it.
    static func text(_ value: Date?) -> String { value.map(ISO8601.format) ?? "-" }

    /// The lines of a lease: its id, session, blocks (IPv6 only for a dual-stack lease), state, scope and times.
    static func leaseLines(
        leaseId: String?, sessionId: String?, cidr: String, cidrV6: String?, state: String, scope: String,
        expiresAt: Date?
    ) -> [[String]] {
        var lines = [["leaseId", text(leaseId)], ["sessionId", text(sessionId)], ["cidr", cidr]]
        if let cidrV6 { lines.append(["cidrV6", cidrV6]) }
        return lines + [["state", state], ["scope", scope], ["expiresAt", text(expiresAt)]]
    }

    /// A lease just made, replayed or adopted, with its tag and subnets.
    static func lease(_ lease: API.Lease, note: String? = nil) -> String {
        var lines = leaseLines(
            leaseId: lease.leaseId, sessionId: lease.sessionId, cidr: lease.cidr, cidrV6: lease.cidrV6,
            state: lease.state, scope: lease.scope, expiresAt: lease.expiresAt)
        lines.append(["tag", "\(lease.tag.name)=\(lease.tag.value)"])
        for subnet in lease.subnets {
            lines.append(["subnet", "\(subnet.name) \(subnet.cidr)\(subnet.cidrV6.map { " \($0)" } ?? "")"])
        }
        let body = render(["FIELD", "VALUE"], lines)
        return note.map { body + "\n(\($0))" } ?? body
    }

    /// A dry run's answer: the block the request would get now, or the lease its session holds.
    static func preview(_ preview: API.NetworkPreview) -> String {
        var lines = leaseLines(
            leaseId: preview.heldLease?.leaseId, sessionId: preview.sessionId, cidr: preview.cidr,
            cidrV6: preview.cidrV6, state: preview.heldLease?.state ?? "-", scope: preview.scope,
            expiresAt: preview.heldLease?.expiresAt)
        lines.append(["pool", text(preview.pool)])
        for subnet in preview.subnets {
            lines.append(["subnet", "\(subnet.name) \(subnet.cidr)\(subnet.cidrV6.map { " \($0)" } ?? "")"])
        }
        let note =
            preview.heldLease == nil
            ? "dry run: the block this request would get now; nothing is held"
            : "dry run: the session already holds this lease; nothing was changed"
        return render(["FIELD", "VALUE"], lines) + "\n(\(note))"
    }

    /// A lease as it stands.
    static func lease(_ lease: API.LeaseRecord) -> String {
        let lines =
            leaseLines(
                leaseId: lease.leaseId, sessionId: lease.sessionId, cidr: lease.cidr, cidrV6: lease.cidrV6,
                state: lease.state, scope: lease.scope, expiresAt: lease.expiresAt)
            + [["anchoredAt", text(lease.anchoredAt)], ["resourceId", text(lease.resourceId)]]
        return render(["FIELD", "VALUE"], lines)
    }

    static func leases(_ page: API.LeaseList) -> String {
        let rows = page.leases.map { lease in
            [
                lease.cidr + (lease.cidrV6.map { " + \($0)" } ?? ""), lease.state, text(lease.leaseId),
                text(lease.sessionId), lease.region, text(lease.expiresAt),
            ]
        }
        var output = render(["CIDR", "STATE", "LEASE", "SESSION", "REGION", "EXPIRES"], rows)
        if let next = page.continuation {
            output += "\n(more: --all lists every page; continuation \(next))"
        }
        return output
    }

    static func pools(_ answer: API.Pools) -> String {
        var rows: [[String]] = []
        for pool in answer.pools {
            let name = pool.scope + (pool.pool.map { "/" + $0 } ?? "")
            for size in pool.sizes {
                rows.append(
                    [name, "/" + String(size.prefixLength)]
                        + ["available", "leased", "anchored", "quarantined", "occupied"].map { text(size.states[$0]) })
            }
            rows.append([
                name, "free", String(pool.freeAddresses) + " addresses", "", "", "",
                "largest /" + text(pool.largestFreePrefixLength),
            ])
        }
        return render(["SCOPE", "SIZE", "AVAILABLE", "LEASED", "ANCHORED", "QUARANTINED", "OCCUPIED"], rows)
    }

    static func hostIP(_ ip: API.HostIP, note: String? = nil) -> String {
        // IPv6 lines only for a dual-stack lease
        let lines: [[String]?] = [
            ["ip", ip.ip], ip.ipV6.map { ["ipV6", $0] }, ["principal", ip.principal], ["subnet", text(ip.subnet)],
            ["subnetCidr", ip.subnetCidr], ip.subnetCidrV6.map { ["subnetCidrV6", $0] }, ["leaseId", ip.leaseId],
            ["allocatedAt", text(ip.allocatedAt)],
        ]
        let body = render(["FIELD", "VALUE"], lines.compactMap { $0 })
        return note.map { body + "\n(\($0))" } ?? body
    }

    static func hostIPs(_ answer: API.HostIPList) -> String {
        render(
            ["IP", "PRINCIPAL", "SUBNET", "ALLOCATED"],
            answer.ips.map { ip in
                [ip.ip + (ip.ipV6.map { " \($0)" } ?? ""), ip.principal, text(ip.subnet), text(ip.allocatedAt)]
            })
    }

    static func members(_ members: [API.Member]) -> String {
        render(
            ["PRINCIPAL", "ROLE", "ADDED"],
            members.map { member in [member.principal, member.role, text(member.addedAt)] })
    }

    static func events(_ page: API.EventList) -> String {
        let rows = page.events.map { event in
            [
                text(event.at), event.action, event.actor, text(event.cidr),
                "\(text(event.before)) → \(text(event.after))", text(event.leaseId), text(event.requestId),
            ]
        }
        var output = render(["AT", "ACTION", "ACTOR", "CIDR", "STATE", "LEASE", "REQUEST"], rows)
        if let next = page.continuation { output += "\n(more: --continuation \(next))" }
        return output
    }

    static func usage(_ answer: API.Usage) -> String {
        let sizes = Set(answer.samples.flatMap { $0.freeBlocks.map(\.prefixLength) }).sorted()
        let rows = answer.samples.map { sample in
            [
                text(sample.at), String(sample.leased.value), String(sample.anchored.value),
                String(sample.occupied.value), String(sample.reserved.value), String(sample.quarantined.value),
                String(sample.available.value), String(sample.free.value), String(sample.leases),
            ]
                + sizes.map { length in
                    sample.freeBlocks.first { $0.prefixLength == length }.map { String($0.count) } ?? "-"
                }
        }
        var output =
            "\(answer.scope)\(answer.pool.map { " pool \($0)" } ?? "") \(answer.ipVersion), every \(answer.step) s\n"
        output += render(
            ["AT", "LEASED", "ANCHORED", "OCCUPIED", "RESERVED", "QUARANTINED", "AVAILABLE", "FREE", "LEASES"]
                + sizes.map { "FREE /\($0)" }, rows)
        func outlook(_ outlook: API.Usage.Outlook) -> String {
            switch outlook.status {
            case "runs-out":
                return "runs out \(text(outlook.runsOutAt)) (\(((outlook.daysLeft ?? 0) * 10).rounded() / 10) days)"
            default: return outlook.status
            }
        }
        output += "\nforecast (unused addresses): last 7 days: \(outlook(answer.forecast.unusedAddresses.last7Days)); "
        output += "last 30 days: \(outlook(answer.forecast.unusedAddresses.last30Days))"
        for size in answer.forecast.sizes {
            output += "\nforecast (free /\(size.prefixLength)): last 7 days: \(outlook(size.last7Days)); "
            output += "last 30 days: \(outlook(size.last30Days))"
        }
        return output
    }

    /// A history page: one line per state of each holding, oldest first.
    static func history(_ page: API.AddressHistory) -> String {
        var rows: [[String]] = []
        for entry in page.entries {
            let who = entry.leaseId ?? entry.reservationId.map { "reservation \($0)" } ?? text(entry.resourceId)
            for state in entry.states {
                rows.append([
                    entry.cidr, entry.kind, state.state, text(state.from), text(state.to), who,
                    text(entry.requester), text(entry.resourceId), entry.scope,
                ])
            }
        }
        var output = render(["CIDR", "KIND", "STATE", "FROM", "TO", "HOLDER", "REQUESTER", "RESOURCE", "SCOPE"], rows)
        if let next = page.continuation { output += "\n(more: --continuation \(next))" }
        return output
    }

    static func networks(_ page: API.NetworkList) -> String {
        var output = render(
            ["STATUS", "CIDRS", "NETWORK", "LEASE", "SCOPE", "SINCE", "REASON"],
            page.networks.map { network in
                [
                    network.status, network.cidrs.joined(separator: ","), network.resourceId, text(network.leaseId),
                    network.scope, text(network.since), network.reason,
                ]
            })
        if let next = page.continuation { output += "\n(more: --continuation \(next))" }
        return output
    }

    static func reservations(_ reservations: [API.Reservation]) -> String {
        render(
            ["CIDR", "SCOPE", "OWNER", "REASON", "EXPIRES", "ID"],
            reservations.map { item in
                [
                    item.cidr, item.scope, item.owner, item.reason + (item.readOnly ? " (read-only)" : ""),
                    text(item.expiresAt), item.reservationId,
                ]
            })
    }
}
