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
enum SpaceMap {
    static let rowWidth = 1000.0
    static let minWidth = 6.0
    static let rowHeight = 30.0
    static let rowGap = 6.0

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

    /// The SVG of `blocks` (in address order, covering `range`), each piece a `rect` with its details in a
    /// `<title>`, inside a link when it has one.
    static func svg(range: IPPrefix, blocks: [Block]) -> String {
        let geometry = Self.layout(sizes: blocks.map { Double($0.prefix.size) }, total: Double(range.size))
        let height = max(Double(geometry.rows), 1) * (rowHeight + rowGap)
        var marks = ""
        for tile in geometry.tiles {
            let block = blocks[tile.block]
            guard !block.hidden else { continue }
            let y = Double(tile.row) * (rowHeight + rowGap)
            let tip = ConsoleCharts.escape(block.tooltip)
            var mark =
                "<rect class=\"block\" data-cidr=\"\(block.prefix)\" data-state=\"\(ConsoleCharts.escape(block.state))\" x=\"\(ConsoleCharts.fmt(tile.x))\" y=\"\(ConsoleCharts.fmt(y))\" width=\"\(ConsoleCharts.fmt(tile.width))\" height=\"\(ConsoleCharts.fmt(rowHeight))\" fill=\"\(ConsoleCharts.fill(block.state))\" stroke=\"#fff\" stroke-width=\"1\"><title>\(tip)</title></rect>"
            if tile.width > 130 {
                mark +=
                    "<text x=\"\(ConsoleCharts.fmt(tile.x + 5))\" y=\"\(ConsoleCharts.fmt(y + 19))\" fill=\"\(ConsoleCharts.ink(block.state))\">\(block.prefix) \(ConsoleCharts.escape(block.state))</text>"
            }
            if let href = block.href {
                mark = "<a href=\"\(ConsoleCharts.escape(href))\" aria-label=\"\(tip)\">\(mark)</a>"
            }
            marks += mark
        }
        return
            "<svg class=\"map\" aria-label=\"Map of \(range): \(blocks.count) blocks in address order, drawn to scale; the table below lists each\" viewBox=\"0 0 \(ConsoleCharts.fmt(rowWidth)) \(ConsoleCharts.fmt(height))\" width=\"100%\">\(marks)</svg>"
    }

    /// What the map's scale means for `range`: which blocks are widened to stay visible.
    static func scaleNote(range: IPPrefix, layout: Layout) -> String {
        let bits = range.version.bitWidth
        let floored = (range.length...bits).first {
            Double(blockSize(length: $0, bits: bits)) < layout.floorAddresses
        }
        let rows = layout.rows > 1 ? " Widened blocks push the rest onto \(layout.rows) rows." : ""
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
    static func range(
        _ label: String, _ prefix: IPPrefix, index: Int, rows: [NetworkRow], reservations: [Reservation],
        excluded: [IPPrefix], network: String = "VNet", pools: [PoolRange] = [], hideUsed: Bool = false
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
        let layout = SpaceMap.layout(sizes: blocks.map { Double($0.prefix.size) }, total: Double(prefix.size))
        var counts: [String: Int] = [:]
        for (block, hidden) in zip(blocks, hidden) where !hidden { counts[block.state, default: 0] += 1 }
        let order = DashboardPage.barOrder + ["excluded", "pool"]
        return Range(
            index: index, cidr: label, bar: ConsoleMarkup(SpaceMap.svg(range: prefix, blocks: drawn)),
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
            scaleNote: SpaceMap.scaleNote(range: prefix, layout: layout),
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
