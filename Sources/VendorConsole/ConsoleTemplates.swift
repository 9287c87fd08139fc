import Mustache

/// The console's pages: server-rendered Mustache templates (no build step, no CDN; HTML is escaped by
/// default), each rendering a typed model (`ConsolePage`), then into `layout` as `body`.
enum ConsoleTemplates {
    /// The templates a page model can name.
    enum Name: String, Sendable, CaseIterable {
        case signIn = "signin"
        case dashboard, space, pools, leases, lease, reservations, audit, drift, error
        case request, requested, members, confirm

        var text: String {
            switch self {
            case .signIn: return ConsoleTemplates.signIn
            case .dashboard: return ConsoleTemplates.dashboard
            case .space: return ConsoleTemplates.space
            case .pools: return ConsoleTemplates.pools
            case .leases: return ConsoleTemplates.leases
            case .lease: return ConsoleTemplates.lease
            case .reservations: return ConsoleTemplates.reservations
            case .audit: return ConsoleTemplates.audit
            case .drift: return ConsoleTemplates.drift
            case .error: return ConsoleTemplates.error
            case .request: return ConsoleTemplates.request
            case .requested: return ConsoleTemplates.requested
            case .members: return ConsoleTemplates.members
            case .confirm: return ConsoleTemplates.confirm
            }
        }
    }

    static let layoutName = "layout"

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        try! library.register(layout, named: layoutName)
        try! library.register(leaseActions, named: "leaseactions")
        for name in Name.allCases { try! library.register(name.text, named: name.rawValue) }
        return library
    }()

    /// A whole page: `page` in its template, inside the layout.
    /// - Parameter session: the header of a signed-in page, nil before sign-in.
    static func render(
        _ page: some ConsolePage, title: String, notice: String?, session: ConsoleLayout.SessionBar?
    ) -> String {
        let body = library.render(page, withTemplate: type(of: page).template.rawValue) ?? ""
        let layout = ConsoleLayout(title: title, body: ConsoleMarkup(body), notice: notice, session: session)
        return library.render(layout, withTemplate: layoutName) ?? ""
    }

    static let layout = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · ipam</title>
        <link rel="icon" href="data:,">
        {{#session}}<script src="/console/assets/console.js" defer></script>{{/session}}
        <style>
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, input:focus-within, select:focus, textarea:focus, summary:focus, [tabindex]:focus { outline: 3px solid #f4b400; outline-offset: 2px; }
        .skip { position: absolute; left: -9999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
        header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); }
        header nav { display: flex; flex-wrap: wrap; gap: 4px 14px; }
        header nav a[aria-current="page"] { font-weight: 700; text-decoration: none; }
        header .who { margin-left: auto; color: var(--muted); display: flex; gap: 8px; align-items: center; }
        main { padding: 16px; max-width: 1200px; }
        table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        .scroll { overflow-x: auto; }
        :not(.scroll) > table :is(td, th) { overflow-wrap: anywhere; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin: 8px 0; }
        label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); max-width: 100%; min-width: 0; }
        form.filters > * { max-width: 100%; min-width: 0; }
        input, select, button { font: inherit; padding: 4px 8px; max-width: 100%; min-width: 0; }
        h1, h2, p, figcaption, .who, table.fields td { overflow-wrap: anywhere; }
        button { cursor: pointer; }
        .state { font-family: ui-monospace, monospace; }
        .key, #leases td:nth-child(5), #drift td:nth-child(2), #events td:nth-child(7) { white-space: nowrap; }
        .key { font-family: ui-monospace, monospace; font-size: 13px; }
        .notice { padding: 8px 12px; border: 1px solid var(--line); border-left: 4px solid var(--accent); margin: 8px 0; }
        .error { border-left-color: #b42318; }
        svg text { font: 11px system-ui, sans-serif; }
        ul.cards { display: flex; flex-wrap: wrap; gap: 8px; list-style: none; padding: 0; margin: 8px 0; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 0; overflow-wrap: anywhere; }
        .card .n { display: block; font-size: 22px; font-weight: 700; }
        ul.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 4px 0; }
        label.check { flex-direction: row; gap: 6px; align-items: center; }
        figure { margin: 8px 0 16px; min-width: 0; }
        svg.map, svg.chart { display: block; max-width: 100%; }
        button.copy { font-size: 12px; padding: 0 6px; margin-left: 4px; }
        .copy-status:not(:empty) { position: fixed; right: 8px; bottom: 8px; margin: 0; max-width: calc(100% - 16px); padding: 6px 10px; background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); overflow-wrap: anywhere; }
        @media (max-width: 600px) { main { padding: 8px; } header .who { margin-left: 0; } td, th { padding: 3px 4px; } }
        </style>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        {{#session}}
        <header>
        <strong>ipam</strong>
        <nav aria-label="Console">
        <a href="/console" {{#dashboard}}aria-current="page"{{/dashboard}}>Dashboard</a>
        <a href="/console/space" {{#space}}aria-current="page"{{/space}}>Address space</a>
        <a href="/console/pools" {{#pools}}aria-current="page"{{/pools}}>Pools</a>
        <a href="/console/leases" {{#leases}}aria-current="page"{{/leases}}>Leases</a>
        <a href="/console/request" {{#request}}aria-current="page"{{/request}}>Request</a>
        <a href="/console/reservations" {{#reservations}}aria-current="page"{{/reservations}}>Reservations</a>
        <a href="/console/drift" {{#drift}}aria-current="page"{{/drift}}>Drift</a>
        <a href="/console/audit" {{#audit}}aria-current="page"{{/audit}}>Audit log</a>
        </nav>
        <div class="who"><span id="who">{{caller}} ({{role}})</span>
        <form method="post" action="/console/signout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="signout">Sign out</button></form></div>
        </header>
        {{/session}}
        <main id="main">
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{{body}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <form method="post" action="/console/signin" id="signin-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="key">API key or Entra ID access token<input id="key" name="key" type="password" autocomplete="off" required size="60"></label></p>
        <p><button type="submit" id="signin">Sign in</button></p>
        <p>The console keeps a session (an HttpOnly, SameSite=Strict cookie), not the key: it ends when you sign out, after {{idleMinutes}} minutes unused, or after {{hours}} hours, and the key's role is checked again on every page.</p>
        </form>
        """

    static let pools = """
        <p>Each scope's own space (outside its pools), then its pools, parents before their children: the values of <code>GET /api/pools</code>, and the forecasts of <code>GET /api/usage</code>.</p>
        <div class="scroll"><table id="hierarchy"><caption>Hierarchy</caption>
        <tr><th scope="col">Scope and pool</th><th scope="col">CIDR</th><th scope="col">Parent</th><th scope="col">Owner</th></tr>
        {{#hierarchy}}<tr><td><a href="#area-{{index}}">{{path}}</a></td><td>{{cidr}}</td><td>{{parent}}</td><td>{{owner}}</td></tr>{{/hierarchy}}
        </table></div>
        {{#areas}}
        <section aria-labelledby="area-{{index}}" class="area" data-area="{{name}}">
        <h2 id="area-{{index}}">{{label}}</h2>
        <div class="scroll"><table class="fields" id="fields-{{index}}"><caption>Definition and free space</caption>{{#fields}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/fields}}</table></div>
        {{#isPool}}
        <div class="scroll"><table class="fields" id="rules-{{index}}"><caption>Rules</caption>{{#rules}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/rules}}</table></div>
        <div class="scroll"><table class="fields" id="quota-{{index}}"><caption>Quota</caption>{{#quota}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/quota}}</table></div>
        <div class="scroll"><table id="usage-{{index}}"><caption>Usage per requester</caption>
        <tr><th scope="col">Requester</th><th scope="col">Leases</th><th scope="col">Addresses</th></tr>
        {{#usage}}<tr><td>{{requester}}</td><td>{{leases}}</td><td>{{addresses}}</td></tr>{{/usage}}
        {{^usage}}<tr><td colspan="3">Nobody holds a lease in this pool.</td></tr>{{/usage}}</table></div>
        {{/isPool}}
        <div class="scroll"><table id="stock-{{index}}"><caption>Stock against its target, per size (blocks)</caption>
        <tr><th scope="col">Size</th><th scope="col">Target</th><th scope="col">Available</th>{{#stateNames}}<th scope="col">{{.}}</th>{{/stateNames}}</tr>
        {{#sizes}}<tr><td>{{size}}</td><td>{{target}}</td><td>{{available}}</td>{{#counts}}<td>{{.}}</td>{{/counts}}</tr>{{/sizes}}
        {{^sizes}}<tr><td colspan="3">No blocks carved and no stock target.</td></tr>{{/sizes}}</table></div>
        <div class="scroll"><table id="forecast-{{index}}"><caption>Forecast: when it runs out at the current rate</caption>
        <tr><th scope="col">Measure</th><th scope="col">Window</th><th scope="col">Status</th><th scope="col">Days left</th><th scope="col">Runs out at</th><th scope="col">Change per day</th><th scope="col">Samples</th></tr>
        {{#forecast}}<tr><td>{{measure}}</td><td>{{window}}</td><td>{{status}}</td><td>{{daysLeft}}</td><td>{{runsOutAt}}</td><td>{{ratePerDay}}</td><td>{{samples}}</td></tr>{{/forecast}}
        {{^forecast}}<tr><td colspan="7">No usage is sampled for this area.</td></tr>{{/forecast}}</table></div>
        </section>
        {{/areas}}
        """

    static let lease = """
        <table class="fields"><caption>The lease</caption>{{#fields}}<tr><th scope="row">{{name}}</th><td{{#copy}} data-copy{{/copy}}>{{value}}</td></tr>{{/fields}}</table>
        {{#actions}}{{> leaseactions}}{{/actions}}
        <div class="scroll"><table id="history"><caption>History (audit events, newest first)</caption>
        <tr><th scope="col">At</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">State</th><th scope="col">Detail</th></tr>
        {{#events}}<tr><td>{{at}}</td><td>{{action}}</td><td>{{actor}}</td><td class="state">{{before}} → {{after}}</td><td>{{detail}}</td></tr>{{/events}}</table></div>
        {{{details}}}
        """

    static let reservations = """
        {{#admin}}
        <form method="get" action="/console/reservations/new" id="reserve-form" class="filters">
        <label for="r-scope">Scope<select id="r-scope" name="scope">{{#scopeOptions}}<option value="{{value}}">{{label}}</option>{{/scopeOptions}}</select></label>
        <label for="r-cidr">CIDR<input id="r-cidr" name="cidr" placeholder="10.64.200.0/24" required></label>
        <label for="r-owner">Owner<input id="r-owner" name="owner" required></label>
        <label for="r-reason">Reason<input id="r-reason" name="reason" required></label>
        <label for="r-expires">Expires (ISO 8601, optional)<input id="r-expires" name="expiresAt"></label>
        <button type="submit" id="reserve">Reserve</button>
        </form>
        {{/admin}}
        <div class="scroll"><table id="reservations"><caption>Reservations (configured exclusions are read-only)</caption>
        <tr><th scope="col">CIDR</th><th scope="col">Scope</th><th scope="col">Owner</th><th scope="col">Reason</th><th scope="col">Expires</th><th scope="col"><span class="skip">Actions</span></th></tr>
        {{#rows}}<tr data-cidr="{{cidr}}"><td>{{cidr}}</td><td title="{{scopeTitle}}">{{scope}}</td><td>{{owner}}</td><td>{{reason}}{{#readOnly}} (read-only){{/readOnly}}</td><td>{{expiresAt}}</td>
        <td>{{#releasable}}<a href="/console/reservations/{{id}}/release" class="release" aria-label="Release {{cidr}}">Release…</a>{{/releasable}}</td></tr>{{/rows}}
        </table></div>
        """

    static let error = """
        <p class="notice error" role="alert">{{message}}</p>
        <p><a href="/console">Back to the dashboard</a></p>
        """
}
