import NIOCore
import Synchronization

/// One server's connections: how many it serves, which of them may make room for a new one, and how many it is
/// closing. Shared by the server's event loops.
///
/// A connection the server owes no answer (idle, or still sending a head, or sending a body the server has already
/// answered) is *evictable*: when the server is full, a new connection closes the longest-evictable one and takes
/// its place, so connections that only wait can never keep a client with a request out. Only when every served
/// connection has a request under way is a new one refused.
final class ConnectionRegistry: Sendable {
    /// What becomes of a new connection.
    enum Admission {
        case admitted
        /// Admitted in the place of another, which is to be closed (run the closure).
        case admittedEvicting(@Sendable () -> Void)
        case refused
    }

    private struct Entry {
        /// Since when the connection is evictable; nil while the server owes it an answer.
        var evictableSince: NIODeadline?
        let evict: @Sendable () -> Void
    }

    private struct State {
        var served: [Int: Entry] = [:]
        var closing = 0
        var nextID = 0
    }

    let capacity: Int
    /// Connections being refused or closed at once (each holds its descriptor a little longer, to send its answer).
    let closingCapacity: Int
    private let state = Mutex(State())

    init(capacity: Int, closingCapacity: Int = 64) {
        self.capacity = capacity
        self.closingCapacity = closingCapacity
    }

    /// Registers a new, evictable connection when there is room, or room can be made.
    /// - Parameter evict: closes the connection if a later one needs its place (called from any thread).
    /// - Returns: its id (nil when refused) and what to do.
    func admit(at now: NIODeadline, evict: @escaping @Sendable () -> Void) -> (id: Int?, admission: Admission) {
        state.withLock { state in
            var admission = Admission.admitted
            if state.served.count >= capacity {
                let oldest = state.served.compactMap { id, entry in entry.evictableSince.map { (id, $0) } }.min {
                    $0.1 < $1.1
                }
                guard let (victim, _) = oldest, let entry = state.served.removeValue(forKey: victim) else {
                    return (nil, .refused)
                }
                admission = .admittedEvicting(entry.evict)
            }
            let id = state.nextID
            state.nextID += 1
            state.served[id] = Entry(evictableSince: now, evict: evict)
            return (id, admission)
        }
    }

    /// Registers a connection whose place was given away while it became busy: it stays, over the cap for a moment.
    func readmit(_ id: Int, evict: @escaping @Sendable () -> Void) {
        state.withLock { $0.served[id] = Entry(evictableSince: nil, evict: evict) }
    }

    /// Marks a served connection evictable (since `since`) or busy (nil).
    func setEvictable(_ id: Int, since: NIODeadline?) {
        state.withLock { $0.served[id]?.evictableSince = since }
    }

    /// Forgets a served connection (closed, or closing: see `beginClosing`). False when it was not served (evicted).
    @discardableResult
    func remove(_ id: Int) -> Bool {
        state.withLock { $0.served.removeValue(forKey: id) != nil }
    }

    /// Counts a connection that is sending its last answer before it closes; false when too many already are
    /// (it is to close at once).
    func beginClosing() -> Bool {
        state.withLock { state in
            guard state.closing < closingCapacity else { return false }
            state.closing += 1
            return true
        }
    }

    func endClosing() {
        state.withLock { $0.closing -= 1 }
    }

    /// Served connections and closing ones (for tests and logs).
    var counts: (served: Int, closing: Int) { state.withLock { ($0.served.count, $0.closing) } }
}
