import AzureCore
import Foundation
import HTTPTransport
import Testing

@Suite("Connection strings")
struct ConnectionStringTests {
    @Test func developmentStorage() throws {
        let cs = try StorageConnectionString(parsing: "UseDevelopmentStorage=true")
        #expect(cs.accountName == "devstoreaccount1")
        #expect(cs.tableEndpoint == "http://127.0.0.1:10002/devstoreaccount1")
        #expect(cs.endpointPath == "/devstoreaccount1")
        #expect(cs.accountKey == StorageConnectionString.developmentAccountKey)
    }

    @Test func azuriteStyleExplicit() throws {
        let cs = try StorageConnectionString(
            parsing:
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
        )
        #expect(cs.tableEndpoint == "http://127.0.0.1:10002/devstoreaccount1")
    }

    @Test func hostStyleFromSuffix() throws {
        let cs = try StorageConnectionString(
            parsing:
                "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=c2VjcmV0;EndpointSuffix=core.usgovcloudapi.net"
        )
        #expect(cs.tableEndpoint == "https://acme.table.core.usgovcloudapi.net")
        #expect(cs.endpointPath == "")
    }

    @Test func keylessStringIsAllowed() throws {
        let cs = try StorageConnectionString(
            parsing: "AccountName=acme;TableEndpoint=https://acme.table.core.windows.net/")
        #expect(cs.accountKey == nil)
        #expect(cs.tableEndpoint == "https://acme.table.core.windows.net")
    }

    @Test(
        "bad strings name the field and never echo the key",
        arguments: [
            ("AccountKey=c2VjcmV0", "AccountName"),
            ("AccountName=a;AccountKey=not*base64!", "AccountKey"),
            ("AccountName=a;AccountKey=c2VjcmV0;DefaultEndpointsProtocol=ftp", "DefaultEndpointsProtocol"),
            ("AccountName=a;TableEndpoint=ftp://x", "TableEndpoint"),
        ])
    func badStrings(text: String, field: String) {
        do {
            _ = try StorageConnectionString(parsing: text)
            Issue.record("expected an error")
        } catch let error as StorageConnectionString.ParseError {
            #expect(error.field == field)
            #expect(!error.description.contains("c2VjcmV0"))
            #expect(!error.description.contains("not*base64"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func descriptionRedactsKey() throws {
        let cs = try StorageConnectionString(parsing: "UseDevelopmentStorage=true")
        #expect(!cs.description.contains(StorageConnectionString.developmentAccountKey))
        #expect(cs.description.contains("<redacted>"))
    }
}

@Suite("Shared Key signing (vectors computed independently with Python's hmac)")
struct SharedKeySigningTests {
    let signer = try! SharedKeySigner(
        accountName: "devstoreaccount1", base64Key: StorageConnectionString.developmentAccountKey)

    @Test func sharedKeyCreateTable() {
        let header = signer.authorization(
            scheme: .sharedKey, method: "POST", contentType: "application/json",
            date: "Mon, 14 Oct 2013 18:25:49 GMT", encodedPath: "/devstoreaccount1/Tables", query: nil)
        #expect(header == "SharedKey devstoreaccount1:IJE5GKryWUmWoG/2FmSKIU1POlN61t6FXe/yJ53t8pg=")
    }

    @Test func sharedKeyEntityGetIgnoresQuery() {
        let header = signer.authorization(
            scheme: .sharedKey, method: "GET", contentType: "", date: "Wed, 25 Nov 2026 09:26:17 GMT",
            encodedPath: "/devstoreaccount1/t1(PartitionKey='p',RowKey='r')", query: "$select=A&NextPartitionKey=x")
        #expect(header == "SharedKey devstoreaccount1:Ck5BKRGcqVE4ifQLnfOFAa7FcUct7jaG/oEUMF2fflw=")
    }

    @Test func sharedKeyLite() {
        let header = signer.authorization(
            scheme: .sharedKeyLite, method: "POST", contentType: "application/json",
            date: "Sun, 11 Oct 2009 19:52:39 GMT", encodedPath: "/devstoreaccount1/Tables", query: nil)
        #expect(header == "SharedKeyLite devstoreaccount1:ErXwXhFUdsOaklxX2/UTRDcWl4T591pmLcUzbBU+SRI=")
    }

    @Test func compParameterIsSigned() {
        #expect(
            SharedKeySigner.canonicalizedResource(
                accountName: "acct", encodedPath: "/mytable()", query: "timeout=5&comp=acl")
                == "/acct/mytable()?comp=acl")
        let acct = try! SharedKeySigner(accountName: "acct", base64Key: StorageConnectionString.developmentAccountKey)
        let header = acct.authorization(
            scheme: .sharedKey, method: "GET", contentType: "", date: "Sun, 11 Oct 2009 19:52:39 GMT",
            encodedPath: "/mytable()", query: "comp=acl")
        #expect(header == "SharedKey acct:E+8ft6kFBu9LGxXCo/eXilsqz6S9VzSbyu9KqofBvbo=")
    }

    @Test func httpDateFormat() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 1_381_775_149)) == "Mon, 14 Oct 2013 18:25:49 GMT")
    }

    @Test func authorizerSignsFreshDatePerAttempt() async throws {
        let authorizer = SharedKeyAuthorizer(signer: signer, now: { Date(timeIntervalSince1970: 1_381_775_149) })
        var request = TransportRequest(
            method: "POST", url: "http://127.0.0.1:10002/devstoreaccount1/Tables?x=1",
            headers: ["Content-Type": "application/json"])
        try await authorizer.authorize(&request)
        #expect(request.headers["x-ms-date"] == "Mon, 14 Oct 2013 18:25:49 GMT")
        #expect(
            request.headers["Authorization"]
                == "SharedKey devstoreaccount1:IJE5GKryWUmWoG/2FmSKIU1POlN61t6FXe/yJ53t8pg=")
    }

    @Test func constantTimeCompare() {
        #expect(SharedKeySigner.constantTimeEqual("abc", "abc"))
        #expect(!SharedKeySigner.constantTimeEqual("abc", "abd"))
        #expect(!SharedKeySigner.constantTimeEqual("abc", "abcd"))
    }
}

@Suite("Azure error bodies")
struct AzureErrorTests {
    @Test func storageError() {
        let body =
            #"{"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"The specified entity already exists.\nRequestId:1\nTime:2020"}}}"#
        let error = AzureError.decode(status: 409, headers: ["x-ms-request-id": "abc"], body: Array(body.utf8))
        #expect(error.isConflict && error.errorCode == "EntityAlreadyExists")
        #expect(error.message == "The specified entity already exists.")
        #expect(error.requestID == "abc")
        #expect(error.shortDescription == "EntityAlreadyExists")
    }

    @Test func batchIndexPrefix() {
        let body =
            #"{"odata.error":{"code":"OutOfRangeInput","message":{"lang":"en-US","value":"2:One of the request inputs is out of range.\nRequestId:x"}}}"#
        let error = AzureError.decode(status: 400, headers: [:], body: Array(body.utf8))
        #expect(error.failedOperationIndex == 2)
        #expect(error.message == "One of the request inputs is out of range.")
    }

    @Test func armErrorAndHeaderFallback() {
        let arm = AzureError.decode(
            status: 429, headers: [:], body: Array(#"{"error":{"code":"RateLimiting","message":"slow down"}}"#.utf8))
        #expect(arm.isThrottled && arm.errorCode == "RateLimiting" && arm.message == "slow down")
        let bare = AzureError.decode(status: 412, headers: ["x-ms-error-code": "UpdateConditionNotSatisfied"], body: [])
        #expect(bare.isPreconditionFailed && bare.errorCode == "UpdateConditionNotSatisfied")
    }
}

@Suite("URL path and query split")
struct URLPartsTests {
    @Test(
        "path and query of absolute URLs, paths and odd shapes",
        arguments: [
            (
                "http://127.0.0.1:10002/devstoreaccount1/t(PartitionKey='p',RowKey='r')?$select=a",
                "/devstoreaccount1/t(PartitionKey='p',RowKey='r')", "$select=a"
            ),
            ("https://acct.table.core.windows.net/Tables", "/Tables", nil),
            ("/devstoreaccount1/$batch", "/devstoreaccount1/$batch", nil),
            ("/t()?$filter=x%20eq%20'http://y'", "/t()", "$filter=x%20eq%20'http://y'"),
            ("http://host", "/", nil),
            ("http://host?comp=list", "/", "comp=list"),
            ("http://host?x=/y", "/", "x=/y"),
            ("/ü/path?q=é", "/ü/path", "q=é"),
        ] as [(String, String, String?)])
    func split(url: String, path: String, query: String?) {
        let parts = URLParts.pathAndQuery(of: url)
        #expect(parts.path == path)
        #expect(parts.query == query)
    }
}
