import IPAMCore

extension IPAMConfiguration {
    /// The problems `environment` loads with, a line each (none when it loads): what the start-up error prints.
    static func problems(_ environment: [String: String]) -> [String] {
        do {
            _ = try load(environment: environment)
            return []
        } catch { return error.lines }
    }
}
