import Foundation
package import IPAMCore

/// How long an HTTP server waits for each part of a request, and how many connections it keeps open at once:
/// the same settings for every server of the project (`vendor`, `ipam-mcp serve`, the manager's, the emulators',
/// `ipam-dev webhook-receiver`). docs/Configuration.md lists them; docs/Operations.md says what each does.
package struct HTTPServerLimits: Sendable, Equatable, CustomStringConvertible {
    /// A connection with no request under way (just accepted, or its last answer sent) is closed after this.
    package var idleTimeout: Duration
    /// A request's head (request line and headers) must be complete this long after its first byte arrived.
    package var headerTimeout: Duration
    /// A request's body must be complete this long after its head.
    package var bodyTimeout: Duration
    /// Connections served at once; one more is answered `503 TooManyConnections` unless an idle one can make room.
    package var maxConnections: Int

    /// The idle timeout is longer than HTTP clients' own for their pooled connections (a minute in .NET, which the
    /// Azure Functions host is), so a client closes an idle connection before the server closes it under a request.
    package static let defaults = HTTPServerLimits(
        idleTimeout: .seconds(75), headerTimeout: .seconds(10), bodyTimeout: .seconds(30),
        maxConnections: 1000)
    /// Bounds of the settings: a timeout in seconds, and the connection cap.
    static let timeoutRange = 0.1...3600.0
    static let connectionRange = 1...1_000_000

    package init(idleTimeout: Duration, headerTimeout: Duration, bodyTimeout: Duration, maxConnections: Int) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
    }

    /// The limits the environment sets (each unset one keeps its default).
    /// - Throws: one line per bad value, naming the setting.
    package init(environment: [String: String]) throws(IPAMConfiguration.Problems) {
        var limits = Self.defaults
        var problems: [String] = []
        func seconds(_ setting: Setting, into value: inout Duration) {
            guard let text = environment[setting: setting] else { return }
            guard let number = Double(text), Self.timeoutRange.contains(number) else {
                let range = "\(Self.timeoutRange.lowerBound) to \(Int(Self.timeoutRange.upperBound))"
                problems.append("\(setting.rawValue)=\(text): must be a number of seconds from \(range)")
                return
            }
            value = .nanoseconds(Int64(number * 1_000_000_000))
        }
        seconds(.httpIdleTimeout, into: &limits.idleTimeout)
        seconds(.httpHeaderTimeout, into: &limits.headerTimeout)
        seconds(.httpBodyTimeout, into: &limits.bodyTimeout)
        if let text = environment[setting: .httpMaxConnections] {
            if let number = Int(text), Self.connectionRange.contains(number) {
                limits.maxConnections = number
            } else {
                let range = "\(Self.connectionRange.lowerBound) to \(Self.connectionRange.upperBound)"
                problems.append("\(Setting.httpMaxConnections.rawValue)=\(text): must be a whole number from \(range)")
            }
        }
        guard problems.isEmpty else { throw IPAMConfiguration.Problems(lines: problems) }
        self = limits
    }

    /// The limits for a server process: read from the environment, with the process's descriptor limit raised
    /// as far as it goes and the connection cap checked against it (`DescriptorBudget`).
    ///
    /// A cap the environment sets that the descriptors cannot hold is a problem; the default cap is lowered to
    /// what they hold instead, and `notice` says so.
    /// - Throws: one line per bad value (the executables exit 2 with them).
    package static func forServerProcess(environment: [String: String]) throws(IPAMConfiguration.Problems)
        -> (limits: HTTPServerLimits, notice: String?)
    {
        var limits = try HTTPServerLimits(environment: environment)
        let descriptors = DescriptorBudget.raiseSoftLimit()
        let allowed = DescriptorBudget.connections(descriptorLimit: descriptors)
        guard limits.maxConnections > allowed else { return (limits, nil) }
        let why =
            "the descriptor limit (ulimit -n) is \(descriptors): \(DescriptorBudget.reserved) are kept for storage connections "
            + "and files, and each connection may need a second one for storage while its request runs"
        if environment[setting: .httpMaxConnections] != nil || allowed < 1 {
            throw IPAMConfiguration.Problems(lines: [
                "\(Setting.httpMaxConnections.rawValue)=\(limits.maxConnections): at most \(max(allowed, 0)) here, as \(why); "
                    + "raise the limit or lower the setting"
            ])
        }
        limits.maxConnections = allowed
        return (limits, "serving at most \(allowed) connections at once (not \(defaults.maxConnections)), as \(why)")
    }

    package var description: String {
        "at most \(maxConnections) connections; timeouts: idle \(Self.text(idleTimeout)), header \(Self.text(headerTimeout)), "
            + "body \(Self.text(bodyTimeout))"
    }

    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds) s" : "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}

extension HTTPServerLimits {
    /// `forServerProcess` for an executable's start-up: the limits, or nil after the problems were written to
    /// standard error under `program`'s name (the executable then exits 2). A notice goes to standard error too.
    package static func forServerProcess(environment: [String: String], program: String) -> HTTPServerLimits? {
        do {
            let (limits, notice) = try forServerProcess(environment: environment)
            if let notice { FileHandle.standardError.write(Data("\(program): \(notice)\n".utf8)) }
            return limits
        } catch {
            FileHandle.standardError.write(
                Data(("\(program): invalid configuration:\n" + error.lines.map { "  \($0)\n" }.joined()).utf8))
            return nil
        }
    }
}
