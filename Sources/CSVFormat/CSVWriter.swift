import Foundation

/// Writing CSV (RFC 4180) that a spreadsheet opens safely: the console's export and `ipam export` write with it.
///
/// Records end with CRLF. A cell is quoted when it holds a comma, a quote or a line break (any `Character` that
/// `isNewline`), quotes doubled inside. A cell starting with `=`, `+`, `-` or `@` is written with a `'` before it,
/// so a spreadsheet shows it as text instead of running it as a formula; `CSVReader.undefused` takes it off again.
package enum CSVWriter {
    /// What ends every record.
    package static let lineEnd = "\r\n"

    /// The characters a spreadsheet starts a formula with.
    package static let formulaStarts: Set<Character> = ["=", "+", "-", "@"]

    /// One cell as written: defused, then quoted when needed.
    package static func cell(_ text: String) -> String {
        var cell = text
        if let first = cell.first, formulaStarts.contains(first) { cell = "'" + cell }
        return cell.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
            ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    /// One record: its cells written and joined by commas, without the line end.
    package static func record(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",")
    }

    /// A whole table: the header and each record, every one ended by CRLF.
    package static func table(header: [String], records: [[String]]) -> String {
        ([header] + records).map { record($0) + lineEnd }.joined()
    }
}
