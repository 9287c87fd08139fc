import AWSClient
import Testing

@Suite("Strict XML parser")
struct StrictXMLTests {
    @Test("elements, attributes, text, entities, character references, comments and CDATA")
    func wellFormed() throws {
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- answer -->
            <Root xmlns="http://ec2.amazonaws.com/doc/2016-11-15/" a='1'>
              <name>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot; &#65;&#x42;&#x1F600;</name>
              <empty/><empty attr="x &amp; y" />
              <!-- skipped -->
              <data><![CDATA[<not a tag> & raw]]></data>
              <ሴ>utf8 ሴ</ሴ>
            </Root>
            """
        let root = try StrictXMLParser.parse(document)
        #expect(root.name == "Root")
        #expect(
            root.attributes == [
                XMLAttribute(name: "xmlns", value: "http://ec2.amazonaws.com/doc/2016-11-15/"),
                XMLAttribute(name: "a", value: "1"),
            ])
        #expect(root.childText("name") == "a <b> & 'c' \"d\" AB😀")
        #expect(root.children("empty").count == 2)
        #expect(root.children("empty")[1].attributes == [XMLAttribute(name: "attr", value: "x & y")])
        #expect(root.childText("data") == "<not a tag> & raw")
        #expect(root.childText("ሴ") == "utf8 ሴ")
        #expect(root.children.map(\.name) == ["name", "empty", "empty", "data", "ሴ"])
    }

    @Test(
        "hostile and malformed documents are refused",
        arguments: [
            // Entity expansion and external entities need a DTD: none is accepted.
            "<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><a>&lol;</a>",
            "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
            "<a>&lol;</a>", "<a>&xxe;</a>", "<a>&amp</a>", "<a>& b</a>", "<a>&#;</a>", "<a>&#x;</a>",
            "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#x110000;</a>", "<a>&#99999999999;</a>", "<a>&#-1;</a>",
            "<a>&#x1G;</a>",
            // Structure.
            "", "   ", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a></a><b></b>", "<a></a>trailing",
            "<a></a><", "<a/><!--", "</a>", "<a", "<a b></a>", "<a b=c></a>", "<a b=\"1\" b=\"2\"></a>",
            "<a b=\"1\"c=\"2\"></a>", "<a b=\"<\"></a>", "<a b=\"unterminated></a>", "<1a></1a>",
            "<a><!-- -- --></a>", "<a><![CDATA[open</a>", "<a>]]></a>", "<a><?pi x?></a>", "<?pi x?><a/>",
            "<a><!ELEMENT x ANY></a>",
            // Declarations and characters.
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "<?xml version=\"2.0\"?><a/>",
            "<?xml version=\"1.0\" evil=\"1\"?><a/>", " <?xml version=\"1.0\"?><a/>", "<a>\u{1}</a>",
            "<a b=\"\u{0}\"/>",
        ])
    func refused(_ document: String) {
        #expect(throws: XMLParseError.self) { try StrictXMLParser.parse(document) }
    }

    @Test("invalid UTF-8 is refused")
    func invalidUTF8() {
        #expect(throws: XMLParseError.self) {
            try StrictXMLParser.parse([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E])
        }
    }

    @Test("nesting is bounded (no stack exhaustion), the bound itself accepted")
    func depth() throws {
        let limit = StrictXMLParser.maximumDepth
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(throws: XMLParseError.self) { try StrictXMLParser.parse(deep) }
        let atLimit = String(repeating: "<a>", count: limit) + String(repeating: "</a>", count: limit)
        #expect(try StrictXMLParser.parse(atLimit).name == "a")
        let overLimit = String(repeating: "<a>", count: limit + 1) + String(repeating: "</a>", count: limit + 1)
        #expect(throws: XMLParseError.self) { try StrictXMLParser.parse(overLimit) }
    }

    @Test("the error names the offset where parsing stopped")
    func offset() {
        #expect(throws: XMLParseError(offset: 6, reason: "</b> closes <a>")) { try StrictXMLParser.parse("<a></b>") }
    }
}
