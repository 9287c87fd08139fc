package import NetworkMath

/// The cloud whose networks a scope holds.
package enum Cloud: String, Sendable, Hashable, CaseIterable {
    case azure, aws
}

/// A (subscription, region) pair on Azure or an (account, region) pair on AWS: the unit that owns supernets and
/// one table partition.
///
/// The partition keys of the two clouds never meet: an AWS scope's starts with `aws_`, and an Azure scope's
/// `{subscription}_` can only start so when its subscription id is `aws` or begins with `aws_` (in any case),
/// which configuration and requests refuse (`Scope.isReservedForAWS`).
package struct Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let cloud: Cloud
    /// Who owns the scope's networks: the lower-cased Azure subscription id, or the 12-digit AWS account id.
    package let account: String
    /// Lower-cased region name, e.g. `eastus` (Azure) or `us-east-1` (AWS).
    package let region: String

    /// An Azure scope.
    package init(subscriptionId: String, region: String) {
        self.init(cloud: .azure, account: subscriptionId, region: region)
    }

    /// An AWS scope.
    package init(awsAccountId: String, region: String) {
        self.init(cloud: .aws, account: awsAccountId, region: region)
    }

    package init(cloud: Cloud, account: String, region: String) {
        self.cloud = cloud
        self.account = account.lowercased()
        self.region = region.lowercased()
    }

    /// A scope as storage keeps it beside a row: `cloud` is the stored `Cloud` column, absent on Azure rows
    /// (written before AWS scopes existed, and still not written for Azure). Nil for a cloud ipam does not know.
    package init?(storedCloud cloud: String?, account: String, region: String) {
        guard let known = cloud.map({ Cloud(rawValue: $0) }) ?? .azure else { return nil }
        self.init(cloud: known, account: account, region: region)
    }

    /// The Azure subscription id; nil for an AWS scope.
    package var subscriptionId: String? { cloud == .azure ? account : nil }
    /// The AWS account id; nil for an Azure scope.
    package var awsAccountId: String? { cloud == .aws ? account : nil }

    /// The table partition of this scope: `{subscription}_{region}` on Azure, `aws_{account}_{region}` on AWS.
    package var partitionKey: String {
        switch cloud {
        case .azure: "\(account)_\(region)"
        case .aws: "\(Self.awsPartitionPrefix)\(account)_\(region)"
        }
    }

    /// `{subscription}/{region}` on Azure, `aws/{account}/{region}` on AWS.
    package var description: String {
        switch cloud {
        case .azure: "\(account)/\(region)"
        case .aws: "aws/\(account)/\(region)"
        }
    }

    /// What every AWS scope's partition key starts with.
    package static let awsPartitionPrefix = "aws_"

    /// True for an Azure subscription id whose partition keys would start like an AWS scope's: `aws`, or anything
    /// beginning with `aws_`, in any case. No Azure scope may have one.
    package static func isReservedForAWS(subscriptionId: String) -> Bool {
        (subscriptionId.lowercased() + "_").hasPrefix(awsPartitionPrefix)
    }

    /// True for an AWS account id: exactly 12 ASCII digits.
    package static func isAWSAccountId(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// True for a region in AWS's form: lower-case words joined by `-`, the first two letters, ending in a number
    /// (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-2`); at most 32 characters.
    package static func isAWSRegion(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count <= 32, parts.count >= 3, let number = parts.last, let first = parts.first,
            first.utf8.count == 2
        else { return false }
        let isLowerWord = { (part: Substring) in
            !part.isEmpty && part.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        }
        return parts.dropLast().allSatisfy(isLowerWord) && (1...2).contains(number.utf8.count)
            && number.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    package static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.partitionKey < rhs.partitionKey }
}

/// The address space one scope carves networks from.
package struct ScopeSupernets: Sendable, Equatable {
    package let scope: Scope
    package let supernets: [IPPrefix]
    /// Ranges never vended (gateways, on-premises space).
    package let exclude: [IPPrefix]
    /// A separate routing domain: its supernets may overlap other isolated scopes'.
    package let isolated: Bool

    package init(scope: Scope, supernets: [IPPrefix], exclude: [IPPrefix] = [], isolated: Bool = false) {
        self.scope = scope
        self.supernets = supernets
        self.exclude = exclude
        self.isolated = isolated
    }
}

/// How the Manager reaches an AWS account (`roleArn`, `externalId` of its `SUPERNETS_CONFIG` entry): the role
/// it assumes with `sts:AssumeRole`, and the external id the role's trust policy asks for. An account without
/// one is read with the Manager's own credentials.
package struct AWSAccountAccess: Sendable, Hashable {
    package let roleArn: String
    package let externalId: String?

    package init(roleArn: String, externalId: String?) {
        self.roleArn = roleArn
        self.externalId = externalId
    }
}

/// Life-cycle states of a network row. Only `available` is ever handed out.
package enum NetworkState: String, Sendable, CaseIterable, Codable {
    case available, leased, anchored, released, quarantined, expired, occupied, reserved
}
