/// The soak's fault schedule: what goes wrong when, as offsets from the start of the run (a pure plan; the soak
/// runs it on its clock).
///
/// A run is cut into rounds of about ten minutes (one round for a run of up to fifteen); each round brings every
/// fault once, spread over its first 80 %, so the run ends calm enough for the final checks to see what the
/// faults left behind.
package struct SoakSchedule: Sendable, Equatable {
    package enum Fault: String, Sendable, Equatable, Codable, CaseIterable {
        /// 412 Precondition Failed on a share of transactions (the fault proxy), for a window.
        case preconditionStorm = "412 storm"
        /// 503 ServerBusy on a share of storage requests (the fault proxy), for a window.
        case serverBusy = "ServerBusy"
        /// Throttling, 500s after the write went through and answers held past the client's timeout, for a window.
        case unknownOutcomes = "errors and timeouts after the write"
        /// The storage process SIGKILLed, restarted on its data a moment later.
        case killStorage = "storage SIGKILLed"
        /// Resource Graph answers 500 to every query for a window.
        case graphOutage = "Resource Graph outage"
        /// Resource Graph answers truncated pages.
        case graphTruncation = "Resource Graph truncation"
        /// Resource Graph answers 429 with its quota headers.
        case graphThrottling = "Resource Graph throttling"
        /// One Vendor SIGKILLed, restarted a moment later.
        case killVendor = "Vendor SIGKILLed"
        /// One Manager SIGKILLed, restarted a moment later.
        case killManager = "Manager SIGKILLed"
    }

    package struct Step: Sendable, Equatable {
        /// When it starts, from the start of the run.
        package var at: Duration
        package var fault: Fault
        /// How long it lasts (a window's length; for a kill, how long the process stays down).
        package var lasting: Duration
        /// Which of the two Vendors (or Managers) a kill hits: they take turns from round to round, so an hour
        /// kills each of them (0 for the other faults).
        package var target = 0
    }

    package let steps: [Step]

    /// Rounds of about this length.
    package static let round: Duration = .seconds(600)

    /// The plan for a run of `length`.
    package init(length: Duration) {
        let rounds = max(1, Int((length / Self.round).rounded()))
        let span = length / rounds
        let order: [Fault] = [
            .preconditionStorm, .killStorage, .graphOutage, .serverBusy, .killVendor, .graphTruncation,
            .unknownOutcomes, .killManager, .graphThrottling,
        ]
        var steps: [Step] = []
        for round in 0..<rounds {
            let start = span * round
            for (index, fault) in order.enumerated() {
                // Spread over 5 %…77 % of the round: the last fifth of each round is calm.
                let at = start + span * (0.05 + 0.72 * Double(index) / Double(order.count - 1))
                let window = min(span * 0.06, .seconds(30))
                let down = min(max(span * 0.02, .seconds(1)), .seconds(5))
                switch fault {
                case .killStorage: steps.append(Step(at: at, fault: fault, lasting: down))
                case .killVendor: steps.append(Step(at: at, fault: fault, lasting: down, target: round % 2))
                case .killManager: steps.append(Step(at: at, fault: fault, lasting: down, target: (round + 1) % 2))
                default: steps.append(Step(at: at, fault: fault, lasting: window))
                }
            }
        }
        self.steps = steps
    }
}
