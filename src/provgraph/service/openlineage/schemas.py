"""Validating OpenLineage events against the specification's own JSON schemas (spec/, shipped with the
package, so validation never reaches the network).

An event is checked against the event schema (RunEvent, DatasetEvent or JobEvent of spec 2-0-x), and every
facet whose key a facet schema defines is checked against that schema. Facets no schema defines (custom
facets, producer-specific ones) are accepted as they are: OpenLineage allows them, and provgraph keeps them
verbatim.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

MAX_REASONS = 20


@cache
def _validators() -> tuple[Draft202012Validator, dict[tuple[str, str], Draft202012Validator]]:
    """The event validator, and one validator per (facet kind, facet key): the same key names different
    facets for different things (`documentation` of a job and of a dataset)."""
    spec = resources.files("provgraph.service.openlineage") / "spec"
    documents = [json.loads((spec / "OpenLineage.json").read_text())]
    documents += [
        json.loads(path.read_text())
        for path in sorted((spec / "facets").iterdir(), key=lambda p: p.name)
        if path.name.endswith(".json")
    ]
    registry: Registry[Any] = Registry().with_resources(
        (document["$id"], Resource.from_contents(document, default_specification=DRAFT202012))
        for document in documents
    )
    checker = Draft202012Validator.FORMAT_CHECKER
    event = Draft202012Validator(documents[0], registry=registry, format_checker=checker)
    facets: dict[tuple[str, str], Draft202012Validator] = {}
    for document in documents[1:]:
        kind = _facet_kind(document)
        for key in document.get("properties", {}):
            # Each facet file defines its facet under one key; validating a single-key object against the
            # file checks that facet and nothing else.
            facets[(kind, key)] = Draft202012Validator(document, registry=registry, format_checker=checker)
    return event, facets


def _facet_kind(document: dict[str, Any]) -> str:
    """Which kind of facet a facet file defines (RunFacet, JobFacet, DatasetFacet, InputDatasetFacet,
    OutputDatasetFacet), from the base definition it extends."""
    text = json.dumps(document.get("$defs", {}))
    for kind in ("InputDatasetFacet", "OutputDatasetFacet", "RunFacet", "JobFacet", "DatasetFacet"):
        if f"OpenLineage.json#/$defs/{kind}" in text:
            return kind
    return "DatasetFacet"


def event_problems(event: Any) -> list[str]:
    """Why `event` is not a valid OpenLineage event: readable reasons with JSON paths (empty when valid)."""
    validator, facet_validators = _validators()
    problems = [_reason(error) for error in validator.iter_errors(event)]
    if problems or not isinstance(event, dict):
        return problems[:MAX_REASONS]
    for path, kind, facets in _facet_maps(event):
        for key, value in facets.items():
            facet_validator = facet_validators.get((kind, key))
            if facet_validator is None:
                continue  # a custom facet: kept verbatim, not checked
            for error in facet_validator.iter_errors({key: value}):
                problems.append(_reason(error, prefix=path))
    return problems[:MAX_REASONS]


def _facet_maps(event: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []

    def add(path: str, kind: str, value: Any) -> None:
        if isinstance(value, dict):
            found.append((path, kind, value))

    add("$.run.facets", "RunFacet", (event.get("run") or {}).get("facets"))
    add("$.job.facets", "JobFacet", (event.get("job") or {}).get("facets"))
    add("$.dataset.facets", "DatasetFacet", (event.get("dataset") or {}).get("facets"))
    for side, extra, kind in (
        ("inputs", "inputFacets", "InputDatasetFacet"),
        ("outputs", "outputFacets", "OutputDatasetFacet"),
    ):
        for index, dataset in enumerate(event.get(side) or []):
            if isinstance(dataset, dict):
                add(f"$.{side}[{index}].facets", "DatasetFacet", dataset.get("facets"))
                add(f"$.{side}[{index}].{extra}", kind, dataset.get(extra))
    return found


def _reason(error: Any, prefix: str = "$") -> str:
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    # `oneOf` failures (the three event kinds) say nothing useful on their own; the closest sub-error does.
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        return _reason(best, prefix)
    return f"{path}: {error.message[:300]}"
