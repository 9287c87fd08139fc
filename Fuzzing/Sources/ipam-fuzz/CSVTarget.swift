import CSVFormat

/// CSV files `ipam import` reads (`CSVReader.records`, small limits so a run explores them): a refusal names a line
/// and a record within the input; accepted records, written out again by `CSVWriter`, read back as the same fields
/// (defused where a spreadsheet would run them).
enum CSVTarget: FuzzTarget {
    static let name = "csv"

    static func run(_ bytes: [UInt8]) {
        let limits = CSVReader.Limits(records: 50, fields: 16, fieldBytes: 256)
        let records: [CSVReader.Record]
        do { records = try CSVReader.records(bytes, limits: limits) } catch {
            let lines = bytes.filter { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }.count + 1
            guard error.line >= 1, error.line <= lines, error.record >= 1, error.record <= limits.records + 1 else {
                violated("a refusal outside the input: \(error)")
            }
            return
        }
        guard records.enumerated().allSatisfy({ $0.offset + 1 == $0.element.number }) else {
            violated("records not numbered in order")
        }
        // After a byte order mark, which the reader takes off: a first field starting with one keeps it.
        let written = "\u{FEFF}" + records.map { CSVWriter.record($0.fields) + CSVWriter.lineEnd }.joined()
        let wide = CSVReader.Limits(records: 50, fields: 16, fieldBytes: 1024)
        guard let again = try? CSVReader.records(Array(written.utf8), limits: wide) else {
            violated("what the writer wrote does not read back")
        }
        // A record of one empty field is an empty line once written, which the reader skips; a field a spreadsheet
        // would run comes back with the writer's `'` before it.
        let kept = records.filter { $0.fields != [""] }.map { record in
            record.fields.map { field in
                field.unicodeScalars.first.map { CSVWriter.formulaStarts.contains($0) } == true ? "'" + field : field
            }
        }
        guard again.map(\.fields) == kept else {
            violated("fields changed through writing: \(kept) → \(again.map(\.fields))")
        }
    }
}
