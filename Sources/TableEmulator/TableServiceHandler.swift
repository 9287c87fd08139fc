import AzureCore
import AzureTables
import Foundation
package import HTTPTransport
package import StrictJSON

/// A raw HTTP request as the emulator sees it (framework-independent, so it is testable without sockets).
package struct EmulatorRequest: Sendable {
    package var method: String
    /// Path exactly as sent on the wire (still percent-encoded).
    package var rawPath: String
    package var query: String?
    package var headers: HTTPHeaderList
    package var body: [UInt8]

    package init(method: String, rawPath: String, query: String?, headers: HTTPHeaderList, body: [UInt8]) {
        self.method = method
        self.rawPath = rawPath
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// An emulator's answer: status, headers, body.
package struct EmulatorResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaderList
    package var body: [UInt8]

    package init(status: Int, headers: HTTPHeaderList, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer (`Content-Type: application/json; charset=utf-8` over `headers`).
    package static func json(_ status: Int, _ body: JSONValue, headers: HTTPHeaderList = [:]) -> EmulatorResponse {
        var all = headers
        all["Content-Type"] = "application/json; charset=utf-8"
        return EmulatorResponse(status: status, headers: all, body: body.serializedBytes)
    }

    /// The error body Azure Resource Manager and Resource Graph answer with: `{"error":{"code":…,"message":…}}`
    /// (the emulators of both).
    package static func azureError(_ code: String, _ message: String) -> JSONValue {
        .object([("error", .object([("code", .string(code)), ("message", .string(message))]))])
    }
}

/// The Table service's REST protocol over a `TableStore`: routing, Shared Key verification,
/// payload formats, queries with continuation and entity group transactions.
package struct TableServiceHandler: Sendable {
    package let store: TableStore
    private let signers: [String: SharedKeySigner]
    /// Whether any well-formed bearer token is accepted too (Azurite's OAuth mode, for tests).
    package let acceptBearerTokens: Bool
    /// Azure's scalability targets, when enforced (`--azure-targets`); nil answers every request.
    package let targets: ScalabilityTargets?
    /// Version this endpoint reports in `x-ms-version`.
    package static let serviceVersion = "2019-02-02"

    /// - Parameters:
    ///   - accounts: account name → base64 key.
    ///   - acceptBearerTokens: also accept any well-formed bearer token (for tests of identity-based access).
    ///   - targets: refuse what is past Azure's scalability targets, as Azure does (503 `ServerBusy`).
    package init(
        store: TableStore, accounts: [String: String], acceptBearerTokens: Bool = false,
        targets: ScalabilityTargets? = nil
    ) throws {
        self.store = store
        self.acceptBearerTokens = acceptBearerTokens
        self.targets = targets
        var signers: [String: SharedKeySigner] = [:]
        for (name, key) in accounts { signers[name] = try SharedKeySigner(accountName: name, base64Key: key) }
        self.signers = signers
    }

    enum Resource {
        case tables
        case table(String)
        case batch
        case entities(String)
        case entity(String, partitionKey: String, rowKey: String)
    }

    package func handle(_ request: EmulatorRequest) async -> EmulatorResponse {
        let requestID = RandomID.uuid()
        var response: EmulatorResponse
        do {
            response = try await route(request)
        } catch let error as TableServiceError {
            response = Self.errorResponse(error, requestID: requestID)
        } catch {
            response = Self.errorResponse(
                TableServiceError(status: 500, code: "InternalError", message: "\(error)"), requestID: requestID)
        }
        response.headers["x-ms-request-id"] = requestID
        response.headers["x-ms-version"] = Self.serviceVersion
        response.headers["Date"] = HTTPDate.format(Date())
        response.headers["Server"] = "ipam-table-emulator"
        if let clientID = request.headers["x-ms-client-request-id"] {
            response.headers["x-ms-client-request-id"] = clientID
        }
        return response
    }

    // MARK: Routing

    private func route(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        let segments = request.rawPath.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = segments.first else {
            throw TableServiceError(status: 400, code: "InvalidUri", message: "The request URI is invalid.")
        }
        let account = String(first)
        guard signers[account] != nil else { throw TableServiceError.authorizationFailure }
        try authenticate(request, account: account)
        if let query = request.query, query.split(separator: "&").contains(where: { $0.hasPrefix("comp=") }) {
            throw TableServiceError(
                status: 501, code: "NotImplemented",
                message: "Service properties, statistics and ACLs are not implemented by this emulator.")
        }
        let resourcePath = segments.count > 1 ? PercentEncoding.decode(Substring(Self.plusKept(segments[1]))) : ""
        let resource = try Self.parseResource(resourcePath)
        let format = PayloadFormat(accept: request.headers["Accept"])
        let base = "\(request.headers["Host"].map { "http://\($0)" } ?? "http://127.0.0.1:10002")/\(account)"
        let parameters = Self.queryParameters(request.query)
        let method = request.method.uppercased()

        switch resource {
        case .tables, .table: try admit(account: account, charges: [], accountEntities: 1)
        case .entity(let table, let pk, _): try admit(account: account, table: table, partitionKey: pk, entities: 1)
        case .batch, .entities: break // charged once the partition and the count are known
        }
        switch (resource, method) {
        case (.tables, "POST"): return try await createTable(request, format: format, base: base)
        case (.tables, "GET"): return try await listTables(parameters, format: format, base: base)
        case (.table(let name), "DELETE"):
            try await store.deleteTable(name)
            return EmulatorResponse(status: 204, headers: [:], body: [])
        case (.batch, "POST"): return try await BatchProcessor(handler: self, account: account).process(request)
        case (.entities(let table), "POST"):
            let entity = try Self.decodeEntity(request.body)
            try admit(account: account, table: table, partitionKey: entity.partitionKey, entities: 1)
            return try await write(table: table, .insert(entity), request: request, format: format, base: base)
        case (.entities(let table), "GET"):
            return try await query(table: table, parameters, account: account, format: format, base: base)
        case (.entity(let table, let pk, let rk), "GET"):
            let stored = try await store.get(table: table, partitionKey: pk, rowKey: rk)
            let select = parameters["$select"].map(Self.selectList)
            var body = format.entityJSON(pk: pk, rk: rk, stored, table: table, base: base, select: select)
            if case .object(var members) = body, format.level != .none {
                members.insert(("odata.metadata", .string("\(base)/$metadata#\(table)/@Element")), at: 0)
                body = .object(members)
            }
            return EmulatorResponse(
                status: 200, headers: ["Content-Type": format.contentType, "ETag": stored.etag],
                body: body.serializedBytes)
        case (.entity(let table, let pk, let rk), "PUT"), (.entity(let table, let pk, let rk), "MERGE"),
            (.entity(let table, let pk, let rk), "PATCH"):
            var entity = try Self.decodeEntity(request.body, requireKeys: false)
            try Self.checkBodyKeys(entity, pk: pk, rk: rk)
            entity.partitionKey = pk
            entity.rowKey = rk
            let condition = request.headers["If-Match"].map(Self.condition)
            let write: EntityWrite =
                method == "PUT" ? .replace(entity, condition: condition) : .merge(entity, condition: condition)
            return try await self.write(table: table, write, request: request, format: format, base: base)
        case (.entity(let table, let pk, let rk), "DELETE"):
            guard let match = request.headers["If-Match"] else {
                throw TableServiceError(
                    status: 400, code: "MissingRequiredHeader",
                    message: "An HTTP header that's mandatory for this request is not specified: If-Match.")
            }
            return try await write(
                table: table, .delete(partitionKey: pk, rowKey: rk, condition: Self.condition(match)), request: request,
                format: format, base: base)
        default:
            throw TableServiceError(
                status: 405, code: "UnsupportedHttpVerb",
                message: "The resource doesn't support the specified HTTP verb \(method).")
        }
    }

    // MARK: Operations

    private func createTable(_ request: EmulatorRequest, format: PayloadFormat, base: String) async throws
        -> EmulatorResponse
    {
        guard let json = try? JSONValue.parse(request.body), let name = json["TableName"]?.stringValue else {
            throw TableServiceError.invalidInput("The request body must be a JSON object with a string TableName.")
        }
        try Self.validateTableName(name)
        try await store.createTable(name)
        if Self.prefersNoContent(request) {
            return EmulatorResponse(status: 204, headers: ["Preference-Applied": "return-no-content"], body: [])
        }
        var members: [(String, JSONValue)] = []
        if format.level != .none { members.append(("odata.metadata", .string("\(base)/$metadata#Tables/@Element"))) }
        if format.level == .full {
            members.append(("odata.type", .string("\(base.split(separator: "/").last ?? "").Tables")))
            members.append(("odata.id", .string("\(base)/Tables('\(name)')")))
            members.append(("odata.editLink", .string("Tables('\(name)')")))
        }
        members.append(("TableName", .string(name)))
        return EmulatorResponse(
            status: 201, headers: ["Content-Type": format.contentType, "Preference-Applied": "return-content"],
            body: JSONValue.object(members).serializedBytes)
    }

    private func listTables(_ parameters: [String: String], format: PayloadFormat, base: String) async throws
        -> EmulatorResponse
    {
        let filter = try parameters["$filter"].map { try Self.parseFilter($0) }
        let top = try Self.top(parameters)
        var names = await store.tableNames()
        if let filter { names = names.filter { name in filter.matches { $0 == "TableName" ? .string(name) : nil } } }
        if let next = parameters["NextTableName"] { names = names.filter { !KeyOrder.less($0, next) } }
        var headers: HTTPHeaderList = ["Content-Type": format.contentType]
        if names.count > top {
            headers["x-ms-continuation-NextTableName"] = names[top]
            names = Array(names.prefix(top))
        }
        let values: [JSONValue] = names.map { name in
            var members: [(String, JSONValue)] = []
            if format.level == .full {
                members.append(("odata.id", .string("\(base)/Tables('\(name)')")))
                members.append(("odata.editLink", .string("Tables('\(name)')")))
            }
            members.append(("TableName", .string(name)))
            return .object(members)
        }
        var body: [(String, JSONValue)] = []
        if format.level != .none { body.append(("odata.metadata", .string("\(base)/$metadata#Tables"))) }
        body.append(("value", .array(values)))
        return EmulatorResponse(status: 200, headers: headers, body: JSONValue.object(body).serializedBytes)
    }

    private func write(
        table: String, _ write: EntityWrite, request: EmulatorRequest, format: PayloadFormat, base: String
    ) async throws -> EmulatorResponse {
        let (pk, rk) = write.keys
        try Self.validateKeys(pk, rk)
        let etags = try await store.apply(table: table, writes: [write])
        var headers: HTTPHeaderList = [:]
        if let etag = etags[0] { headers["ETag"] = etag }
        if case .insert = write, !Self.prefersNoContent(request) {
            let stored = try await store.get(table: table, partitionKey: pk, rowKey: rk)
            var body = format.entityJSON(pk: pk, rk: rk, stored, table: table, base: base, select: nil)
            if case .object(var members) = body, format.level != .none {
                members.insert(("odata.metadata", .string("\(base)/$metadata#\(table)/@Element")), at: 0)
                body = .object(members)
            }
            headers["Content-Type"] = format.contentType
            headers["Preference-Applied"] = "return-content"
            return EmulatorResponse(status: 201, headers: headers, body: body.serializedBytes)
        }
        if case .insert = write { headers["Preference-Applied"] = "return-no-content" }
        return EmulatorResponse(status: 204, headers: headers, body: [])
    }

    private func query(
        table: String, _ parameters: [String: String], account: String, format: PayloadFormat, base: String
    ) async throws -> EmulatorResponse {
        let filter = try parameters["$filter"].map { try Self.parseFilter($0) }
        let top = try Self.top(parameters)
        let select = parameters["$select"].map(Self.selectList)
        var start: (String, String)? = nil
        if let pk = parameters["NextPartitionKey"] {
            start = (try ContinuationToken.decode(pk), try parameters["NextRowKey"].map(ContinuationToken.decode) ?? "")
        }
        let page = try await store.query(table: table, filter: filter, top: top, start: start)
        if targets != nil {
            // A read changes nothing: charged by what it answered, refused after the fact.
            var entities: [String: Int] = [:]
            for row in page.rows { entities[row.partitionKey, default: 0] += 1 }
            try admit(
                account: account,
                charges: entities.map { ScalabilityTargets.Charge(table: table, partitionKey: $0, entities: $1) },
                accountEntities: max(1, page.rows.count))
        }
        var headers: HTTPHeaderList = ["Content-Type": format.contentType]
        if let next = page.next {
            headers["x-ms-continuation-NextPartitionKey"] = ContinuationToken.encode(next.partitionKey)
            headers["x-ms-continuation-NextRowKey"] = ContinuationToken.encode(next.rowKey)
        }
        let values = page.rows.map {
            format.entityJSON(pk: $0.partitionKey, rk: $0.rowKey, $0.entity, table: table, base: base, select: select)
        }
        var body: [(String, JSONValue)] = []
        if format.level != .none { body.append(("odata.metadata", .string("\(base)/$metadata#\(table)"))) }
        body.append(("value", .array(values)))
        return EmulatorResponse(status: 200, headers: headers, body: JSONValue.object(body).serializedBytes)
    }

    // MARK: Scalability targets

    /// Charges the targets (when enforced) or throws Azure's 503 `ServerBusy`.
    func admit(account: String, charges: [ScalabilityTargets.Charge], accountEntities: Int) throws {
        if let refusal = targets?.admit(account: account, charges: charges, accountEntities: accountEntities) {
            throw refusal.error
        }
    }

    func admit(account: String, table: String, partitionKey: String, entities: Int) throws {
        try admit(
            account: account,
            charges: [ScalabilityTargets.Charge(table: table, partitionKey: partitionKey, entities: entities)],
            accountEntities: entities)
    }

    // MARK: Authentication

    private func authenticate(_ request: EmulatorRequest, account: String) throws {
        guard let header = request.headers["Authorization"], let space = header.firstIndex(of: " ") else {
            throw TableServiceError.authorizationFailure
        }
        let schemeName = String(header[..<space])
        let credential = header[header.index(after: space)...]
        if schemeName.lowercased() == "bearer" {
            // A JWT's shape: three base64url parts. The signature is not checked (a local endpoint for tests).
            let parts = credential.split(separator: ".", omittingEmptySubsequences: false)
            let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
            guard acceptBearerTokens, parts.count == 3, parts.prefix(2).allSatisfy({ !$0.isEmpty }),
                parts.allSatisfy({ $0.allSatisfy(base64url.contains) })
            else { throw TableServiceError.authorizationFailure }
            return
        }
        guard let scheme = SharedKeySigner.Scheme(rawValue: schemeName), let colon = credential.lastIndex(of: ":"),
            String(credential[..<colon]) == account, let signer = signers[account]
        else {
            throw TableServiceError.authorizationFailure
        }
        let given = String(credential[credential.index(after: colon)...])
        let date = request.headers["x-ms-date"] ?? request.headers["Date"] ?? ""
        // Sign the path as sent; also accept it decoded, for clients that sign before encoding.
        for path in [request.rawPath, PercentEncoding.decode(Substring(request.rawPath))] {
            let resource = SharedKeySigner.canonicalizedResource(
                accountName: account, encodedPath: path, query: request.query)
            let text = SharedKeySigner.stringToSign(
                scheme: scheme, method: request.method.uppercased(), contentMD5: request.headers["Content-MD5"] ?? "",
                contentType: request.headers["Content-Type"] ?? "", date: date, canonicalizedResource: resource)
            if SharedKeySigner.constantTimeEqual(signer.signature(of: text), given) { return }
        }
        throw TableServiceError.authorizationFailure
    }

    // MARK: Helpers

    /// A path keeps `+` literally (form decoding would turn it into a space).
    static func plusKept<S: StringProtocol>(_ path: S) -> String {
        path.utf8.contains(UInt8(ascii: "+"))
            ? path.split(separator: "+", omittingEmptySubsequences: false).joined(separator: "%2B") : String(path)
    }

    static func parseResource(_ path: String) throws -> Resource {
        if path == "Tables" || path == "Tables()" { return .tables }
        if path == "$batch" { return .batch }
        guard let open = path.firstIndex(of: "(") else {
            guard !path.isEmpty, !path.utf8.contains(UInt8(ascii: "/")) else {
                throw TableServiceError(status: 400, code: "InvalidUri", message: "The request URI is invalid.")
            }
            return .entities(path)
        }
        let name = String(path[..<open])
        guard path.hasSuffix(")") else {
            throw TableServiceError(status: 400, code: "InvalidUri", message: "The request URI is invalid.")
        }
        let inner = String(path[path.index(after: open)..<path.index(before: path.endIndex)])
        if name == "Tables" {
            guard inner.hasPrefix("'"), inner.hasSuffix("'"), inner.count >= 2 else {
                throw TableServiceError(status: 400, code: "InvalidUri", message: "The request URI is invalid.")
            }
            return .table(String(inner.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'"))
        }
        if inner.isEmpty { return .entities(name) }
        var keys: [String: String] = [:]
        var rest = Substring(inner)
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else {
                throw TableServiceError(status: 400, code: "InvalidUri", message: "The request URI is invalid.")
            }
            let key = rest[..<equals].trimmingSpacesAndTabs()
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "'" else {
                throw TableServiceError(status: 400, code: "InvalidUri", message: "Key values must be quoted.")
            }
            rest = rest.dropFirst()
            var value = ""
            while true {
                guard let quote = rest.firstIndex(of: "'") else {
                    throw TableServiceError(status: 400, code: "InvalidUri", message: "Unterminated key value.")
                }
                value += rest[..<quote]
                rest = rest[rest.index(after: quote)...]
                if rest.first == "'" {
                    value += "'"
                    rest = rest.dropFirst()
                    continue
                }
                break
            }
            keys[key] = value
            if rest.first == "," { rest = rest.dropFirst() }
        }
        guard let pk = keys["PartitionKey"], let rk = keys["RowKey"] else {
            throw TableServiceError(
                status: 400, code: "InvalidUri", message: "The request URI must name PartitionKey and RowKey.")
        }
        return .entity(name, partitionKey: pk, rowKey: rk)
    }

    /// Query parameters, percent-decoded.
    package static func queryParameters(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for item in (query ?? "").split(separator: "&") {
            if let equals = item.firstIndex(of: "=") {
                result[PercentEncoding.decode(item[..<equals])] = PercentEncoding.decode(
                    item[item.index(after: equals)...])
            } else {
                result[PercentEncoding.decode(item)] = ""
            }
        }
        return result
    }

    static func parseFilter(_ text: String) throws -> ODataFilter {
        do { return try ODataFilter.parse(text) } catch let error as ODataFilter.ParseError {
            throw TableServiceError.invalidInput("The query filter is invalid: \(error.message)")
        }
    }

    static func top(_ parameters: [String: String]) throws -> Int {
        guard let text = parameters["$top"] else { return 1000 }
        guard let value = Int(text), (1...1000).contains(value) else {
            throw TableServiceError(
                status: 400, code: "InvalidInput", message: "The requested $top (\(text)) must be between 1 and 1000.")
        }
        return value
    }

    static func selectList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingSpacesAndTabs() }.filter { !$0.isEmpty }
    }

    static func condition(_ header: String) -> ETagCondition { header == "*" ? .any : .etag(header) }

    static func prefersNoContent(_ request: EmulatorRequest) -> Bool {
        request.headers["Prefer"]?.containsASCIICaseInsensitive("return-no-content") ?? false
    }

    static func decodeEntity(_ body: [UInt8], requireKeys: Bool = true) throws -> TableEntity {
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch {
            throw TableServiceError(
                status: 400, code: "InvalidInput", message: "One of the request inputs is not valid: \(error)")
        }
        do {
            let entity = try EntityCodec.decode(json, requireKeys: requireKeys)
            if requireKeys { try validateKeys(entity.partitionKey, entity.rowKey) }
            return entity
        } catch let error as EntityCodec.DecodeError {
            if error.reason == "missing" {
                throw TableServiceError(
                    status: 400, code: "PropertiesNeedValue",
                    message: "The values are not specified for all properties in the entity: \(error.property).")
            }
            throw TableServiceError(
                status: 400, code: "InvalidInput", message: "One of the request inputs is not valid: \(error)")
        }
    }

    static func checkBodyKeys(_ entity: TableEntity, pk: String, rk: String) throws {
        if !entity.partitionKey.isEmpty && entity.partitionKey != pk || !entity.rowKey.isEmpty && entity.rowKey != rk {
            throw TableServiceError.invalidInput("The keys in the body do not match the keys in the request URI.")
        }
    }

    static func validateKeys(_ pk: String, _ rk: String) throws {
        for (name, key) in [("PartitionKey", pk), ("RowKey", rk)] {
            if let problem = TableNames.keyProblem(key) {
                throw TableServiceError(
                    status: 400, code: key.utf8.count > 1024 ? "KeyValueTooLarge" : "InvalidInput",
                    message: "The \(name) value \(problem).")
            }
        }
    }

    static func validateTableName(_ name: String) throws {
        guard (3...63).contains(name.count) else {
            throw TableServiceError(
                status: 400, code: "OutOfRangeInput",
                message: "The specified resource name length is not within the permissible limits.")
        }
        do { try TableNames.validateTableName(name) } catch {
            throw TableServiceError(
                status: 400, code: "InvalidResourceName",
                message: "The specified resource name contains invalid characters.")
        }
    }

    static func errorResponse(_ error: TableServiceError, requestID: String) -> EmulatorResponse {
        let body = errorBody(error, requestID: requestID, index: nil)
        return EmulatorResponse(
            status: error.status,
            headers: [
                "Content-Type": "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
                "x-ms-error-code": error.code,
            ], body: Array(body.utf8))
    }

    static func errorBody(_ error: TableServiceError, requestID: String, index: Int?) -> String {
        let prefix = index.map { "\($0):" } ?? ""
        let value = "\(prefix)\(error.message)\nRequestId:\(requestID)\nTime:\(EdmDateTime.format(Date()))"
        return JSONValue.object([
            (
                "odata.error",
                .object([
                    ("code", .string(error.code)),
                    ("message", .object([("lang", .string("en-US")), ("value", .string(value))])),
                ])
            )
        ]).serialized()
    }
}

/// Opaque continuation tokens in the service's style (`1!<length>!<base64url key>`).
enum ContinuationToken {
    static func encode(_ key: String) -> String {
        let b64 = ASCIIFormat.base64URL(Array(key.utf8))
        return "1!\(b64.count)!\(b64)"
    }

    static func decode(_ token: String) throws -> String {
        let parts = token.split(separator: "!", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw TableServiceError.invalidInput("The continuation token is invalid.") }
        guard let data = ASCIIFormat.base64URLDecoded(parts[2]) else {
            throw TableServiceError.invalidInput("The continuation token is invalid.")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `nometadata` / `minimalmetadata` / `fullmetadata` answers.
struct PayloadFormat {
    enum Level { case none, minimal, full }
    let level: Level

    init(accept: String?) {
        let accept = accept ?? ""
        if accept.containsASCIICaseInsensitive("odata=nometadata") {
            level = .none
        } else if accept.containsASCIICaseInsensitive("odata=fullmetadata") {
            level = .full
        } else {
            level = .minimal
        }
    }

    var contentType: String {
        let name = level == .none ? "nometadata" : (level == .full ? "fullmetadata" : "minimalmetadata")
        return "application/json;odata=\(name);streaming=true;charset=utf-8"
    }

    func entityJSON(pk: String, rk: String, _ stored: StoredEntity, table: String, base: String, select: [String]?)
        -> JSONValue
    {
        var members: [(String, JSONValue)] = []
        if level == .full {
            let account = base.split(separator: "/").last.map(String.init) ?? ""
            let link = "\(table)(PartitionKey='\(pk)',RowKey='\(rk)')"
            members.append(("odata.type", .string("\(account).\(table)")))
            members.append(("odata.id", .string("\(base)/\(link)")))
            members.append(("odata.etag", .string(stored.etag)))
            members.append(("odata.editLink", .string(link)))
        } else if level == .minimal {
            members.append(("odata.etag", .string(stored.etag)))
        }
        func wanted(_ name: String) -> Bool { select?.contains(name) ?? true }
        if wanted("PartitionKey") { members.append(("PartitionKey", .string(pk))) }
        if wanted("RowKey") { members.append(("RowKey", .string(rk))) }
        for name in stored.properties.keys.sorted() where wanted(name) {
            members.append(contentsOf: property(name: name, value: stored.properties[name]!))
        }
        if wanted("Timestamp") {
            if level == .full { members.append(("Timestamp@odata.type", .string("Edm.DateTime"))) }
            members.append(("Timestamp", .string(EdmDateTime.format(stored.timestamp))))
        }
        return .object(members)
    }

    private func property(name: String, value: TableValue) -> [(String, JSONValue)] {
        var encoded = EntityCodec.encodeProperty(name: name, value: value)
        if case .double(let v) = value, v.isFinite, level != .full {
            encoded.removeAll { $0.0.hasSuffix("@odata.type") }
        }
        if level == .none { encoded.removeAll { $0.0.hasSuffix("@odata.type") } }
        return encoded
    }
}
