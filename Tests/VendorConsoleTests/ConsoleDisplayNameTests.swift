import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Testing

@testable import VendorConsole
@testable import VendorDomain

/// Scopes named by their subscription's or account's display name, wherever `ConsoleScopes` names them; the id
/// kept in sight; hostile names shown as text and long ones cut.
@Suite("Console display names")
struct ConsoleDisplayNameTests {
    static let azure = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus")
    static let west = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "westeurope")
    static let aws = Scope(awsAccountId: "123456789012", region: "us-east-1")
    static let unnamed = Scope(subscriptionId: "sub", region: "westeurope")
    static let hostile = #"<b id="x">Prod</b> & "EU""#
    static let long = String(repeating: "Ä", count: 40) + "-tail"

    static func withNames<T>(_ body: () throws -> T) rethrows -> T {
        try ConsoleScopes.$displayNames.withValue(
            AccountDisplayNames([azure: "Production", aws: "AWS Ops"]), operation: body)
    }

    @Test("a named scope shows as {name}/{region}, its id in its title and on a details page; an unnamed one as before")
    func namesAndTitles() {
        Self.withNames {
            #expect(ConsoleScopes.name(Self.azure) == "Production/eastus")
            #expect(ConsoleScopes.name(Self.west) == "Production/westeurope")
            #expect(ConsoleScopes.name(Self.aws) == "AWS Ops/us-east-1")
            #expect(ConsoleScopes.title(Self.azure) == "Production/eastus: 11111111-1111-1111-1111-111111111111_eastus")
            #expect(ConsoleScopes.title(Self.aws) == "AWS Ops/us-east-1: aws_123456789012_us-east-1")
            #expect(ConsoleScopes.detail(Self.aws) == ConsoleScopes.title(Self.aws))
            // Unnamed: the names the console always had, and the id as the title.
            #expect(ConsoleScopes.name(Self.unnamed) == "sub_westeurope")
            #expect(ConsoleScopes.title(Self.unnamed) == "sub_westeurope")
            #expect(ConsoleScopes.detail(Self.unnamed) == "sub_westeurope")
            // Found by partition key (drift findings, pools); an unknown key shows itself.
            let scopes = [Self.azure, Self.aws, Self.unnamed]
            #expect(ConsoleScopes.name(partitionKey: "aws_123456789012_us-east-1", in: scopes) == "AWS Ops/us-east-1")
            #expect(ConsoleScopes.title(partitionKey: "gone_eastus", in: scopes) == "gone_eastus")
            // The filters offer the names and still send the ids; a name is not a way to name a scope in a URL.
            #expect(
                ConsoleScopes.options(scopes, selected: Self.aws).map { "\($0.value)=\($0.label)" } == [
                    "11111111-1111-1111-1111-111111111111_eastus=Production/eastus",
                    "aws_123456789012_us-east-1=AWS Ops/us-east-1", "sub_westeurope=sub_westeurope",
                ])
            #expect(ConsoleScopes.named("Production/eastus", in: scopes) == nil)
            #expect(ConsoleScopes.named("aws/123456789012/us-east-1", in: scopes) == Self.aws)
        }
        // Outside a console request (nothing bound) every scope is named by its id.
        #expect(ConsoleScopes.name(Self.azure) == "11111111-1111-1111-1111-111111111111_eastus")
    }

    @Test("the dashboard's per-scope headings show the name and keep the id in their title, escaped")
    func dashboardHeadings() {
        func report(_ scope: Scope) -> PoolReport {
            PoolReport(
                scope: scope, pool: nil, sizes: [:], freeAddresses: 0, largestFreePrefixLength: 0, freeAddressesV6: 0,
                largestFreePrefixLengthV6: 0, stockTargets: [:], usage: [])
        }
        ConsoleScopes.$displayNames.withValue(AccountDisplayNames([Self.azure: Self.hostile, Self.aws: "AWS Ops"])) {
            let page = DashboardPage(
                pools: [report(Self.azure), report(Self.aws), report(Self.unnamed)],
                created: [], held: [], manager: nil, now: Date())
            #expect(
                page.scopes.map(\.scopeTitle) == [
                    "\(Self.hostile)/eastus: 11111111-1111-1111-1111-111111111111_eastus",
                    "AWS Ops/us-east-1: aws_123456789012_us-east-1", "sub_westeurope",
                ])
            let html = ConsoleTemplates.render(page, title: "Dashboard", notice: nil, session: nil)
            #expect(!html.contains("<b id="), "\(html)")
            #expect(
                html.contains(
                    #"<h2 id="scope-1" title="AWS Ops/us-east-1: aws_123456789012_us-east-1">AWS Ops/us-east-1</h2>"#),
                "\(html)")
            #expect(
                html.contains(
                    #"<h2 id="scope-0" title="&lt;b id=&quot;x&quot;&gt;Prod&lt;/b&gt; &amp; &quot;EU&quot;/eastus: 11111111-1111-1111-1111-111111111111_eastus">"#
                ), "\(html)")
            #expect(html.contains(#"<h2 id="scope-2" title="sub_westeurope">sub_westeurope</h2>"#), "\(html)")
        }
    }

    @Test("a name longer than 32 characters is cut with … and whole in the title")
    func longNamesAreCut() {
        ConsoleScopes.$displayNames.withValue(AccountDisplayNames([Self.azure: Self.long])) {
            let shown = ConsoleScopes.name(Self.azure)
            #expect(shown == String(repeating: "Ä", count: 31) + "…/eastus")
            #expect(ConsoleScopes.title(Self.azure).hasPrefix(Self.long + "/eastus: "))
        }
        ConsoleScopes.$displayNames.withValue(AccountDisplayNames([Self.azure: String(repeating: "a", count: 32)])) {
            #expect(ConsoleScopes.name(Self.azure) == String(repeating: "a", count: 32) + "/eastus", "32 fit")
        }
    }

    @Test("a hostile name is text on every page that names the scope: the lease page, reservations, options")
    func hostileNamesAreEscaped() {
        ConsoleScopes.$displayNames.withValue(AccountDisplayNames([Self.azure: Self.hostile])) {
            let row = NetworkRow(
                prefix: try! IPPrefix(parsing: "10.0.0.0/24"),
                holding: .lease(.init(id: "lease-1", sessionId: "s", requester: nil, expiresAt: nil), in: .leased)!)
            let lease = ConsoleTemplates.render(
                LeasePage(row, scope: Self.azure, events: []), title: "Lease", notice: nil, session: nil)
            let reservation = Reservation(
                id: "r1", prefix: try! IPPrefix(parsing: "10.0.1.0/24"), owner: "o", reason: "r", expiresAt: nil,
                createdAt: Date(), createdBy: "c")
            let reservations = ConsoleTemplates.render(
                ReservationsPage(
                    [(reservation, Self.azure, readOnly: false)], scopes: [Self.azure], admin: true),
                title: "Reservations", notice: nil, session: nil)
            for html in [lease, reservations] {
                #expect(!html.contains("<b id="), "\(html)")
                #expect(html.contains("&lt;b id=&quot;x&quot;&gt;Prod&lt;/b&gt; &amp; &quot;EU&quot;/eastus"))
            }
            #expect(lease.contains("_eastus"), "the lease page shows the id beside the name")
            // A table's cell keeps the id (and the whole name) in its title, escaped as well.
            #expect(
                reservations.contains(
                    #"<td title="&lt;b id=&quot;x&quot;&gt;Prod&lt;/b&gt; &amp; &quot;EU&quot;/eastus: 11111111-1111-1111-1111-111111111111_eastus">"#
                ))
            // Its lease id and block get the script's Copy button; nothing else on the page does.
            #expect(lease.contains("<td data-copy>lease-1</td>") && lease.contains("<td data-copy>10.0.0.0/24</td>"))
            #expect(lease.components(separatedBy: "data-copy").count == 3)
        }
    }
}
