import Foundation
import IPAMCore
import Inventory
import Mustache
import NetworkMath
import VendorDomain
import VendorHTTP

/// The lease page's sections after the lease's own fields: its address history (what `GET /api/history?leaseId=`
/// answers), its host addresses and its members (what `GET /api/leases/{id}/hostips` and `…/members` answer, to
/// the same callers: the lease's members and admins).
struct LeaseDetails: Sendable {
    /// One state of one holding of a block the lease held.
    struct HistoryRow: Sendable, Equatable {
        let block: String
        let kind: String
        let state: String
        let from: String
        /// Empty while it lasts.
        let to: String
        let requester: String
        let network: String
    }

    struct Host: Sendable, Equatable {
        let ip: String
        /// A dual-stack lease's IPv6 address for the principal.
        let ipV6: String?
        let principal: String
        let subnet: String
        let allocatedAt: String
    }

    struct Member: Sendable, Equatable {
        let principal: String
        let role: String
        let addedAt: String
    }

    let leaseId: String
    let history: [HistoryRow]
    /// Whether the history has more entries than the page shows (the API pages on).
    let historyMore: Bool
    let hosts: [Host]
    let members: [Member]
    /// Why the host addresses and members are not shown (the caller is no member, the lease ended); nil when
    /// they are.
    let hostsNote: String?
    /// Whether they are shown.
    let hostsShown: Bool

    /// The most history entries the page shows.
    static let historyLimit = 200

    /// - Parameters:
    ///   - history: a page of the lease's address history, oldest first; `more` when the API has further pages.
    ///   - hosts: its host addresses and members, or why the caller may not see them.
    init(
        leaseId: String, history: [HistoryEntry], more: Bool,
        hosts: Result<([HostIPAnswer], [MemberAnswer]), DomainError>
    ) {
        self.leaseId = leaseId
        self.history = history.flatMap { entry in
            entry.states.map { state in
                HistoryRow(
                    block: entry.prefix.description, kind: entry.kind.rawValue, state: state.state,
                    from: ISO8601.format(state.from), to: state.to.map(ISO8601.format) ?? "",
                    requester: entry.requester ?? "", network: entry.resourceId ?? "")
            }
        }
        historyMore = more
        switch hosts {
        case .success(let (addresses, members)):
            self.hosts = addresses.map {
                Host(
                    ip: $0.ip.description, ipV6: $0.ipV6?.description, principal: $0.principal,
                    subnet: ($0.subnet.map { "\($0) " } ?? "") + $0.subnetPrefix.description,
                    allocatedAt: ISO8601.format($0.allocatedAt))
            }
            self.members = members.map {
                Member(principal: $0.principal, role: $0.role.rawValue, addedAt: $0.addedAt.map(ISO8601.format) ?? "")
            }
            hostsNote = nil
            hostsShown = true
        case .failure(let error):
            self.hosts = []
            self.members = []
            hostsNote = "Not shown: \(error.message)"
            hostsShown = false
        }
    }

    /// The sections as HTML, every value escaped.
    var markup: ConsoleMarkup {
        ConsoleMarkup((try? MustacheTemplate(string: Self.template))?.render(self) ?? "")
    }

    static let template = """
        <section aria-labelledby="address-history-title">
        <h2 id="address-history-title">Address history</h2>
        <div class="scroll"><table id="address-history"><caption>Every block the lease held and the states it went through, oldest first (GET /api/history?leaseId={{leaseId}})</caption>
        <tr><th scope="col">Block</th><th scope="col">Holding</th><th scope="col">State</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Requester</th><th scope="col">Network</th></tr>
        {{#history}}<tr data-cidr="{{block}}"><td>{{block}}</td><td>{{kind}}</td><td class="state">{{state}}</td><td class="key">{{from}}</td><td class="key">{{to}}</td><td>{{requester}}</td><td>{{network}}</td></tr>{{/history}}
        {{^history}}<tr><td colspan="7">No address history recorded.</td></tr>{{/history}}
        </table></div>
        {{#historyMore}}<p>More history than shown: <code>GET /api/history?leaseId={{leaseId}}</code> pages through it all.</p>{{/historyMore}}
        </section>
        <section aria-labelledby="hosts-title">
        <h2 id="hosts-title">Host addresses and members</h2>
        {{#hostsNote}}<p class="notice" id="hosts-note">{{hostsNote}}</p>{{/hostsNote}}
        {{#hostsShown}}
        <div class="scroll"><table id="host-addresses"><caption>Host addresses, in address order</caption>
        <tr><th scope="col">Address</th><th scope="col">Principal</th><th scope="col">Subnet</th><th scope="col">Since</th></tr>
        {{#hosts}}<tr data-ip="{{ip}}"><td>{{ip}}{{#ipV6}}<br><span class="v6">{{ipV6}}</span>{{/ipV6}}</td><td>{{principal}}</td><td>{{subnet}}</td><td class="key">{{allocatedAt}}</td></tr>{{/hosts}}
        {{^hosts}}<tr><td colspan="4">No host addresses.</td></tr>{{/hosts}}
        </table></div>
        <div class="scroll"><table id="lease-members"><caption>Members, the owner first</caption>
        <tr><th scope="col">Principal</th><th scope="col">Role</th><th scope="col">Added</th></tr>
        {{#members}}<tr><td>{{principal}}</td><td>{{role}}</td><td class="key">{{addedAt}}</td></tr>{{/members}}
        {{^members}}<tr><td colspan="3">No members recorded.</td></tr>{{/members}}
        </table></div>
        {{/hostsShown}}
        </section>
        """
}

extension ConsoleRoutes {
    /// The lease page's address history, host addresses and members, read by the API's own domain calls as the
    /// session's caller (so a caller who is no member of the lease, and no admin, sees why not instead).
    func leaseDetails(id: String, scope: Scope, session: ConsoleSession) async throws(DomainError) -> LeaseDetails {
        let query = HistoryQuery(subject: .lease(id.lowercased()), scopes: [scope], limit: LeaseDetails.historyLimit)
        let history = try await service.history(query)
        let caller = HostIPCaller(
            principal: service.redactor.principal(session.caller), isAdmin: session.role >= .admin)
        let hosts: Result<([HostIPAnswer], [MemberAnswer]), DomainError>
        do throws(DomainError) {
            hosts = .success(
                (
                    try await service.hostIPs(leaseId: id, caller: caller),
                    try await service.members(leaseId: id, caller: caller)
                ))
        } catch {
            hosts = .failure(error)
        }
        return LeaseDetails(leaseId: id, history: history.entries, more: history.next != nil, hosts: hosts)
    }
}
