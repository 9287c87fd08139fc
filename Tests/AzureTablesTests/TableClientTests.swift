import AzureCore
import AzureTables
import Foundation
import TestSupport
import Testing

@Suite("Table Storage client against a live endpoint")
struct TableClientTests {
    @Test func createListDeleteTables() async throws {
        let service = try await TestStorage.service()
        let name = TestStorage.uniqueName("tbl")
        #expect(try await service.createTable(name))
        #expect(try await service.createTable(name, ifNotExists: true) == false)
        await #expect { try await service.createTable(name) } throws: {
            ($0 as? AzureError)?.errorCode == "TableAlreadyExists"
        }
        #expect(try await service.listTables().contains(name))
        try await service.deleteTable(name)
        #expect(try await !service.listTables().contains(name))
        try await service.deleteTable(name, ifExists: true)
        await #expect { try await service.deleteTable(name) } throws: { ($0 as? AzureError)?.isNotFound == true }
    }

    @Test("typed properties round-trip", arguments: [false, true])
    func typedRoundTrip(useMerge: Bool) async throws {
        let table = try await TestStorage.freshTable()
        let when = Date(timeIntervalSince1970: 1_700_000_000.123)
        let guid = UUID()
        let entity = TableEntity(
            partitionKey: "p", rowKey: "r'1 ü",
            properties: [
                "S": .string("héllo \"quoted\"\nline"), "I": .int32(-42), "L": .int64(1 << 40), "D": .double(2.0),
                "F": .double(1.5e-3),
                "B": .bool(true), "T": .dateTime(when), "G": .guid(guid), "X": .binary([0, 1, 2, 255]),
            ])
        if useMerge { try await table.insertOrMerge(entity) } else { try await table.insert(entity) }
        let read = try #require(try await table.get(partitionKey: "p", rowKey: "r'1 ü"))
        #expect(read.properties["S"] == .string("héllo \"quoted\"\nline"))
        #expect(read.properties["I"] == .int32(-42))
        #expect(read.properties["L"] == .int64(1 << 40))
        #expect(read.properties["D"] == .double(2.0))
        #expect(read.properties["F"] == .double(1.5e-3))
        #expect(read.properties["B"] == .bool(true))
        #expect(abs((read.properties["T"]?.dateValue ?? .distantPast).timeIntervalSince(when)) < 0.001)
        #expect(read.properties["G"] == .guid(guid))
        #expect(read.properties["X"] == .binary([0, 1, 2, 255]))
        #expect(read.etag?.isEmpty == false)
        #expect(read.timestamp != nil)
    }

    @Test("ETags: conditional replace, merge and delete; 412 on a stale ETag; 404 and 409")
    func conditionalWrites() async throws {
        let table = try await TestStorage.freshTable()
        let first = try await table.insert(
            TableEntity(partitionKey: "p", rowKey: "r", properties: ["v": .int32(1), "keep": .string("k")]))
        await #expect { try await table.insert(TableEntity(partitionKey: "p", rowKey: "r")) } throws: {
            ($0 as? AzureError).map { $0.isConflict && $0.errorCode == "EntityAlreadyExists" } == true
        }

        let second = try await table.merge(
            TableEntity(partitionKey: "p", rowKey: "r", properties: ["v": .int32(2)]), ifMatch: .etag(first))
        #expect(second != first)
        var read = try #require(try await table.get(partitionKey: "p", rowKey: "r"))
        #expect(read["v"] == .int32(2) && read["keep"] == .string("k"), "merge keeps other properties")
        #expect(read.etag == second)

        await #expect {
            try await table.merge(
                TableEntity(partitionKey: "p", rowKey: "r", properties: ["v": .int32(3)]), ifMatch: .etag(first))
        } throws: {
            ($0 as? AzureError).map { $0.isPreconditionFailed && $0.errorCode == "UpdateConditionNotSatisfied" } == true
        }
        await #expect {
            try await table.replace(TableEntity(partitionKey: "p", rowKey: "r"), ifMatch: .etag(first))
        } throws: { ($0 as? AzureError)?.isPreconditionFailed == true }
        await #expect { try await table.delete(partitionKey: "p", rowKey: "r", ifMatch: .etag(first)) } throws: {
            ($0 as? AzureError)?.isPreconditionFailed == true
        }

        let third = try await table.replace(
            TableEntity(partitionKey: "p", rowKey: "r", properties: ["v": .int32(4)]), ifMatch: .etag(second))
        read = try #require(try await table.get(partitionKey: "p", rowKey: "r"))
        #expect(read["keep"] == nil && read["v"] == .int32(4), "replace drops other properties")
        _ = try await table.replace(
            TableEntity(partitionKey: "p", rowKey: "r", properties: ["v": .int32(5)]), ifMatch: .any)
        try await table.delete(partitionKey: "p", rowKey: "r", ifMatch: .any)
        #expect(try await table.get(partitionKey: "p", rowKey: "r") == nil)
        _ = third

        await #expect { try await table.merge(TableEntity(partitionKey: "p", rowKey: "gone"), ifMatch: .any) } throws: {
            ($0 as? AzureError)?.isNotFound == true
        }
        await #expect { try await table.delete(partitionKey: "p", rowKey: "gone") } throws: {
            ($0 as? AzureError)?.isNotFound == true
        }
    }

    @Test func upserts() async throws {
        let table = try await TestStorage.freshTable()
        try await table.insertOrReplace(
            TableEntity(partitionKey: "p", rowKey: "a", properties: ["x": .int32(1), "y": .int32(1)]))
        try await table.insertOrReplace(TableEntity(partitionKey: "p", rowKey: "a", properties: ["x": .int32(2)]))
        var read = try #require(try await table.get(partitionKey: "p", rowKey: "a"))
        #expect(read["x"] == .int32(2) && read["y"] == nil)
        try await table.insertOrMerge(TableEntity(partitionKey: "p", rowKey: "a", properties: ["y": .int32(3)]))
        read = try #require(try await table.get(partitionKey: "p", rowKey: "a"))
        #expect(read["x"] == .int32(2) && read["y"] == .int32(3))
    }

    @Test(
        "keys and names are validated before anything is sent",
        arguments: ["a/b", "a\\b", "a#b", "a?b", "a\u{7}b", "a\u{85}b", String(repeating: "k", count: 1025)])
    func badKeys(key: String) async throws {
        let table = try await TestStorage.service().table("neverCreated")
        await #expect { try await table.insert(TableEntity(partitionKey: key, rowKey: "r")) } throws: {
            ($0 as? AzureError)?.isInvalidRequest == true
        }
        await #expect { try await table.delete(partitionKey: "p", rowKey: key) } throws: {
            ($0 as? AzureError)?.isInvalidRequest == true
        }
    }

    @Test func badTableNames() async throws {
        let service = try await TestStorage.service()
        for name in ["ab", "1abc", "has-dash", "tables", String(repeating: "a", count: 64)] {
            await #expect { try await service.createTable(name) } throws: {
                ($0 as? AzureError)?.isInvalidRequest == true
            }
        }
    }

    @Test func missingTable() async throws {
        let table = try await TestStorage.service().table(TestStorage.uniqueName("missing"))
        await #expect { try await table.insert(TableEntity(partitionKey: "p", rowKey: "r")) } throws: {
            ($0 as? AzureError).map { $0.isNotFound && $0.errorCode == "TableNotFound" } == true
        }
    }

    @Test("queries: filters, select, top as page size, continuation over more than 1,000 rows")
    func queries() async throws {
        let table = try await TestStorage.freshTable()
        // 2 partitions x 650 rows, written in transactions of 100.
        for partition in ["a", "b"] {
            for chunk in stride(from: 0, to: 650, by: 100) {
                var actions: [TableTransactionAction] = []
                for i in chunk..<min(chunk + 100, 650) {
                    var properties: [String: TableValue] = [:]
                    properties["n"] = .int32(Int32(i))
                    properties["even"] = .bool(i % 2 == 0)
                    properties["big"] = .int64(Int64(i) * 10_000_000_000)
                    properties["tag"] = .string(i % 3 == 0 ? "three" : "other")
                    actions.append(
                        .insert(
                            TableEntity(
                                partitionKey: partition, rowKey: String(format: "r%04d", i), properties: properties)))
                }
                try await table.submitTransaction(actions)
            }
        }
        let all = try await table.queryAll()
        #expect(all.count == 1300)
        #expect(
            all.map { "\($0.partitionKey)/\($0.rowKey)" } == all.map { "\($0.partitionKey)/\($0.rowKey)" }.sorted(),
            "rows come back in key order")

        var pages = 0
        var seen = 0
        for try await page in table.query(filter: nil, top: 200) {
            pages += 1
            seen += page.entities.count
            #expect(page.entities.count <= 200)
        }
        #expect(seen == 1300 && pages >= 7)

        let filtered = try await table.queryAll(
            filter: "PartitionKey eq 'b' and n ge 100 and n lt 200 and even eq true")
        #expect(filtered.count == 50)
        #expect(filtered.allSatisfy { $0.partitionKey == "b" && $0["even"] == .bool(true) })

        let orNot = try await table.queryAll(
            filter: "(RowKey eq 'r0001' or RowKey eq 'r0002') and not (PartitionKey eq 'a')")
        #expect(orNot.map(\.rowKey) == ["r0001", "r0002"])

        let big = try await table.queryAll(filter: "PartitionKey eq 'a' and big gt 6000000000000L")
        #expect(big.count == 650 - 601)

        let selected = try await table.queryAll(filter: "tag eq 'three' and PartitionKey eq 'a'", select: ["n"])
        #expect(selected.count == 217)
        #expect(selected.allSatisfy { $0.properties.keys.sorted() == ["n"] })

        let range = try await table.queryAll(filter: "PartitionKey eq 'a' and RowKey ge 'r0640'")
        #expect(range.map(\.rowKey) == (640..<650).map { String(format: "r%04d", $0) })
        #expect(try await table.queryAll(filter: "PartitionKey eq 'zzz'").isEmpty)
    }

    @Test("a transaction commits all of its operations atomically")
    func transactionSuccess() async throws {
        let table = try await TestStorage.freshTable()
        let etag = try await table.insert(
            TableEntity(partitionKey: "g", rowKey: "existing", properties: ["v": .int32(1)]))
        try await table.insert(TableEntity(partitionKey: "g", rowKey: "doomed"))
        let etags = try await table.submitTransaction([
            .insert(TableEntity(partitionKey: "g", rowKey: "new", properties: ["v": .int32(1)])),
            .merge(
                TableEntity(partitionKey: "g", rowKey: "existing", properties: ["w": .int32(2)]), ifMatch: .etag(etag)),
            .insertOrReplace(TableEntity(partitionKey: "g", rowKey: "upsert")),
            .delete(partitionKey: "g", rowKey: "doomed", ifMatch: .any),
        ])
        #expect(etags.count == 4 && etags[0] != nil && etags[1] != nil && etags[3] == nil)
        let rows = try await table.queryAll(filter: "PartitionKey eq 'g'")
        #expect(rows.map(\.rowKey) == ["existing", "new", "upsert"])
        #expect(rows[0]["v"] == .int32(1) && rows[0]["w"] == .int32(2))
    }

    @Test("a failing transaction names the failing operation and leaves nothing behind")
    func transactionFailure() async throws {
        let table = try await TestStorage.freshTable()
        let etag = try await table.insert(TableEntity(partitionKey: "g", rowKey: "lock", properties: ["v": .int32(1)]))
        try await table.merge(
            TableEntity(partitionKey: "g", rowKey: "lock", properties: ["v": .int32(2)]), ifMatch: .any)
        do {
            try await table.submitTransaction([
                .insert(TableEntity(partitionKey: "g", rowKey: "a")),
                .insert(TableEntity(partitionKey: "g", rowKey: "b")),
                .merge(
                    TableEntity(partitionKey: "g", rowKey: "lock", properties: ["v": .int32(3)]), ifMatch: .etag(etag)),
            ])
            Issue.record("the stale ETag must fail the transaction")
        } catch let error as AzureError {
            #expect(error.isPreconditionFailed)
            #expect(error.failedOperationIndex == 2)
        }
        do {
            try await table.submitTransaction([
                .insert(TableEntity(partitionKey: "g", rowKey: "c")),
                .insert(TableEntity(partitionKey: "g", rowKey: "lock")),
            ])
            Issue.record("the duplicate insert must fail the transaction")
        } catch let error as AzureError {
            #expect(error.isConflict && error.errorCode == "EntityAlreadyExists" && error.failedOperationIndex == 1)
        }
        let rows = try await table.queryAll()
        #expect(rows.map(\.rowKey) == ["lock"])
        #expect(rows[0]["v"] == .int32(2))
    }

    @Test("transaction limits are checked before sending")
    func transactionLimits() async throws {
        let table = try await TestStorage.service().table("anything")
        let tooMany = (0..<101).map { TableTransactionAction.insert(TableEntity(partitionKey: "p", rowKey: "\($0)")) }
        await #expect { try await table.submitTransaction(tooMany) } throws: {
            ($0 as? AzureError)?.isInvalidRequest == true
        }
        await #expect {
            try await table.submitTransaction([
                .insert(TableEntity(partitionKey: "p", rowKey: "1")),
                .insert(TableEntity(partitionKey: "q", rowKey: "2")),
            ])
        } throws: { ($0 as? AzureError)?.isInvalidRequest == true }
        await #expect {
            try await table.submitTransaction([
                .insert(TableEntity(partitionKey: "p", rowKey: "1")),
                .delete(partitionKey: "p", rowKey: "1", ifMatch: .any),
            ])
        } throws: { ($0 as? AzureError)?.isInvalidRequest == true }
    }

    @Test("concurrent conditional merges: exactly one writer wins each version")
    func optimisticConcurrency() async throws {
        let table = try await TestStorage.freshTable()
        let etag = try await table.insert(
            TableEntity(partitionKey: "p", rowKey: "slot", properties: ["owner": .string("none")]))
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<32 {
                group.addTask {
                    do {
                        try await table.merge(
                            TableEntity(partitionKey: "p", rowKey: "slot", properties: ["owner": .string("w\(index)")]),
                            ifMatch: .etag(etag))
                        return true
                    } catch let error as AzureError where error.isPreconditionFailed {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }

    @Test("a wrong key gets 403 AuthorizationFailure")
    func wrongKey() async throws {
        let good = try await TestStorage.connectionString()
        let bad = StorageConnectionString(
            accountName: good.accountName, accountKey: Data(repeating: 7, count: 64).base64EncodedString(),
            tableEndpoint: good.tableEndpoint)
        let service = try TableServiceClient(connectionString: bad, transport: TestStorage.transport)
        await #expect { _ = try await service.listTables() } throws: {
            ($0 as? AzureError).map { $0.status == 403 && $0.isUnauthorized } == true
        }
    }
}
