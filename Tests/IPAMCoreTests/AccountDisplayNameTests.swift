import Foundation
import IPAMCore
import Testing

/// `displayName` on `SUPERNETS_CONFIG` entries: what the console calls a subscription or an account, and each way
/// an operator (or a pasted value) can get it wrong.
@Suite("Display names of subscriptions and accounts")
struct AccountDisplayNameTests {
    static let account = "123456789012"
    static let other = "22222222-2222-2222-2222-222222222222"

    /// An Azure subscription (two regions), a second one and an AWS account, with `azure`, `second` and `aws`
    /// spliced into their entries (e.g. `"displayName":"Production",`), plus `extra` entries.
    static func environment(azure: String = "", second: String = "", aws: String = "", extra: String = "")
        -> [String: String]
    {
        var environment = sampleEnvironment
        environment["SUPERNETS_CONFIG"] = """
            [{\(azure)"subscriptionId":"\(subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/14"]},
              {"region":"westeurope","supernets":["10.72.0.0/14"]}]},
             {\(second)"subscriptionId":"\(other)","regions":[{"region":"eastus","supernets":["10.80.0.0/14"]}]},
             {\(aws)"cloud":"aws","accountId":"\(account)","regions":[{"region":"us-east-1","supernets":["10.90.0.0/16"]}]}\(extra)]
            """
        return environment
    }

    static func problems(_ environment: [String: String]) -> [String] { IPAMConfiguration.problems(environment) }

    @Test("a subscription's name covers each of its regions, an AWS account's its own; none configured is nil")
    func namesLoad() throws {
        let configuration = try IPAMConfiguration.load(
            environment: Self.environment(
                azure: #""displayName":"  Production <EU & US>  ","#, aws: #""displayName":"Team Ä 🚀","#))
        let names = configuration.displayNames
        // Kept as given (HTML and all: the console escapes it), without the spaces around it.
        #expect(names.name(of: Scope(subscriptionId: subscription, region: "eastus")) == "Production <EU & US>")
        #expect(
            names.name(of: Scope(subscriptionId: subscription.uppercased(), region: "westeurope"))
                == "Production <EU & US>")
        #expect(names.name(of: Scope(awsAccountId: Self.account, region: "us-east-1")) == "Team Ä 🚀")
        #expect(names.name(of: Scope(subscriptionId: Self.other, region: "eastus")) == nil)
        // The same id on the other cloud is another owner.
        #expect(names.name(of: Scope(subscriptionId: Self.account, region: "us-east-1")) == nil)
        // Without any displayName, nothing is named and the configuration loads as before.
        #expect(try IPAMConfiguration.load(environment: sampleEnvironment).displayNames == AccountDisplayNames())
    }

    @Test(
        "a name that is not a string, is blank, too long, or holds control, bidi or zero-width characters is refused, naming the entry"
    )
    func hostileNamesAreRefused() {
        let longest = String(repeating: "x", count: AccountDisplayNames.maximumLength)
        #expect(Self.problems(Self.environment(azure: #""displayName":"\#(longest)","#)).isEmpty)
        let cases: [(String, String)] = [
            (#""displayName":42,"#, "SUPERNETS_CONFIG[0].displayName: must be a string"),
            (#""displayName":null,"#, "SUPERNETS_CONFIG[0].displayName: must be a string"),
            (#""displayName":["a"],"#, "SUPERNETS_CONFIG[0].displayName: must be a string"),
            (#""displayName":"","#, "empty"),
            (#""displayName":"   ","#, "empty"),
            (#""displayName":"\#(longest)y","#, "longer than 100 characters"),
            (#""displayName":"Prod\nuction","#, "control"),
            (#""displayName":"Prod\u0000","#, "control"),
            (#""displayName":"Prod\u202Etset","#, "formatting"), // right-to-left override
            (#""displayName":"Pro\u200Bd","#, "formatting"), // zero-width space
            (#""displayName":"Prod\u2028","#, "line-separator"),
        ]
        for (field, wanted) in cases {
            let found = Self.problems(Self.environment(azure: field))
            #expect(
                found.count == 1 && found[0].hasPrefix("SUPERNETS_CONFIG[0].displayName") && found[0].contains(wanted),
                "\(field): \(found)")
        }
        // On an AWS entry the same, naming that entry.
        let aws = Self.problems(Self.environment(aws: #""displayName":"\u0007","#))
        #expect(aws.count == 1 && aws[0].hasPrefix("SUPERNETS_CONFIG[2].displayName"), "\(aws)")
    }

    @Test(
        "two subscriptions or accounts may not share a name, in any case or across clouds; one account's entries may repeat its own"
    )
    func duplicatesAreRefused() {
        let shared = Self.problems(
            Self.environment(azure: #""displayName":"Production","#, second: #""displayName":"production ","#))
        #expect(
            shared == [
                #"SUPERNETS_CONFIG[1].displayName="production": already the name of \#(subscription) (SUPERNETS_CONFIG[0]); each subscription or account needs its own"#
            ], "\(shared)")
        let acrossClouds = Self.problems(
            Self.environment(azure: #""displayName":"Shared","#, aws: #""displayName":"SHARED","#))
        #expect(
            acrossClouds.count == 1 && acrossClouds[0].hasPrefix("SUPERNETS_CONFIG[2].displayName"), "\(acrossClouds)")
        // A second entry of the AWS account (another region): the same name again, or none, is fine.
        let region =
            #"{"cloud":"aws","accountId":"123456789012","regions":[{"region":"us-west-2","supernets":["10.91.0.0/16"]}]}"#
        let again = region.replacingOccurrences(of: #"{"cloud""#, with: #"{"displayName":"Ops","cloud""#)
        #expect(Self.problems(Self.environment(aws: #""displayName":"Ops","#, extra: "," + again)).isEmpty)
        #expect(Self.problems(Self.environment(aws: #""displayName":"Ops","#, extra: "," + region)).isEmpty)
        // Another name for the same account is a problem.
        let renamed = region.replacingOccurrences(of: #"{"cloud""#, with: #"{"displayName":"Other","cloud""#)
        let conflict = Self.problems(Self.environment(aws: #""displayName":"Ops","#, extra: "," + renamed))
        #expect(
            conflict == [
                #"SUPERNETS_CONFIG[3].displayName="Other": 123456789012 is already named "Ops" by another entry"#
            ],
            "\(conflict)")
    }
}
