import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Testing
import VendorAPI

@testable import VendorConsole
@testable import VendorDomain

/// The dashboard's charts and the address-space map: their geometry as properties over many inputs (time reads
/// left to right with dates, every block visible and no narrower than a smaller one, no NaN on empty data), and
/// the pages built from them.
@Suite("Console overview: charts and the address-space map")
struct ConsoleOverviewTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let scope = Scope(subscriptionId: "sub", region: "westeurope")

    static func prefix(_ text: String) -> IPPrefix { try! IPPrefix(parsing: text) }

    /// A deterministic generator (the same cases on every run).
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static var datePattern: Regex<(Substring, Substring?)> { /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$/ }

    @Test("a time axis' ticks increase left to right, each at its moment, each labelled with its date")
    func ticksReadLeftToRight() {
        var random = Generator(state: 7)
        for _ in 0..<500 {
            let from = Date(timeIntervalSince1970: Double.random(in: 1.6e9...1.9e9, using: &random))
            let span =
                [60.0, 3600, 86400, 7 * 86400, 30 * 86400, 400 * 86400].randomElement(using: &random)!
                * Double.random(in: 0.1...3, using: &random)
            let axis = ConsoleCharts.TimeAxis(from: from, to: from.addingTimeInterval(span), left: 60, right: 940)
            let ticks = axis.ticks()
            #expect(ticks.count >= 2 && ticks.count <= 6, "\(span)")
            for (earlier, later) in zip(ticks, ticks.dropFirst()) {
                #expect(earlier.at < later.at && earlier.x < later.x, "\(from) \(span)")
            }
            for tick in ticks {
                #expect(tick.x >= 60 && tick.x <= 940 && tick.x.isFinite)
                #expect(tick.label.wholeMatch(of: Self.datePattern) != nil, "\(tick.label)")
                #expect(ISO8601.format(tick.at).hasPrefix(String(tick.label.prefix(10))))
            }
        }
        // Later is further right, clamped to the axis.
        let axis = ConsoleCharts.TimeAxis(from: Self.now, to: Self.now.addingTimeInterval(100), left: 0, right: 10)
        #expect(axis.x(Self.now.addingTimeInterval(-5)) == 0 && axis.x(Self.now.addingTimeInterval(500)) == 10)
        #expect(axis.x(Self.now.addingTimeInterval(50)) == 5)
        // No span: one tick at the left, no NaN.
        let flat = ConsoleCharts.TimeAxis(from: Self.now, to: Self.now, left: 60, right: 940)
        #expect(flat.ticks().map(\.x) == [60] && flat.x(Self.now) == 60)
        let inverted = ConsoleCharts.TimeAxis(
            from: Self.now, to: Self.now.addingTimeInterval(-3600), left: 60, right: 940)
        #expect(inverted.ticks().count == 1 && inverted.x(Self.now).isFinite)
    }

    @Test(
        "hourly and daily buckets are whole UTC hours and days, oldest first, the current one last, each opening its audit log"
    )
    func bucketsAreDatedOldestFirst() {
        let created = [-60.0, -7200, -3 * 86400, -8 * 86400].map { Self.now.addingTimeInterval($0) }
        let (hourly, daily) = DashboardPage.buckets(created, now: Self.now)
        #expect(hourly.count == 24 && daily.count == 7)
        for series in [hourly, daily] {
            for (earlier, later) in zip(series, series.dropFirst()) {
                #expect(earlier.end == later.start && earlier.start < later.start)
            }
            #expect(series.last!.start <= Self.now && series.last!.end > Self.now)
        }
        #expect(hourly.allSatisfy { $0.start.timeIntervalSince1970.truncatingRemainder(dividingBy: 3600) == 0 })
        #expect(daily.allSatisfy { $0.start.timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) == 0 })
        #expect(hourly.map(\.count).reduce(0, +) == 2 && daily.map(\.count).reduce(0, +) == 3)
        #expect(
            hourly[0].href
                == "/console/audit?since=\(ISO8601.format(hourly[0].start))&until=\(ISO8601.format(hourly[0].end))"
        )
        // The bars stand left to right in the buckets' order, within the plot, none taller than the tallest.
        let axis = ConsoleCharts.TimeAxis(from: daily[0].start, to: daily[6].end, left: 60, right: 940)
        let bars = ConsoleCharts.barLayout(daily, axis: axis, height: 100)
        for (earlier, later) in zip(bars, bars.dropFirst()) { #expect(earlier.x + earlier.width <= later.x) }
        #expect(bars.allSatisfy { $0.x >= 60 && $0.x + $0.width <= 940 && $0.height >= 0 && $0.height <= 100 })
        #expect(bars.map(\.height).max() == 100)
    }

    @Test("charts of no data draw empty axes: no NaN or infinity in the markup, no bar, a dated axis still")
    func emptyChartsHaveNoNaN() {
        let charts = [
            ConsoleCharts.timeBars([], from: Self.now, to: Self.now, noun: "leases created", daily: false),
            ConsoleCharts.timeLine([], from: Self.now, to: Self.now, top: 0, unit: " %", label: "x"),
            ConsoleCharts.timeLine(
                [(Self.now, .nan), (Self.now, .infinity)], from: Self.now.addingTimeInterval(-86400), to: Self.now,
                top: .nan, unit: " %", label: "x"),
            ConsoleCharts.rowBars([], label: "none"),
            ConsoleCharts.rowBars([.init(label: "a", value: .nan, detail: "d", href: nil)], label: "not a number"),
            ConsoleCharts.stackedBar([], unit: "leases"),
            SpaceMap.svg(range: Self.prefix("10.0.0.0/8"), blocks: []),
        ]
        for chart in charts {
            #expect(!chart.lowercased().contains("nan") && !chart.contains("inf"), "\(chart)")
        }
        #expect(ConsoleCharts.fmt(.nan) == "0.00" && ConsoleCharts.fmt(-.infinity) == "0.00")
        #expect(ConsoleCharts.rowLayout([.init(label: "a", value: 0, detail: "", href: nil)], width: 100) == [0])
        let week = DashboardPage(pools: [], created: [], held: [], manager: nil, now: Self.now)
        #expect(week.hourly.html.contains("class=\"tick\"") && week.daily.html.contains("class=\"tick\""))
    }

    @Test("the map: every block visible, no block narrower than a smaller one, blocks in address order over the rows")
    func mapGeometry() {
        var random = Generator(state: 42)
        for _ in 0..<100 {
            // A range of 2^bits addresses cut into aligned blocks of random sizes, in address order.
            let bits = Int.random(in: 8...40, using: &random)
            var sizes: [Double] = []
            var left = pow(2.0, Double(bits))
            while left > 0 {
                let largest = min(Double(bits), log2(left).rounded(.down))
                let size = pow(2.0, Double(Int.random(in: 0...Int(largest), using: &random)))
                sizes.append(size)
                left -= size
                if sizes.count > 200 {
                    sizes.append(left)
                    left = 0
                }
            }
            let layout = SpaceMap.layout(sizes: sizes, total: pow(2.0, Double(bits)))
            #expect(layout.widths.allSatisfy { $0 >= SpaceMap.minWidth })
            // Ordered with size: sorted by size, the widths never decrease; equal sizes, equal widths.
            let bySize = zip(sizes, layout.widths).sorted { $0.0 < $1.0 }
            for (smaller, larger) in zip(bySize, bySize.dropFirst()) {
                #expect(smaller.1 <= larger.1 && (smaller.0 != larger.0 || smaller.1 == larger.1))
            }
            // Each block's tiles add up to its width, inside the rows, in order.
            for index in sizes.indices {
                let tiles = layout.tiles.filter { $0.block == index }
                #expect(abs(tiles.map(\.width).reduce(0, +) - layout.widths[index]) < 1e-6)
            }
            #expect(layout.tiles.allSatisfy { $0.x >= 0 && $0.x + $0.width <= SpaceMap.rowWidth + 1e-6 })
            for (earlier, later) in zip(layout.tiles, layout.tiles.dropFirst()) {
                #expect(earlier.block <= later.block)
                #expect(
                    earlier.row < later.row || (earlier.row == later.row && earlier.x + earlier.width <= later.x + 1e-6)
                )
            }
            // Blocks wide enough keep their exact share.
            let scale = SpaceMap.rowWidth / pow(2.0, Double(bits))
            for (size, width) in zip(sizes, layout.widths) where size * scale >= SpaceMap.minWidth {
                #expect(abs(width - size * scale) < 1e-6)
            }
        }
        #expect(SpaceMap.layout(sizes: [], total: 0).rows == 0)
    }

    /// The address spans a map's marks cover, in drawing order, a segment's pieces on further rows counted once:
    /// a block's `data-cidr`, or a merged segment's `data-range`.
    static func spans(_ svg: String) -> [(first: UInt128, last: UInt128)] {
        var spans: [(first: UInt128, last: UInt128)] = []
        for match in svg.matches(of: /data-(cidr|range)="([^"]+)"/) {
            let span: (first: UInt128, last: UInt128)
            if match.1 == "cidr" {
                let block = prefix(String(match.2))
                span = (block.first.value, block.last.value)
            } else {
                let ends = match.2.split(separator: "-").map { prefix("\($0)/32").first.value }
                span = (ends[0], ends[1])
            }
            if let last = spans.last, last == span { continue }
            spans.append(span)
        }
        return spans
    }

    /// `spans` cover `range` exactly once: in order, each starting where the one before ended.
    static func coverExactlyOnce(_ spans: [(first: UInt128, last: UInt128)], _ range: IPPrefix) -> Bool {
        guard let first = spans.first, let last = spans.last else { return false }
        return first.first == range.first.value && last.last == range.last.value
            && zip(spans, spans.dropFirst()).allSatisfy { $0.last &+ 1 == $1.first && $0.first <= $0.last }
    }

    @Test(
        "the map's segments: every block in exactly one, in order; a block wide enough alone, at its exact share; only narrow neighbours merged; never more than the bound, up to 50,000 blocks"
    )
    func mapSegments() {
        var random = Generator(state: 7)
        let states = ["leased", "free", "available", "reserved", "anchored"]
        for round in 0..<40 {
            // Up to 50,000 blocks, mostly tiny with some large, in runs of one state or alternating states.
            let count = round == 0 ? 50_000 : Int.random(in: 1...50_000, using: &random)
            var sizes: [Double] = []
            var keys: [String] = []
            while sizes.count < count {
                let big = Int.random(in: 0..<100, using: &random) < 2
                let bits = big ? Int.random(in: 12...24, using: &random) : Int.random(in: 0...4, using: &random)
                sizes.append(pow(2.0, Double(bits)))
                if round % 3 == 0 {
                    keys.append(states[sizes.count % states.count]) // a new state at every block
                } else if let last = keys.last, Int.random(in: 0..<4, using: &random) > 0 {
                    keys.append(last) // runs of one state
                } else {
                    keys.append(states[Int.random(in: 0..<states.count, using: &random)])
                }
            }
            let total = sizes.reduce(0, +)
            let segments = SpaceMap.segments(sizes: sizes, keys: keys, total: total)
            #expect(segments.count <= SpaceMap.maxSegments, "round \(round): \(segments.count) segments")
            // Every block in exactly one segment, in address order; so every address is covered exactly once.
            #expect(segments.first?.blocks.lowerBound == 0 && segments.last?.blocks.upperBound == sizes.count)
            #expect(zip(segments, segments.dropFirst()).allSatisfy { $0.blocks.upperBound == $1.blocks.lowerBound })
            #expect(segments.allSatisfy { !$0.blocks.isEmpty && $0.size == sizes[$0.blocks].reduce(0, +) })
            #expect(segments.map(\.size).reduce(0, +) == total)
            let scale = SpaceMap.rowWidth / total
            for segment in segments where segment.blocks.count > 1 {
                #expect(sizes[segment.blocks].allSatisfy { $0 * scale < SpaceMap.minWidth }, "only narrow blocks merge")
            }
            let alone = Set(segments.filter { $0.blocks.count == 1 }.map(\.blocks.lowerBound))
            for index in sizes.indices where sizes[index] * scale >= SpaceMap.minWidth {
                #expect(alone.contains(index), "a block wide enough is drawn alone")
            }
            // The layout of the segments keeps the map's claims: minimum width, exact share above it, bounded.
            let layout = SpaceMap.layout(sizes: segments.map(\.size), total: total)
            #expect(layout.widths.allSatisfy { $0 >= SpaceMap.minWidth })
            for (segment, width) in zip(segments, layout.widths) where segment.size * scale >= SpaceMap.minWidth {
                #expect(abs(width - segment.size * scale) < 1e-6)
            }
            #expect(
                layout.rows <= SpaceMap.maxRows && layout.tiles.count <= SpaceMap.maxSegments + SpaceMap.maxRows - 1)
        }
        // Narrow blocks of one state merge; a narrow block between others of other states stays alone (runs
        // alternating too often are merged further only past `maxSegments`: the generated rounds above).
        let run = SpaceMap.segments(
            sizes: [1, 1, 1, 1000, 1, 1], keys: ["leased", "leased", "free", "leased", "free", "leased"], total: 1005)
        #expect(run.map(\.blocks) == [0..<2, 2..<3, 3..<4, 4..<5, 5..<6])
        let alternating = SpaceMap.segments(
            sizes: [1000, 1, 1, 1], keys: ["leased", "free", "leased", "free"], total: 1003)
        #expect(alternating.map(\.blocks) == [0..<1, 1..<2, 2..<3, 3..<4])
        #expect(SpaceMap.maxSegments == 500 && SpaceMap.maxRows == 5 && SpaceMap.maxElements == 2_017)
    }

    @Test(
        "a scope of 50,000 leases: the map keeps within its bound of SVG elements, covers every address exactly once, a big block still has its own title and link, a merged run links to its leases"
    )
    func hugeScope() throws {
        let range = Self.prefix("10.0.0.0/12")
        let states: [NetworkState] = [.leased, .reserved, .available, .anchored]
        var rows = [ConsolePageTests.row("10.14.0.0/16", .leased, lease: "big", requester: "team-big")]
        for index in 0..<50_000 {
            // /28s in alternating states, every tenth place left free.
            let place = UInt32(index + index / 9) * 16
            let value = (UInt32(10) << 24) | place
            let cidr = "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)/28"
            rows.append(ConsolePageTests.row(cidr, states[index % states.count], lease: "l-\(index)", requester: "t"))
        }
        for hideUsed in [false, true] {
            let page = SpacePage.range(
                "10.0.0.0/12", range, index: 0, rows: rows, reservations: [], excluded: [], hideUsed: hideUsed,
                scopeKey: "sub_westeurope")
            let html = page.bar.html
            let elements = html.matches(of: /<[a-z]/).count
            #expect(elements <= SpaceMap.maxElements, "\(elements) elements")
            #expect(page.blocks.count <= SpacePage.blockLimit)
            if hideUsed {
                #expect(!html.contains("data-state=\"leased\"") && !html.contains("data-state=\"reserved\""))
                continue
            }
            #expect(Self.coverExactlyOnce(Self.spans(html), range), "every address exactly once")
            #expect(
                html.contains(
                    "<a href=\"/console/leases/big\" aria-label=\"10.14.0.0/16 leased, lease big, requester team-big"))
            #expect(
                html.contains("<a href=\"/console/leases?scope=sub_westeurope&amp;within=10.0.0.0%2F"),
                "\(html.prefix(3000))")
            #expect(html.contains(" blocks (") && html.contains("each too small to draw alone"))
            #expect(page.scaleNote.contains("runs of neighbouring blocks too small to draw alone are drawn together"))
        }
    }

    @Test(
        "a /28 beside a /16 in a /12: both drawn, the /28 at the minimum width, the /16 to scale; the note says which are widened"
    )
    func smallBesideBig() {
        let range = Self.prefix("10.0.0.0/12")
        let rows = [
            ConsolePageTests.row("10.1.0.0/16", .leased, lease: "big", requester: "team"),
            ConsolePageTests.row("10.2.0.0/28", .leased, lease: "small", requester: "team"),
        ]
        let page = SpacePage.range("10.0.0.0/12", range, index: 0, rows: rows, reservations: [], excluded: [])
        let html = page.bar.html
        let widths = html.matches(
            of: /data-cidr="(10\.[12]\.0\.0\/(?:16|28))" data-state="leased" x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)"/
        )
        .map { (String($0.1), Double($0.2)!) }
        let small = widths.filter { $0.0 == "10.2.0.0/28" }.map(\.1).reduce(0, +)
        let big = widths.filter { $0.0 == "10.1.0.0/16" }.map(\.1).reduce(0, +)
        #expect(abs(small - SpaceMap.minWidth) < 0.01 && abs(big - 62.5) < 0.01, "\(widths)")
        #expect(page.scaleNote.contains("the full width is all of 10.0.0.0/12 (1048576 addresses)"))
        #expect(page.scaleNote.contains("a /20 or smaller block is widened"), "\(page.scaleNote)")
        // In a /8 the /16 too is below the minimum share: the two leased neighbours are drawn together, neither
        // disappears: one segment of both, at least the minimum wide, linking to their leases.
        let wide = SpacePage.range(
            "r", Self.prefix("10.0.0.0/8"), index: 0, rows: rows, reservations: [], excluded: [], scopeKey: "s_r")
        #expect(
            wide.bar.html.contains(
                "data-range=\"10.1.0.0-10.2.0.15\" data-blocks=\"2\" data-state=\"leased\""), "\(wide.bar.html)")
        #expect(
            wide.bar.html.contains("<a href=\"/console/leases?scope=s_r&amp;within=10.0.0.0%2F14&amp;state=leased\""))
        #expect(Self.coverExactlyOnce(Self.spans(wide.bar.html), Self.prefix("10.0.0.0/8")))
        // Every block of the range is drawn, alone with its details in its title (a lease linking to its page),
        // or, too small to draw alone, inside a run of neighbours of its state drawn together.
        #expect(
            html.contains(
                "<a href=\"/console/leases/small\" aria-label=\"10.2.0.0/28 leased, lease small, requester team"))
        let spans = Self.spans(html)
        #expect(Self.coverExactlyOnce(spans, range), "\(spans)")
        for block in page.blocks {
            let (first, last) = (Self.prefix(block.cidr).first.value, Self.prefix(block.cidr).last.value)
            #expect(spans.contains { $0.first <= first && last <= $0.last }, "\(block.cidr)")
        }
        #expect(html.contains("data-range=\"10.2.0.16-"), "the free neighbours of the /28, drawn together")
    }

    @Test("a pool inside a supernet is one block there, why 'in pool', linking to the pool's map, which draws its rows")
    func poolsInTheMap() {
        let leased = ConsolePageTests.row("10.0.128.0/24", .leased, lease: "in-pool", requester: "team")
        let outside = ConsolePageTests.row("10.0.0.0/24", .leased, lease: "outside", requester: "team")
        let pools: [SpacePage.PoolRange] = [
            (name: "team", prefix: Self.prefix("10.0.128.0/17"), index: 1),
            (name: "child", prefix: Self.prefix("10.0.192.0/18"), index: 2),
        ]
        let supernet = SpacePage.range(
            "10.0.0.0/16", Self.prefix("10.0.0.0/16"), index: 0, rows: [leased, outside], reservations: [],
            excluded: [], pools: pools)
        #expect(supernet.blocks.map(\.cidr).contains("10.0.128.0/17"))
        #expect(
            !supernet.blocks.map(\.cidr).contains("10.0.128.0/24")
                && !supernet.blocks.map(\.cidr).contains("10.0.192.0/18"))
        #expect(supernet.blocks.first { $0.cidr == "10.0.128.0/17" }?.why == "in pool team: ask the pool for it")
        #expect(supernet.bar.html.contains("<a href=\"#net-1\""))
        // An exclusion larger than the range is clipped to it.
        let excluded = SpacePage.range(
            "pool team", Self.prefix("10.0.128.0/17"), index: 1, rows: [], reservations: [],
            excluded: [Self.prefix("10.0.0.0/8")])
        #expect(excluded.blocks.map(\.cidr) == ["10.0.128.0/17"] && excluded.blocks.map(\.state) == ["excluded"])
        #expect(excluded.bar.html.contains("x=\"0.00\" y=\"0.00\" width=\"1000.00\""))
        let open = SpacePage.range(
            "pool team", Self.prefix("10.0.128.0/17"), index: 1, rows: [leased, outside], reservations: [],
            excluded: [], pools: pools)
        #expect(open.blocks.first?.cidr == "10.0.128.0/24" && open.blocks.first?.leaseId == "in-pool")
        #expect(
            open.blocks.contains {
                $0.cidr == "10.0.192.0/18" && $0.state == "pool" && $0.why.contains("in pool child")
            })
    }

    @Test("hiding used blocks leaves only free and stocked ones, in the table and the map, at their places")
    func hideUsed() {
        let rows = [
            ConsolePageTests.row("10.0.0.0/26", .leased, lease: "l1", requester: "team"),
            ConsolePageTests.row("10.0.0.64/26", .available),
            ConsolePageTests.row("10.0.0.128/27", .reserved),
        ]
        let all = SpacePage.range("r", Self.prefix("10.0.0.0/24"), index: 0, rows: rows, reservations: [], excluded: [])
        let free = SpacePage.range(
            "r", Self.prefix("10.0.0.0/24"), index: 0, rows: rows, reservations: [], excluded: [], hideUsed: true)
        #expect(Set(all.blocks.map(\.state)) == ["leased", "available", "reserved", "free"])
        #expect(Set(free.blocks.map(\.state)) == ["available", "free"])
        #expect(!free.bar.html.contains("data-state=\"leased\"") && !free.bar.html.contains("data-state=\"reserved\""))
        #expect(free.hidden == "2 used blocks are hidden." && all.hidden == nil)
        // The free blocks stay where they were.
        let place = /data-cidr="10\.0\.0\.160\/27" data-state="free" x="([0-9.]+)"/
        #expect(all.bar.html.firstMatch(of: place)?.1 == free.bar.html.firstMatch(of: place)?.1)
        let html = ConsoleTemplates.render(
            SpacePage(scopeOptions: [], supernets: [free], scopeKey: "sub_westeurope", hideUsed: true),
            title: "Space", notice: nil, session: nil)
        #expect(html.contains("<a id=\"show-used\" href=\"/console/space?scope=sub_westeurope\">"))
        #expect(html.contains("name=\"hide\" value=\"used\" checked>"))
        let shown = ConsoleTemplates.render(
            SpacePage(scopeOptions: [], supernets: [all], scopeKey: "sub_westeurope"), title: "Space", notice: nil,
            session: nil)
        #expect(shown.contains("<a id=\"hide-used\" href=\"/console/space?scope=sub_westeurope&amp;hide=used\">"))
    }

    @Test(
        "the headline: leases by state linking to their tables, free space summed, days left per area, drift, webhooks")
    func headline() {
        let leases: [(NetworkRow, Scope)] = [
            (ConsolePageTests.row("10.0.0.0/24", .leased, requester: "a"), Self.scope),
            (ConsolePageTests.row("10.0.1.0/24", .leased, requester: "b"), Self.scope),
            (ConsolePageTests.row("10.0.2.0/24", .quarantined), Self.scope),
        ]
        let report = PoolReport(
            scope: Self.scope, pool: nil, sizes: [BlockSize(version: .v4, length: 24): [.leased: 2, .available: 1]],
            freeAddresses: 1000, largestFreePrefixLength: 23, freeAddressesV6: 5, largestFreePrefixLengthV6: 64,
            stockTargets: [:], usage: [])
        let usage = AreaUsage(
            label: "sub_westeurope", scopeKey: "sub_westeurope", pool: nil, version: "v4",
            used: [(Self.now.addingTimeInterval(-3600), 40), (Self.now, 50)],
            outlook: .init(
                status: "runs-out", runsOutAt: Self.now.addingTimeInterval(3 * 86400), daysLeft: 3.04, ratePerDay: -10,
                samples: 9))
        let page = DashboardPage(
            pools: [report, report], created: [], held: leases.map(\.0).filter { $0.state == .leased },
            manager: ManagerStatus(
                runAt: Self.now, complete: true, lastCompleteSyncAt: Self.now,
                drift: [.init(kind: "k", scope: "s", cidr: "c", detail: "d")], problems: [], process: "m"),
            now: Self.now, leases: leases, usage: [usage],
            webhooks: [WebhookBacklog(name: "hook", waiting: 1000, capped: true, deadLetters: 2, retrying: 1)])
        #expect(page.stateCounts.map(\.state) == ["leased", "anchored", "quarantined", "released", "expired"])
        #expect(page.stateCounts.map(\.count) == [2, 0, 1, 0, 0] && page.leaseTotal == "3")
        #expect(page.stateCounts[0].href == "/console/leases?state=leased")
        #expect(page.freeV4 == "2000" && page.freeV6 == "10" && page.drift == "1")
        #expect(
            page.runways == [
                .init(
                    area: "sub_westeurope", scopeKey: "sub_westeurope", pool: "", version: "v4", status: "runs-out",
                    statusText: "runs out", daysLeft: "3.0",
                    runsOutAt: ISO8601.format(Self.now.addingTimeInterval(3 * 86400)))
            ])
        #expect(
            page.backlogText == "1000+ events waiting, 2 dead letters" && page.backlog[0].waiting == "at least 1000")
        #expect(page.trends.map(\.now) == ["50.0 %"])
        let html = ConsoleTemplates.render(page, title: "Dashboard", notice: nil, session: nil)
        #expect(
            html.contains(
                "<a href=\"/console/leases?state=quarantined\" aria-label=\"quarantined: 1 leases: show them\">"))
        #expect(html.contains("<a href=\"/console/leases?requester=a\""))
        #expect(html.contains("<a href=\"/console/leases?scope=sub_westeurope\""))
        #expect(html.contains("data-status=\"runs-out\"") && html.contains("<td class=\"days\">3.0</td>"))
        #expect(!html.contains("nan"))
        let capped = DashboardPage(
            pools: [], created: [], held: [], manager: nil, now: Self.now, leases: leases, leasesCapped: true)
        #expect(
            capped.leaseTotal == "at least 3" && capped.drift == "no Manager run yet"
                && capped.backlogText == "no webhooks configured")
    }

    @Test("a sample's share in use: all but free and stocked addresses; none for an empty area")
    func percentUsed() {
        var sample = UsageSample(at: Self.now)
        #expect(AreaUsage.percentUsed(sample) == nil)
        sample.leased = 256
        sample.available = 256
        sample.free = 512
        #expect(AreaUsage.percentUsed(sample) == 25)
        sample.free = .max
        #expect(AreaUsage.percentUsed(sample).map { $0 >= 0 && $0 <= 100 } == true)
    }
}
