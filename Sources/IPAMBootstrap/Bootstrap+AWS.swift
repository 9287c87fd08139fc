package import AWSClient
import HTTPTransport
import IPAMCore
package import Logging
package import ManagerJobs

extension Bootstrap {
    /// AWS's discovery for the configured AWS scopes (one `EC2Client` per account and region), nil when none is
    /// configured. Credentials as the AWS SDKs find them (`CredentialEndpoints.chain`: web identity, the
    /// environment's keys, the ECS container endpoint, instance metadata), and for an account whose
    /// `SUPERNETS_CONFIG` entry names a `roleArn`, that role assumed with them (`sts:AssumeRole`, its `externalId`).
    /// Endpoints from `AWS_ENDPOINT_URL_EC2`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else AWS's; STS in
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`, else the first AWS scope's region).
    /// - Throws: a problem naming the variable (credentials, an endpoint that is not a URL).
    package func awsDiscovery(logger: Logger) throws(AWSConfigurationError) -> EC2Discovery? {
        let scopes = configuration.scopes.keys.filter { $0.cloud == .aws }.sorted()
        guard let first = scopes.first else { return nil }
        // Its own transport, as Resource Graph's: listing pages may take longer than one storage request may.
        let transport = CurlTransport()
        let stsRegion =
            [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
            .compactMap { $0?.isEmpty == false ? $0 : nil }.first ?? first.region
        let stsEndpoint = try AWSEndpoint.resolve(service: "sts", region: stsRegion, environment: environment)
        let base = try CredentialEndpoints.chain(
            environment: environment,
            sts: STSClient(account: first.account, region: stsRegion, endpoint: stsEndpoint, transport: transport),
            transport: transport)
        var clients: [EC2Client] = []
        for (account, regions) in Dictionary(grouping: scopes, by: \.account).sorted(by: { $0.key < $1.key }) {
            let credentials: any AWSCredentialsProvider =
                configuration.awsAccess[account].map { access in
                    RefreshingCredentialsProvider.assumeRole(
                        sts: STSClient(
                            account: account, region: stsRegion, endpoint: stsEndpoint, transport: transport),
                        roleArn: access.roleArn, sessionName: "ipam-manager", externalId: access.externalId, base: base)
                } ?? base
            for scope in regions {
                clients.append(
                    EC2Client(
                        account: account, region: scope.region,
                        endpoint: try AWSEndpoint.resolve(
                            service: "ec2", region: scope.region, environment: environment),
                        credentials: credentials, transport: transport))
            }
        }
        return EC2Discovery(clients: clients, logger: logger)
    }
}
