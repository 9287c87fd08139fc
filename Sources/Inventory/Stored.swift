package import AzureTables

/// A row as storage holds it: its value and the ETag storage gave it, which a conditional write of the row
/// must match (`If-Match`).
///
/// Only reads and committed writes make one, so a write over a row read earlier always names the version it
/// replaces; a write that must not be conditional says so (`ETagCondition.any`, spelled
/// `NetworkRow.replacingUnconditionally`). Its members read through to the row (`stored.state`); to change a row, take its
/// `value`, change that, and write it over the stored one.
@dynamicMemberLookup
package struct Stored<Row: Sendable>: Sendable {
    /// The row as read (or as written).
    package let value: Row
    /// The ETag of this version.
    package let etag: String

    package init(_ value: Row, etag: String) {
        self.value = value
        self.etag = etag
    }

    package subscript<Member>(dynamicMember member: KeyPath<Row, Member>) -> Member { value[keyPath: member] }

    /// The condition of a write over exactly this version: `If-Match` its ETag.
    package var ifMatch: ETagCondition { .etag(etag) }

    /// The row decoded from `entity`, with the entity's ETag; nil when the entity is not such a row, or storage
    /// gave it no ETag (every read of Table Storage does: such an entity was not read from storage).
    package init?(entity: TableEntity, decode: (TableEntity) -> Row?) {
        guard let etag = entity.etag, let value = decode(entity) else { return nil }
        self.init(value, etag: etag)
    }
}

extension Stored: Equatable where Row: Equatable {}

extension Stored where Row == NetworkRow {
    /// A network row as read from storage (nil for another row, or one without an ETag).
    package init?(network entity: TableEntity) { self.init(entity: entity, decode: NetworkRow.init(entity:)) }

    /// `updated` written over this version of the row (`If-Match` its ETag).
    package func replaced(by updated: NetworkRow, partitionKey: String) -> TableTransactionAction {
        .replace(updated.entity(partitionKey: partitionKey), ifMatch: ifMatch)
    }

    /// Only `properties` merged into this version of the row (`If-Match` its ETag).
    package func merged(_ properties: [String: TableValue], partitionKey: String) -> TableTransactionAction {
        .merge(TableEntity(partitionKey: partitionKey, rowKey: value.rowKey, properties: properties), ifMatch: ifMatch)
    }

    /// This version of the row deleted (`If-Match` its ETag).
    package func deleted(partitionKey: String) -> TableTransactionAction {
        .delete(partitionKey: partitionKey, rowKey: value.rowKey, ifMatch: ifMatch)
    }
}

extension NetworkRow {
    /// The row written over whatever version is stored (`If-Match: *`): only where another operation of the
    /// same transaction already guards the row's version (a claim's stock row, deleted `If-Match` its ETag,
    /// exists only while this row is `available`).
    package func replacingUnconditionally(partitionKey: String) -> TableTransactionAction {
        .replace(entity(partitionKey: partitionKey), ifMatch: .any)
    }
}
