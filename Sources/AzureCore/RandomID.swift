import StrictJSON

/// Random identifiers (request ids, batch boundaries, lease ids, event keys).
package enum RandomID {
    /// A version-4 UUID in lowercase text, e.g. `3f2b…-…`, from the system generator (`getrandom`).
    ///
    /// Foundation's `UUID()` opens, reads and closes `/dev/urandom` on every call on Linux, which showed up
    /// in profiles at several ids per allocation; this is two `getrandom` reads instead.
    package static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        for half in 0..<2 {
            var word: UInt64 = generator.next()
            for index in 0..<8 {
                bytes[half * 8 + index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40 // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80 // RFC 4122 variant
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            ASCIIFormat.appendHex(byte, to: &text)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
