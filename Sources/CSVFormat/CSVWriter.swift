/// Writing CSV (RFC 4180) that a spreadsheet opens safely: the console's export and `ipam export` write with it.
///
/// Records end with CRLF. A cell is quoted when it holds a comma, a quote or a line break (LF, CR, VT, FF, NEL,
/// U+2028, U+2029), quotes doubled inside. A cell starting with `=`, `+`, `-` or `@` is written with a `'` before
/// it, so a spreadsheet shows it as text instead of running it as a formula; `CSVReader.undefused` takes it off
/// again. Both look at Unicode scalars, not characters: a comma or quote followed by a combining mark is one
/// `Character` that is not `","`, yet a reader splits or quotes on its first byte all the same.
package enum CSVWriter {
    /// What ends every record.
    package static let lineEnd = "\r\n"

    /// The characters a spreadsheet starts a formula with.
    package static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@"]

    /// The scalars `Character.isNewline` names: a cell holding one is quoted.
    static let lineBreaks: Set<Unicode.Scalar> = ["\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"]

    /// One cell as written: defused, then quoted when needed.
    package static func cell(_ text: String) -> String {
        var cell = text
        if let first = cell.unicodeScalars.first, formulaStarts.contains(first) { cell = "'" + cell }
        guard cell.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || lineBreaks.contains($0) }) else {
            return cell
        }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in cell.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
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
