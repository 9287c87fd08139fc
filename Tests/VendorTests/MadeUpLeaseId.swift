import Testing

/// A lease id of the same layout and block as `id` that no lease has: the first digit of its random group
/// (index 24) changed, so it always differs from `id`.
func madeUpLeaseId(sameBlockAs id: String) -> String {
    let digit = id[id.index(id.startIndex, offsetBy: 24)]
    return String(id.prefix(24)) + (digit == "0" ? "1" : "0") + id.suffix(11)
}

@Suite("Made-up lease ids")
struct MadeUpLeaseIdTests {
    @Test("whatever digit the random group starts with, the made-up id differs from the real one only there")
    func differsAtIndex24() {
        for digit in "0123456789abcdef" {
            let id = "0a400100-1839-8785-91db-" + String(digit) + "428e1ca27bf"
            let madeUp = madeUpLeaseId(sameBlockAs: id)
            let differing = zip(id, madeUp).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(madeUp.count == id.count && differing == [24], "\(id) → \(madeUp)")
        }
    }
}
