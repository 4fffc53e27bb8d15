"""The graph as W3C PROV: a pure function from a gathered answer to a `prov.model.ProvDocument`.

The mapping itself (which node becomes which PROV element, which edge which relation, where the times go)
is tabled in `prov.py`'s docstring and the README; this module is that table as code. Every record is
added in a fixed order (the export, nodes by id, agents by name, edges by (from, type, to, role), the
recordings, registry events by sequence) with its attributes in a fixed order, and every relation has an
identifier, so the same answer always gives the same document, byte for byte, in every serialisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prov.constants import PROV
from prov.identifier import QualifiedName
from prov.model import ProvDocument

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.documents import Answer
from provgraph.domain.exclusions import ExclusionCase
from provgraph.domain.lineage import Direction, Edge, Entity
from provgraph.domain.registry import EventKind, Model, ModelVersion, RegistryEvent, Stage
from provgraph.domain.runs import Experiment, Run
from provgraph.domain.serving import Deployment, Endpoint, Inference
from provgraph.service.documents.prov_nodes import (
    MLS,
    PG,
    PGV,
    Attributes,
    agent_name,
    as_of,
    dataset_version_attributes,
    deployment_attributes,
    endpoint_attributes,
    inference_attributes,
    model_version_attributes,
    named_attributes,
    node_name,
    present,
    run_attributes,
    slice_attributes,
    source_attributes,
)

__all__ = ["MLS", "PG", "PGV", "ProvAnswer", "build", "node_name"]


@dataclass(frozen=True)
class ProvAnswer:
    """One answer, ready to be written as PROV: the nodes and edges it holds, the times it was drawn at,
    and what only some answers carry (a model version's state and registry history, inference counts)."""

    answer: Answer
    subject_id: str
    title: str
    as_of: datetime
    known_at: datetime
    is_partial: bool
    nodes: Mapping[str, Entity]
    edges: tuple[Edge, ...]
    direction: Direction | None = None  # a lineage's
    depth: int | None = None
    stage: Stage | None = None  # the subject model version's stage and aliases as of `as_of`
    aliases: tuple[str, ...] = ()
    history: tuple[RegistryEvent, ...] = ()  # the subject model version's registry events up to `as_of`
    inference_counts: Mapping[str, int] = field(default_factory=dict)  # by deployment or model version id
    inferences: int | None = None  # an impact's total
    first_used_at: datetime | None = None  # an impact's
    case: ExclusionCase | None = None  # an exclusion's case, with the decisions taken by `as_of`


def export_name(answer: ProvAnswer) -> QualifiedName:
    """The export's own id: a digest of what was asked (answer, subject, direction, depth, both times)."""
    asked = [
        answer.answer.value,
        answer.subject_id,
        answer.direction.value if answer.direction else "",
        "" if answer.depth is None else str(answer.depth),
        answer.as_of.isoformat(),
        answer.known_at.isoformat(),
    ]
    return PG["export:" + hashlib.sha256("|".join(asked).encode()).hexdigest()[:16]]


def edge_name(edge: Edge) -> QualifiedName:
    parts = ["edge", edge.type, edge.from_id, edge.to_id] + ([edge.role] if edge.role else [])
    return PG[":".join(parts)]


def build(answer: ProvAnswer) -> ProvDocument:
    """The PROV document of an answer (see the module docstring for its order)."""
    document = ProvDocument()
    for namespace in (PG, PGV, MLS):
        document.add_namespace(namespace)
    _Writer(document, answer).write()
    return document


class _Writer:
    def __init__(self, document: ProvDocument, answer: ProvAnswer) -> None:
        self.doc = document
        self.answer = answer

    def write(self) -> None:
        self.export()
        nodes = [as_of(self.answer.nodes[i], self.answer.as_of) for i in sorted(self.answer.nodes)]
        for node in nodes:
            self.node(node)
        principals = {n.recorded.recorded_by for n in nodes} | {e.actor for e in self.answer.history}
        if self.answer.case is not None:
            principals |= {self.answer.case.opened_by} | {d.actor for d in self.answer.case.decisions}
        for principal in sorted(principals):
            self.doc.agent(
                agent_name(principal), [(PROV["type"], PGV["Principal"]), (PGV["name"], principal)]
            )
        for edge in sorted(self.answer.edges, key=lambda e: (e.from_id, e.type, e.to_id, e.role or "")):
            self.edge(edge)
        for node in nodes:
            self.recording(node)
        for event in sorted(self.answer.history, key=lambda e: (e.model_id, e.seq)):
            self.event(event)
        if self.answer.case is not None:
            self.exclusion(self.answer.case)

    def exclusion(self, case: ExclusionCase) -> None:
        """The case as an entity (its impact snapshot's digest, who opened it), about its source; each
        decision an instant activity that used the case and the model version, carried out by its actor."""
        name = node_name(case.id)
        self.doc.entity(
            name,
            [
                (PROV["type"], PGV["ExclusionCase"]),
                (PGV["reason"], case.reason),
                (PGV["excludedAt"], case.excluded_at),
                (PGV["impactDigest"], case.snapshot_digest),
                (PGV["recordedAt"], case.opened_at),
                (PGV["recordedBy"], agent_name(case.opened_by)),
                # the affected versions with no decision by `as_of` (one attribute each)
                *((PGV["undecided"], node_name(mv)) for mv in case.undecided),
            ],
        )
        opened = [(PGV["validFrom"], case.excluded_at), (PGV["recordedAt"], case.opened_at)]
        self.doc.influence(
            name, node_name(case.source_id), PG["about:" + case.id], [(PROV["type"], PGV["About"]), *opened]
        )
        self.doc.attribution(
            name,
            agent_name(case.opened_by),
            PG["opened:" + case.id],
            [(PROV["type"], PGV["Opening"]), *opened],
        )
        for d in sorted(case.decisions, key=lambda d: d.model_version_id):
            decision = PG[f"decision:{case.id}:{d.model_version_id}"]
            recorded = [(PGV["recordedAt"], d.recorded_at)]
            self.doc.activity(
                decision,
                d.at,
                d.at,
                [
                    (PROV["type"], PGV["ExclusionDecision"]),
                    (PGV["decision"], d.decision.value),
                    (PGV["reason"], d.reason),
                    *recorded,
                ],
            )
            self.doc.usage(
                decision,
                name,
                d.at,
                PG[f"case:{case.id}:{d.model_version_id}"],
                [(PROV["role"], PGV["case"]), *recorded],
            )
            self.doc.usage(
                decision,
                node_name(d.model_version_id),
                d.at,
                PG[f"affected:{case.id}:{d.model_version_id}"],
                [(PROV["role"], PGV["affected"]), *recorded],
            )
            self.doc.association(
                decision,
                agent_name(d.actor),
                None,
                PG[f"decider:{case.id}:{d.model_version_id}"],
                [(PROV["role"], PGV["actor"]), *recorded],
            )

    def export(self) -> None:
        a = self.answer
        self.doc.entity(
            export_name(a),
            present(
                (PROV["type"], PGV["Export"]),
                (PROV["label"], a.title),
                (PGV["answer"], a.answer.value),
                (PGV["subject"], node_name(a.subject_id)),
                (PGV["asOf"], a.as_of),
                (PGV["knownAt"], a.known_at),
                (PGV["isPartial"], a.is_partial),
                (PGV["direction"], a.direction.value if a.direction else None),
                (PGV["depth"], a.depth),
                (PGV["inferenceCount"], a.inferences),
                (PGV["firstUsedAt"], a.first_used_at),
            ),
        )

    def node(self, node: Entity) -> None:
        name = node_name(node.id)
        recorded = [
            (PGV["recordedAt"], node.recorded.recorded_at),
            (PGV["recordedBy"], agent_name(node.recorded.recorded_by)),
        ]
        if isinstance(node, Run):
            self.doc.activity(name, node.started_at, node.ended_at, run_attributes(node) + recorded)
        elif isinstance(node, Deployment):
            count = self.answer.inference_counts.get(node.id)
            self.doc.activity(
                name, node.started_at, node.ended_at, deployment_attributes(node, count) + recorded
            )
        elif isinstance(node, Endpoint):
            self.doc.agent(name, endpoint_attributes(node) + recorded)
        else:
            self.doc.entity(name, self.entity_attributes(node) + recorded)

    def entity_attributes(self, node: Entity) -> Attributes:
        if isinstance(node, ModelVersion):
            subject = node.id == self.answer.subject_id and self.answer.answer is Answer.PROVENANCE
            count = self.answer.inference_counts.get(node.id)
            return model_version_attributes(
                node, self.answer.stage if subject else None, self.answer.aliases, count
            )
        if isinstance(node, Source):
            return source_attributes(node)
        if isinstance(node, DatasetVersion):
            return dataset_version_attributes(node)
        if isinstance(node, Slice):
            return slice_attributes(node)
        if isinstance(node, Inference):
            return inference_attributes(node)
        if isinstance(node, Dataset | Model | Experiment):
            return named_attributes(node)
        raise TypeError(f"no PROV mapping for {type(node).__name__}")  # pragma: no cover

    def edge(self, edge: Edge) -> None:
        """One graph edge as one PROV relation; the effective time goes in the relation's own time where
        PROV has one (usage, generation), else in `pgv:validFrom`; `pgv:recordedAt` always."""
        name, source, target = edge_name(edge), node_name(edge.from_id), node_name(edge.to_id)
        times = present((PGV["recordedAt"], edge.recorded_at))
        valid = present((PGV["validFrom"], edge.valid_from))
        kind = edge.type
        if kind in ("GENERATED_BY", "SERVED_BY"):
            self.doc.generation(source, target, edge.valid_from, name, times)
        elif kind == "USED":
            used_as = [(PROV["role"], PGV[(edge.role or "OTHER").lower()])]
            self.doc.usage(source, target, edge.valid_from, name, used_as + times)
        elif kind == "OF":
            served = [(PROV["role"], PGV["servedModel"])]
            self.doc.usage(source, target, edge.valid_from, name, served + times)
        elif kind == "ON":
            serving = [(PROV["role"], PGV["endpoint"])]
            self.doc.association(source, target, None, name, serving + valid + times)
        elif kind == "VERSION_OF":
            # PROV's specialization carries no id and no attributes: its times are the version's own.
            self.doc.specialization(source, target)
        elif kind == "DERIVED_FROM":
            how = present((PGV["transform"], edge.transform))
            self.doc.derivation(source, target, None, None, None, name, how + valid + times)
        elif kind in _TYPED_DERIVATIONS:
            typed = [(PROV["type"], _TYPED_DERIVATIONS[kind])]
            self.doc.derivation(source, target, None, None, None, name, typed + valid + times)
        else:  # PART_OF, and any edge type added later: PROV's most general relation, typed by the edge
            typed = [(PROV["type"], PGV[_EDGE_TYPES.get(kind, kind)])]
            self.doc.influence(source, target, name, typed + valid + times)

    def recording(self, node: Entity) -> None:
        """Who reported a node to provgraph, and when (transaction time)."""
        if isinstance(node, Endpoint):
            return  # an agent: its recorder is in its `pgv:recordedBy`
        name = PG["recorded:" + node.id]
        agent = agent_name(node.recorded.recorded_by)
        at = (PGV["recordedAt"], node.recorded.recorded_at)
        if isinstance(node, Run | Deployment):
            self.doc.association(node_name(node.id), agent, None, name, [(PROV["role"], PGV["recorder"]), at])
        else:
            self.doc.attribution(node_name(node.id), agent, name, [(PROV["type"], PGV["Recording"]), at])

    def event(self, event: RegistryEvent) -> None:
        """A registry event: an instant activity that used the model version, carried out by its actor."""
        name = node_name(event.id)
        recorded = present((PGV["recordedAt"], event.recorded_at))
        self.doc.activity(
            name,
            event.at,
            event.at,
            present(
                (PROV["type"], PGV["RegistryEvent"]),
                (PROV["type"], PGV[_EVENT_TYPES[event.kind]]),
                (PGV["seq"], event.seq),
                (PGV["fromStage"], event.from_stage.value if event.from_stage else None),
                (PGV["toStage"], event.to_stage.value if event.to_stage else None),
                (PGV["alias"], event.alias),
                (
                    PGV["previousVersion"],
                    node_name(event.previous_version_id) if event.previous_version_id else None,
                ),
                (PGV["reason"], event.reason),
                (PGV["hash"], event.hash),
                (PGV["prevHash"], event.prev_hash),
            )
            + recorded,
        )
        self.doc.usage(
            name,
            node_name(event.version_id),
            event.at,
            PG["subject:" + event.id],
            [(PROV["role"], PGV["subject"]), *recorded],
        )
        self.doc.association(
            name,
            agent_name(event.actor),
            None,
            PG["actor:" + event.id],
            [(PROV["role"], PGV["actor"]), *recorded],
        )


_TYPED_DERIVATIONS = {
    "FROM_SOURCE": PROV["PrimarySource"],  # PROV-O's hadPrimarySource
    "SUBSET_OF": PGV["Subset"],
    "FINE_TUNED_FROM": PGV["FineTuning"],
    "PREDICTED_WITH": PGV["Prediction"],
}
_EDGE_TYPES = {"PART_OF": "PartOf"}
_EVENT_TYPES = {
    EventKind.REGISTERED: "Registered",
    EventKind.STAGE_CHANGED: "StageChanged",
    EventKind.ALIAS_SET: "AliasSet",
    EventKind.ALIAS_REMOVED: "AliasRemoved",
}
