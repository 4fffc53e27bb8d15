"""Every Cypher statement the store holds compiles on the real server (EXPLAIN plans without running)."""

from __future__ import annotations

import pytest
from neo4j import Driver

from provgraph.store import warmup


def _generated() -> list[tuple[str, str]]:
    return warmup.signature_queries(7)


STATEMENTS: list[tuple[str, str]] = [*warmup.named_statements(), *_generated()]


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
