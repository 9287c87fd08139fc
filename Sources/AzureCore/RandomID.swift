import StrictJSON

/// Random identifiers (request ids, batch boundaries, lease ids, event keys).
package enum RandomID {
    /// A version-4 UUID in lowercase text, e.g. `3f2b…-…`, from the system generator (`getrandom`).
    ///
    /// Foundation's `UUID()` opens, reads and closes `/dev/urandom` on every call on Linux, which showed up
    /// in profiles at several ids per allocation; this is two `getrandom` reads instead.
    package static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        return ASCIIFormat.uuidV4(using: &generator)
    }
}
