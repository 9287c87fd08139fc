import Foundation
import HTTPTransport
import StrictJSON
import TestSupport
import Testing
import VendorHTTP

/// `ipam export` and `ipam import` (the real binary) against a live Vendor over HTTP.
@Suite("ipam export and import")
struct CommandLineCSVTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "dev=lease-key-1", admin: "ops=admin-key-1")
    static let subscription = SampleConfiguration.subscription

    static func ipam(_ arguments: [String], _ url: String, key: String = "admin-key-1", stderr: Bool = false)
        async throws -> (status: Int32, output: String)
    {
        try await CommandLineTests.ipam(arguments, vendor: url, key: key, stderr: stderr)
    }

    static func post(_ url: String, _ path: String, _ body: String, key: String = "lease-key-1") async throws
        -> HTTPAnswer
    {
        try await HTTPCalls.send("POST", url + path, body: body, headers: ["Authorization": "Bearer \(key)"])
    }

    static func vnet(_ name: String) -> String {
        "/subscriptions/\(subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)"
    }

    /// A fresh directory for this test's files.
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ipam-csv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Every lease the Vendor lists, as JSON.
    static func leases(_ url: String) async throws -> [JSONValue] {
        let answer = try await HTTPCalls.send(
            "GET", url + "/api/leases?limit=1000", headers: ["Authorization": "Bearer reader-key-1"])
        return answer.json?["leases"]?.arrayValue ?? []
    }

    /// How many audit events the Vendor lists.
    static func eventCount(_ url: String) async throws -> Int {
        let answer = try await HTTPCalls.send(
            "GET", url + "/api/events?limit=1000", headers: ["Authorization": "Bearer reader-key-1"])
        return answer.json?["events"]?.arrayValue?.count ?? -1
    }

    /// An import's `--json` report: the rows' outcomes by row number, and the summary.
    static func report(_ output: String) throws -> (rows: [Int: JSONValue], summary: JSONValue?) {
        let json = try JSONValue.parse(Array(output.utf8))
        var rows: [Int: JSONValue] = [:]
        for row in json["rows"]?.arrayValue ?? [] {
            if case .number(let text)? = row["row"], let number = Int(text) { rows[number] = row }
        }
        return (rows, json["summary"])
    }

    @Test(
        "export writes the console's CSV byte for byte (filters too, formula cells defused); reservations; --output replaced whole; usage errors"
    )
    func export() async throws {
        try await VendorHarness.withVendor(environment: ConsoleTests.secret, roleKeys: Self.keys) { url, _, _ in
            for (session, requester) in [
                ("e-1", "=HYPERLINK(\\\"http://evil.example\\\",\\\"x\\\")"), ("e-2", "team, \\\"alpha\\\""),
                ("e-3", "@SUM(1+1)"),
            ] {
                let made = try await Self.post(
                    url, "/api/getNewNetwork", #"{"SessionId":"\#(session)","requester":"\#(requester)"}"#)
                #expect(made.status == 201, "\(made.text)")
            }
            let tagged = try await Self.post(
                url, "/api/getNewNetwork",
                #"{"SessionId":"e-4","prefixLength":26,"tags":{"note":"=1+2, \"q\"","env":"dev"}}"#)
            #expect(tagged.status == 201, "\(tagged.text)")
            let adopted = try await Self.post(
                url, "/api/adoptNetwork",
                #"{"SessionId":"e-adopt","cidr":"10.64.240.0/22","resourceId":"\#(Self.vnet("legacy"))"}"#,
                key: "admin-key-1")
            #expect(adopted.status == 201, "\(adopted.text)")
            let reserved = try await Self.post(
                url, "/api/reservations", #"{"cidr":"10.64.250.0/24","owner":"net","reason":"-vpn, \"core\""}"#,
                key: "admin-key-1")
            #expect(reserved.status == 201, "\(reserved.text)")

            let cookie = try #require(try await ConsoleTests.signIn(url, key: "reader-key-1"))
            let console = try await HTTPCalls.send("GET", url + "/console/leases.csv", headers: ["Cookie": cookie])
            let exported = try await Self.ipam(["export"], url, key: "reader-key-1")
            #expect(exported.status == 0)
            #expect(exported.output == console.text, "the console's CSV, byte for byte")
            #expect(exported.output.hasPrefix("cidr,state,leaseId,sessionId,scope,requester,leasedAt,expiresAt,"))
            #expect(exported.output.components(separatedBy: "\r\n").count == 7, "header, 5 leases, the last CRLF")
            #expect(
                exported.output.hasPrefix(
                    "cidr,state,leaseId,sessionId,scope,requester,leasedAt,expiresAt,anchoredAt,resourceId,cidrV6,"
                        + "pool,prefixLength,tags\r\n"), "\(exported.output)")
            // The tags as one JSON cell, keys sorted, quoted with its quotes doubled; no pool here.
            let taggedCIDR = try #require(tagged.string("cidr"))
            #expect(
                exported.output.contains(
                    #",,26,"{""env"":""dev"",""note"":""=1+2, \""q\""""}"\#r\#n"#)
                    && exported.output.contains("\r\n\(taggedCIDR),leased,"), "\(exported.output)")
            #expect(exported.output.contains(",,24,{}\r\n"), "untagged leases: an empty object")
            #expect(
                exported.output.contains(#","'=HYPERLINK(""http://evil.example"",""x"")","#)
                    && exported.output.contains(#","team, ""alpha""","#)
                    && exported.output.contains(",'@SUM(1+1),"), "formulas defused, quotes doubled: \(exported.output)")
            #expect(exported.output.contains(Self.vnet("legacy")))

            let narrowed = try await Self.ipam(["export", "--requester", "@SUM(1+1)"], url, key: "reader-key-1")
            let consoleNarrowed = try await HTTPCalls.send(
                "GET", url + "/console/leases.csv?requester=%40SUM(1%2B1)", headers: ["Cookie": cookie])
            #expect(narrowed.output == consoleNarrowed.text && narrowed.output.split(separator: "\r\n").count == 2)
            let within = try await Self.ipam(["export", "--within", "10.64.240.0/22"], url, key: "reader-key-1")
            #expect(within.output.split(separator: "\r\n").count == 2 && within.output.contains("10.64.240.0/22,"))

            let directory = try Self.directory()
            let file = directory + "/reservations.csv"
            try Self.write("old contents", file)
            let summary = try await Self.ipam(
                ["export", "--reservations", "--output", file, "--json"], url, key: "reader-key-1")
            #expect(summary.status == 0, "\(summary.output)")
            let told = try JSONValue.parse(Array(summary.output.utf8))
            #expect(told["table"]?.stringValue == "reservations" && told["rows"] == .number("2"), "\(summary.output)")
            let reservations = try String(contentsOfFile: file, encoding: .utf8)
            #expect(
                reservations.hasPrefix(
                    "cidr,reservationId,scope,owner,reason,createdBy,createdAt,expiresAt,readOnly\r\n"),
                "\(reservations)")
            #expect(reservations.contains("10.64.250.0/24,") && reservations.contains(#",net,"'-vpn, ""core""",ops,"#))
            #expect(reservations.contains("\r\n10.64.0.0/24,") && reservations.contains(",true\r\n"), "the exclusion")
            #expect(reservations.hasSuffix(",false\r\n"), "\(reservations)")
            #expect(!FileManager.default.fileExists(atPath: file + ".partial"))

            // Refused before anything is read, and a failed export leaves the old file as it was.
            let leasesFile = directory + "/leases.csv"
            try Self.write("old contents", leasesFile)
            let unknownScope = try await Self.ipam(
                ["export", "--region", "mars", "--output", leasesFile], url, key: "reader-key-1", stderr: true)
            #expect(unknownScope.status == 1 && unknownScope.output.contains("UnknownScope"), "\(unknownScope.output)")
            #expect(try String(contentsOfFile: leasesFile, encoding: .utf8) == "old contents")
            #expect(!FileManager.default.fileExists(atPath: leasesFile + ".partial"))
            for arguments in [
                ["export", "--leases", "--reservations"], ["export", "--json"], ["export", "--pool", "nope"],
                ["export", "--reservations", "--state", "leased"], ["export", "--owner", "net"],
                ["export", "--output", directory + "/no/such/dir/x.csv"],
            ] {
                let refused = try await Self.ipam(arguments, url, key: "reader-key-1", stderr: true)
                #expect(refused.status == 2, "\(arguments): \(refused.output)")
            }
            #expect(try await Self.ipam(["export"], url, key: "nope", stderr: true).status == 1)
        }
    }

    @Test(
        "import: a dry run reports every row and writes nothing; the real run adopts; a re-run is unchanged; hostile rows are refused naming row and field"
    )
    func importRows() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let held = try await Self.post(url, "/api/getNewNetwork", #"{"SessionId":"other","prefixLength":24}"#)
            let heldCIDR = try #require(held.string("cidr"), "\(held.text)")
            let directory = try Self.directory()
            let file = directory + "/networks.csv"
            // A byte order mark, CRLF, quoted commas and quotes, a quoted line break, every hostile row.
            let rows = [
                "\u{FEFF}cidr,sessionId,resourceId,requester,tag:env,region,state",
                #"10.64.240.0/22,mig-1,\#(Self.vnet("legacy-a")),"team ""a"", ops",prod,eastus,"#,
                "10.64.244.0/24,,\(Self.vnet("legacy-b")),,\"dev,test\",,anchored",
                "10.64.245.1/24,mig-3,,,,,",
                "10.64.240.0/22,mig-4,,,,eastus,",
                "10.64.246.0/24,mig-5,,,,nowhere,",
                "\(heldCIDR),mig-6,\(Self.vnet("legacy-c")),,,,",
                #""=cmd|' /C calc'!A0",mig-7,,,,,"#,
                "10.64.247.0/24,mig-8,,\"two\r\nlines\",,,",
                "10.64.248.0/24,mig-9,,,,,released",
                "10.64.249.0/24,mig-10,,,,",
                "10.64.251.0/24,mig-1,,,,eastus,",
            ]
            try Self.write(rows.joined(separator: "\r\n") + "\r\n", file)
            let before = try await Self.eventCount(url)

            let dry = try await Self.ipam(["import", file, "--dry-run", "--json"], url, key: "reader-key-1")
            #expect(dry.status == 1, "a row failed: \(dry.output)")
            let (planned, plannedSummary) = try Self.report(dry.output)
            func expect(
                _ rows: [Int: JSONValue], _ number: Int, _ outcome: String, field: String? = nil, code: String? = nil,
                _ sourceLocation: SourceLocation = #_sourceLocation
            ) {
                let row = rows[number]
                #expect(
                    row?["outcome"]?.stringValue == outcome, "row \(number): \(row.map { "\($0)" } ?? "none")",
                    sourceLocation: sourceLocation)
                if let field {
                    #expect(row?["field"]?.stringValue == field, "row \(number)", sourceLocation: sourceLocation)
                }
                if let code {
                    #expect(row?["code"]?.stringValue == code, "row \(number)", sourceLocation: sourceLocation)
                }
            }
            expect(planned, 2, "would-adopt")
            expect(planned, 3, "would-adopt")
            expect(planned, 4, "error", field: "cidr", code: "InvalidField")
            #expect(planned[4]?["message"]?.stringValue?.contains("did you mean 10.64.245.0/24") == true)
            expect(planned, 5, "error", field: "cidr", code: "DuplicateRow")
            expect(planned, 6, "error", field: "region", code: "UnknownScope")
            expect(planned, 7, "error", field: "cidr", code: "Overlap")
            expect(planned, 8, "error", field: "cidr", code: "InvalidField")
            expect(planned, 9, "error", field: "requester", code: "InvalidField")
            expect(planned, 10, "skipped")
            expect(planned, 11, "error", code: "InvalidRow")
            expect(planned, 12, "error", field: "sessionId", code: "SessionConflict")
            #expect(planned[9]?["line"] == .number("9") && planned[10]?["line"] == .number("11"), "rows and lines")
            #expect(plannedSummary?["wouldAdopt"] == .number("2") && plannedSummary?["failed"] == .number("8"))
            #expect(try await Self.eventCount(url) == before, "a dry run writes nothing")
            #expect(try await Self.leases(url).count == 1)

            let table = try await Self.ipam(["import", file, "--dry-run"], url, key: "reader-key-1")
            #expect(table.output.hasPrefix("ROW") && table.output.contains("host bits are set"), "\(table.output)")
            #expect(
                table.output.contains(
                    "11 rows: 2 would-adopt, 0 unchanged, 1 skipped, 8 failed (dry run: nothing was written)"),
                "\(table.output)")

            let readerRun = try await Self.ipam(["import", file, "--json"], url, key: "reader-key-1")
            let (forbidden, _) = try Self.report(readerRun.output)
            expect(forbidden, 2, "error", code: "Forbidden")

            let real = try await Self.ipam(["import", file, "--json"], url)
            #expect(real.status == 1)
            let (done, summary) = try Self.report(real.output)
            expect(done, 2, "adopted")
            expect(done, 3, "adopted")
            expect(done, 7, "error", code: "Overlap")
            expect(done, 10, "skipped")
            #expect(summary?["adopted"] == .number("2") && summary?["failed"] == .number("8"), "\(real.output)")
            let leases = try await Self.leases(url)
            #expect(leases.count == 3)
            let first = try #require(leases.first { $0["cidr"]?.stringValue == "10.64.240.0/22" })
            #expect(
                first["requester"]?.stringValue == "team \"a\", ops" && first["tags"]?["env"]?.stringValue == "prod"
                    && first["sessionId"]?.stringValue == "mig-1", "\(first)")
            let second = try #require(leases.first { $0["cidr"]?.stringValue == "10.64.244.0/24" })
            #expect(
                second["sessionId"]?.stringValue?.hasPrefix("import:") == true
                    && second["tags"]?["env"]?.stringValue == "dev,test")
            let afterImport = try await Self.eventCount(url)

            let again = try await Self.ipam(["import", file, "--json"], url)
            let (rerun, rerunSummary) = try Self.report(again.output)
            expect(rerun, 2, "unchanged")
            expect(rerun, 3, "unchanged")
            #expect(rerun[2]?["leaseId"] == first["leaseId"] && rerun[3]?["leaseId"] == second["leaseId"])
            #expect(rerunSummary?["adopted"] == .number("0") && rerunSummary?["unchanged"] == .number("2"))
            #expect(try await Self.eventCount(url) == afterImport, "a re-run writes nothing")
            let dryAgain = try await Self.ipam(["import", file, "--dry-run", "--json"], url)
            expect(try Self.report(dryAgain.output).rows, 2, "unchanged")

            // A clean file exits 0; the same network under another session is unchanged too (its resource).
            let clean = directory + "/clean.csv"
            try Self.write("resourceId,cidr\n\(Self.vnet("legacy-a").uppercased()),10.64.240.0/22\n", clean)
            let cleanRun = try await Self.ipam(["import", clean], url)
            #expect(
                cleanRun.status == 0 && cleanRun.output.contains("1 row: 0 adopted, 1 unchanged"), "\(cleanRun.output)")

            // The Vendor gone mid-file: the rows done so far are reported, then VendorUnavailable (exit 3).
            let gone = directory + "/gone.csv"
            try Self.write("cidr\n10.64.1.1/24\n10.64.2.0/24\n10.64.3.0/24\n", gone)
            let stopped = try await Self.ipam(["import", gone], "http://127.0.0.1:9")
            #expect(
                stopped.status == 3 && stopped.output.contains("host bits are set")
                    && stopped.output.contains("1 row: 0 adopted, 0 unchanged, 0 skipped, 1 failed"),
                "\(stopped.output)")
        }
    }

    @Test(
        "import refuses a file it cannot read whole (nothing sent): bad headers, broken CSV, too large, too many rows")
    func importRefusesFiles() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let directory = try Self.directory()
            let path = directory + "/bad.csv"
            let cases: [(String, String)] = [
                ("cidr,colour\n10.64.240.0/22,red\n", "row 1, column 2: unknown column 'colour'"),
                ("sessionId,region\nx,eastus\n", "no 'cidr' column"),
                ("cidr,CIDR\n10.64.240.0/22,10.64.240.0/22\n", "column 'CIDR' is also column 1"),
                ("cidr,\n10.64.240.0/22,\n", "a column without a name"),
                ("cidr,requester\n10.64.240.0/22,\"open\n10.64.244.0/24,x\n", "row 2 (line 2)"),
                ("cidr\n10.64.240.0/22\r10.64.244.0/24\n", "carriage return"),
                ("", "the file is empty"),
                ("cidr\n" + String(repeating: "10.64.240.0/22\n", count: 100_001), "more than 100001 rows"),
            ]
            for (text, message) in cases {
                try Self.write(text, path)
                let refused = try await Self.ipam(["import", path], url, stderr: true)
                #expect(refused.status == 2 && refused.output.contains(message), "\(message): \(refused.output)")
            }
            let huge = directory + "/huge.csv"
            _ = FileManager.default.createFile(atPath: huge, contents: Data("cidr\n".utf8))
            let handle = try #require(FileHandle(forWritingAtPath: huge))
            try handle.truncate(atOffset: 33 << 20)
            try handle.close()
            let tooLarge = try await Self.ipam(["import", huge], url, stderr: true)
            #expect(tooLarge.status == 2 && tooLarge.output.contains("larger than 32 MiB"), "\(tooLarge.output)")
            let missing = try await Self.ipam(["import", directory + "/none.csv"], url, stderr: true)
            #expect(missing.status == 2 && missing.output.contains("cannot be read"))
            let (leases, events) = (try await Self.leases(url), try await Self.eventCount(url))
            #expect(leases.isEmpty && events == 0, "nothing was sent")
        }
    }

    @Test(
        "export → import: into the same Vendor every row is unchanged and nothing is written; into a fresh one every held lease is adopted as it was"
    )
    func roundTrip() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { source, _, _ in
            for (session, requester, more) in [
                ("r-1", "=evil()", ""), ("r-2", "-team", #","tags":{"note":"=x, \"y\"","env":"dev"}"#),
                ("r-3", "plain", ""),
            ] {
                #expect(
                    try await Self.post(
                        source, "/api/getNewNetwork",
                        #"{"SessionId":"\#(session)","requester":"\#(requester)"\#(more)}"#
                    ).status == 201)
            }
            #expect(
                try await Self.post(
                    source, "/api/adoptNetwork",
                    #"{"SessionId":"r-adopt","cidr":"10.64.240.0/22","resourceId":"\#(Self.vnet("kept"))"}"#,
                    key: "admin-key-1"
                ).status == 201)
            #expect(try await Self.post(source, "/api/releaseNetwork", #"{"SessionId":"r-3"}"#).status == 200)
            let directory = try Self.directory()
            let file = directory + "/leases.csv"
            #expect(try await Self.ipam(["export", "--output", file], source, key: "reader-key-1").status == 0)
            let exported = try String(contentsOfFile: file, encoding: .utf8)
            #expect(exported.contains("'=evil()") && exported.contains("'-team"), "\(exported)")

            let events = try await Self.eventCount(source)
            let same = try await Self.ipam(["import", file, "--json"], source)
            let (rows, summary) = try Self.report(same.output)
            #expect(same.status == 0, "\(same.output)")
            #expect(summary?["unchanged"] == .number("3") && summary?["skipped"] == .number("1"), "\(same.output)")
            #expect(rows.values.allSatisfy { ["unchanged", "skipped"].contains($0["outcome"]?.stringValue) })
            #expect(try await Self.eventCount(source) == events, "nothing written twice")

            let before = try await Self.leases(source).filter {
                ["leased", "anchored"].contains($0["state"]?.stringValue)
            }
            try await VendorHarness.withVendor(roleKeys: Self.keys) { target, _, _ in
                let moved = try await Self.ipam(["import", file, "--json"], target)
                #expect(moved.status == 0, "\(moved.output)")
                #expect(try Self.report(moved.output).summary?["adopted"] == .number("3"), "\(moved.output)")
                let after = try await Self.leases(target)
                func kept(_ lease: JSONValue) -> [String?] {
                    ["cidr", "sessionId", "requester", "resourceId", "cidrV6"].map { lease[$0]?.stringValue }
                }
                #expect(after.map(kept) == before.map(kept), "\(after) vs \(before)")
                #expect(after.contains { $0["requester"]?.stringValue == "=evil()" }, "the defusing undone")
                let tagged = try #require(after.first { $0["sessionId"]?.stringValue == "r-2" })
                #expect(
                    tagged["tags"]?.objectValue?.count == 2 && tagged["tags"]?["note"]?.stringValue == "=x, \"y\""
                        && tagged["tags"]?["env"]?.stringValue == "dev", "the tags cell adopted: \(tagged)")
                #expect(
                    after.allSatisfy {
                        $0["sessionId"]?.stringValue == "r-2" || $0["tags"]?.objectValue?.isEmpty == true
                    })
                // A tags cell that is no object of strings, or a tag also in a tag:NAME column, is the row's error.
                let hostile = directory + "/tags.csv"
                try Self.write(
                    [
                        "cidr,tags,tag:env", "10.64.200.0/24,not json,", #"10.64.201.0/24,"{""n"":1}","#,
                        #"10.64.202.0/24,"{""env"":""a""}",b"#, #"10.64.203.0/24,"{""a"":""x""}",b"#,
                    ].joined(separator: "\n"), hostile)
                let checked = try Self.report(
                    try await Self.ipam(["import", hostile, "--dry-run", "--json"], target).output
                ).rows
                for number in 2...4 {
                    #expect(
                        checked[number]?["field"]?.stringValue == "tags"
                            && checked[number]?["code"]?.stringValue == "InvalidField", "row \(number): \(checked)")
                }
                #expect(checked[5]?["outcome"]?.stringValue == "would-adopt", "\(checked)")
                let reexported = try await Self.ipam(["export"], target, key: "reader-key-1")
                #expect(reexported.output.contains("'=evil()") && reexported.output.contains(Self.vnet("kept")))
            }
        }
    }

    @Test(
        "AWS and Azure scopes with pools: export --pool is the pool's range in its scope; import adopts VPCs by accountId and region or the export's aws_ scope, and refuses another cloud's resource id"
    )
    func scopesAndPools() async throws {
        let environment = AWSScopeTests.environment.merging(ConsoleTests.secret) { $1 }
        try await VendorHarness.withVendor(environment: environment, roleKeys: Self.keys) { url, _, _ in
            let account = AWSScopeTests.account
            for body in [
                #"{"SessionId":"a-1","pool":"aws-team"}"#, #"{"SessionId":"z-1","pool":"az-team"}"#,
                #"{"SessionId":"a-2","accountId":"\#(account)","region":"us-east-1"}"#,
            ] {
                let made = try await Self.post(url, "/api/getNewNetwork", body)
                #expect(made.status == 201, "\(made.text)")
            }
            let pool = try await Self.ipam(["export", "--pool", "aws-team"], url, key: "reader-key-1")
            let lines = pool.output.split(separator: "\r\n")
            // Required, not expected: the lines below read lines[1] (a failed expectation went on and crashed the
            // whole test process on the index).
            try #require(
                pool.status == 0 && lines.count == 2 && lines[1].contains(",a-1,\(AWSScopeTests.awsPartition),"),
                "only the pool's lease, in its scope: \(pool.output)")
            #expect(lines[1].hasSuffix(",aws-team,24,{}"), "the pool column names its pool: \(pool.output)")
            // Every lease, with and without a pool, in both clouds: the console's CSV byte for byte.
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "reader-key-1"))
            let console = try await HTTPCalls.send("GET", url + "/console/leases.csv", headers: ["Cookie": cookie])
            let all = try await Self.ipam(["export"], url, key: "reader-key-1")
            #expect(all.status == 0 && all.output == console.text, "\(all.output)\n\(console.text)")
            #expect(
                all.output.contains(",az-team,") && all.output.contains(",aws-team,")
                    && all.output.split(separator: "\r\n").count == 4, "\(all.output)")
            let elsewhere = try await Self.ipam(
                ["export", "--pool", "aws-team", "--region", "eastus"], url, key: "reader-key-1", stderr: true)
            #expect(elsewhere.status == 2 && elsewhere.output.contains("is in scope"), "\(elsewhere.output)")

            let file = try Self.directory() + "/vpcs.csv"
            try Self.write(
                [
                    "cidr,resourceId,sessionId,accountId,region,scope",
                    "10.64.64.0/22,vpc-0123456789abcdef0,vpc-a,\(account),us-east-1,",
                    "10.64.68.0/22,vpc-01234567,vpc-b,,,\(AWSScopeTests.awsPartition)",
                    "10.64.72.0/22,\(Self.vnet("wrong-cloud")),vpc-c,,,\(AWSScopeTests.awsPartition)",
                    "10.64.76.0/22,vpc-0123456789abcdef2,vpc-d,,,",
                    "10.64.80.0/22,vpc-0123456789abcdef3,vpc-e,\(account),us-east-1,aws_\(account)_eu-west-1",
                ].joined(separator: "\n"), file)
            let dry = try Self.report(try await Self.ipam(["import", file, "--dry-run", "--json"], url).output).rows
            #expect(
                dry[2]?["outcome"]?.stringValue == "would-adopt" && dry[3]?["outcome"]?.stringValue == "would-adopt")
            #expect(dry[4]?["field"]?.stringValue == "resourceId" && dry[4]?["code"]?.stringValue == "InvalidField")
            #expect(
                dry[5]?["outcome"]?.stringValue == "would-adopt", "the default scope's cloud is the Vendor's to know")
            #expect(dry[6]?["field"]?.stringValue == "scope", "\(dry[6].map { "\($0)" } ?? "")")

            let real = try Self.report(try await Self.ipam(["import", file, "--json"], url).output).rows
            #expect(real[2]?["outcome"]?.stringValue == "adopted" && real[3]?["outcome"]?.stringValue == "adopted")
            #expect(
                real[5]?["outcome"]?.stringValue == "error" && real[5]?["field"]?.stringValue == "resourceId"
                    && real[5]?["code"]?.stringValue == "InvalidField", "the Vendor refuses a VPC id in an Azure scope")
            let listed = try await HTTPCalls.send(
                "GET", url + "/api/leases?accountId=\(account)&within=10.64.64.0/21",
                headers: ["Authorization": "Bearer reader-key-1"])
            let vpcs = listed.json?["leases"]?.arrayValue ?? []
            #expect(
                vpcs.map { $0["resourceId"]?.stringValue } == ["vpc-0123456789abcdef0", "vpc-01234567"]
                    && vpcs.allSatisfy { $0["cloud"]?.stringValue == "aws" }, "\(listed.text)")
            let again = try Self.report(try await Self.ipam(["import", file, "--dry-run", "--json"], url).output).rows
            #expect(
                again[2]?["outcome"]?.stringValue == "unchanged" && again[3]?["outcome"]?.stringValue == "unchanged")
        }
    }

}
