package import Foundation
import StrictJSON

extension API {
    /// An address count up to 2^128, written as a JSON number of any size.
    package struct AddressCount: Sendable, Equatable, Codable {
        package var value: UInt128
        package init(_ value: UInt128) { self.value = value }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            guard case .number(let lexeme) = try container.decode(JSONValue.self), let value = UInt128(lexeme) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a count of addresses")
            }
            self.value = value
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(JSONValue.number(String(value)))
        }
    }

    /// `GET /api/usage` (`Usage` in `openapi/`): one area's samples (a pool, or a scope's own space without
    /// `pool`) and its exhaustion forecast.
    package struct Usage: Sendable, Equatable, Codable {
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope).
        package var subscription: String?
        /// `aws` for an AWS scope (nil for Azure).
        package var cloud: String?
        /// An AWS scope's account (nil for Azure).
        package var accountId: String?
        package var region: String
        package var pool: String?
        /// `v4` or `v6`.
        package var ipVersion: String
        package var since: Date
        package var until: Date
        /// Seconds between points (the newest sample of each step is its point).
        package var step: Int
        package var samples: [Sample]
        package var forecast: Forecast

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case scope, subscription, cloud, accountId, region, pool, ipVersion, since, until, step, samples, forecast
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            scope: String, subscription: String?, cloud: String? = nil, accountId: String? = nil, region: String,
            pool: String?, ipVersion: String, since: Date, until: Date, step: Int, samples: [Sample],
            forecast: Forecast
        ) {
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.pool = pool
            self.ipVersion = ipVersion
            self.since = since
            self.until = until
            self.step = step
            self.samples = samples
            self.forecast = forecast
        }

        /// One sample: addresses by state, live leases, and free blocks per configured size.
        package struct Sample: Sendable, Equatable, Codable {
            package var at: Date
            package var leased: AddressCount
            package var anchored: AddressCount
            package var occupied: AddressCount
            package var reserved: AddressCount
            package var quarantined: AddressCount
            package var available: AddressCount
            package var free: AddressCount
            package var leases: Int
            package var freeBlocks: [FreeBlocks]

            package init(
                at: Date, leased: AddressCount, anchored: AddressCount, occupied: AddressCount,
                reserved: AddressCount, quarantined: AddressCount, available: AddressCount, free: AddressCount,
                leases: Int, freeBlocks: [FreeBlocks]
            ) {
                self.at = at
                self.leased = leased
                self.anchored = anchored
                self.occupied = occupied
                self.reserved = reserved
                self.quarantined = quarantined
                self.available = available
                self.free = free
                self.leases = leases
                self.freeBlocks = freeBlocks
            }
        }

        /// Blocks of one size a request could still get (stocked, or carvable from free space).
        package struct FreeBlocks: Sendable, Equatable, Codable {
            package var prefixLength: Int
            package var count: UInt64
            package init(prefixLength: Int, count: UInt64) {
                self.prefixLength = prefixLength
                self.count = count
            }
        }

        /// When the unused addresses (`free` + `available`) and each configured size's free blocks run out.
        package struct Forecast: Sendable, Equatable, Codable {
            package var unusedAddresses: Windows
            package var sizes: [SizeForecast]
            package init(unusedAddresses: Windows, sizes: [SizeForecast]) {
                self.unusedAddresses = unusedAddresses
                self.sizes = sizes
            }
        }

        /// The answer over the last 7 days' samples and over the last 30 days'.
        package struct Windows: Sendable, Equatable, Codable {
            package var last7Days: Outlook
            package var last30Days: Outlook
            package init(last7Days: Outlook, last30Days: Outlook) {
                self.last7Days = last7Days
                self.last30Days = last30Days
            }
        }

        /// One size's forecast.
        package struct SizeForecast: Sendable, Equatable, Codable {
            package var prefixLength: Int
            package var last7Days: Outlook
            package var last30Days: Outlook
            package init(prefixLength: Int, last7Days: Outlook, last30Days: Outlook) {
                self.prefixLength = prefixLength
                self.last7Days = last7Days
                self.last30Days = last30Days
            }
        }

        /// `runs-out` (with when, the days left and the rate), `not-running-out` (with the rate) or
        /// `insufficient-data`; `samples`: how many samples the window had.
        package struct Outlook: Sendable, Equatable, Codable {
            package var status: String
            package var runsOutAt: Date?
            package var daysLeft: Double?
            /// The fitted change per day (negative: shrinking).
            package var ratePerDay: Double?
            package var samples: Int
            package init(status: String, runsOutAt: Date?, daysLeft: Double?, ratePerDay: Double?, samples: Int) {
                self.status = status
                self.runsOutAt = runsOutAt
                self.daysLeft = daysLeft
                self.ratePerDay = ratePerDay
                self.samples = samples
            }
        }
    }
}
