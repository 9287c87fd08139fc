import Foundation
import IPAMCore
import Inventory
import NetworkMath

/// The address-space map: a range's blocks in address order, each drawn to scale, wrapped over rows.
///
/// The full width of the first row is the whole range at scale (its addresses spread over `rowWidth`). A block
/// whose share would be narrower than `minWidth` is drawn `minWidth` wide instead, so a /28 beside a /16 stays
/// visible (the page says from which prefix length on this happens); the widened blocks push the rest along,
/// onto further rows when the line is full. So widths never shrink as blocks grow, every block is visible, and
/// the blocks wider than the minimum keep their exact proportions. A block wider than what is left of a row
/// continues at the start of the next (drawn in pieces, each with the block's details).
///
/// So that a range of tens of thousands of blocks stays a small drawing, the map draws segments, not blocks
/// (`segments`): a block at least `minWidth` wide at scale is a segment of its own, and neighbouring narrower
/// blocks of one state are drawn as one segment, its title saying how many blocks and which addresses, linking
/// to the leases table filtered to them. A narrow block between others of other states is still drawn alone,
/// with its own details and link, unless that would make more than `maxSegments` segments: then each run of
/// narrow neighbours that alternates states more often than its share of the width allows (more than ⌈its width
/// ÷ `minWidth`⌉ + 1 segments) is drawn as segments of at least `minWidth`'s share each, `mixed` where they hold
/// several states. Hence, for
/// blocks covering the range, at most `maxSegments` segments (3 × ⌊`rowWidth` ÷ `minWidth`⌋ + 2 = 500), at most
/// `maxRows` rows (5), and at most `maxElements` SVG elements (2,017) whatever the number of blocks.
enum SpaceMap {
    static let rowWidth = 1000.0
    static let minWidth = 6.0
    static let rowHeight = 30.0
    static let rowGap = 6.0

    /// The most segments a map of blocks covering its range draws. Of the at most ⌊`rowWidth` ÷ `minWidth`⌋
    /// (`w`) blocks wide enough to stand alone, say `b`, and the at most `b` + 1 runs of narrower ones between
    /// them, each run `r` wide gives at most `r` ÷ `minWidth` + 2 segments: `b` + Σ `r` ÷ `minWidth` ≤ `rowWidth`
    /// ÷ `minWidth`, plus 2 (`b` + 1) ≤ 2`w` + 2.
    static let maxSegments = 3 * Int(rowWidth / minWidth) + 2
    /// The most rows a map of at most `maxSegments` segments takes: each is drawn at most `minWidth` wider than
    /// its share, and a row is left with less than 2 × `minWidth` unused.
    static let maxRows = Int((rowWidth + Double(maxSegments) * minWidth) / (rowWidth - 2 * minWidth)) + 1
    /// The most elements of a map's SVG: the `svg`, and for each piece of a segment (one per segment, plus one
    /// per row it continues on) a `rect` with its `title`, a `text` and an `a`.
    static let maxElements = 1 + 4 * (maxSegments + maxRows - 1)

    /// A drawn piece of a block: which block, on which row, from where, how wide.
    struct Tile: Sendable, Equatable {
        let block: Int
        let row: Int
        let x: Double
        let width: Double
    }

    struct Layout: Sendable, Equatable {
        let tiles: [Tile]
        /// Each block's whole width (the sum of its tiles').
        let widths: [Double]
        let rows: Int
        /// Addresses a block must have to be drawn at scale; smaller ones are widened to `minWidth`.
        let floorAddresses: Double
    }

    /// Lays out blocks of `sizes` addresses (in address order) of a range of `total` addresses.
    static func layout(
        sizes: [Double], total: Double, rowWidth: Double = SpaceMap.rowWidth, minWidth: Double = SpaceMap.minWidth
    ) -> Layout {
        let scale = total > 0 && total.isFinite ? rowWidth / total : 0
        let widths = sizes.map { size in
            let scaled = size.isFinite ? size * scale : rowWidth
            return min(max(scaled, minWidth), rowWidth * 1_000)
        }
        var tiles: [Tile] = []
        var row = 0
        var x = 0.0
        for (index, width) in widths.enumerated() {
            var left = width
            // A small block is never split: it starts the next row when it does not fit on this one.
            if x > 0, x + left > rowWidth + 1e-9, left <= 2 * minWidth {
                row += 1
                x = 0
            }
            while left > 1e-9 {
                let room = rowWidth - x
                if room < minWidth, x > 0 {
                    row += 1
                    x = 0
                    continue
                }
                let piece = min(left, room)
                tiles.append(Tile(block: index, row: row, x: x, width: piece))
                x += piece
                left -= piece
            }
        }
        return Layout(
            tiles: tiles, widths: widths, rows: tiles.isEmpty ? 0 : (tiles.last?.row ?? 0) + 1,
            floorAddresses: scale > 0 ? minWidth / scale : 0)
    }

    /// Neighbouring blocks drawn as one mark: one block, or several too narrow to draw alone.
    struct Segment: Sendable, Equatable {
        /// The blocks' indices, in address order.
        let blocks: Range<Int>
        /// Their addresses together.
        let size: Double
    }

    /// The segments that blocks of `sizes` addresses, in address order, of a range of `total` addresses are drawn
    /// as (see the type's summary): narrow neighbours of one `key` (the state they are drawn in) merged; and, only
    /// when that leaves more than `maxSegments`, runs alternating too often merged further.
    static func segments(
        sizes: [Double], keys: [String], total: Double, rowWidth: Double = SpaceMap.rowWidth,
        minWidth: Double = SpaceMap.minWidth
    ) -> [Segment] {
        let scale = total > 0 && total.isFinite ? rowWidth / total : 0
        func narrow(_ size: Double) -> Bool { size * scale < minWidth }
        // A wide block alone, or a run of narrow blocks with its neighbours of one key merged.
        var runs: [[Segment]] = []
        var index = 0
        while index < sizes.count {
            guard narrow(sizes[index]) else {
                runs.append([Segment(blocks: index..<index + 1, size: sizes[index])])
                index += 1
                continue
            }
            var run: [Segment] = []
            while index < sizes.count, narrow(sizes[index]) {
                if let last = run.last, keys[last.blocks.lowerBound] == keys[index] {
                    run[run.count - 1] = Segment(
                        blocks: last.blocks.lowerBound..<index + 1, size: last.size + sizes[index])
                } else {
                    run.append(Segment(blocks: index..<index + 1, size: sizes[index]))
                }
                index += 1
            }
            runs.append(run)
        }
        guard runs.map(\.count).reduce(0, +) > 3 * Int(rowWidth / minWidth) + 2 else { return runs.flatMap { $0 } }
        // Too many: a run whose keys alternate more often than its share of the width allows becomes segments
        // of at least `minWidth`'s share each, in address order.
        return runs.flatMap { run -> [Segment] in
            let allowance = Int((run.map(\.size).reduce(0, +) * scale / minWidth).rounded(.up)) + 1
            guard run.count > allowance else { return run }
            var merged: [Segment] = []
            var open: Segment? = nil
            for part in run {
                let grown =
                    open.map {
                        Segment(blocks: $0.blocks.lowerBound..<part.blocks.upperBound, size: $0.size + part.size)
                    } ?? part
                if grown.size * scale >= minWidth {
                    merged.append(grown)
                    open = nil
                } else {
                    open = grown
                }
            }
            if let open { merged.append(open) }
            return merged
        }
    }

    /// One block as the map draws it.
    struct Block: Sendable {
        let prefix: IPPrefix
        let state: String
        /// The tooltip: CIDR, state, lease, requester, network, why not offered.
        let tooltip: String
        let href: String?
        /// Hidden blocks keep their place (the map stays to scale) but are not drawn.
        let hidden: Bool
    }

    /// The segments of `blocks` (in address order, covering `range`; hidden ones merged as one state) and their
    /// layout.
    static func drawing(range: IPPrefix, blocks: [Block]) -> (segments: [Segment], layout: Layout) {
        let total = Double(range.size)
        let segments = Self.segments(
            sizes: blocks.map { Double($0.prefix.size) }, keys: blocks.map { $0.hidden ? "hidden" : $0.state },
            total: total)
        return (segments, Self.layout(sizes: segments.map(\.size), total: total))
    }

    /// A segment as the map draws it.
    struct Mark: Sendable, Equatable {
        /// `data-cidr` for one block; `data-range` (first and last address) and `data-blocks` for several.
        let attributes: String
        /// The block's state; several blocks' common one, or `mixed`.
        let state: String
        let tooltip: String
        /// What a piece wide enough says on it.
        let label: String
        let href: String?
    }

    /// The SVG of `blocks` (in address order, covering `range`): each piece of a segment a `rect` with its
    /// details in a `<title>`, inside a link when it has one.
    /// - Parameter leases: the leases table's URL for the range's scope (`/console/leases?scope=…`), which a
    ///   merged segment links to, narrowed to the addresses it spans.
    static func svg(range: IPPrefix, blocks: [Block], leases: String? = nil) -> String {
        let (segments, geometry) = drawing(range: range, blocks: blocks)
        let height = max(Double(geometry.rows), 1) * (rowHeight + rowGap)
        var marks = ""
        for tile in geometry.tiles {
            guard let mark = Self.mark(blocks[segments[tile.block].blocks], leases: leases) else { continue }
            let y = Double(tile.row) * (rowHeight + rowGap)
            let tip = ConsoleCharts.escape(mark.tooltip)
            var drawn =
                "<rect class=\"block\" \(mark.attributes) data-state=\"\(ConsoleCharts.escape(mark.state))\" x=\"\(ConsoleCharts.fmt(tile.x))\" y=\"\(ConsoleCharts.fmt(y))\" width=\"\(ConsoleCharts.fmt(tile.width))\" height=\"\(ConsoleCharts.fmt(rowHeight))\" fill=\"\(ConsoleCharts.fill(mark.state))\" stroke=\"#fff\" stroke-width=\"1\"><title>\(tip)</title></rect>"
            if tile.width > 130 {
                drawn +=
                    "<text x=\"\(ConsoleCharts.fmt(tile.x + 5))\" y=\"\(ConsoleCharts.fmt(y + 19))\" fill=\"\(ConsoleCharts.ink(mark.state))\">\(ConsoleCharts.escape(mark.label))</text>"
            }
            if let href = mark.href {
                drawn = "<a href=\"\(ConsoleCharts.escape(href))\" aria-label=\"\(tip)\">\(drawn)</a>"
            }
            marks += drawn
        }
        let merged = segments.filter { $0.blocks.count > 1 }.count
        let together = merged > 0 ? " (\(merged) runs of small neighbours drawn together)" : ""
        return
            "<svg class=\"map\" aria-label=\"Map of \(range): \(blocks.count) blocks\(together) in address order, drawn to scale; the table below lists each\" viewBox=\"0 0 \(ConsoleCharts.fmt(rowWidth)) \(ConsoleCharts.fmt(height))\" width=\"100%\">\(marks)</svg>"
    }

    /// How a segment of `members` is drawn; nil when every member is hidden. One block: its own details and
    /// link. Several: how many of which states (hidden ones counted as such) and which addresses, linking to the
    /// leases table inside the smallest prefix holding them (`leases`; none without it, nor for free space or
    /// exclusions alone), narrowed to their state when they share one.
    static func mark(_ members: ArraySlice<Block>, leases: String?) -> Mark? {
        let shown = members.filter { !$0.hidden }
        guard let first = members.first, let last = members.last, !shown.isEmpty else { return nil }
        if members.count == 1 {
            return Mark(
                attributes: "data-cidr=\"\(first.prefix)\"", state: first.state, tooltip: first.tooltip,
                label: "\(first.prefix) \(first.state)", href: first.href)
        }
        var counts: [(state: String, count: Int)] = []
        for block in shown {
            if let index = counts.firstIndex(where: { $0.state == block.state }) {
                counts[index].count += 1
            } else {
                counts.append((block.state, 1))
            }
        }
        let hidden = members.count - shown.count
        let state = counts.count == 1 ? counts[0].state : "mixed"
        let span = "\(first.prefix.first) – \(last.prefix.last)"
        var tooltip = "\(span): \(members.count) blocks"
        if counts.count == 1 && hidden == 0 {
            tooltip += ", all \(state)"
        } else {
            let parts = counts.map { "\($0.count) \($0.state)" } + (hidden > 0 ? ["\(hidden) hidden"] : [])
            tooltip += " (" + parts.joined(separator: ", ") + ")"
        }
        tooltip += ", each too small to draw alone"
        var href: String? = nil
        if let leases, shown.contains(where: { !["free", "excluded"].contains($0.state) }),
            let within = covering(first.prefix, last.prefix)
        {
            href =
                leases + "&within=" + ConsoleRoutes.percent(within.description)
                + (counts.count == 1 && NetworkState(rawValue: state) != nil ? "&state=" + state : "")
            tooltip += "; the leases table lists those inside \(within)"
        }
        return Mark(
            attributes: "data-range=\"\(first.prefix.first)-\(last.prefix.last)\" data-blocks=\"\(members.count)\"",
            state: state, tooltip: tooltip, label: "\(members.count) blocks, \(state)", href: href)
    }

    /// The smallest prefix holding `first`, `last` (of one family) and every address between.
    static func covering(_ first: IPPrefix, _ last: IPPrefix) -> IPPrefix? {
        let bits = first.version.bitWidth
        let differing = first.first.value ^ last.last.value
        let common = differing == 0 ? bits : differing.leadingZeroBitCount - (128 - bits)
        return IPPrefix.enclosing(first.first, length: max(0, min(bits, common)))
    }

    /// What the map's scale means for `range`: which blocks are widened to stay visible, and how many runs of
    /// small neighbours (`merged`) are drawn together.
    static func scaleNote(range: IPPrefix, layout: Layout, merged: Int = 0) -> String {
        let bits = range.version.bitWidth
        let floored = (range.length...bits).first {
            Double(blockSize(length: $0, bits: bits)) < layout.floorAddresses
        }
        let rows =
            (layout.rows > 1 ? " Widened blocks push the rest onto \(layout.rows) rows." : "")
            + (merged > 0
                ? " \(merged) runs of neighbouring blocks too small to draw alone are drawn together (each says how many blocks, of which states, and which addresses)."
                : "")
        guard let floored else {
            return "Drawn to scale: the full width is all of \(range) (\(range.size) addresses).\(rows)"
        }
        return
            "Drawn to scale: the full width is all of \(range) (\(range.size) addresses); a /\(floored) or smaller block is widened to stay visible.\(rows)"
    }
}

/// The addresses of a block of `length` in a `bits`-bit family (saturating at the family's whole space).
private func blockSize(length: Int, bits: Int) -> UInt128 {
    let host = bits - length
    return host >= 128 ? .max : UInt128(1) << UInt128(host)
}

struct SpacePage: ConsolePage {
    static let template = ConsoleTemplates.Name.space
    static let section: ConsoleSection? = .space

    /// A supernet or pool: its map, and its blocks in address order.
    struct Range: Sendable {
        struct Block: Sendable, Equatable {
            let cidr: String
            let state: String
            /// Nil for a block no lease holds: no link (an empty one had no text for a screen reader to read).
            let leaseId: String?
            let requester: String
            let expires: String
            let why: String
        }
        /// A state the map shows, its colour and how many blocks are in it.
        struct Legend: Sendable, Equatable {
            let state: String
            let count: Int
            let swatch: ConsoleMarkup
        }
        let index: Int
        let cidr: String
        /// The map (`SpaceMap.svg`).
        let bar: ConsoleMarkup
        let blocks: [Block]
        var legend: [Legend] = []
        var scaleNote = ""
        /// How many used blocks the hide-used toggle left out of the map and the table (nil: none).
        var hidden: String? = nil
    }

    let scopeOptions: [ConsoleOption]
    let supernets: [Range]
    /// The scope's areas the Manager last found low on space.
    var lowSpace: [LowSpaceRow] = []
    /// The scope shown (its partition key, for the toggle's links), and whether used blocks are hidden.
    var scopeKey = ""
    var hideUsed = false

    /// The most blocks a range's table lists.
    static let blockLimit = 2000

    /// The states a block can be had in: the rest are "used" (the toggle hides them).
    static let unusedStates: Set<String> = ["free", "available"]

    /// A configured pool of the scope, and the index of its own range on the page (for the map's link to it).
    typealias PoolRange = (name: String, prefix: IPPrefix, index: Int?)

    /// A range of a scope: its rows, the configured exclusions overlapping it, its pools, and the free space
    /// between. A pool inside the range (not inside another one there) is one block, "in pool Z", linking to the
    /// pool's own range; the rows inside it are drawn there.
    /// - Parameters:
    ///   - rows: the scope's rows (those inside `prefix` are shown).
    ///   - reservations: the scope's reservations (a reserved row says why).
    ///   - excluded: the scope's configured exclusions.
    ///   - network: what the scope's networks are (`ConsoleScopes.network`: a VNet, a VPC).
    ///   - pools: the scope's pools.
    ///   - hideUsed: leave the blocks that cannot be had out of the map (their place stays empty) and the table.
    ///   - scopeKey: the scope's partition key, for the links of the map's merged segments to the leases table.
    static func range(
        _ label: String, _ prefix: IPPrefix, index: Int, rows: [NetworkRow], reservations: [Reservation],
        excluded: [IPPrefix], network: String = "VNet", pools: [PoolRange] = [], hideUsed: Bool = false,
        scopeKey: String? = nil
    ) -> Range {
        typealias Mark = (
            prefix: IPPrefix, state: String, tooltip: String, row: NetworkRow?, why: String, href: String?
        )
        let inner = pools.filter { prefix.contains($0.prefix) && $0.prefix != prefix }
        // The pools not inside another one of the range: each is one block here.
        let top = inner.filter { pool in
            !inner.contains { $0.prefix != pool.prefix && $0.prefix.contains(pool.prefix) }
        }
        func inPool(_ block: IPPrefix) -> Bool { top.contains { $0.prefix.contains(block) } }
        /// A lease's page, the reservations for a reserved block; nothing for the others.
        func link(_ row: NetworkRow) -> String? {
            if let lease = row.leaseId, !lease.isEmpty { return "/console/leases/\(lease)" }
            return row.state == .reserved ? "/console/reservations" : nil
        }
        var blocks: [Mark] = rows.filter { prefix.contains($0.prefix) && !inPool($0.prefix) }.map { row in
            let why: String
            switch row.state {
            case .reserved:
                why =
                    "reserved"
                    + (reservations.first { $0.prefix == row.prefix }.map { ": \($0.reason) (\($0.owner))" } ?? "")
            case .occupied:
                why = "occupied by a \(network) ipam does not manage" + (row.lockedBy.map { " (\($0))" } ?? "")
            case .available: why = ""
            case .leased: why = "leased" + (row.requester.map { " to \($0)" } ?? "")
            case .anchored: why = "leased and in use by its \(network)"
            case .quarantined, .released, .expired: why = "\(row.state.rawValue): waits before it is offered again"
            }
            var tip = "\(row.prefix) \(row.state.rawValue)"
            if let lease = row.leaseId, !lease.isEmpty { tip += ", lease \(lease)" }
            if let requester = row.requester { tip += ", requester \(requester)" }
            if let expires = row.expiresAt, row.state == .leased { tip += ", expires \(ISO8601.format(expires))" }
            if let holder = row.lockedBy ?? row.resourceId, !holder.isEmpty { tip += ", \(network) \(holder)" }
            if !why.isEmpty, row.state != .leased { tip += "; not offered: \(why)" }
            return (row.prefix, row.state.rawValue, tip, row, why, link(row))
        }
        blocks += excluded.filter { prefix.overlaps($0) }.map { prefix.contains($0) ? $0 : prefix }
            .filter { !inPool($0) }
            .map {
                (
                    $0, "excluded", "\($0) excluded by configuration; not offered", nil, "excluded (SUPERNETS_CONFIG)",
                    nil
                )
            }
        blocks += top.map { pool in
            (
                pool.prefix, "pool", "\(pool.prefix) pool \(pool.name); not offered here: in pool \(pool.name)", nil,
                "in pool \(pool.name): ask the pool for it", pool.index.map { "#net-\($0)" }
            )
        }
        let covered = blocks.map(\.prefix)
        blocks += FreeSpace.freeBlocks(in: prefix, occupied: covered).map {
            ($0, "free", "\($0) free, not carved yet", nil, "", nil)
        }
        blocks.sort { $0.prefix < $1.prefix }
        let hidden = blocks.map { hideUsed && !unusedStates.contains($0.state) }
        let drawn = zip(blocks, hidden).map { block, hidden in
            SpaceMap.Block(
                prefix: block.prefix, state: block.state, tooltip: block.tooltip, href: block.href, hidden: hidden)
        }
        let (segments, layout) = SpaceMap.drawing(range: prefix, blocks: drawn)
        let leases = scopeKey.map { "/console/leases?scope=" + ConsoleRoutes.percent($0) }
        var counts: [String: Int] = [:]
        for (block, hidden) in zip(blocks, hidden) where !hidden { counts[block.state, default: 0] += 1 }
        // Runs of small blocks of several states drawn together count as `mixed` (segments, not blocks).
        let mixed = segments.filter { SpaceMap.mark(drawn[$0.blocks], leases: nil)?.state == "mixed" }.count
        if mixed > 0 { counts["mixed"] = mixed }
        let order = DashboardPage.barOrder + ["excluded", "pool", "mixed"]
        return Range(
            index: index, cidr: label,
            bar: ConsoleMarkup(SpaceMap.svg(range: prefix, blocks: drawn, leases: leases)),
            blocks: zip(blocks, hidden).filter { !$0.1 }.map(\.0).prefix(blockLimit).map { block in
                Range.Block(
                    cidr: block.prefix.description, state: block.state,
                    leaseId: block.row?.leaseId.flatMap { $0.isEmpty ? nil : $0 },
                    requester: block.row?.requester ?? "",
                    expires: block.row.flatMap { $0.state == .leased ? $0.expiresAt : nil }.map(ISO8601.format) ?? "",
                    why: block.why)
            },
            legend: order.compactMap { state in
                counts[state].map {
                    Range.Legend(
                        state: state, count: $0,
                        swatch: ConsoleMarkup(
                            "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"\(ConsoleCharts.fill(state))\" stroke=\"#57606a\"/></svg>"
                        ))
                }
            },
            scaleNote: SpaceMap.scaleNote(
                range: prefix, layout: layout, merged: segments.filter { $0.blocks.count > 1 }.count),
            hidden: hidden.contains(true) ? "\(hidden.filter { $0 }.count) used blocks are hidden." : nil)
    }
}

extension ConsoleTemplates {
    static let space = """
        <form class="filters" method="get" action="/console/space">
        <label for="scope">Scope<select id="scope" name="scope">{{#scopeOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/scopeOptions}}</select></label>
        <label for="hide" class="check"><input type="checkbox" id="hide" name="hide" value="used" {{#hideUsed}}checked{{/hideUsed}}>Hide used blocks</label>
        <button type="submit">Show</button></form>
        <p id="used-toggle">{{#hideUsed}}Only the blocks that can still be had are shown: <a id="show-used" href="/console/space?scope={{scopeKey}}">show every block</a>.{{/hideUsed}}{{^hideUsed}}<a id="hide-used" href="/console/space?scope={{scopeKey}}&amp;hide=used">Hide used blocks</a> to see only what can still be had.{{/hideUsed}}</p>
        {{#lowSpace}}<p class="notice error low-space">Low on space since {{since}}: {{area}} ({{version}}): {{reasons}}</p>{{/lowSpace}}
        {{#supernets}}
        <section aria-labelledby="net-{{index}}" class="range">
        <h2 id="net-{{index}}">{{cidr}}</h2>
        <figure class="space-map"><figcaption>{{scaleNote}} Point at a block for its details; a leased or reserved block opens its page.{{#hidden}} {{hidden}}{{/hidden}}</figcaption>
        {{{bar}}}
        <ul class="legend">{{#legend}}<li>{{{swatch}}} <span class="state">{{state}}</span> ({{count}})</li>{{/legend}}</ul>
        </figure>
        <div class="scroll"><table id="blocks-{{index}}"><caption>Blocks of {{cidr}}, in address order</caption>
        <tr><th scope="col">CIDR</th><th scope="col">State</th><th scope="col">Lease</th><th scope="col">Requester</th><th scope="col">Expires</th><th scope="col">Why not offered</th></tr>
        {{#blocks}}<tr data-cidr="{{cidr}}"><td>{{cidr}}</td><td class="state">{{state}}</td><td>{{#leaseId}}<a href="/console/leases/{{leaseId}}">{{leaseId}}</a>{{/leaseId}}</td><td>{{requester}}</td><td>{{expires}}</td><td>{{why}}</td></tr>{{/blocks}}
        </table></div>
        </section>
        {{/supernets}}
        """
}
