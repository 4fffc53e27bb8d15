"""Labels stay bounded: routes from a fixed set, operation names capped, statement names from the code."""

from __future__ import annotations

from provgraph.api.metrics import MAX_OPERATION_NAMES, Metrics
from provgraph.api.observe import RequestRecord, route_of
from provgraph.store.graph import statement_name


def test_paths_map_to_a_fixed_set_of_routes() -> None:
    assert route_of("/graphql") == "/graphql"
    assert route_of("/v1/export/spdx/modelVersion:m:1") == "/v1/export"
    assert route_of("/v1/record-keys") == "/v1/record-keys"
    assert route_of("/api/v1/lineage/batch") == "/api/v1/lineage/batch"
    assert route_of("/wp-admin/setup.php") == "other"
    assert route_of("/graphqlx") == "other"


def test_operation_names_past_the_cap_count_as_other() -> None:
    metrics = Metrics()
    for n in range(MAX_OPERATION_NAMES + 5):
        record = RequestRecord(
            "r", "POST", "/graphql", status=200, operation=f"Op{n}", operation_type="query"
        )
        record.root_fields = ("sources",)
        metrics.request_finished(record)
    labels = {
        sample.labels["operation"]
        for family in metrics.registry.collect()
        if family.name == "provgraph_graphql_operations"
        for sample in family.samples
    }
    assert len(labels) == MAX_OPERATION_NAMES + 1
    assert "other" in labels and f"Op{MAX_OPERATION_NAMES + 4}" not in labels


def test_a_statement_is_named_by_the_function_that_ran_it() -> None:
    def lookup() -> str:
        return statement_name()

    assert lookup() == f"{__name__.removeprefix('provgraph.')}.{lookup.__qualname__.replace('.<locals>', '')}"
