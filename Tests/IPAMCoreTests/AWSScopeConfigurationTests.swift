import Foundation
import IPAMCore
import NetworkMath
import Testing

/// AWS scopes in `SUPERNETS_CONFIG` and the manifest, beside Azure ones, and the start-up errors of each way an
/// operator can get them wrong.
@Suite("AWS scopes in the configuration")
struct AWSScopeConfigurationTests {
    static let account = "123456789012"
    static let azure = Scope(subscriptionId: subscription, region: "eastus")
    static let aws = Scope(awsAccountId: account, region: "us-east-1")

    /// An Azure subscription and an AWS account whose supernets are the same range (isolated), plus `extra`
    /// entries; the default scope is `defaultScope`.
    static func environment(
        extra: String = "", defaultScope: String = #"{"cloud":"aws","accountId":"123456789012","region":"us-east-1"}"#,
        scopes: String = "[]"
    ) -> [String: String] {
        var environment = sampleEnvironment
        environment["SUPERNETS_CONFIG"] = """
            [{"subscriptionId":"\(subscription)","regions":[{"region":"eastus","supernets":["10.0.0.0/16"],"isolated":true}]},
             {"cloud":"aws","accountId":"\(account)","roleArn":"arn:aws:iam::\(account):role/ipam-reader","externalId":"ipam-42",
              "regions":[{"region":"us-east-1","supernets":["10.0.0.0/16","fd00:10::/44"],"exclude":["10.0.0.0/24"],"isolated":true},
                         {"region":"us-gov-west-1","supernets":["10.9.0.0/16"]}]}\(extra)]
            """
        environment["SCOPE_CONFIG_MANIFEST"] = #"{"defaultScope":\#(defaultScope),"scopes":\#(scopes)}"#
        return environment
    }

    /// The problems `environment` loads with (none when it loads).
    static func problems(_ environment: [String: String]) -> [String] { IPAMConfiguration.problems(environment) }

    @Test("an AWS entry makes one scope per region, with every option of an Azure region entry")
    func loadsAWSScopes() throws {
        let configuration = try IPAMConfiguration.load(
            environment: Self.environment(
                scopes: #"[{"cloud":"aws","accountId":"123456789012","region":"us-east-1","stock":{"24":3,"v6/56":2}}]"#
            ))
        #expect(configuration.scopes.count == 3)
        #expect(configuration.defaultScope == Self.aws)
        let east = try #require(configuration.scopes[Self.aws])
        #expect(east.supernets.map(\.description) == ["10.0.0.0/16", "fd00:10::/44"])
        #expect(east.exclude.map(\.description) == ["10.0.0.0/24"])
        #expect(east.isolated)
        #expect(configuration.scopes[Scope(awsAccountId: Self.account, region: "us-gov-west-1")]?.isolated == false)
        #expect(configuration.stock[Self.aws] == [24: 3])
        #expect(configuration.stockV6[Self.aws] == [56: 2])
        #expect(
            configuration.awsAccess[Self.account]
                == AWSAccountAccess(roleArn: "arn:aws:iam::123456789012:role/ipam-reader", externalId: "ipam-42"))
        // The Azure scope is the one it always was.
        #expect(configuration.scopes[Self.azure]?.scope.cloud == .azure)
    }

    @Test("partition keys and names: Azure's unchanged, AWS's aws_{account}_{region} and aws/{account}/{region}")
    func names() {
        #expect(Self.azure.partitionKey == "\(subscription)_eastus")
        #expect(Self.azure.description == "\(subscription)/eastus")
        #expect(Self.azure.subscriptionId == subscription && Self.azure.awsAccountId == nil)
        #expect(Self.aws.partitionKey == "aws_123456789012_us-east-1")
        #expect(Self.aws.description == "aws/123456789012/us-east-1")
        #expect(Self.aws.awsAccountId == Self.account && Self.aws.subscriptionId == nil)
        // Same account text and region in both clouds: two scopes, two partitions.
        let lookalike = Scope(subscriptionId: Self.account, region: "us-east-1")
        #expect(lookalike != Self.aws)
        #expect(lookalike.partitionKey != Self.aws.partitionKey)
    }

    @Test("no Azure scope the configuration accepts can share a partition key with an AWS scope")
    func partitionsNeverMeet() {
        // The only Azure subscription ids that could spell an AWS partition key are aws (with a region
        // `123456789012_us-east-1`) or begin with aws_: all refused.
        for spelling in ["aws_123456789012", "AWS_123456789012", "Aws_123456789012", "aWs_x", "aws", "AWS"] {
            let lines = Self.problems(
                Self.environment(
                    extra:
                        #",{"subscriptionId":"\#(spelling)","regions":[{"region":"us-east-1","supernets":["10.200.0.0/16"]}]}"#
                ))
            #expect(
                lines.contains { $0.hasPrefix("SUPERNETS_CONFIG[2].subscriptionId=") && $0.contains("aws_") },
                "\(spelling): \(lines)")
        }
        // Every Azure scope that loads has a key that does not begin with aws_; every AWS scope's does.
        for candidate in ["aw", "awsx_1", "a_ws_1", "123456789012", "11111111-aws_-1111", "_aws_1"] {
            let environment = Self.environment(
                extra:
                    #",{"subscriptionId":"\#(candidate)","regions":[{"region":"us-east-1","supernets":["10.\#(candidate.count).0.0/16"],"isolated":true}]}"#
            )
            guard let configuration = try? IPAMConfiguration.load(environment: environment) else {
                Issue.record("\(candidate) should load: \(Self.problems(environment))")
                continue
            }
            let keys = configuration.scopes.keys.map { ($0.cloud, $0.partitionKey) }
            #expect(keys.allSatisfy { ($0.0 == .aws) == $0.1.lowercased().hasPrefix("aws_") })
            #expect(Set(keys.map(\.1)).count == keys.count)
        }
    }

    @Test(
        "each mistake is a start-up error naming the field",
        arguments: [
            (#",{"cloud":"gcp","projectId":"p","regions":[]}"#, "SUPERNETS_CONFIG[2].cloud=\"gcp\": unknown cloud"),
            (#",{"cloud":7,"accountId":"123456789013","regions":[]}"#, "SUPERNETS_CONFIG[2].cloud: unknown cloud"),
            (
                #",{"cloud":"aws","accountId":"12345678901","regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId=\"12345678901\": must be a string of 12 digits"
            ),
            (
                #",{"cloud":"aws","accountId":"1234567890123","regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId=\"1234567890123\""
            ),
            (
                #",{"cloud":"aws","accountId":"12345678901a","regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId=\"12345678901a\""
            ),
            (
                #",{"cloud":"aws","accountId":"aws_12345678","regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId=\"aws_12345678\""
            ),
            (#",{"cloud":"aws","accountId":"１２３４５６７８９０１２","regions":[]}"#, "SUPERNETS_CONFIG[2].accountId="),
            (
                #",{"cloud":"aws","accountId":123456789012,"regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId: must be a string of 12 digits"
            ),
            (#",{"cloud":"aws","regions":[]}"#, "SUPERNETS_CONFIG[2].accountId: missing"),
            (
                #",{"cloud":"aws","accountId":"123456789013","subscriptionId":"s","regions":[]}"#,
                "SUPERNETS_CONFIG[2].subscriptionId: an AWS entry names its accountId"
            ),
            (
                #",{"subscriptionId":"s","accountId":"123456789013","regions":[]}"#,
                "SUPERNETS_CONFIG[2].accountId: only an AWS entry"
            ),
            (
                #",{"cloud":"azure","subscriptionId":"s","roleArn":"arn:aws:iam::123456789013:role/r","regions":[]}"#,
                "SUPERNETS_CONFIG[2].roleArn: only an AWS entry"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"us-east-1/../x","supernets":["10.50.0.0/16"]}]}"#,
                "SUPERNETS_CONFIG[2].regions[0].region"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"eastus","supernets":["10.50.0.0/16"]}]}"#,
                "SUPERNETS_CONFIG[2].regions[0].region=eastus: not an AWS region"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"us-east-","supernets":["10.50.0.0/16"]}]}"#,
                "SUPERNETS_CONFIG[2].regions[0].region=us-east-: not an AWS region"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"us-east-1","supernets":[]}]}"#,
                "SUPERNETS_CONFIG[2].regions[0].supernets: empty"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789012","regions":[{"region":"us-east-1","supernets":["10.60.0.0/16"]}]}"#,
                "SUPERNETS_CONFIG[2].regions[0]: scope aws/123456789012/us-east-1 is configured twice"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"us-east-2","supernets":["10.60.0.0/16"]},{"region":"US-EAST-2","supernets":["10.61.0.0/16"]}]}"#,
                "SUPERNETS_CONFIG[2].regions[1]: scope aws/123456789013/us-east-2 is configured twice"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789012","roleArn":"arn:aws:iam::123456789012:role/other","regions":[]}"#,
                "SUPERNETS_CONFIG[2]: account 123456789012 names another roleArn or externalId than SUPERNETS_CONFIG[1]"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","roleArn":"arn:aws:iam::12345:role/r","regions":[]}"#,
                "SUPERNETS_CONFIG[2].roleArn: must be an IAM role ARN"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","roleArn":"arn:aws:s3:::bucket","regions":[]}"#,
                "SUPERNETS_CONFIG[2].roleArn: must be an IAM role ARN"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","externalId":"x1","regions":[]}"#,
                "SUPERNETS_CONFIG[2].externalId: needs a roleArn"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","roleArn":"arn:aws:iam::123456789013:role/r","externalId":"a b","regions":[]}"#,
                "SUPERNETS_CONFIG[2].externalId: must be"
            ),
            (
                #",{"cloud":"aws","accountId":"123456789013","regions":[{"region":"us-west-2","supernets":["10.0.128.0/17"]}]}"#,
                "10.0.0.0/16 of aws/123456789012/us-east-1 overlaps 10.0.128.0/17 of aws/123456789013/us-west-2"
            ),
        ])
    func refusedEntries(entry: String, expected: String) {
        let lines = Self.problems(Self.environment(extra: entry))
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test(
        "the manifest names AWS scopes with cloud, accountId and region, checked the same way",
        arguments: [
            (
                #"{"cloud":"aws","accountId":"123456789012","region":"us-west-2"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope: aws/123456789012/us-west-2 is not in SUPERNETS_CONFIG"
            ),
            (
                #"{"cloud":"aws","accountId":"1234567890","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.accountId=\"1234567890\""
            ),
            (
                #"{"cloud":"aws","accountId":"123456789012","region":"us_east_1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.region: missing or not an AWS region"
            ),
            (
                #"{"cloud":"aws","subscriptionId":"123456789012","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.subscriptionId: an AWS entry names its accountId"
            ),
            (
                #"{"accountId":"123456789012","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.accountId: only an AWS entry"
            ),
            (
                #"{"cloud":"oracle","accountId":"123456789012","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.cloud=\"oracle\": unknown cloud"
            ),
            // The Azure spelling of the AWS scope's key reaches no scope.
            (
                #"{"subscriptionId":"aws_123456789012","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope.subscriptionId=\"aws_123456789012\": may not be aws or begin with aws_"
            ),
            (
                #"{"subscriptionId":"123456789012","region":"us-east-1"}"#,
                "SCOPE_CONFIG_MANIFEST.defaultScope: 123456789012/us-east-1 is not in SUPERNETS_CONFIG"
            ),
        ])
    func refusedManifest(defaultScope: String, expected: String) {
        let lines = Self.problems(Self.environment(defaultScope: defaultScope))
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test func manifestScopesEntriesAreCheckedToo() {
        let lines = Self.problems(
            Self.environment(
                scopes:
                    #"[{"cloud":"aws","accountId":"123456789012","region":"eu-west-1","stock":{"24":1}},{"cloud":"aws","accountId":"x","region":"us-east-1"}]"#
            ))
        #expect(
            lines.contains("SCOPE_CONFIG_MANIFEST.scopes[0]: aws/123456789012/eu-west-1 is not in SUPERNETS_CONFIG"))
        #expect(lines.contains { $0.hasPrefix("SCOPE_CONFIG_MANIFEST.scopes[1].accountId=\"x\"") })
    }

    @Test("an Azure and an AWS scope overlap only when both are isolated, as two Azure scopes")
    func overlapAcrossClouds() {
        var environment = Self.environment()
        environment["SUPERNETS_CONFIG"] =
            #"[{"subscriptionId":"s","regions":[{"region":"eastus","supernets":["10.0.0.0/16"]}]},{"cloud":"aws","accountId":"123456789012","regions":[{"region":"us-east-1","supernets":["10.0.0.0/16"],"isolated":true}]}]"#
        #expect(
            Self.problems(environment).contains {
                $0.contains("10.0.0.0/16 of aws/123456789012/us-east-1 overlaps 10.0.0.0/16 of s/eastus")
            })
        environment["SUPERNETS_CONFIG"] = environment["SUPERNETS_CONFIG"]!.replacingOccurrences(
            of: #"["10.0.0.0/16"]}]},"#, with: #"["10.0.0.0/16"],"isolated":true}]},"#)
        #expect(Self.problems(environment) == [])
    }

    @Test("account ids and regions in AWS's form")
    func forms() {
        for good in ["123456789012", "000000000000"] { #expect(Scope.isAWSAccountId(good), "\(good)") }
        for bad in [
            "12345678901", "1234567890123", "12345678901a", "", " 123456789012", "123456789012\n", "٠١٢٣٤٥٦٧٨٩٠١",
        ] {
            #expect(!Scope.isAWSAccountId(bad), "\(bad)")
        }
        for good in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2", "eu-central-1", "il-central-1"] {
            #expect(Scope.isAWSRegion(good), "\(good)")
        }
        for bad in [
            "eastus", "us-east", "us-east-1/../x", "US-EAST-1", "us--1", "-us-east-1", "us-east-1-", "usa-east-1",
            "us-east-123", "us-east-1\n", "us-ea5t-1", "us-east-x",
        ] {
            #expect(!Scope.isAWSRegion(bad), "\(bad)")
        }
    }

    @Test("a scope read back from storage: no Cloud column is Azure, an unknown cloud is unreadable")
    func storedScopes() {
        #expect(Scope(storedCloud: nil, account: subscription, region: "eastus") == Self.azure)
        #expect(Scope(storedCloud: "aws", account: Self.account, region: "us-east-1") == Self.aws)
        #expect(Scope(storedCloud: "gcp", account: "p", region: "r") == nil)
    }
}

/// Which scope a request's `subscriptionId`, `accountId` and `region` name.
@Suite("Requests naming AWS scopes")
struct AWSScopeRequestTests {
    static let configuration = try! IPAMConfiguration.load(environment: AWSScopeConfigurationTests.environment())

    static func resolve(_ subscription: String?, _ account: String?, _ region: String?) -> Result<
        Scope, RequestProblem
    > {
        do throws(RequestProblem) {
            return .success(
                try RequestRules.resolveScope(
                    subscriptionId: subscription, accountId: account, region: region, configuration: configuration))
        } catch { return .failure(error) }
    }

    @Test func accountAndRegionNameTheAWSScope() throws {
        #expect(try Self.resolve(nil, "123456789012", "us-east-1").get() == AWSScopeConfigurationTests.aws)
        #expect(try Self.resolve(nil, "123456789012", "US-EAST-1").get() == AWSScopeConfigurationTests.aws)
        // The account alone: the default scope's region is preferred, as for a subscription.
        #expect(try Self.resolve(nil, "123456789012", nil).get() == AWSScopeConfigurationTests.aws)
        #expect(
            try Self.resolve(nil, "123456789012", "us-gov-west-1").get()
                == Scope(awsAccountId: "123456789012", region: "us-gov-west-1"))
        #expect(try Self.resolve(subscription, nil, "eastus").get() == AWSScopeConfigurationTests.azure)
        #expect(try Self.resolve(nil, nil, nil).get() == AWSScopeConfigurationTests.aws)
    }

    @Test(
        "hostile spellings are refused with their code and field, and never reach the other cloud's scope",
        arguments: [
            (subscription, "123456789012", "us-east-1", ErrorCode.invalidField, "accountId"),
            (nil, "12345678901", "us-east-1", .invalidField, "accountId"),
            (nil, "1234567890123", "us-east-1", .invalidField, "accountId"),
            (nil, "12345678901a", "us-east-1", .invalidField, "accountId"),
            (nil, "aws_123456789012", "us-east-1", .invalidField, "accountId"),
            (nil, "123456789012", "us-east-1/../x", .invalidField, "region"),
            (nil, "123456789012", "eastus", .invalidField, "region"),
            ("aws_123456789012", nil, "us-east-1", .invalidField, "subscriptionId"),
            ("AWS_123456789012", nil, "us-east-1", .invalidField, "subscriptionId"),
            ("aws", nil, "123456789012_us-east-1", .invalidField, "subscriptionId"),
            ("123456789012", nil, "us-east-1", .unknownScope, "region"),
            (nil, "999999999999", "us-east-1", .unknownScope, "region"),
            (nil, "999999999999", nil, .unknownScope, "accountId"),
            (nil, "123456789012", "eu-west-1", .unknownScope, "region"),
            (subscription, nil, "us-east-1", .unknownScope, "region"),
        ] as [(String?, String?, String?, ErrorCode, String)])
    func refused(subscription: String?, account: String?, region: String?, code: ErrorCode, field: String) {
        switch Self.resolve(subscription, account, region) {
        case .success(let scope): Issue.record("resolved to \(scope)")
        case .failure(let problem):
            #expect(problem.code == code, "\(problem.message)")
            #expect(problem.field == field, "\(problem.message)")
        }
    }

    @Test("pools name an AWS scope by accountId; a child stays in its parent's scope")
    func pools() throws {
        var environment = AWSScopeConfigurationTests.environment()
        environment["POOLS_CONFIG"] =
            #"[{"name":"team-a","accountId":"123456789012","region":"us-east-1","cidr":"10.0.64.0/18"},{"name":"team-b","subscriptionId":"\#(subscription)","region":"eastus","cidr":"10.0.64.0/18"},{"name":"team-a1","parent":"team-a","cidr":"10.0.64.0/20"}]"#
        let configuration = try IPAMConfiguration.load(environment: environment)
        #expect(configuration.pools.pools["team-a"]?.scope == AWSScopeConfigurationTests.aws)
        #expect(configuration.pools.pools["team-a1"]?.scope == AWSScopeConfigurationTests.aws)
        #expect(configuration.pools.pools["team-b"]?.scope == AWSScopeConfigurationTests.azure)
        let (scope, pool) = try RequestRules.resolvePool(
            "team-a", subscriptionId: nil, accountId: "123456789012", region: "us-east-1",
            configuration: configuration)
        #expect(scope == AWSScopeConfigurationTests.aws && pool?.name == "team-a")
        #expect(throws: RequestProblem.self) {
            _ = try RequestRules.resolvePool(
                "team-a", subscriptionId: subscription, accountId: nil, region: "eastus", configuration: configuration)
        }

        for (pools, expected) in [
            (
                #"[{"name":"p","accountId":"123456789012","subscriptionId":"s","region":"us-east-1","cidr":"10.0.64.0/18"}]"#,
                "POOLS_CONFIG[0] (p).accountId: name the scope by subscriptionId (Azure) or accountId (AWS), not both"
            ),
            (
                #"[{"name":"p","accountId":"123456789012","region":"us-east-1","cidr":"10.0.64.0/18"},{"name":"c","parent":"p","subscriptionId":"\#(subscription)","cidr":"10.0.64.0/20"}]"#,
                "POOLS_CONFIG[1] (c).subscriptionId: differs from its parent 'p'"
            ),
            (
                #"[{"name":"p","accountId":"999999999999","region":"us-east-1","cidr":"10.0.64.0/18"}]"#,
                "POOLS_CONFIG[0] (p): names no single configured scope"
            ),
        ] {
            environment["POOLS_CONFIG"] = pools
            let lines = AWSScopeConfigurationTests.problems(environment)
            #expect(lines.contains { $0.hasPrefix(expected) }, "\(lines)")
        }
    }
}
