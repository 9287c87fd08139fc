import Foundation
import IPAMCore
import NetworkMath

/// SVG charts drawn on the server: every mark carries its value in a `<title>` (the tooltip) and its state as
/// text where it fits, so nothing is told by colour alone; the tables beside them hold the same numbers.
///
/// The geometry (`TimeAxis`, `barLayout`, `rowLayout`) is separate from the markup so it can be tested: time
/// reads left to right (oldest at the left), every tick carries its date, and empty data draws empty axes, never
/// a NaN.
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
        case "pool": return "#0e6c80"
        case "mixed": return "#6e7781" // small blocks of several states drawn together (SpaceMap)
        default: return "#eaeef2" // free space
        }
    }

    /// The colour of text drawn on a mark of `state`: dark on the light and the yellow or green fills, white on
    /// the others (each at least 4.5:1).
    static func ink(_ state: String) -> String {
        switch state {
        case "available", "quarantined", "released", "expired", "free": return "#1b1f24"
        default: return fill(state) == fill("free") ? "#1b1f24" : "#fff"
        }
    }

    /// One horizontal bar of `segments` (label, value), each as wide as its share.
    /// - Parameter link: where a segment leads (a filtered table), nil for none.
    static func stackedBar(
        _ segments: [(label: String, value: Double)], unit: String, link: (String) -> String? = { _ in nil }
    ) -> String {
        let total = max(segments.map(\.value).reduce(0, +), 1)
        var x = 0.0
        var marks = ""
        for segment in segments where segment.value > 0 {
            let width = segment.value / total * 1000
            let tip = "\(escape(segment.label)): \(Int(segment.value)) \(unit)"
            var mark =
                "<rect x=\"\(fmt(x))\" y=\"0\" width=\"\(fmt(width))\" height=\"28\" fill=\"\(fill(segment.label))\" stroke=\"#fff\" data-state=\"\(escape(segment.label))\"><title>\(tip)</title></rect>"
            if width > 70 {
                mark +=
                    "<text x=\"\(fmt(x + 4))\" y=\"18\" fill=\"\(ink(segment.label))\">\(escape(segment.label))</text>"
            }
            if let href = link(segment.label) {
                mark = "<a href=\"\(escape(href))\" aria-label=\"\(tip): show them\">\(mark)</a>"
            }
            marks += mark
            x += width
        }
        // An image's children are hidden from assistive technology: a bar of links is a plain group of them.
        let role = segments.contains { link($0.label) != nil } ? "" : " role=\"img\""
        return
            "<svg\(role) aria-label=\"\(escape(segments.map { "\($0.label) \(Int($0.value))" }.joined(separator: ", ")))\" viewBox=\"0 0 1000 28\" width=\"100%\" preserveAspectRatio=\"none\">\(marks)</svg>"
    }

    // MARK: Time

    /// A horizontal time axis from `from` (at `left`) to `to` (at `right`): later is further right.
    struct TimeAxis: Sendable, Equatable {
        let from: Date
        let to: Date
        let left: Double
        let right: Double

        /// A tick: where it is, the moment it marks, and its label (a date, and the time of day when ticks are
        /// less than a day apart; UTC).
        struct Tick: Sendable, Equatable {
            let at: Date
            let x: Double
            let label: String
        }

        /// Where `date` is: clamped to the axis; `left` when the axis spans no time.
        func x(_ date: Date) -> Double {
            let span = to.timeIntervalSince(from)
            guard span > 0, span.isFinite else { return left }
            let share = min(max(date.timeIntervalSince(from) / span, 0), 1)
            return left + share * (right - left)
        }

        /// The steps ticks may be apart: hours, then days, then weeks.
        static let steps: [TimeInterval] = [
            3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400,
        ]

        /// At most `most` ticks at round moments (whole hours, UTC midnights), oldest first; at least the two
        /// ends when no round moment falls inside; one tick when the axis spans no time.
        func ticks(most: Int = 6) -> [Tick] {
            let span = to.timeIntervalSince(from)
            guard span > 0, span.isFinite, most >= 2 else { return [tick(from, daily: false)] }
            let step =
                Self.steps.first { span / $0 <= Double(most - 1) } ?? (span / Double(most - 1) / 86400).rounded(.up)
                * 86400
            let daily = step >= 86400
            var ticks: [Tick] = []
            var moment = (from.timeIntervalSince1970 / step).rounded(.up) * step
            while moment <= to.timeIntervalSince1970, ticks.count < most {
                ticks.append(tick(Date(timeIntervalSince1970: moment), daily: daily))
                moment += step
            }
            return ticks.count >= 2 ? ticks : [tick(from, daily: false), tick(to, daily: false)]
        }

        func tick(_ date: Date, daily: Bool) -> Tick {
            Tick(at: date, x: x(date), label: Self.label(date, daily: daily))
        }

        /// `2026-12-05`, or `2026-12-05 14:00` (UTC).
        static func label(_ date: Date, daily: Bool) -> String {
            let text = ISO8601.format(date)
            return daily ? String(text.prefix(10)) : "\(text.prefix(10)) \(text.dropFirst(11).prefix(5))"
        }
    }

    /// A span of time and how many things happened in it, with the table it opens.
    struct Bucket: Sendable, Equatable {
        let start: Date
        let end: Date
        let count: Int
        let href: String?
    }

    /// A bar per bucket on `axis`, as tall as its count against the tallest (`height` at most): x, width and
    /// height of each, in the buckets' order. A bar with a count is at least 2 high; every width is at least 1.
    static func barLayout(_ buckets: [Bucket], axis: TimeAxis, height: Double) -> [(
        x: Double, width: Double, height: Double
    )] {
        let top = Double(max(buckets.map(\.count).max() ?? 0, 1))
        return buckets.map { bucket in
            let x = axis.x(bucket.start)
            let width = max(axis.x(bucket.end) - x - 2, 1)
            let tall = bucket.count > 0 ? max(Double(bucket.count) / top * height, 2) : 0
            return (x + 1, width, tall)
        }
    }

    static let plotLeft = 60.0
    static let plotRight = 940.0

    /// Vertical bars over time (oldest at the left), each linking to its table; dated ticks below.
    /// - Parameters:
    ///   - from, to: the axis' ends (the first bucket's start, the last one's end).
    ///   - noun: what is counted ("leases created"), for the tooltips and the label.
    static func timeBars(_ buckets: [Bucket], from: Date, to: Date, noun: String, daily: Bool) -> String {
        let axis = TimeAxis(from: from, to: to, left: plotLeft, right: plotRight)
        let baseline = 120.0
        let top = max(buckets.map(\.count).max() ?? 0, 0)
        var marks = axes(axis, baseline: baseline, topLabel: String(top))
        for (bucket, bar) in zip(buckets, barLayout(buckets, axis: axis, height: 100)) {
            let when =
                daily
                ? TimeAxis.label(bucket.start, daily: true)
                : "\(TimeAxis.label(bucket.start, daily: false)) to \(TimeAxis.label(bucket.end, daily: false).suffix(5))"
            let tip = "\(when) UTC: \(bucket.count) \(noun)"
            // The whole column is the link's target (an empty hour can be opened too): a clear rectangle over the
            // bar, with the same tooltip.
            var mark =
                "<rect class=\"bar\" data-start=\"\(ISO8601.format(bucket.start))\" data-count=\"\(bucket.count)\" x=\"\(fmt(bar.x))\" y=\"\(fmt(baseline - bar.height))\" width=\"\(fmt(bar.width))\" height=\"\(fmt(bar.height))\" fill=\"#0969da\"><title>\(escape(tip))</title></rect>"
                + "<rect class=\"hit\" x=\"\(fmt(bar.x))\" y=\"\(fmt(baseline - 100))\" width=\"\(fmt(bar.width))\" height=\"100\" fill=\"#fff\" fill-opacity=\"0\"><title>\(escape(tip))</title></rect>"
            if let href = bucket.href {
                mark = "<a href=\"\(escape(href))\" aria-label=\"\(escape(tip))\">\(mark)</a>"
            }
            marks += mark
        }
        return
            "<svg class=\"chart\" aria-label=\"\(escape(noun)) over time, oldest at the left\" viewBox=\"0 0 1000 150\" width=\"100%\">\(marks)</svg>"
    }

    /// A line of `points` (a moment and a value from 0 to `top`) over `axis`' span, oldest at the left, each
    /// point's value in its tooltip; "no samples" on empty axes when there are none.
    static func timeLine(
        _ points: [(at: Date, value: Double)], from: Date, to: Date, top: Double, unit: String, label: String
    ) -> String {
        let axis = TimeAxis(from: from, to: to, left: plotLeft, right: plotRight)
        let baseline = 120.0
        let ceiling = top > 0 && top.isFinite ? top : 1
        func y(_ value: Double) -> Double {
            let share = value.isFinite ? min(max(value / ceiling, 0), 1) : 0
            return baseline - share * 100
        }
        var marks = axes(axis, baseline: baseline, topLabel: "\(Int(ceiling))\(unit)")
        let sorted = points.sorted { $0.at < $1.at }
        if sorted.isEmpty {
            marks += "<text x=\"500\" y=\"70\" text-anchor=\"middle\">no samples in this time</text>"
        } else {
            marks +=
                "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" points=\"\(sorted.map { "\(fmt(axis.x($0.at))),\(fmt(y($0.value)))" }.joined(separator: " "))\"/>"
            for point in sorted {
                marks +=
                    "<circle cx=\"\(fmt(axis.x(point.at)))\" cy=\"\(fmt(y(point.value)))\" r=\"3\" fill=\"#0969da\"><title>\(escape("\(TimeAxis.label(point.at, daily: false)) UTC: \(String(format: "%.1f", point.value.isFinite ? point.value : 0))\(unit)"))</title></circle>"
            }
        }
        return
            "<svg class=\"chart\" role=\"img\" aria-label=\"\(escape(label))\" viewBox=\"0 0 1000 150\" width=\"100%\">\(marks)</svg>"
    }

    /// The axes of a time chart: the baseline, the top and zero labels, and the dated ticks.
    static func axes(_ axis: TimeAxis, baseline: Double, topLabel: String) -> String {
        var marks =
            "<line x1=\"\(fmt(axis.left))\" y1=\"\(fmt(baseline))\" x2=\"\(fmt(axis.right))\" y2=\"\(fmt(baseline))\" stroke=\"#57606a\"/>"
            + "<line x1=\"\(fmt(axis.left))\" y1=\"\(fmt(baseline - 100))\" x2=\"\(fmt(axis.right))\" y2=\"\(fmt(baseline - 100))\" stroke=\"#d0d7de\"/>"
            + "<text x=\"\(fmt(axis.left - 6))\" y=\"\(fmt(baseline - 96))\" text-anchor=\"end\">\(escape(topLabel))</text>"
            + "<text x=\"\(fmt(axis.left - 6))\" y=\"\(fmt(baseline + 4))\" text-anchor=\"end\">0</text>"
        for tick in axis.ticks() {
            marks +=
                "<g class=\"tick\" data-time=\"\(ISO8601.format(tick.at))\"><line x1=\"\(fmt(tick.x))\" y1=\"\(fmt(baseline))\" x2=\"\(fmt(tick.x))\" y2=\"\(fmt(baseline + 5))\" stroke=\"#57606a\"/><text x=\"\(fmt(tick.x))\" y=\"\(fmt(baseline + 20))\" text-anchor=\"middle\">\(escape(tick.label))</text></g>"
        }
        return marks
    }

    // MARK: Rows

    /// One labelled bar of a bar list: what it is, how much, the words for it, and the table it opens.
    struct Row: Sendable, Equatable {
        let label: String
        let value: Double
        let detail: String
        let href: String?
    }

    /// Each row's bar width against the largest (`width` at most); a row with a value is at least 2 wide.
    static func rowLayout(_ rows: [Row], width: Double) -> [Double] {
        let top = max(rows.map(\.value).filter(\.isFinite).max() ?? 0, 0)
        return rows.map { row in
            guard row.value > 0, row.value.isFinite, top > 0 else { return 0 }
            return max(row.value / top * width, 2)
        }
    }

    /// Horizontal bars, one row each: the label at the left, the bar, its detail after it; each a link.
    static func rowBars(_ rows: [Row], label: String) -> String {
        let height = 24.0
        var marks = ""
        for (index, (row, width)) in zip(rows, rowLayout(rows, width: 400)).enumerated() {
            let y = Double(index) * height
            let name = row.label.count > 48 ? String(row.label.prefix(47)) + "…" : row.label
            let tip = "\(row.label): \(row.detail)"
            var mark =
                "<text x=\"330\" y=\"\(fmt(y + 16))\" text-anchor=\"end\">\(escape(name))</text>"
                + "<rect class=\"bar\" data-label=\"\(escape(row.label))\" x=\"340\" y=\"\(fmt(y + 3))\" width=\"\(fmt(width))\" height=\"\(fmt(height - 6))\" fill=\"#0969da\"><title>\(escape(tip))</title></rect>"
                + "<text x=\"\(fmt(346 + width))\" y=\"\(fmt(y + 16))\">\(escape(row.detail))</text>"
            if let href = row.href {
                mark = "<a href=\"\(escape(href))\" aria-label=\"\(escape(tip))\">\(mark)</a>"
            }
            marks += mark
        }
        let total = max(Double(rows.count) * height, height)
        if rows.isEmpty { marks = "<text x=\"340\" y=\"16\">none</text>" }
        return
            "<svg class=\"chart\" aria-label=\"\(escape(label))\" viewBox=\"0 0 1000 \(fmt(total))\" width=\"100%\">\(marks)</svg>"
    }

    /// A number as SVG coordinates write it; 0 for a value that is not finite (never `nan` in the markup).
    static func fmt(_ value: Double) -> String { String(format: "%.2f", value.isFinite ? value : 0) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
