// The router's own trie (`RouterTrie`, SPI) resolves paths for the 405 answers exactly as the router does.
@_spi(Internal) import Hummingbird

/// The registered paths, resolved exactly as the router resolves them (its own trie), so a request the router
/// found no route for can be told apart: a served path with another method (405 with `Allow`) or no path (404).
struct ServedPaths: Sendable {
    struct Path: Sendable {
        /// The path as registered (`/api/leases/{leaseId}`), the metric route label.
        let label: String
        let methods: [String]
    }

    let trie: RouterTrie<Path>

    func resolve(_ path: String) -> Path? { trie.resolve(path)?.value }
}
