import AzureTables
import Foundation
import TableEmulator
import Testing

@Suite("OData $filter parsing and evaluation")
struct ODataFilterTests {
    let row: [String: TableValue] = [
        "PartitionKey": .string("p1"), "RowKey": .string("r'5"), "Age": .int32(30), "Big": .int64(5_000_000_000),
        "Score": .double(2.5), "Active": .bool(true), "When": .dateTime(Date(timeIntervalSince1970: 1_215_648_000)),
        "Id": .guid(UUID(uuidString: "a455c695-df98-5678-aaaa-81d3367e5a34")!), "Blob": .binary([0x01, 0x02]),
    ]

    func matches(_ filter: String) throws -> Bool {
        try ODataFilter.parse(filter).matches { row[$0] }
    }

    @Test(
        "matching expressions",
        arguments: [
            "PartitionKey eq 'p1'", "RowKey eq 'r''5'", "Age eq 30", "Age ge 30 and Age lt 31", "Age gt 29.5",
            "Big eq 5000000000L",
            "Big gt 4999999999", "Score eq 2.5", "Active eq true", "Active", "When eq datetime'2008-07-10T00:00:00Z'",
            "When lt datetime'2008-07-10T00:00:00.00001Z'", "Id eq guid'a455c695-df98-5678-aaaa-81d3367e5a34'",
            "Blob eq X'0102'",
            "Blob eq binary'0102'", "not (Age eq 31)", "Age eq 1 or (PartitionKey eq 'p1' and RowKey ge 'r')",
            "'p1' eq PartitionKey",
            "Age ne 31", "true", "PartitionKey ge 'p' and PartitionKey lt 'q'",
        ])
    func matching(filter: String) throws { #expect(try matches(filter), "\(filter)") }

    @Test(
        "non-matching expressions",
        arguments: [
            "PartitionKey eq 'p2'", "Age gt 30", "Missing eq 1", "Missing ne 1", "Age eq '30'", "Active eq false",
            "false",
            "not Active", "Blob eq X'0103'", "Big lt 5000000000L", "Score gt 2.5 or Age lt 30",
        ])
    func nonMatching(filter: String) throws { #expect(try !matches(filter), "\(filter)") }

    @Test(
        "syntax errors are reported",
        arguments: [
            "Age eq", "(Age eq 1", "Age eq 'open", "Age ~ 1", "datetime'nope' eq When", "Age eq 1 and",
            "guid'zz' eq Id",
        ])
    func errors(filter: String) {
        #expect(throws: ODataFilter.ParseError.self) { _ = try ODataFilter.parse(filter) }
    }

    @Test func keyBoundsNarrowTheScan() throws {
        let bounds = try ODataFilter.parse(
            "PartitionKey eq 'scope' and RowKey ge 'net_010' and RowKey lt 'net_011' and State eq 'available'"
        ).keyBounds
        #expect(bounds.exactPartition == "scope")
        #expect(bounds.rowLow == "net_010" && bounds.rowHigh == "net_011")
        let none = try ODataFilter.parse("PartitionKey eq 'a' or PartitionKey eq 'b'").keyBounds
        #expect(none.exactPartition == nil && none.partitionLow == nil)
    }

    @Test func edmDateTimeRoundTrip() {
        let date = Date(timeIntervalSince1970: 1_375_465_063.9004348)
        #expect(EdmDateTime.format(date) == "2013-08-02T17:37:43.9004348Z")
        #expect(abs(EdmDateTime.parse("2013-08-02T17:37:43.9004348Z")!.timeIntervalSince(date)) < 1e-6)
        #expect(EdmDateTime.parse("2013-08-02T17:37:43Z") != nil)
        #expect(EdmDateTime.parse("2013-08-02T19:37:43+02:00") == EdmDateTime.parse("2013-08-02T17:37:43Z"))
        #expect(EdmDateTime.parse("2013-13-02T17:37:43Z") == nil)
    }
}

/// Inputs the `odata-filter` fuzz target (Fuzzing/, scripts/fuzz) led to, kept as tests of the parser itself.
@Suite("OData $filter: fuzzing findings")
struct ODataFilterFuzzFindingsTests {
    /// Parentheses, `not`s and `and`/`or` chains nested the parser's (and `matches`') recursion as deep as the query
    /// string was long: a long enough `$filter` overflowed the stack and killed the emulator. Now each is bounded and
    /// a deeper filter is a parse error (400 InvalidInput).
    @Test(
        "nesting beyond the bound is a parse error, not a stack overflow",
        arguments: [
            String(repeating: "(", count: 100_000) + "Age eq 1" + String(repeating: ")", count: 100_000),
            String(repeating: "not ", count: 100_000) + "Active",
            Array(repeating: "Age eq 1", count: 100_000).joined(separator: " and "),
            Array(repeating: "Age eq 1", count: 100_000).joined(separator: " or "),
        ])
    func deepNesting(filter: String) {
        #expect(throws: ODataFilter.ParseError.self) { _ = try ODataFilter.parse(filter) }
    }

    @Test("filters within the bounds still parse and match")
    func withinBounds() throws {
        let row: [String: TableValue] = ["Age": .int32(1), "Active": .bool(true)]
        let nested = String(repeating: "(", count: 32) + "Age eq 1" + String(repeating: ")", count: 32)
        #expect(try ODataFilter.parse(nested).matches { row[$0] })
        #expect(try ODataFilter.parse(String(repeating: "not ", count: 32) + "Active").matches { row[$0] })
        #expect(
            try ODataFilter.parse(Array(repeating: "Age eq 1", count: 513).joined(separator: " and ")).matches {
                row[$0]
            })
        #expect(throws: ODataFilter.ParseError.self) {
            _ = try ODataFilter.parse(String(repeating: "not ", count: 33) + "Active")
        }
    }
}
