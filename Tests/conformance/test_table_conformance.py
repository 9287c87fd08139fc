"""Conformance of our Table endpoint with the official Azure SDK for Python (azure-data-tables),
a client nobody on this project wrote."""
import datetime
import uuid

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError, HttpResponseError
from azure.data.tables import EdmType, EntityProperty, TableTransactionError, UpdateMode


def test_create_list_delete_tables(service):
    name = "py" + uuid.uuid4().hex[:16]
    service.create_table(name)
    assert name in [t.name for t in service.list_tables()]
    assert [t.name for t in service.query_tables("TableName eq @n", parameters={"n": name})] == [name]
    with pytest.raises(ResourceExistsError):
        service.create_table(name)
    service.create_table_if_not_exists(name)
    service.delete_table(name)
    assert name not in [t.name for t in service.list_tables()]
    service.delete_table(name)  # the SDK treats a missing table as already deleted


def test_list_tables_pages(service):
    names = ["pg" + uuid.uuid4().hex[:12] for _ in range(5)]
    for name in names:
        service.create_table(name)
    try:
        pages = list(service.list_tables(results_per_page=2).by_page())
        listed = [t.name for page in pages for t in page]
        assert set(names) <= set(listed)
        assert len(listed) == len(set(listed))
    finally:
        for name in names:
            service.delete_table(name)


def test_typed_properties_round_trip(table):
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    guid = uuid.uuid4()
    entity = {
        "PartitionKey": "p", "RowKey": "r1", "Name": "alice ü \"q\"", "Age": 30,
        "Big": EntityProperty(2**40, EdmType.INT64), "Ratio": 1.5, "Whole": 2.0, "Ok": True,
        "When": when, "Id": guid, "Raw": b"\x00\x01\xff",
    }
    created = table.create_entity(entity)
    assert created["etag"]
    got = table.get_entity("p", "r1")
    assert got["Name"] == "alice ü \"q\""
    assert got["Age"] == 30
    assert got["Big"].value == 2**40 and got["Big"].edm_type == EdmType.INT64
    assert got["Ratio"] == 1.5
    assert got["Whole"] == 2.0 and isinstance(got["Whole"], float)
    assert got["Ok"] is True
    assert got["When"] == when
    assert got["Id"] == guid
    assert got["Raw"] == b"\x00\x01\xff"
    assert got.metadata["etag"] == created["etag"]
    assert got.metadata["timestamp"] is not None


def test_entity_operations_with_and_without_etags(table):
    table.create_entity({"PartitionKey": "p", "RowKey": "r", "v": 1, "keep": "k"})
    with pytest.raises(ResourceExistsError):
        table.create_entity({"PartitionKey": "p", "RowKey": "r"})
    first = table.get_entity("p", "r")

    table.update_entity({"PartitionKey": "p", "RowKey": "r", "v": 2}, mode=UpdateMode.MERGE,
                        etag=first.metadata["etag"], match_condition=MatchConditions.IfNotModified)
    second = table.get_entity("p", "r")
    assert second["v"] == 2 and second["keep"] == "k"
    assert second.metadata["etag"] != first.metadata["etag"]

    for mode in (UpdateMode.MERGE, UpdateMode.REPLACE):
        with pytest.raises(ResourceModifiedError) as info:
            table.update_entity({"PartitionKey": "p", "RowKey": "r", "v": 3}, mode=mode,
                                etag=first.metadata["etag"], match_condition=MatchConditions.IfNotModified)
        assert info.value.status_code == 412
    with pytest.raises(ResourceModifiedError):
        table.delete_entity("p", "r", etag=first.metadata["etag"], match_condition=MatchConditions.IfNotModified)

    table.update_entity({"PartitionKey": "p", "RowKey": "r", "v": 4}, mode=UpdateMode.REPLACE)
    replaced = table.get_entity("p", "r")
    assert replaced["v"] == 4 and "keep" not in replaced

    table.upsert_entity({"PartitionKey": "p", "RowKey": "u", "a": 1}, mode=UpdateMode.REPLACE)
    table.upsert_entity({"PartitionKey": "p", "RowKey": "u", "b": 2}, mode=UpdateMode.MERGE)
    upserted = table.get_entity("p", "u")
    assert upserted["a"] == 1 and upserted["b"] == 2

    with pytest.raises(ResourceNotFoundError):
        table.update_entity({"PartitionKey": "p", "RowKey": "missing", "v": 1}, mode=UpdateMode.MERGE)
    with pytest.raises(ResourceNotFoundError):
        table.get_entity("p", "missing")

    table.delete_entity("p", "r", etag=replaced.metadata["etag"], match_condition=MatchConditions.IfNotModified)
    table.delete_entity("p", "u")
    table.delete_entity("p", "never-existed")  # the SDK treats 404 on delete as done
    assert list(table.list_entities()) == []


def test_special_characters_in_keys(table):
    for key in ["o'clock", "a b", "ü€", "x=y&z", "percent%20"]:
        table.create_entity({"PartitionKey": key, "RowKey": key, "v": key})
        assert table.get_entity(key, key)["v"] == key
        table.delete_entity(key, key)


def test_transaction_success(table):
    table.create_entity({"PartitionKey": "b", "RowKey": "existing", "v": 1})
    table.create_entity({"PartitionKey": "b", "RowKey": "doomed"})
    result = table.submit_transaction([
        ("create", {"PartitionKey": "b", "RowKey": "new"}),
        ("update", {"PartitionKey": "b", "RowKey": "existing", "w": 2}, {"mode": "merge"}),
        ("upsert", {"PartitionKey": "b", "RowKey": "up", "x": 3}),
        ("delete", {"PartitionKey": "b", "RowKey": "doomed"}),
    ])
    assert len(result) == 4 and all("etag" in r for r in result[:3])
    rows = {e["RowKey"]: e for e in table.query_entities("PartitionKey eq 'b'")}
    assert set(rows) == {"existing", "new", "up"}
    assert rows["existing"]["v"] == 1 and rows["existing"]["w"] == 2


def test_failing_transaction_leaves_nothing(table):
    table.create_entity({"PartitionKey": "b", "RowKey": "taken", "v": 1})
    with pytest.raises(TableTransactionError) as info:
        table.submit_transaction([
            ("create", {"PartitionKey": "b", "RowKey": "n1"}),
            ("create", {"PartitionKey": "b", "RowKey": "n2"}),
            ("create", {"PartitionKey": "b", "RowKey": "taken"}),
        ])
    assert info.value.status_code == 409
    assert info.value.error_code == "EntityAlreadyExists"
    assert info.value.index == 2
    stale = table.get_entity("b", "taken").metadata["etag"]
    table.update_entity({"PartitionKey": "b", "RowKey": "taken", "v": 2})
    with pytest.raises(TableTransactionError) as info:
        table.submit_transaction([
            ("create", {"PartitionKey": "b", "RowKey": "n3"}),
            ("update", {"PartitionKey": "b", "RowKey": "taken", "v": 3},
             {"etag": stale, "match_condition": MatchConditions.IfNotModified}),
        ])
    assert info.value.status_code == 412
    assert [e["RowKey"] for e in table.list_entities()] == ["taken"]
    assert table.get_entity("b", "taken")["v"] == 2


def test_transaction_across_partitions_is_refused(table):
    with pytest.raises((TableTransactionError, HttpResponseError, ValueError)):
        table.submit_transaction([
            ("create", {"PartitionKey": "a", "RowKey": "1"}),
            ("create", {"PartitionKey": "b", "RowKey": "1"}),
        ])
    assert list(table.list_entities()) == []


def test_queries_filters_select_and_paging(table):
    for partition in ("a", "b"):
        for start in range(0, 600, 100):
            table.submit_transaction([
                ("create", {"PartitionKey": partition, "RowKey": f"r{i:04d}", "n": i, "even": i % 2 == 0,
                            "big": EntityProperty(i * 10_000_000_000, EdmType.INT64),
                            "at": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=i)})
                for i in range(start, start + 100)
            ])
    everything = list(table.list_entities())
    assert len(everything) == 1200
    keys = [(e["PartitionKey"], e["RowKey"]) for e in everything]
    assert keys == sorted(keys)

    pages = list(table.list_entities(results_per_page=250).by_page())
    sizes = [len(list(page)) for page in pages]
    assert sum(sizes) == 1200 and max(sizes) <= 250 and len(sizes) >= 5

    evens = list(table.query_entities("PartitionKey eq @p and n ge @lo and n lt @hi and even eq @e",
                                      parameters={"p": "b", "lo": 100, "hi": 200, "e": True}))
    assert len(evens) == 50 and all(e["even"] for e in evens)

    big = list(table.query_entities("PartitionKey eq 'a' and big gt @b", parameters={"b": 5_000_000_000_000}))
    assert len(big) == 600 - 501

    cutoff = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)
    early = list(table.query_entities("PartitionKey eq 'a' and at lt @t", parameters={"t": cutoff}))
    assert len(early) == 24

    selected = list(table.query_entities("PartitionKey eq 'a' and n lt 3", select=["n"]))
    assert [dict(e) for e in selected] == [{"n": 0}, {"n": 1}, {"n": 2}]

    either = list(table.query_entities("(RowKey eq 'r0001' or RowKey eq 'r0002') and not (PartitionKey eq 'a')"))
    assert [(e["PartitionKey"], e["RowKey"]) for e in either] == [("b", "r0001"), ("b", "r0002")]
