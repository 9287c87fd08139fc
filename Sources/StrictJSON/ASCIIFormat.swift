package import Foundation

/// Zero-padded decimals and hex digits without `String(format:)`, which goes through Foundation's
/// format parser and showed up in every profile of a transaction (timestamps, hashes, escapes).
package enum ASCIIFormat {
    /// base64url without padding (RFC 4648 §5, as JWTs and continuation tokens use it).
    package static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        ).replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url without padding; nil for anything else (padding included).
    package static func base64URLDecoded(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    /// A version-4 UUID in lowercase text (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`) from two 64-bit draws of
    /// `generator` (the system generator for ids; a seeded one makes it repeatable).
    package static func uuidV4(using generator: inout some RandomNumberGenerator) -> String {
        let first: UInt64 = generator.next()
        return uuidV4(first, generator.next())
    }

    /// The text of `uuidV4(using:)` from its two draws, outside the generic function: called unspecialized (the
    /// system generator's ids, several per allocation), the generic one spent twice as long formatting as drawing.
    static func uuidV4(_ first: UInt64, _ second: UInt64) -> String {
        let digits = lowerDigits
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for half in 0..<2 {
                var word = half == 0 ? first : second
                for index in 0..<8 {
                    var byte = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    let position = half * 8 + index
                    if position == 6 { byte = (byte & 0x0F) | 0x40 } // version 4
                    if position == 8 { byte = (byte & 0x3F) | 0x80 } // RFC 4122 variant
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        text[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    text[at] = digits[Int(byte >> 4)]
                    text[at + 1] = digits[Int(byte & 0x0F)]
                    at += 2
                }
            }
            return at
        }
    }

    /// A UTC timestamp `YYYY-MM-DDTHH:MM:SS.fffZ` from whole seconds since 1970 and a fraction of
    /// `fractionDigits` decimal digits (e.g. 3 for milliseconds, 7 for the Table service's ticks).
    package static func utcTimestamp(seconds: Int64, fraction: Int64, fractionDigits: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out = decimal(Int(parts.tm_year) + 1900, width: 4) + "-" + decimal(Int(parts.tm_mon) + 1, width: 2)
        out += "-" + decimal(Int(parts.tm_mday), width: 2) + "T" + decimal(Int(parts.tm_hour), width: 2)
        out += ":" + decimal(Int(parts.tm_min), width: 2) + ":" + decimal(Int(parts.tm_sec), width: 2)
        return out + "." + decimal(fraction, width: fractionDigits) + "Z"
    }

    /// `value` in decimal, left-padded with zeros to `width` digits (negative values get a leading `-`).
    @inlinable
    package static func decimal<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count))
        return (value < 0 ? "-" : "") + padding + digits
    }

    /// Two lowercase (or uppercase) hex digits per byte.
    package static func hex<Bytes: Sequence>(_ bytes: Bytes, uppercase: Bool = false) -> String
    where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { appendHex(byte, to: &out, uppercase: uppercase) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the two hex digits of `byte` to a UTF-8 buffer (for callers building text as bytes).
    @inline(__always)
    package static func appendHex(_ byte: UInt8, to out: inout [UInt8], uppercase: Bool = false) {
        let digits = uppercase ? upperDigits : lowerDigits
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }

    /// The value of one hex digit (either case); nil for any other byte.
    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let lowerDigits = Array("0123456789abcdef".utf8)
    private static let upperDigits = Array("0123456789ABCDEF".utf8)
}
