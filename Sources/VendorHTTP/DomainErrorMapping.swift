package import VendorDomain

extension VendorError {
    /// The domain's refusal in the one error shape: its code (which fixes the status), message, field,
    /// details and `Retry-After`, unchanged.
    package init(_ error: DomainError) {
        self.init(error.code, error.message, field: error.field, details: error.details, retryAfter: error.retryAfter)
    }
}
