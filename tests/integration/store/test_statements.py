"""Every Cypher statement the store holds compiles on the real server (EXPLAIN plans without running)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from neo4j import Driver

import provgraph.store as store
from provgraph.domain.lineage import Direction
from provgraph.store import lineage


def _constants() -> list[tuple[str, str]]:
    found = []
    for info in pkgutil.iter_modules(store.__path__):
        module = importlib.import_module(f"provgraph.store.{info.name}")
        for name, value in vars(module).items():
            if (
                name.isupper()
                and isinstance(value, str)
                and any(k in value for k in ("MATCH", "MERGE", "RETURN"))
            ):
                found.append((f"{info.name}.{name}", value))
    return found


def _generated() -> list[tuple[str, str]]:
    built = [
        ("models_using_source", lineage.models_using_source_query(7)),
        ("trace_inference", lineage.trace_inference_query(7)),
        ("impact", lineage.impact_query(7)),
        ("compare", lineage.compare_query(7)),
    ]
    for label in ("DatasetVersion", "Slice"):
        built.append((f"consumers-{label}", lineage.consumers_query(label, 7)))
    for direction in Direction:
        built.append((f"lineage-{direction.value}", lineage.lineage_query("ModelVersion", direction, 7)))
    return built


STATEMENTS = _constants() + _generated()


def test_the_store_holds_statements() -> None:
    assert len(STATEMENTS) > 50


@pytest.mark.parametrize(("name", "statement"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_statement_compiles(driver: Driver, name: str, statement: str) -> None:
    with driver.session(database="neo4j") as session:
        summary = session.run("EXPLAIN " + statement).consume()  # type: ignore[arg-type]
    assert summary.plan is not None, name


@pytest.mark.parametrize(("name", "statement"), _generated(), ids=[n for n, _ in _generated()])
def test_traversals_expand_breadth_first_with_pruning(driver: Driver, name: str, statement: str) -> None:
    """The provenance traversals must not enumerate paths: the planner must pick the pruning BFS."""
    with driver.session(database="neo4j") as session:
        plan = session.run("EXPLAIN " + statement).consume().plan  # type: ignore[arg-type]
    operators: list[str] = []

    def walk(node: dict[str, object]) -> None:
        operators.append(str(node["operatorType"]))
        for child in node.get("children", []):  # type: ignore[attr-defined]
            walk(child)

    assert plan is not None
    walk(plan)
    assert any(op.startswith("VarLengthExpand(Pruning,BFS") for op in operators), (name, operators)
    assert not any("ShortestPath" in op for op in operators)
