/// Reading CSV as RFC 4180 writes it, strictly: what `ipam import` reads its files with.
///
/// Fields are separated by commas, records by CRLF or LF (a lone CR is refused). A field in quotes may hold
/// commas, quotes (doubled) and line breaks; a quote anywhere else, or anything but a separator after a closing
/// quote, is refused, as is a quote left open at the end. A UTF-8 byte order mark at the start is skipped, text
/// that is not UTF-8 refused, and lines that are empty (no field at all) are skipped. Every failure names the line
/// (and the record) where it was found. The limits keep a hostile file from costing more than they allow.
package enum CSVReader {
    /// One record: its fields, its number in the file (the first record, usually the header, is 1, as a
    /// spreadsheet numbers rows) and the line it starts on (later than its number when a field above held a
    /// line break or an empty line was skipped).
    package struct Record: Sendable, Equatable {
        package var fields: [String]
        package var number: Int
        package var line: Int

        package init(fields: [String], number: Int, line: Int) {
            self.fields = fields
            self.number = number
            self.line = line
        }
    }

    /// How much one file may hold.
    package struct Limits: Sendable, Equatable {
        /// Records, the header included.
        package var records: Int
        /// Fields of one record.
        package var fields: Int
        /// UTF-8 bytes of one field.
        package var fieldBytes: Int

        package init(records: Int = 100_001, fields: Int = 64, fieldBytes: Int = 65_536) {
            self.records = records
            self.fields = fields
            self.fieldBytes = fieldBytes
        }
    }

    /// Why a file is not CSV this reader takes.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The line it was found on (1 is the first).
        package var line: Int
        /// The record it was found in (1 is the first).
        package var record: Int
        package var message: String

        package var description: String { "row \(record) (line \(line)): \(message)" }
    }

    /// The records of `bytes`, in order.
    package static func records(_ bytes: [UInt8], limits: Limits = Limits()) throws(Failure) -> [Record] {
        var parser = Parser(bytes: bytes, limits: limits)
        return try parser.run()
    }

    /// A cell as it was before `CSVWriter` defused it: a `'` before `=`, `+`, `-` or `@` taken off.
    package static func undefused(_ cell: String) -> String {
        let scalars = cell.unicodeScalars
        guard scalars.first == "'", let second = scalars.dropFirst().first, CSVWriter.formulaStarts.contains(second)
        else { return cell }
        return String(scalars.dropFirst())
    }

    private struct Parser {
        let bytes: [UInt8]
        let limits: Limits
        var index = 0
        var line = 1
        var records: [Record] = []

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        mutating func run() throws(Failure) -> [Record] {
            while index < bytes.count {
                let startLine = line
                if bytes[index] == lf || (bytes[index] == cr && next == lf) {
                    // An empty line: no record.
                    index += bytes[index] == cr ? 2 : 1
                    line += 1
                    continue
                }
                guard records.count < limits.records else {
                    throw fail("the file has more than \(limits.records) rows (the header included)")
                }
                var fields: [String] = []
                while true {
                    guard fields.count < limits.fields else {
                        throw fail("a row may have at most \(limits.fields) fields")
                    }
                    fields.append(try field(startLine: startLine))
                    if index >= bytes.count { break }
                    let byte = bytes[index]
                    if byte == comma {
                        index += 1
                        continue
                    }
                    // The end of the record.
                    index += byte == cr ? 2 : 1
                    line += 1
                    break
                }
                records.append(Record(fields: fields, number: records.count + 1, line: startLine))
            }
            return records
        }

        /// One field, leaving `index` on the separator after it (or at the end).
        mutating func field(startLine: Int) throws(Failure) -> String {
            var value: [UInt8] = []
            if index < bytes.count, bytes[index] == quote {
                let openedOn = line
                index += 1
                while true {
                    guard index < bytes.count else {
                        throw fail("a quoted field opened on line \(openedOn) is never closed", at: openedOn)
                    }
                    let byte = bytes[index]
                    if byte == quote {
                        if next == quote {
                            value.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if byte == lf { line += 1 }
                    if byte == cr && next != lf { line += 1 }
                    value.append(byte)
                    index += 1
                    try checkLength(value)
                }
                guard index >= bytes.count || isSeparator else {
                    throw fail("after a closing quote comes a comma or the end of the line")
                }
            } else {
                while index < bytes.count, bytes[index] != comma, bytes[index] != lf, bytes[index] != cr {
                    guard bytes[index] != quote else {
                        throw fail("a quote inside a field that does not start with one (quote the whole field)")
                    }
                    value.append(bytes[index])
                    index += 1
                    try checkLength(value)
                }
                if index < bytes.count, bytes[index] == cr, next != lf {
                    throw fail("a carriage return without a line feed outside quotes")
                }
            }
            guard let text = String(validating: value, as: UTF8.self) else {
                throw fail("a field is not UTF-8 text")
            }
            return text
        }

        /// A comma, LF or CRLF at `index`.
        var isSeparator: Bool {
            bytes[index] == comma || bytes[index] == lf || (bytes[index] == cr && next == lf)
        }

        var next: UInt8? { index + 1 < bytes.count ? bytes[index + 1] : nil }

        func checkLength(_ value: [UInt8]) throws(Failure) {
            guard value.count <= limits.fieldBytes else {
                throw fail("a field is longer than \(limits.fieldBytes) bytes")
            }
        }

        func fail(_ message: String, at line: Int? = nil) -> Failure {
            Failure(line: line ?? self.line, record: records.count + 1, message: message)
        }
    }
}

private let comma = UInt8(ascii: ",")
private let quote = UInt8(ascii: "\"")
private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
