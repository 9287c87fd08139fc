import Foundation
import IPAMCore
import NetworkMath

/// SVG charts drawn on the server: every mark carries its value in a `<title>` (the tooltip) and its state as
/// text where it fits, so nothing is told by colour alone; the tables beside them hold the same numbers.
enum ConsoleCharts {
    static func fill(_ state: String) -> String {
        switch state {
        case "available": return "#2da44e"
        case "leased": return "#0969da"
        case "anchored": return "#1f2f6b"
        case "quarantined", "released", "expired": return "#bf8700"
        case "occupied": return "#8250df"
        case "reserved": return "#cf222e"
        case "excluded": return "#57606a"
        default: return "#eaeef2" // free space
        }
    }

    /// One horizontal bar of `segments` (label, value), each as wide as its share.
    static func stackedBar(_ segments: [(label: String, value: Double)], unit: String) -> String {
        let total = max(segments.map(\.value).reduce(0, +), 1)
        var x = 0.0
        var marks = ""
        for segment in segments where segment.value > 0 {
            let width = segment.value / total * 1000
            marks +=
                "<rect x=\"\(fmt(x))\" y=\"0\" width=\"\(fmt(width))\" height=\"28\" fill=\"\(fill(segment.label))\" stroke=\"#fff\"><title>\(escape(segment.label)): \(Int(segment.value)) \(unit)</title></rect>"
            if width > 70 {
                marks +=
                    "<text x=\"\(fmt(x + 4))\" y=\"18\" fill=\"\(segment.label == "free" ? "#1b1f24" : "#fff")\">\(escape(segment.label))</text>"
            }
            x += width
        }
        return
            "<svg role=\"img\" aria-label=\"\(escape(segments.map { "\($0.label) \(Int($0.value))" }.joined(separator: ", ")))\" viewBox=\"0 0 1000 28\" width=\"100%\" preserveAspectRatio=\"none\">\(marks)</svg>"
    }

    /// Blocks of a supernet at their offsets, with their sizes.
    static func addressBar(supernet: IPPrefix, blocks: [(prefix: IPPrefix, state: String, tooltip: String)]) -> String {
        let size = Double(supernet.size)
        var marks = ""
        for block in blocks {
            let x = Double(block.prefix.address.value - supernet.address.value) / size * 1000
            let width = max(Double(block.prefix.size) / size * 1000, 2.5) // a sliver stays visible
            marks +=
                "<rect class=\"block\" data-cidr=\"\(block.prefix)\" data-state=\"\(escape(block.state))\" x=\"\(fmt(x))\" y=\"0\" width=\"\(fmt(width))\" height=\"36\" fill=\"\(fill(block.state))\" stroke=\"#fff\" stroke-width=\"0.3\"><title>\(escape(block.tooltip))</title></rect>"
        }
        return
            "<svg role=\"img\" aria-label=\"Blocks of \(supernet) by offset and size; the table below lists each\" viewBox=\"0 0 1000 36\" width=\"100%\" preserveAspectRatio=\"none\">\(marks)</svg>"
    }

    /// The smallest prefix holding every block but the free ones: where to zoom when the supernet is much
    /// larger than what is in use. Nil when that is the supernet itself.
    static func zoom(supernet: IPPrefix, blocks: [(prefix: IPPrefix, state: String, tooltip: String)]) -> IPPrefix? {
        let used = blocks.filter { $0.state != "free" }.map(\.prefix)
        guard let low = used.map(\.first).min(), let high = used.map(\.last).max() else { return nil }
        func around(_ length: Int) -> IPPrefix? { try? IPPrefix.parseNormalising("\(low)/\(length)").prefix }
        var length = supernet.length
        while length < supernet.version.bitWidth, let candidate = around(length + 1), candidate.contains(high) {
            length += 1
        }
        guard length > supernet.length + 2 else { return nil }
        return around(length)
    }

    /// A line through `points` (label, count), with each point's count in its tooltip.
    static func line(_ points: [(label: String, count: Int)]) -> String {
        let top = max(points.map(\.count).max() ?? 0, 1)
        let step = points.count > 1 ? 960.0 / Double(points.count - 1) : 0
        let coordinates = points.enumerated().map { index, point in
            (20 + Double(index) * step, 110 - Double(point.count) / Double(top) * 90)
        }
        var marks =
            "<line x1=\"20\" y1=\"110\" x2=\"980\" y2=\"110\" stroke=\"#d0d7de\"/><text x=\"0\" y=\"24\">\(top)</text><text x=\"0\" y=\"112\">0</text>"
        marks +=
            "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" points=\"\(coordinates.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " "))\"/>"
        for ((x, y), point) in zip(coordinates, points) {
            marks +=
                "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"3.5\" fill=\"#0969da\"><title>\(escape(point.label)): \(point.count)</title></circle>"
        }
        if let first = points.first, let last = points.last {
            marks +=
                "<text x=\"20\" y=\"128\">\(escape(first.label))</text><text x=\"980\" y=\"128\" text-anchor=\"end\">\(escape(last.label))</text>"
        }
        return
            "<svg role=\"img\" aria-label=\"\(escape(points.map { "\($0.label): \($0.count)" }.joined(separator: ", ")))\" viewBox=\"0 0 1000 132\" width=\"100%\">\(marks)</svg>"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.2f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
