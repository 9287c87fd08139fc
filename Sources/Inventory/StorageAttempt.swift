package import AzureCore

/// One attempt of one storage request, as the request pipeline saw it (for metrics): throttling and
/// faults show up here before they reach callers.
package struct StorageAttempt: Sendable {
    package let method: String
    /// The HTTP status, or 0 when no answer came.
    package let status: Int
    /// Whether the pipeline will try the request again.
    package let willRetry: Bool

    package init(method: String, status: Int, willRetry: Bool) {
        self.method = method
        self.status = status
        self.willRetry = willRetry
    }

    package init(_ record: AzurePipeline.AttemptRecord) {
        self.init(method: record.method, status: record.status, willRetry: record.willRetry)
    }
}
