"""W3C PROV of any answer: a model version's whole provenance, an inference's trace, a source's impact, or
any node's lineage, as PROV-JSON (`json`), PROV-N (`provn`) and PROV-O (`turtle`, `jsonld`), written by
the `prov` package (and rdflib under it for PROV-O).

The mapping (`prov_mapping.py` writes it):

    provgraph                                   PROV
    source, dataset, dataset version, slice,    entity (prov:type pgv:Source, pgv:DatasetVersion + mls:Dataset,
      experiment, model, model version,           pgv:Slice + mls:Dataset, pgv:ModelVersion + mls:Model, …)
      inference
    run, deployment                             activity, with startTime/endTime (runs also mls:Run)
    endpoint                                    agent (pgv:Endpoint, prov:SoftwareAgent)
    recorder (recordedBy), registry actor       agent pg:agent:<name> (pgv:Principal)
    registry event (the whole provenance)       instant activity pg:event:<model>:<seq>, used the model version
                                                  (role pgv:subject), associated with its actor (role pgv:actor)
    GENERATED_BY, SERVED_BY                     wasGeneratedBy(entity, activity, time)
    USED {role}                                 used(run, data, time = the run's start, prov:role pgv:train…)
    OF                                          used(deployment, model version, time = start, pgv:servedModel)
    ON                                          wasAssociatedWith(deployment, endpoint, prov:role pgv:endpoint)
    DERIVED_FROM {transform}                    wasDerivedFrom(+ pgv:transform)
    FROM_SOURCE                                 wasDerivedFrom typed prov:PrimarySource (hadPrimarySource)
    SUBSET_OF                                   wasDerivedFrom typed pgv:Subset
    FINE_TUNED_FROM                             wasDerivedFrom typed pgv:FineTuning
    PREDICTED_WITH                              wasDerivedFrom typed pgv:Prediction
    VERSION_OF                                  specializationOf(version, dataset or model)
    PART_OF                                     wasInfluencedBy typed pgv:PartOf
    recordedBy                                  wasAttributedTo (prov:type pgv:Recording) for entities,
                                                  wasAssociatedWith (prov:role pgv:recorder) for activities

Times: a relation's effective time (when it took effect) is PROV's own time where the relation has one
(usage, generation) and `pgv:validFrom` elsewhere; `pgv:recordedAt` (transaction time) is on every relation
but specializationOf, which PROV allows no attributes (a version's times are on the version). Every node has
`pgv:recordedAt` and `pgv:recordedBy`. The document describes itself in an entity of type `pgv:Export`
stating the answer, the subject, `pgv:asOf`, `pgv:knownAt` and `pgv:isPartial`. Ids are provgraph's under
`urn:provgraph:` (prefix `pg`); the vocabulary is `urn:provgraph:vocab:` (prefix `pgv`).

As of a time: the answer holds what the graph held then (the gatherer's reading), and each node is written as
it stood then (a run or deployment that ended later is still going; a source excluded later is not excluded).
A trace is drawn as recorded now and states that time; it refuses `asOf` and `knownAt`.

The same request with the same `asOf` and `knownAt` gives the same bytes: records and attributes are written
in a fixed order, every relation has an id (no blank nodes), and the JSON formats are written with sorted
keys (JSON-LD's `@graph` sorted by `@id`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from prov.constants import PROV, PROV_N_MAP
from prov.identifier import QualifiedName
from prov.model import ProvDocument, ProvRelation
from prov.serializers.provrdf import ProvRDFSerializer
from rdflib import Graph, URIRef

from provgraph.domain.catalog import DatasetVersion, Slice
from provgraph.domain.documents import Answer, ExportRequest, Rendered, Serialisation
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.ids import Kind
from provgraph.domain.lineage import Edge, Entity
from provgraph.domain.registry import ModelVersion
from provgraph.domain.runs import Run
from provgraph.domain.serving import Deployment, Endpoint, Inference
from provgraph.service.documents.gather import Gatherer, Subgraph
from provgraph.service.documents.prov_mapping import MLS, PG, PGV, ProvAnswer, build
from provgraph.service.documents.service import Renderer

FORMATS = {
    "json": Serialisation("application/json", "json"),  # PROV-JSON (W3C member submission)
    "provn": Serialisation("text/provenance-notation", "provn"),  # PROV-N (W3C recommendation)
    "turtle": Serialisation("text/turtle", "ttl"),  # PROV-O
    "jsonld": Serialisation("application/ld+json", "jsonld"),  # PROV-O as JSON-LD
}

# JSON-LD written compact against these prefixes only, inline: reading it back needs nothing fetched.
JSONLD_CONTEXT = {
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    PG.prefix: PG.uri,
    PGV.prefix: PGV.uri,
    MLS.prefix: MLS.uri,
}


async def render(request: ExportRequest, gatherer: Gatherer) -> Rendered:
    """The PROV document of a checked request, in its format."""
    assert request.format is not None and request.answer is not None
    answer = await gather(request, gatherer)
    return Rendered(serialise(build(answer), request.format))


async def gather(request: ExportRequest, gatherer: Gatherer) -> ProvAnswer:
    """What the request's answer holds, read through the gatherer."""
    subject = request.subject_id
    if request.answer is Answer.PROVENANCE:
        return await _provenance(request, gatherer)
    if request.answer is Answer.TRACE:
        if request.as_of is not None or request.known_at is not None:
            field = "asOf" if request.as_of is not None else "knownAt"
            raise InvalidArgument(
                "a trace is drawn as recorded now; for an inference's upstream as of a time, ask for "
                "answer=lineage with direction UPSTREAM",
                field=field,
            )
        trace = await gatherer.trace(subject)
        return await _with_endpoints(_answer(request, _trace_recorded(trace)), gatherer)
    if request.answer is Answer.EXCLUSION:
        case, impact = await gatherer.exclusion(subject, request.as_of, request.known_at)
        answer = await _impact(request, case.source_id, impact, gatherer)
        title = f"exclusion of {case.source_id}: its impact and the decisions taken"
        return replace(answer, title=title, case=case)
    if request.answer is Answer.IMPACT:
        impact = await gatherer.impact(subject, request.as_of, request.known_at)
        return await _impact(request, subject, impact, gatherer)
    lineage = await gatherer.lineage(
        subject, request.direction, request.depth, request.as_of, request.known_at
    )
    _check_existed(lineage.nodes.get(subject), lineage.as_of)
    answer = _answer(request, lineage)
    return replace(answer, direction=request.direction, depth=request.depth)


async def _impact(request: ExportRequest, source_id: str, impact: Subgraph, gatherer: Gatherer) -> ProvAnswer:
    """An impact's answer with the report's counts (inferences per model version, total, first use)."""
    report = await gatherer.provenance.impact_report(source_id, impact.as_of, impact.known_at)
    return replace(
        _answer(request, impact),
        inference_counts=dict(report.inference_counts),
        inferences=report.inferences,
        first_used_at=report.first_used_at,
    )


async def _provenance(request: ExportRequest, gatherer: Gatherer) -> ProvAnswer:
    found = await gatherer.model_version(request.subject_id, request.as_of, request.known_at)
    nodes: dict[str, Entity] = dict(found.upstream.nodes)
    edges = list(found.upstream.edges)
    for served in found.deployments:
        nodes[served.deployment.id] = served.deployment
        edges.append(_of(served.deployment))
    answer = _answer(request, found.upstream)
    answer = replace(
        answer,
        title=f"whole provenance of {request.subject_id}",
        nodes=nodes,
        edges=tuple(edges),
        stage=found.state.stage,
        aliases=tuple(sorted(found.state.aliases)),
        history=found.history,
        inference_counts={s.deployment.id: s.inferences for s in found.deployments},
    )
    return await _with_endpoints(answer, gatherer)


def _answer(request: ExportRequest, subgraph: Subgraph) -> ProvAnswer:
    assert request.answer is not None
    return ProvAnswer(
        answer=request.answer,
        subject_id=request.subject_id,
        title=subgraph.title,
        as_of=subgraph.as_of,
        known_at=subgraph.known_at,
        is_partial=subgraph.is_partial,
        nodes=subgraph.nodes,
        edges=subgraph.edges,
    )


async def _with_endpoints(answer: ProvAnswer, gatherer: Gatherer) -> ProvAnswer:
    """Each deployment's endpoint (the agent that served) with its ON edge, when the answer lacks them."""
    deployments = [n for n in answer.nodes.values() if isinstance(n, Deployment)]
    wanted = sorted({d.endpoint_id for d in deployments} - answer.nodes.keys())
    found = await gatherer.provenance.entities_by_ids(wanted) if wanted else {}
    nodes = {**answer.nodes, **{i: e for i, e in found.items() if isinstance(e, Endpoint)}}
    have = {(e.type, e.from_id, e.to_id) for e in answer.edges}
    edges = list(answer.edges)
    for d in deployments:
        if d.endpoint_id in nodes and ("ON", d.id, d.endpoint_id) not in have:
            edges.append(_on(d))
    return replace(answer, nodes=nodes, edges=tuple(edges))


def _of(d: Deployment) -> Edge:
    # The stored OF and ON edges take effect and are recorded with the deployment itself.
    return Edge("OF", d.id, d.model_version_id, valid_from=d.started_at, recorded_at=d.recorded.recorded_at)


def _on(d: Deployment) -> Edge:
    return Edge("ON", d.id, d.endpoint_id, valid_from=d.started_at, recorded_at=d.recorded.recorded_at)


def _trace_recorded(trace: Subgraph) -> Subgraph:
    """A trace's hops from the inference are recorded with the inference: say so on those edges."""
    recorded = {n.id: n.recorded.recorded_at for n in trace.nodes.values() if isinstance(n, Inference)}
    edges = tuple(
        replace(e, recorded_at=recorded.get(e.from_id)) if e.recorded_at is None else e for e in trace.edges
    )
    return replace(trace, edges=edges)


def _check_existed(node: Entity | None, as_of: datetime) -> None:
    """A lineage as of a time before its subject came to exist would describe nothing that was."""
    if node is None:
        return
    began = _own_time(node)
    if began is not None and began > as_of:
        raise InvalidArgument(
            f"{node.id!r} came to exist at {began.isoformat()}, after asOf ({as_of.isoformat()})",
            field="asOf",
        )


def _own_time(node: Entity) -> datetime | None:
    if isinstance(node, DatasetVersion | Slice | ModelVersion):
        return node.created_at
    if isinstance(node, Run | Deployment):
        return node.started_at
    if isinstance(node, Inference):
        return node.at
    return None  # sources, datasets, models, experiments, endpoints have no time of their own


def serialise(document: ProvDocument, fmt: str) -> bytes:
    """The document in one of `FORMATS`, deterministic (see the module docstring)."""
    if fmt == "provn":
        return (document.get_provn() + "\n").encode("utf-8")
    if fmt == "json":
        return _canonical_json(json.loads(_text(document.serialize(format="json"))))
    if fmt in ("turtle", "jsonld"):
        graph = rdf_graph(document)
        if fmt == "turtle":
            return graph.serialize(format="turtle").encode("utf-8")
        written = graph.serialize(format="json-ld", context=JSONLD_CONTEXT)
        return _canonical_json(_sorted_jsonld(json.loads(written)))
    raise InvalidArgument(f"prov comes as {', '.join(FORMATS)}; not {fmt!r}", field="format")


def rdf_graph(document: ProvDocument) -> Graph:
    """The document as PROV-O triples: prov's qualified form of every relation (a `prov:qualifiedUsage`
    node with its time, role and attributes) and, beside it, the unqualified triple (`prov:used`) that
    PROV-O queries walk, e.g. `?version prov:wasDerivedFrom+ ?source`."""
    # The document's own graph (it has no bundles), not prov's Dataset: rdflib warns on a Dataset's
    # deprecated default context when it writes one as Turtle.
    graph = ProvRDFSerializer(document).encode_container(document)
    for record in document.get_records(ProvRelation):
        formal = record.formal_attributes
        first, second = formal[0][1], formal[1][1]
        if not isinstance(first, QualifiedName) or not isinstance(second, QualifiedName):
            continue
        subject, target = URIRef(first.uri), URIRef(second.uri)
        graph.add((subject, URIRef(PROV[PROV_N_MAP[record.get_type()]].uri), target))
        if PROV["PrimarySource"] in record.get_asserted_types():
            graph.add((subject, URIRef(PROV["hadPrimarySource"].uri), target))
    return graph


def _text(written: str | None) -> str:
    assert written is not None  # serialize() without a destination returns the text
    return written


def _sorted_jsonld(value: Any) -> Any:
    """JSON-LD's arrays (other than @list, which this document never uses) are unordered: sort them, so
    the order rdflib happens to write nodes and values in cannot change the bytes."""
    if isinstance(value, dict):
        return {k: _sorted_jsonld(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_jsonld(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _canonical_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


RENDERER = Renderer(formats=FORMATS, render=render, subjects=tuple(Kind))
