import StrictJSON

/// Aligned tables for people (`--json` prints the API's JSON instead).
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

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: return text
        case .number(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case nil, .null?: return "-"
        default: return value!.serialized()
        }
    }

    static func lease(_ lease: JSONValue, note: String? = nil) -> String {
        var lines: [[String]] = []
        for key in [
            "leaseId", "sessionId", "cidr", "cidrV6", "state", "scope", "expiresAt", "anchoredAt", "resourceId",
        ] where lease[key] != nil {
            if key == "cidrV6", lease[key] == .null { continue } // a lease of one block
            lines.append([key, text(lease[key])])
        }
        if let tag = lease["tag"] { lines.append(["tag", "\(text(tag["name"]))=\(text(tag["value"]))"]) }
        for subnet in lease["subnets"]?.arrayValue ?? [] {
            let v6 = subnet["cidrV6"]?.stringValue.map { " \($0)" } ?? ""
            lines.append(["subnet", "\(text(subnet["name"])) \(text(subnet["cidr"]))\(v6)"])
        }
        let body = render(["FIELD", "VALUE"], lines)
        return note.map { body + "\n(\($0))" } ?? body
    }

    static func leases(_ page: JSONValue) -> String {
        let rows = (page["leases"]?.arrayValue ?? []).map { lease in
            [text(lease["cidr"]) + (lease["cidrV6"]?.stringValue.map { " + \($0)" } ?? "")]
                + ["state", "leaseId", "sessionId", "region", "expiresAt"].map { text(lease[$0]) }
        }
        var output = render(["CIDR", "STATE", "LEASE", "SESSION", "REGION", "EXPIRES"], rows)
        if let next = page["continuation"]?.stringValue {
            output += "\n(more: --all lists every page; continuation \(next))"
        }
        return output
    }

    static func pools(_ answer: JSONValue) -> String {
        var rows: [[String]] = []
        for pool in answer["pools"]?.arrayValue ?? [] {
            let name = text(pool["scope"]) + (pool["pool"]?.stringValue.map { "/" + $0 } ?? "")
            for size in pool["sizes"]?.arrayValue ?? [] {
                rows.append([
                    name, "/" + text(size["prefixLength"]), text(size["available"]), text(size["leased"]),
                    text(size["anchored"]),
                    text(size["quarantined"]), text(size["occupied"]),
                ])
            }
            rows.append([
                name, "free", text(pool["freeAddresses"]) + " addresses", "", "", "",
                "largest /" + text(pool["largestFreePrefixLength"]),
            ])
        }
        return render(["SCOPE", "SIZE", "AVAILABLE", "LEASED", "ANCHORED", "QUARANTINED", "OCCUPIED"], rows)
    }

    static func hostIP(_ ip: JSONValue, note: String? = nil) -> String {
        let lines = ["ip", "ipV6", "principal", "subnet", "subnetCidr", "subnetCidrV6", "leaseId", "allocatedAt"]
            // IPv6 lines only for a dual-stack lease
            .filter { ip[$0] != nil && ip[$0] != .null || $0 == "subnet" }.map { [$0, text(ip[$0])] }
        let body = render(["FIELD", "VALUE"], lines)
        return note.map { body + "\n(\($0))" } ?? body
    }

    static func hostIPs(_ answer: JSONValue) -> String {
        render(
            ["IP", "PRINCIPAL", "SUBNET", "ALLOCATED"],
            (answer["ips"]?.arrayValue ?? []).map { ip in
                [
                    text(ip["ip"]) + (ip["ipV6"]?.stringValue.map { " \($0)" } ?? ""), text(ip["principal"]),
                    text(ip["subnet"]), text(ip["allocatedAt"]),
                ]
            })
    }

    static func members(_ answer: JSONValue) -> String {
        render(
            ["PRINCIPAL", "ROLE", "ADDED"],
            (answer["members"]?.arrayValue ?? []).map { member in
                [text(member["principal"]), text(member["role"]), text(member["addedAt"])]
            })
    }

    static func events(_ page: JSONValue) -> String {
        let rows = (page["events"]?.arrayValue ?? []).map { event in
            [
                text(event["at"]), text(event["action"]), text(event["actor"]), text(event["cidr"]),
                "\(text(event["before"])) → \(text(event["after"]))", text(event["leaseId"]), text(event["requestId"]),
            ]
        }
        var output = render(["AT", "ACTION", "ACTOR", "CIDR", "STATE", "LEASE", "REQUEST"], rows)
        if let next = page["continuation"]?.stringValue { output += "\n(more: --continuation \(next))" }
        return output
    }

    static func reservations(_ answer: JSONValue) -> String {
        render(
            ["CIDR", "SCOPE", "OWNER", "REASON", "EXPIRES", "ID"],
            (answer["reservations"]?.arrayValue ?? []).map { item in
                [
                    text(item["cidr"]), text(item["scope"]), text(item["owner"]),
                    text(item["reason"]) + (item["readOnly"] == .bool(true) ? " (read-only)" : ""),
                    text(item["expiresAt"]), text(item["reservationId"]),
                ]
            })
    }
}
