import Hummingbird
import IPAMCore

/// Answers 404 to a path with an encoded slash or backslash (`%2F`, `%5C`, any case), before any route runs.
///
/// No path parameter may hold a slash, so an encoded one only ever spells another path: no route (and the
/// request's metric is `other`, not the route the router matched the encoded segment to).
struct EncodedSeparatorMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.spellsSeparator(request.uri.path) {
            context.notes.recordRouteLabel("other")
            throw VendorError(.notFound, "no such route")
        }
        return try await next(request, context)
    }

    /// True when `path` holds `%2F` or `%5C`, in any case: one pass over its bytes (every request pays it).
    static func spellsSeparator(_ path: String) -> Bool {
        var twoBack: UInt8 = 0
        var oneBack: UInt8 = 0
        for byte in path.utf8 {
            if twoBack == UInt8(ascii: "%") {
                // `| 0x20` maps only `F` and `f` to `f`, only `C` and `c` to `c`.
                let low = byte | 0x20
                if (oneBack == UInt8(ascii: "2") && low == UInt8(ascii: "f"))
                    || (oneBack == UInt8(ascii: "5") && low == UInt8(ascii: "c"))
                {
                    return true
                }
            }
            twoBack = oneBack
            oneBack = byte
        }
        return false
    }
}
