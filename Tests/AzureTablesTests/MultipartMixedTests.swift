import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import StrictJSON
import Testing

@Suite("multipart/mixed and ASCII formatting (pure)")
struct MultipartMixedTests {
    @Test(
        "boundary parameter: plain, quoted, among other parameters, missing",
        arguments: [
            ("multipart/mixed; boundary=batch_1", "batch_1"), ("multipart/mixed;boundary=\"b 2\"", "b 2"),
            ("multipart/mixed; charset=utf-8; BOUNDARY=x", "x"), ("multipart/mixed", nil),
            ("multipart/mixed; boundary=", nil),
        ])
    func boundary(contentType: String, expected: String?) {
        #expect(MultipartMixed.boundary(in: contentType) == expected)
    }

    @Test(
        "parts: CRLF or LF line ends, a preamble, a delimiter-like text inside a body, the closing delimiter",
        arguments: ["\r\n", "\n"])
    func parts(newline: String) {
        let text = [
            "preamble", "--b", "Content-Type: application/http", "", "GET /x HTTP/1.1", "", "body with --b inside",
            "--b",
            "H: 1", "", "second", "--b--", "epilogue --b",
        ].joined(separator: newline)
        let parts = MultipartMixed.parts(of: Array(text.utf8)[...], boundary: "b")
        #expect(parts.count == 2)
        #expect(
            String(decoding: parts[0], as: UTF8.self)
                == ["Content-Type: application/http", "", "GET /x HTTP/1.1", "", "body with --b inside"].joined(
                    separator: newline))
        let second = MultipartMixed.message(parts[1])
        #expect(second.headers["h"] == "1")
        #expect(String(decoding: second.body, as: UTF8.self) == "second")
    }

    @Test("an embedded HTTP message: start line, headers (trimmed, case-insensitive), body")
    func message() {
        let text =
            "\r\nHTTP/1.1 412 Precondition Failed\r\nContent-ID:  3 \r\nETag: W/\"x\"\r\n\r\n{\"odata.error\":{}}\r\n"
        let message = MultipartMixed.message(Array(text.utf8)[...], startLine: true)
        #expect(message.startLine == "HTTP/1.1 412 Precondition Failed")
        #expect(message.headers["content-id"] == "3")
        #expect(message.headers["ETAG"] == "W/\"x\"")
        #expect(String(decoding: message.body.trimmingASCIIWhitespace(), as: UTF8.self) == "{\"odata.error\":{}}")
    }

    @Test("an unterminated multipart keeps the complete parts only")
    func unterminated() {
        let parts = MultipartMixed.parts(of: Array("--b\r\n\r\none\r\n--b\r\n\r\ntwo".utf8)[...], boundary: "b")
        #expect(parts.map { String(decoding: $0, as: UTF8.self) } == ["\r\none"])
    }

    @Test(
        "timestamps, decimals and hex match what String(format:) printed",
        arguments: [0.0, 1_700_000_000.1234567, 951_782_400.5, 4_102_444_799.9999999])
    func formatting(seconds: Double) {
        let whole = Int64(seconds.rounded(.down))
        let fraction = Int64(((seconds - Double(whole)) * 1000).rounded(.down))
        let expected: String = {
            var time = time_t(whole)
            var parts = tm()
            gmtime_r(&time, &parts)
            return String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec, fraction)
        }()
        #expect(ASCIIFormat.utcTimestamp(seconds: whole, fraction: fraction, fractionDigits: 3) == expected)
        #expect(ASCIIFormat.decimal(-7, width: 3) == "-007")
        #expect(ASCIIFormat.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(ASCIIFormat.hex([0xab], uppercase: true) == "AB")
    }

    @Test("JSON strings: plain text copied whole, control characters and quotes escaped")
    func jsonStrings() throws {
        for text in [
            "10.64.0.0/24", "quote \" back \\ slash", "tab\tnew\nline\u{1}", "ü €  \u{7f}",
            "C1 \u{85}\u{9f} after ÿ\u{a0}",
            (0..<500).map { "4 10.64.\($0 % 256).0/24" }.joined(separator: "\n"),
        ] {
            let written = JSONValue.string(text).serialized()
            #expect(try JSONValue.parse(written) == .string(text))
            #expect(
                try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed) as? String
                    == text)
        }
        #expect(JSONValue.string("\u{1}").serialized() == "\"\\u0001\"")
        #expect(JSONValue.string("a\u{7f}\u{85}é\n").serialized() == "\"a\\u007f\\u0085é\\n\"")
    }
}

@Suite("random ids")
struct RandomIDTests {
    @Test("version-4 UUIDs in lowercase, readable by Foundation, never repeated")
    func uuids() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RandomID.uuid()
            let parsed = UUID(uuidString: id)
            #expect(parsed != nil && parsed?.uuidString.lowercased() == id)
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36 && bytes[14] == UInt8(ascii: "4") && "89ab".utf8.contains(bytes[19]))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
