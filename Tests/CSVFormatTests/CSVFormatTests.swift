import CSVFormat
import Testing

@Suite("CSV writing and reading")
struct CSVFormatTests {
    @Test("cells: plain text as it is; commas, quotes and line breaks quoted with quotes doubled")
    func quoting() {
        #expect(CSVWriter.cell("10.64.0.0/24") == "10.64.0.0/24")
        #expect(CSVWriter.cell("") == "")
        #expect(CSVWriter.cell("a,b") == "\"a,b\"")
        #expect(CSVWriter.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.cell("two\nlines") == "\"two\nlines\"")
        #expect(CSVWriter.cell("two\r\nlines") == "\"two\r\nlines\"")
        #expect(CSVWriter.cell("line\u{2028}separator") == "\"line\u{2028}separator\"")
        #expect(CSVWriter.record(["a", "b,c", ""]) == "a,\"b,c\",")
        // A comma or quote followed by a combining mark is one Character that is not "," or "\"": still quoted,
        // its quote still doubled, so a hostile value cannot add a column or break the quoting.
        #expect(CSVWriter.cell("a,\u{301}b") == "\"a,\u{301}b\"")
        #expect(CSVWriter.cell("a\"\u{301}b") == "\"a\"\"\u{301}b\"")
        #expect(CSVWriter.cell("=\u{301}1") == "'=\u{301}1", "a formula start with a combining mark is defused too")
        #expect(CSVWriter.table(header: ["x", "y"], records: [["1", "2"]]) == "x,y\r\n1,2\r\n")
    }

    @Test("a cell a spreadsheet would run as a formula gets a leading quote, before quoting")
    func formulas() {
        #expect(CSVWriter.cell("=HYPERLINK(\"http://evil\")") == "\"'=HYPERLINK(\"\"http://evil\"\")\"")
        #expect(CSVWriter.cell("+1") == "'+1")
        #expect(CSVWriter.cell("-2") == "'-2")
        #expect(CSVWriter.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVWriter.cell("=1,2") == "\"'=1,2\"")
        #expect(CSVWriter.cell("a=1") == "a=1", "only a leading formula character")
        #expect(CSVReader.undefused("'=1+1") == "=1+1" && CSVReader.undefused("'-x") == "-x")
        #expect(CSVReader.undefused("'plain") == "'plain" && CSVReader.undefused("'") == "'")
    }

    @Test("reading: quoted commas, quotes and line breaks; CRLF and LF; a byte order mark; empty lines skipped")
    func reading() throws {
        let text = "\u{FEFF}a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n\r\nlast,,\n"
        let records = try CSVReader.records(Array(text.utf8))
        #expect(records.map(\.fields) == [["a", "b", "c"], ["x,1", "say \"hi\"", "two\r\nlines"], ["last", "", ""]])
        #expect(records.map(\.number) == [1, 2, 3])
        #expect(records.map(\.line) == [1, 2, 5], "the line each record starts on, past the quoted break")
        #expect(try CSVReader.records(Array("a,b".utf8)).map(\.fields) == [["a", "b"]], "no line end at the end")
        #expect(try CSVReader.records([]).isEmpty)
        #expect(try CSVReader.records(Array("\"\"\n".utf8)).map(\.fields) == [[""]])
    }

    @Test("what the writer writes, the reader reads back as it was (formula defusing undone)")
    func roundTrip() throws {
        let cells = ["=cmd|' /C calc'!A0", "a,\"b\"\nc", "", "-", "ünïcödé", "'", "x\r\ny", "x,\u{301}\"\u{301}y"]
        let text = CSVWriter.table(header: ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"], records: [cells])
        let read = try CSVReader.records(Array(text.utf8))
        #expect(read.count == 2 && read[1].fields.count == cells.count)
        #expect(read[1].fields.map(CSVReader.undefused) == cells)
    }

    @Test("malformed files are refused naming the line and row")
    func malformed() {
        func failure(_ text: String, limits: CSVReader.Limits = .init()) -> CSVReader.Failure? {
            do {
                _ = try CSVReader.records(Array(text.utf8), limits: limits)
                return nil
            } catch { return error }
        }
        let open = failure("a,b\n1,\"open\n2,3\n")
        #expect(open?.line == 2 && open?.record == 2 && open?.message.contains("never closed") == true, "\(open!)")
        let stray = failure("a,b\n1,x\"y\n")
        #expect(stray?.line == 2 && stray?.message.contains("quote inside") == true)
        let after = failure("a,b\n\"1\"x,2\n")
        #expect(after?.message.contains("after a closing quote") == true)
        let loneCR = failure("a,b\r1,2\r\n")
        #expect(loneCR?.line == 1 && loneCR?.message.contains("carriage return") == true)
        #expect(failure(String(repeating: "x", count: 70_000))?.message.contains("longer than") == true)
        #expect(failure("a\nb\nc\n", limits: .init(records: 2))?.message.contains("more than 2 rows") == true)
        #expect(failure(String(repeating: ",", count: 100))?.message.contains("at most 64 fields") == true)
        let notUTF8 = (try? CSVReader.records([0x61, 0x2C, 0xFF, 0xFE, 0x0A])) == nil
        #expect(notUTF8)
    }
}
