import Foundation
import PublicIPSchedule
import Testing

@Suite("Public-IP schedule")
struct PublicIPScheduleTests {
    /// The example of the schedule's specification.
    static let example = """
        schedule_timezone: "Europe/London"
        subscription_id: "22222222-2222-2222-2222-222222222222"
        vms:
          linux:   {name: vm-linux, resource_group: rg-apps}
          adf:     {name: vm-adf, resource_group: rg-data}
          dotnine: {name: vm-dotnine, resource_group: rg-apps, subscription_id: "33333333-3333-3333-3333-333333333333"}
        public_ips:
          iaptus_ip:  {name: pip-iaptus, resource_group: rg-net}
          dotnine_ip: {name: pip-dotnine, resource_group: rg-net}
        schedule:
          - {start: "07:45", end: "08:30", vm: linux, ip: iaptus_ip}
          - {start: "08:30", end: "09:00", vm: linux, ip: dotnine_ip}
          - {start: "09:00", end: "17:00", vm: adf, ip: iaptus_ip}
          - {start: "09:00", end: "17:00", vm: dotnine, ip: dotnine_ip}
          - {start: "17:00", end: "23:59", vm: linux, ip: iaptus_ip}
        """

    static func at(_ schedule: PublicIPSchedule, _ day: String, _ time: String) throws -> [String] {
        let instant = try #require(schedule.instant(time: time, day: day, now: Date()))
        return schedule.desired(at: instant).map(\.description)
    }

    @Test(
        "the specification's example, moment by moment",
        arguments: [
            ("06:00", []), ("07:44", []), ("07:45", ["linux/iaptus_ip"]), ("08:00", ["linux/iaptus_ip"]),
            ("08:29", ["linux/iaptus_ip"]),
            ("08:30", ["linux/dotnine_ip"]), ("08:45", ["linux/dotnine_ip"]),
            ("09:00", ["dotnine/dotnine_ip", "adf/iaptus_ip"]),
            ("10:00", ["dotnine/dotnine_ip", "adf/iaptus_ip"]), ("16:59", ["dotnine/dotnine_ip", "adf/iaptus_ip"]),
            ("17:00", ["linux/iaptus_ip"]), ("18:00", ["linux/iaptus_ip"]), ("23:58", ["linux/iaptus_ip"]),
            ("23:59", []),
        ])
    func example(_ time: String, _ expected: [String]) throws {
        let schedule = try PublicIPSchedule.parse(Self.example)
        #expect(try Self.at(schedule, "2026-06-15", time) == expected, "at \(time)")
    }

    @Test("resource ids: the top subscription unless a resource names its own")
    func ids() throws {
        let schedule = try PublicIPSchedule.parse(Self.example)
        #expect(
            schedule.vms["adf"]?.id
                == "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-data/providers/Microsoft.Compute/virtualMachines/vm-adf"
        )
        #expect(schedule.vms["dotnine"]?.subscriptionId == "33333333-3333-3333-3333-333333333333")
        #expect(
            schedule.publicIPs["iaptus_ip"]?.id
                == "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-net/providers/Microsoft.Network/publicIPAddresses/pip-iaptus"
        )
    }

    static func single(_ start: String, _ end: String, zone: String = "Europe/London") throws -> PublicIPSchedule {
        try PublicIPSchedule.parse(
            """
            {"schedule_timezone": "\(zone)", "subscription_id": "s",
             "vms": {"batch": {"name": "vm-batch", "resource_group": "rg"}}, "public_ips": {"ip": {"name": "pip", "resource_group": "rg"}},
             "schedule": [{"start": "\(start)", "end": "\(end)", "vm": "batch", "ip": "ip"}]}
            """)
    }

    @Test("half-open windows, and windows across midnight (the JSON form)")
    func windows() throws {
        let day = try Self.single("09:00", "17:00")
        #expect(try Self.at(day, "2026-06-15", "17:00") == [], "17:00 is not in 09:00–17:00")
        #expect(try Self.at(day, "2026-06-15", "09:00") == ["batch/ip"])
        let night = try Self.single("23:00", "06:00")
        for (time, active) in [
            ("02:00", true), ("23:00", true), ("05:59", true), ("06:00", false), ("22:59", false), ("12:00", false),
        ] {
            #expect(try Self.at(night, "2026-06-15", time) == (active ? ["batch/ip"] : []), "\(time)")
        }
        let allDay = try Self.single("00:00", "24:00")
        #expect(
            try Self.at(allDay, "2026-06-15", "23:59") == ["batch/ip"]
                && Self.at(allDay, "2026-06-15", "00:00") == ["batch/ip"])
    }

    @Test("daylight saving in Europe/London: windows follow the local clock on both Sundays")
    func daylightSaving() throws {
        let schedule = try Self.single("09:00", "17:00")
        let utc = ISO8601DateFormatter()
        func active(_ instant: String) -> Bool { !schedule.desired(at: utc.date(from: instant)!).isEmpty }
        // 29 March 2026: clocks go forward at 01:00 UTC; 09:00 local is 08:00 UTC.
        #expect(
            !active("2026-03-29T07:59:00Z") && active("2026-03-29T08:00:00Z") && active("2026-03-29T15:59:00Z")
                && !active("2026-03-29T16:00:00Z"))
        // 25 October 2026: clocks go back at 01:00 UTC; 09:00 local is 09:00 UTC again.
        #expect(
            !active("2026-10-25T08:59:00Z") && active("2026-10-25T09:00:00Z") && active("2026-10-25T16:59:00Z")
                && !active("2026-10-25T17:00:00Z"))
        // The hour the clock skips never happens; the hour it repeats happens twice.
        let early = try Self.single("01:00", "02:00")
        let skipped = stride(from: 0, to: 24 * 60, by: 5).map {
            utc.date(from: "2026-03-29T00:00:00Z")!.addingTimeInterval(Double($0) * 60)
        }
        #expect(skipped.filter { !early.desired(at: $0).isEmpty }.isEmpty, "01:00–02:00 does not exist on 29 March")
        let repeated = stride(from: 0, to: 24 * 60, by: 5).map {
            utc.date(from: "2026-10-25T00:00:00Z")!.addingTimeInterval(Double($0) * 60)
        }
        #expect(
            repeated.filter { !early.desired(at: $0).isEmpty }.count == 24,
            "01:00–02:00 happens twice on 25 October (2 × 12 five-minute steps)")
        #expect(schedule.iso8601(utc.date(from: "2026-03-29T09:00:00Z")!) == "2026-03-29T10:00:00+01:00")
        #expect(schedule.iso8601(utc.date(from: "2026-10-25T09:00:00Z")!) == "2026-10-25T09:00:00+00:00")
    }

    @Test("every problem on its own line, naming the entries")
    func validation() {
        let text = """
            schedule_timezone: "Mars/Olympus"
            vms:
              a: {name: vm-a, resource_group: rg, subscription_id: s}
              b: {name: vm-b, resource_group: rg}
            public_ips:
              p: {name: pip-p, resource_group: rg, subscription_id: s}
              q: {name: pip-q, resource_group: rg, subscription_id: s}
            schedule:
              - {start: "25:00", end: "10:00", vm: a, ip: p}
              - {start: "10:00", end: "10:00", vm: a, ip: p}
              - {start: "9:00", end: "17:00", vm: a, ip: p}
              - {start: "08:00", end: "12:00", vm: nobody, ip: p}
              - {start: "22:00", end: "02:00", vm: a, ip: p}
              - {start: "01:00", end: "03:00", vm: c, ip: q}
              - {start: "01:30", end: "02:30", vm: a, ip: nothing}
              - {start: "23:30", end: "23:45", vm: a, ip: q, color: red}
            """
        var problems: [String] = []
        do { _ = try PublicIPSchedule.parse(text) } catch { problems = error.problems }
        let expected = [
            "Mars/Olympus", "vms.b: subscription_id is required", "schedule[0]: start '25:00'",
            "schedule[1]: the window 10:00–10:00 is empty",
            "schedule[2]: start '9:00'", "schedule[3]: unknown vm 'nobody'", "schedule[5]: unknown vm 'c'",
            "schedule[6]: unknown ip 'nothing'",
            "schedule[7]: unknown key 'color'",
        ]
        for fragment in expected {
            #expect(problems.contains { $0.contains(fragment) }, "missing: \(fragment) in \(problems)")
        }
        #expect(problems.count >= expected.count)
    }

    @Test("the same IP for two VMs in overlapping windows, across midnight too, is refused; back to back is fine")
    func conflicts() throws {
        func document(_ lines: String) -> String {
            """
            {"schedule_timezone": "UTC", "subscription_id": "s",
             "vms": {"a": {"name": "vm-a", "resource_group": "rg"}, "b": {"name": "vm-b", "resource_group": "rg"}},
             "public_ips": {"p": {"name": "pip-p", "resource_group": "rg"}, "q": {"name": "pip-q", "resource_group": "rg"}},
             "schedule": [\(lines)]}
            """
        }
        func problems(_ lines: String) -> [String] {
            do {
                _ = try PublicIPSchedule.parse(document(lines))
                return []
            } catch { return error.problems }
        }
        let night = problems(
            #"{"start": "22:00", "end": "02:00", "vm": "a", "ip": "p"}, {"start": "01:00", "end": "05:00", "vm": "b", "ip": "p"}"#
        )
        #expect(
            night.count == 1 && night[0].contains("schedule[0]") && night[0].contains("schedule[1]")
                && night[0].contains("two VMs at once"), "\(night)")
        let twoForOne = problems(
            #"{"start": "09:00", "end": "12:00", "vm": "a", "ip": "p"}, {"start": "11:00", "end": "13:00", "vm": "a", "ip": "q"}"#
        )
        #expect(twoForOne.count == 1 && twoForOne[0].contains("two public IPs"), "\(twoForOne)")
        #expect(
            problems(
                #"{"start": "09:00", "end": "12:00", "vm": "a", "ip": "p"}, {"start": "12:00", "end": "09:00", "vm": "b", "ip": "p"}"#
            ) == [],
            "back to back (half-open) and round the clock")
    }

    @Test("a moment named by date and time in the zone; malformed ones refused")
    func instants() throws {
        let schedule = try PublicIPSchedule.parse(Self.example)
        let instant = try #require(schedule.instant(time: "10:00", day: "2026-01-15", now: Date()))
        #expect(schedule.iso8601(instant) == "2026-01-15T10:00:00+00:00")
        #expect(schedule.instant(time: "25:00", day: nil, now: Date()) == nil)
        #expect(schedule.instant(time: "10:00", day: "2026-02-30", now: Date()) == nil)
        #expect(schedule.instant(time: "10:00", day: "15.01.2026", now: Date()) == nil)
    }
}
