import Foundation
import Yams

extension PublicIPSchedule {
    /// The schedule `PUBLIC_IP_SCHEDULE` names: a YAML file's path, or the document itself as JSON (a value
    /// that starts with `{`).
    package static func load(setting value: String) throws(ScheduleError) -> PublicIPSchedule {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return try parse(trimmed) }
        let text: String
        do { text = try String(contentsOfFile: trimmed, encoding: .utf8) } catch {
            throw ScheduleError(problems: ["PUBLIC_IP_SCHEDULE: cannot read \(trimmed): \(error.localizedDescription)"])
        }
        return try parse(text)
    }

    /// Parses and validates a schedule document (YAML, or JSON, which is YAML too). Every problem is
    /// reported, not only the first.
    package static func parse(_ text: String) throws(ScheduleError) -> PublicIPSchedule {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScheduleError(problems: ["the schedule is empty"])
            }
            root = node
        } catch let error as ScheduleError {
            throw error
        } catch {
            throw ScheduleError(problems: ["the schedule is not valid YAML or JSON: \(error)"])
        }
        var problems: [String] = []
        guard let top = root.mapping else {
            throw ScheduleError(problems: [
                "the schedule must be a mapping with schedule_timezone, vms, public_ips and schedule"
            ])
        }
        let known: Set<String> = ["schedule_timezone", "subscription_id", "vms", "public_ips", "schedule"]
        for key in top.keys.compactMap(\.string) where !known.contains(key) {
            problems.append("unknown key '\(key)' (expected \(known.sorted().joined(separator: ", ")))")
        }
        var timeZone = TimeZone(identifier: "UTC")!
        if let name = top["schedule_timezone"]?.string {
            if let zone = TimeZone(identifier: name) {
                timeZone = zone
            } else {
                problems.append("schedule_timezone: '\(name)' is not an IANA time zone name")
            }
        } else {
            problems.append("schedule_timezone is required (an IANA name such as Europe/London)")
        }
        let subscription = top["subscription_id"]?.string
        let vms = resources(
            top["vms"], section: "vms", provider: "Microsoft.Compute/virtualMachines", subscription: subscription,
            problems: &problems)
        let ips = resources(
            top["public_ips"], section: "public_ips", provider: "Microsoft.Network/publicIPAddresses",
            subscription: subscription, problems: &problems)
        var entries: [Entry] = []
        if let list = top["schedule"]?.sequence {
            for (index, item) in list.enumerated() {
                guard let fields = item.mapping else {
                    problems.append("schedule[\(index)]: must be a mapping {start, end, vm, ip}")
                    continue
                }
                let name = "schedule[\(index)]"
                for key in fields.keys.compactMap(\.string) where !["start", "end", "vm", "ip"].contains(key) {
                    problems.append("\(name): unknown key '\(key)' (expected start, end, vm, ip)")
                }
                let start = fields["start"]?.string
                let end = fields["end"]?.string
                let vm = fields["vm"]?.string
                let ip = fields["ip"]?.string
                var ok = true
                let startMinute = start.flatMap(minute).flatMap { $0 < 1440 ? $0 : nil }
                if startMinute == nil {
                    problems.append("\(name): start '\(start ?? "")' is not a time HH:MM (00:00–23:59)")
                    ok = false
                }
                let endMinute = end.flatMap(minute)
                if endMinute == nil {
                    problems.append("\(name): end '\(end ?? "")' is not a time HH:MM (00:00–24:00)")
                    ok = false
                }
                if let vm {
                    if vms[vm] == nil {
                        problems.append(
                            "\(name): unknown vm '\(vm)' (vms: \(vms.keys.sorted().joined(separator: ", ")))")
                        ok = false
                    }
                } else {
                    problems.append("\(name): vm is required")
                    ok = false
                }
                if let ip {
                    if ips[ip] == nil {
                        problems.append(
                            "\(name): unknown ip '\(ip)' (public_ips: \(ips.keys.sorted().joined(separator: ", ")))")
                        ok = false
                    }
                } else {
                    problems.append("\(name): ip is required")
                    ok = false
                }
                if let s = startMinute, let e = endMinute, s == e {
                    problems.append("\(name): the window \(start!)–\(end!) is empty")
                    ok = false
                }
                if ok, let s = startMinute, let e = endMinute, let vm, let ip {
                    entries.append(Entry(index: index, window: Window(start: s, end: e), vm: vm, ip: ip))
                }
            }
        } else {
            problems.append("schedule is required: a list of {start, end, vm, ip}")
        }
        // One IP on two VMs at once, or two IPs for one VM's primary IP configuration at once.
        for (i, a) in entries.enumerated() {
            for b in entries[(i + 1)...] where a.window.overlaps(b.window) {
                if a.ip == b.ip && a.vm != b.vm {
                    problems.append("\(a) and \(b): ip '\(a.ip)' is scheduled for two VMs at once")
                } else if a.vm == b.vm && a.ip != b.ip {
                    problems.append(
                        "\(a) and \(b): vm '\(a.vm)' is scheduled two public IPs at once (its primary IP configuration holds one)"
                    )
                }
            }
        }
        guard problems.isEmpty else { throw ScheduleError(problems: problems) }
        return PublicIPSchedule(timeZone: timeZone, vms: vms, publicIPs: ips, entries: entries)
    }

    static func resources(
        _ node: Node?, section: String, provider: String, subscription: String?, problems: inout [String]
    ) -> [String: Resource] {
        guard let node else {
            problems.append("\(section) is required: label → {name, resource_group, subscription_id}")
            return [:]
        }
        guard let mapping = node.mapping else {
            problems.append("\(section) must be a mapping of label → {name, resource_group, subscription_id}")
            return [:]
        }
        var found: [String: Resource] = [:]
        for (key, value) in mapping {
            guard let label = key.string else { continue }
            let name = "\(section).\(label)"
            guard let fields = value.mapping else {
                problems.append("\(name): must be a mapping {name, resource_group, subscription_id}")
                continue
            }
            for field in fields.keys.compactMap(\.string)
            where !["name", "resource_group", "subscription_id"].contains(field) {
                problems.append("\(name): unknown key '\(field)' (expected name, resource_group, subscription_id)")
            }
            let resourceName = fields["name"]?.string
            let group = fields["resource_group"]?.string
            let sub = fields["subscription_id"]?.string ?? subscription
            if resourceName?.isEmpty ?? true { problems.append("\(name): name is required") }
            if group?.isEmpty ?? true { problems.append("\(name): resource_group is required") }
            if sub?.isEmpty ?? true {
                problems.append("\(name): subscription_id is required (here or once at the top)")
            }
            if let resourceName, let group, let sub, !resourceName.isEmpty, !group.isEmpty, !sub.isEmpty {
                found[label] = Resource(
                    label: label, name: resourceName, resourceGroup: group, subscriptionId: sub, provider: provider)
            }
        }
        return found
    }
}
