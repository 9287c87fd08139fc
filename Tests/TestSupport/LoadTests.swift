/// Tests that load the machine on purpose (several Vendor processes, fault storms, thousands of calls) take
/// turns: two at once on a small CI machine starve each other's start-up into timeouts that say nothing
/// about the code. Other tests still run beside them.
package enum LoadTests {
    private static let turns = Turns()

    /// Runs `body` when no other load test runs.
    package static func exclusive<T>(_ body: () async throws -> T) async throws -> T {
        await turns.acquire()
        do {
            let result = try await body()
            await turns.release()
            return result
        } catch {
            await turns.release()
            throw error
        }
    }

    private actor Turns {
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func acquire() async {
            guard busy else {
                busy = true
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func release() {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
    }
}
