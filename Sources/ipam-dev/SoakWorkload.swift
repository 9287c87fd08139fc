import Foundation
import HTTPTransport
import Soak
import StrictJSON
import Synchronization

/// Lets the soak's checkpoints see a quiet table: clients and process kills enter before each operation and
/// leave after it; `pause` waits until none is under way and holds new ones back until `resume`.
actor SoakGate {
    private var paused = false
    private var active = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var drained: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        while paused { await withCheckedContinuation { waiting.append($0) } }
        active += 1
    }

    func leave() {
        active -= 1
        if active == 0 {
            for continuation in drained { continuation.resume() }
            drained.removeAll()
        }
    }

    func pause() async {
        paused = true
        if active > 0 { await withCheckedContinuation { drained.append($0) } }
    }

    func resume() {
        paused = false
        for continuation in waiting { continuation.resume() }
        waiting.removeAll()
    }
}

/// Operations by kind and answers by status, counted for the report.
final class SoakCounters: Sendable {
    private let state = Mutex<(operations: [String: Int], answers: [String: Int])>(([:], [:]))
    func operation(_ kind: String) { state.withLock { $0.operations[kind, default: 0] += 1 } }
    func answer(_ status: Int) { state.withLock { $0.answers["\(status)", default: 0] += 1 } }
    var operations: [String: Int] { state.withLock { $0.operations } }
    var answers: [String: Int] { state.withLock { $0.answers } }
}

/// Where the soak's Vendors listen (a restarted one may move) and the local Resource Graph's admin API.
final class SoakEndpoints: Sendable {
    private let vendors: Mutex<[String]>
    let graph: String
    init(vendors: [String], graph: String) {
        self.vendors = Mutex(vendors)
        self.graph = graph
    }
    func vendor(_ index: Int) -> String { vendors.withLock { $0[index % $0.count] } }
    func setVendor(_ index: Int, _ url: String) { vendors.withLock { $0[index] = url } }
}

/// One soak client: a key of its own, its leases, and a loop of operations until `stop` says so. Each operation
/// is sent again (the same request: the same SessionId) after an answer that settles nothing (no answer, 5xx,
/// 408, 429), alternating between the Vendors, until it is settled or `attempts` run out; only 2xx answers go
/// into the ledger.
struct SoakClient: Sendable {
    enum Role: Sendable { case leases, quota, admin }

    let name: String
    let key: String
    let role: Role
    let index: Int
    let ledger: SoakLedger
    let counters: SoakCounters
    let endpoints: SoakEndpoints
    let gate: SoakGate
    let transport: CurlTransport
    let pool: String
    let quotaLimit: Int
    let subscription: String
    let pause: Duration
    let attempts = 40

    /// A lease this client holds, with the body that made it (a replay sends the same).
    struct Held: Sendable {
        var leaseId: String
        var cidr: String
        var body: String
        var deployed = false
        var hosts: [String] = []
    }

    struct Answer: Sendable {
        var status: Int
        var json: JSONValue?
        var code: String? { json?["code"]?.stringValue }
        var ok: Bool { (200..<300).contains(status) }
    }

    /// Sends until the answer settles something; the last answer (status 0: none).
    func send(_ method: String, _ path: String, body: String? = nil) async -> Answer {
        var last = Answer(status: 0, json: nil)
        for attempt in 0..<attempts {
            let base = endpoints.vendor(index + attempt)
            do {
                let response = try await transport.execute(
                    TransportRequest(
                        method: method, url: base + path,
                        headers: body == nil
                            ? ["x-functions-key": key] : ["x-functions-key": key, "Content-Type": "application/json"],
                        body: body.map { Array($0.utf8) }, timeout: .seconds(30)))
                last = Answer(status: response.status, json: try? JSONValue.parse(response.body))
            } catch {
                last = Answer(status: 0, json: nil)
            }
            counters.answer(last.status)
            if last.status != 0 && last.status < 500 && last.status != 408 && last.status != 429 { return last }
            try? await Task.sleep(for: .milliseconds(min(2000, 100 * (attempt + 1))))
        }
        return last
    }

    /// Runs operations until `stop` returns true.
    func run(until stop: @escaping @Sendable () -> Bool) async {
        var held: [Held] = []
        var random = SystemRandomNumberGenerator()
        var sequence = 0
        while !stop() {
            await gate.enter()
            switch role {
            case .leases: await leaseOperation(&held, &sequence, &random)
            case .quota: await quotaOperation(&held, &sequence, &random)
            case .admin: await adminOperation(&held, &random)
            }
            await gate.leave()
            try? await Task.sleep(for: pause)
        }
    }

    func newLease(_ held: inout [Held], _ sequence: inout Int, pool: String?, length: Int) async -> Answer {
        sequence += 1
        let session = "soak-\(name)-\(sequence)"
        let body =
            pool.map { #"{"SessionId":"\#(session)","prefixLength":\#(length),"pool":"\#($0)"}"# }
            ?? #"{"SessionId":"\#(session)","prefixLength":\#(length)}"#
        counters.operation(pool == nil ? "new leases" : "pooled leases")
        let answer = await send("POST", "/api/getNewNetwork", body: body)
        if answer.ok, let leaseId = answer.json?["leaseId"]?.stringValue, let cidr = answer.json?["cidr"]?.stringValue {
            ledger.acknowledged(
                SoakLedger.Lease(leaseId: leaseId, sessionId: session, cidr: cidr, pool: pool, holder: name))
            held.append(Held(leaseId: leaseId, cidr: cidr, body: body))
        }
        return answer
    }

    func replay(_ lease: Held) async {
        counters.operation("replays")
        let answer = await send("POST", "/api/getNewNetwork", body: lease.body)
        guard answer.ok else { return }
        let leaseId = answer.json?["leaseId"]?.stringValue ?? ""
        let cidr = answer.json?["cidr"]?.stringValue ?? ""
        if answer.status != 200 || leaseId != lease.leaseId || cidr != lease.cidr {
            ledger.contradiction(
                "a replay of lease \(lease.leaseId) (\(lease.cidr)) answered \(answer.status) with lease \(leaseId) (\(cidr))"
            )
        }
    }

    func release(_ held: inout [Held], at position: Int) async {
        counters.operation("releases")
        let lease = held[position]
        let answer = await send("DELETE", "/api/leases/\(lease.leaseId)")
        if answer.ok {
            ledger.released(leaseId: lease.leaseId)
            held.remove(at: position)
        }
    }

    func leaseOperation(
        _ held: inout [Held], _ sequence: inout Int, _ random: inout SystemRandomNumberGenerator
    ) async {
        let roll = Int.random(in: 0..<100, using: &random)
        if held.isEmpty || roll < 30 {
            let answer = await newLease(
                &held, &sequence, pool: nil, length: [26, 27, 28].randomElement(using: &random)!)
            // Every fourth lease is deployed: a VNet tagged with it appears in Resource Graph for the Managers.
            if answer.ok, sequence % 4 == 0, let lease = held.last { await deploy(&held, lease) }
        } else if roll < 55 {
            await replay(held.randomElement(using: &random)!)
        } else if roll < 65 {
            // Deployed leases stay: their VNets would hold the blocks once released.
            if let position = held.indices.filter({ !held[$0].deployed }).randomElement(using: &random) {
                await release(&held, at: position)
            }
        } else if roll < 90 {
            let position = Int.random(in: 0..<held.count, using: &random)
            let principal = "host-\(Int.random(in: 0..<6, using: &random))"
            counters.operation("host addresses")
            let lease = held[position]
            let answer = await send("POST", "/api/leases/\(lease.leaseId)/ips", body: #"{"principal":"\#(principal)"}"#)
            if answer.ok, let ip = answer.json?["ip"]?.stringValue {
                ledger.acknowledged(SoakLedger.HostAddress(leaseId: lease.leaseId, principal: principal, ip: ip))
                if !held[position].hosts.contains(principal) { held[position].hosts.append(principal) }
            }
        } else {
            guard let position = held.indices.filter({ !held[$0].hosts.isEmpty }).randomElement(using: &random) else {
                return
            }
            let principal = held[position].hosts.randomElement(using: &random)!
            counters.operation("host address releases")
            let answer = await send("DELETE", "/api/leases/\(held[position].leaseId)/ips/\(principal)")
            if answer.ok {
                ledger.releasedHostAddress(leaseId: held[position].leaseId, principal: principal)
                held[position].hosts.removeAll { $0 == principal }
            }
        }
    }

    /// A VNet tagged with the lease in the local Resource Graph: the Managers anchor the lease to it.
    func deploy(_ held: inout [Held], _ lease: Held) async {
        let id =
            "/subscriptions/\(subscription)/resourceGroups/rg-soak/providers/Microsoft.Network/virtualNetworks/vnet-\(lease.leaseId)"
        let vnet =
            #"{"id":"\#(id)","name":"vnet-\#(lease.leaseId)","subscriptionId":"\#(subscription)","resourceGroup":"rg-soak","location":"eastus","tags":{"ipam-lease-id":"\#(lease.leaseId)"},"addressPrefixes":["\#(lease.cidr)"]}"#
        let response = try? await transport.execute(
            TransportRequest(
                method: "POST", url: endpoints.graph + "/admin/vnets", headers: ["Content-Type": "application/json"],
                body: Array(vnet.utf8), timeout: .seconds(10)))
        if let response, (200..<300).contains(response.status), let last = held.indices.last {
            held[last].deployed = true
            counters.operation("deployed")
        }
    }

    /// Pooled leases under the quota: asks for more until refused, then gives one back.
    func quotaOperation(
        _ held: inout [Held], _ sequence: inout Int, _ random: inout SystemRandomNumberGenerator
    ) async {
        let roll = Int.random(in: 0..<100, using: &random)
        if held.isEmpty || roll < 50 {
            let answer = await newLease(&held, &sequence, pool: pool, length: 28)
            if answer.status == 409, answer.code == "QuotaExceeded" {
                counters.operation("quota refusals")
                ledger.quotaRefused(holder: name, pool: pool, held: held.count, limit: quotaLimit)
                if let position = held.indices.randomElement(using: &random) { await release(&held, at: position) }
            }
        } else {
            await replay(held.randomElement(using: &random)!)
        }
    }

    /// Reservations made and ended (an operator's key).
    func adminOperation(_ held: inout [Held], _ random: inout SystemRandomNumberGenerator) async {
        if held.count < 3 || Bool.random(using: &random) {
            counters.operation("reservations")
            let answer = await send(
                "POST", "/api/reservations", body: #"{"prefixLength":28,"owner":"soak","reason":"the soak"}"#)
            if answer.ok, let id = answer.json?["reservationId"]?.stringValue,
                let cidr = answer.json?["cidr"]?.stringValue
            {
                ledger.acknowledged(SoakLedger.Reservation(reservationId: id, cidr: cidr))
                held.append(Held(leaseId: id, cidr: cidr, body: ""))
            }
        } else {
            let position = Int.random(in: 0..<held.count, using: &random)
            counters.operation("reservations ended")
            let answer = await send("DELETE", "/api/reservations/\(held[position].leaseId)")
            if answer.ok {
                ledger.ended(reservationId: held[position].leaseId)
                held.remove(at: position)
            }
        }
    }
}
