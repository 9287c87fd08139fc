#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's file descriptors, shared between the connections it serves and everything else it opens.
///
/// A server that accepts until the descriptors run out cannot open a storage connection, a file, or the `/proc`
/// files its runtime reads (the Vendor died of that under a connection flood); so every server raises its limit
/// as far as it may, and serves at most as many connections as leave room for the rest.
package enum DescriptorBudget {
    /// Descriptors never given to served connections: the storage client's pooled connections, connections being
    /// refused or closed, log and data files, the event loops' own, the runtime's.
    package static let reserved = 256

    /// The most connections `descriptorLimit` descriptors can serve: each may need a second descriptor (a storage
    /// connection) while its request runs, and `reserved` stay free.
    package static func connections(descriptorLimit: Int) -> Int {
        (descriptorLimit - reserved) / 2
    }

    /// Raises the soft limit on open descriptors (`RLIMIT_NOFILE`) to the hard limit, or as close as the system
    /// allows, and returns the soft limit then in force.
    @discardableResult
    package static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        // An unlimited hard limit is not a number setrlimit takes for descriptors: try large finite ones.
        let candidates: [rlim_t] = [limit.rlim_max, 1 << 20, 65_536, 10_240].filter {
            $0 <= limit.rlim_max && $0 > limit.rlim_cur
        }
        for candidate in candidates {
            var raised = limit
            raised.rlim_cur = candidate
            if setrlimit(resource, &raised) == 0 { return clamp(candidate) }
        }
        return clamp(limit.rlim_cur)
    }

    private static func clamp(_ value: rlim_t) -> Int { value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value) }

    #if os(Linux)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
