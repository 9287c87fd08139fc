import Foundation
import StrictJSON

/// When an area's space counts as low (`alerts` of a `SCOPE_CONFIG_MANIFEST` scope, for the scope's own space,
/// or of a `POOLS_CONFIG` pool): any threshold crossed makes it low; none crossed, it has recovered.
package struct SpaceThresholds: Sendable, Equatable {
    /// Low when the unused addresses (free and stocked) are below this share of the area's space, in percent.
    package var minFreePercent: Double?
    /// Low when the forecast runs out in fewer days than this.
    package var minDaysLeft: Double?
    /// Low when the free blocks of a size (prefix length) are fewer than this.
    package var minFreeBlocks: [Int: Int] = [:]

    package init(minFreePercent: Double? = nil, minDaysLeft: Double? = nil, minFreeBlocks: [Int: Int] = [:]) {
        self.minFreePercent = minFreePercent
        self.minDaysLeft = minDaysLeft
        self.minFreeBlocks = minFreeBlocks
    }

    package var isEmpty: Bool { minFreePercent == nil && minDaysLeft == nil && minFreeBlocks.isEmpty }

    static let fields: Set<String> = ["minfreepercent", "mindaysleft", "minfreeblocks"]

    /// Parses an `alerts` object strictly: unknown members, wrong types and values out of range go to `problems`
    /// as `{path}.{member}: …`. `bitWidth` bounds the prefix lengths (32 or 128).
    static func parse(_ value: JSONValue, path: String, bitWidth: Int, problems: inout [String]) -> SpaceThresholds? {
        guard let object = value.objectValue else {
            problems.append("\(path): must be an object of minFreePercent, minDaysLeft, minFreeBlocks")
            return nil
        }
        var thresholds = SpaceThresholds()
        var seen = Set<String>()
        for (key, member) in object {
            let name = key.lowercased()
            guard fields.contains(name) else {
                problems.append("\(path).\(key): unknown field (use minFreePercent, minDaysLeft, minFreeBlocks)")
                continue
            }
            guard seen.insert(name).inserted else {
                problems.append("\(path).\(key): given twice")
                continue
            }
            switch name {
            case "minfreepercent":
                guard case .number(let lexeme) = member, let number = Double(lexeme), number > 0, number <= 100 else {
                    problems.append("\(path).\(key): must be a number above 0 and at most 100")
                    continue
                }
                thresholds.minFreePercent = number
            case "mindaysleft":
                guard case .number(let lexeme) = member, let number = Double(lexeme), number > 0, number <= 36_500
                else {
                    problems.append("\(path).\(key): must be a number of days above 0 and at most 36500")
                    continue
                }
                thresholds.minDaysLeft = number
            default:
                guard let sizes = member.objectValue else {
                    problems.append("\(path).\(key): must be an object of prefix length → count")
                    continue
                }
                for (lengthText, count) in sizes {
                    guard let length = Int(lengthText), (1...bitWidth).contains(length) else {
                        problems.append("\(path).\(key).\(lengthText): the key must be a prefix length 1–\(bitWidth)")
                        continue
                    }
                    guard case .number(let lexeme) = count, let number = Int(lexeme), (1...1_000_000).contains(number)
                    else {
                        problems.append("\(path).\(key).\(lengthText): must be a whole number from 1 to 1000000")
                        continue
                    }
                    thresholds.minFreeBlocks[length] = number
                }
            }
        }
        return thresholds
    }

    /// The `alerts` of each `SCOPE_CONFIG_MANIFEST` scope (its own space). The manifest's other members are
    /// `parseManifest`'s; a scope it could not read is skipped here (its problem is reported there).
    static func parseManifest(_ text: String?, problems: inout [String]) -> [Scope: SpaceThresholds] {
        guard let text, let json = try? JSONValue.parse(Array(text.utf8)), let entries = json["scopes"]?.arrayValue
        else { return [:] }
        var result: [Scope: SpaceThresholds] = [:]
        for (index, entry) in entries.enumerated() {
            guard let object = entry.objectValue, let alerts = object.first(where: { $0.0.lowercased() == "alerts" })?.1
            else { continue }
            let legacy = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let raw = (legacy?["scopes"] as? [Any])?[index]
            var ignored: [String] = []
            let path = "SCOPE_CONFIG_MANIFEST.scopes[\(index)].alerts"
            guard
                let scope = IPAMConfiguration.manifestScope(raw, path: path, missing: path, problems: &ignored),
                let parsed = parse(alerts, path: path, bitWidth: 128, problems: &problems)
            else { continue }
            result[scope] = parsed
        }
        return result
    }
}
