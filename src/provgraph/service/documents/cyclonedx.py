"""A CycloneDX 1.6 ML-BOM of a model version, written with `cyclonedx-python-lib`.

What goes where (README "AI-BOM" has the table):

- the model version → the BOM's `metadata.component`, a `machine-learning-model` (name, version, the
  artifact URI as a `distribution` reference, supplier = the model's owner) with a `modelCard`:
  `modelParameters.datasets` refers to the data components its training run used, `quantitativeAnalysis.
  performanceMetrics` holds the version's and the run's metrics; hyperparameters, the run and the roles
  of its data are `provgraph:` properties (CycloneDX 1.6 has no field for them);
- each version it was fine-tuned from → a `machine-learning-model` component the model depends on, named
  in the model's `pedigree.notes`;
- every dataset version and slice upstream, and every source → `data` components (digest → `hashes` when
  it is a whole digest, licences from their sources with the source each came from, `data[].contents.url`,
  `data[].governance.owners`); derivations and sources are dependencies; an excluded source carries
  `provgraph:excluded*` properties and the BOM's metadata names it;
- the training environments → `library` (pkg:pypi purls), `framework`, `platform` (Python) and
  `container` components the model depends on.

`cyclonedx-python-lib` (11.x) does not model `modelCard` or `component.data` yet (its issues #912 and
#913), so they are added to the JSON the library writes, and the whole document is then checked against
the 1.6 schema the library ships (JsonStrictValidator) in the tests.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseAcknowledgement, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import is_supported_id
from packageurl import PackageURL

from provgraph import __version__
from provgraph.domain.catalog import Source
from provgraph.domain.documents import Completeness, ExportRequest, Rendered, Serialisation
from provgraph.domain.runs import InputRole
from provgraph.service.documents.bom import (
    BomFacts,
    DataFacts,
    Digest,
    Licence,
    ModelFacts,
    PackageFacts,
    completeness,
    document_uuid,
)
from provgraph.service.documents.gather import Gatherer
from provgraph.service.documents.service import Renderer

MEDIA_TYPE = "application/vnd.cyclonedx+json; version=1.6"

_HASHES = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA_1,
    "sha256": HashAlgorithm.SHA_256,
    "sha384": HashAlgorithm.SHA_384,
    "sha512": HashAlgorithm.SHA_512,
    "sha3-256": HashAlgorithm.SHA3_256,
    "sha3-384": HashAlgorithm.SHA3_384,
    "sha3-512": HashAlgorithm.SHA3_512,
    "blake2b-256": HashAlgorithm.BLAKE2B_256,
    "blake2b-384": HashAlgorithm.BLAKE2B_384,
    "blake2b-512": HashAlgorithm.BLAKE2B_512,
    "blake3": HashAlgorithm.BLAKE3,
}
_TYPES = {
    "library": ComponentType.LIBRARY,
    "framework": ComponentType.FRAMEWORK,
    "platform": ComponentType.PLATFORM,
    "container": ComponentType.CONTAINER,
}

# Recommended fields: the model card's (CycloneDX 1.6, ECMA-424 1st edition, `modelCard` and its
# `modelParameters`, `quantitativeAnalysis` and `considerations`), the component fields an ML-BOM names its
# model by, and for the data it was trained and tested on `componentData` with hashes and licences.
MODEL_FIELDS = (
    "name",
    "version",
    "supplier",
    "hashes",
    "licenses",
    "externalReferences.distribution",
    "modelCard.modelParameters.approach",
    "modelCard.modelParameters.task",
    "modelCard.modelParameters.architectureFamily",
    "modelCard.modelParameters.modelArchitecture",
    "modelCard.modelParameters.datasets",
    "modelCard.modelParameters.inputs",
    "modelCard.modelParameters.outputs",
    "modelCard.quantitativeAnalysis.performanceMetrics",
    "modelCard.considerations.users",
    "modelCard.considerations.useCases",
    "modelCard.considerations.technicalLimitations",
    "modelCard.considerations.performanceTradeoffs",
    "modelCard.considerations.ethicalConsiderations",
    "modelCard.considerations.environmentalConsiderations",
    "modelCard.considerations.fairnessAssessments",
)
DATASET_FIELDS = (
    "hashes",
    "licenses",
    "data.contents",
    "data.description",
    "data.governance",
    "data.classification",
    "data.sensitiveData",
)


async def render(request: ExportRequest, gatherer: Gatherer) -> Rendered:
    """The CycloneDX 1.6 ML-BOM of the request's model version, as of its time."""
    provenance = await gatherer.model_version(request.subject_id, request.as_of, request.known_at)
    facts = BomFacts.of(provenance)
    score = cyclonedx_completeness(facts)
    writer = _Writer(facts, score)
    bom = writer.bom(document_uuid("cyclonedx", provenance))
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    writer.add_model_cards_and_data(document)
    body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Rendered(body, score)


CYCLONEDX = Renderer(formats={"json": Serialisation(MEDIA_TYPE, "cdx.json")}, render=render)


def cyclonedx_completeness(facts: BomFacts) -> Completeness:
    """Which recommended ML-BOM fields the graph fills for the model and the data it was trained and
    tested on. A dataset field counts only when every such dataset has it."""
    model = facts.subject
    by_id = facts.data_by_id()
    used = [by_id[i] for i, _ in model.inputs if i in by_id]
    model_has = {
        "name": True,
        "version": True,
        "supplier": bool(model.owner),
        "externalReferences.distribution": bool(model.version.artifact_uri),
        "modelCard.modelParameters.datasets": bool(used),
        "modelCard.quantitativeAnalysis.performanceMetrics": bool(model.metrics),
    }
    data_has = {
        "hashes": lambda d: d.digest is not None and d.digest.well_formed,
        "licenses": lambda d: bool(d.licences),
        "data.contents": lambda d: bool(d.uri),
        "data.description": lambda d: bool(d.description),
        "data.governance": lambda d: bool(d.owner),
    }
    return completeness(MODEL_FIELDS, model_has, DATASET_FIELDS, data_has, used)


class _Writer:
    def __init__(self, facts: BomFacts, score: Completeness) -> None:
        self.facts = facts
        self.score = score

    def bom(self, serial: uuid.UUID) -> Bom:
        facts = self.facts
        models = {m.id: self.model(m) for m in facts.models}
        data = {d.id: self.dataset(d) for d in facts.data}
        sources = {s.id: self.source(s) for s in facts.sources}
        packages = {p.id: self.package(p) for p in facts.packages}
        subject = models[facts.subject.id]
        bom = Bom(
            serial_number=serial,
            metadata=BomMetaData(
                timestamp=facts.known_at,
                tools=ToolRepository(
                    components=[
                        Component(type=ComponentType.APPLICATION, name="provgraph", version=__version__)
                    ]
                ),
                component=subject,
                properties=self.metadata_properties(),
            ),
            components=[
                *(c for i, c in models.items() if i != facts.subject.id),
                *data.values(),
                *sources.values(),
                *packages.values(),
            ],
        )
        for m in facts.models:
            needs = [data[i] for i, _ in m.inputs if i in data]
            needs += [packages[p.id] for p in facts.packages if m.id in p.used_by]
            if m.base_id and m.base_id in models:
                needs.append(models[m.base_id])
            bom.register_dependency(models[m.id], needs)
        for d in facts.data:
            parents = [data[p] for p, _ in d.parents if p in data]
            parents += [sources[s] for s in d.direct_sources if s in sources]
            bom.register_dependency(data[d.id], parents)
        for component in (*sources.values(), *packages.values()):
            bom.register_dependency(component, [])
        return bom

    def metadata_properties(self) -> list[Property]:
        facts = self.facts
        found = [
            Property(name="provgraph:asOf", value=facts.as_of.isoformat()),
            Property(name="provgraph:knownAt", value=facts.known_at.isoformat()),
            Property(name="provgraph:completeness", value=f"{self.score.score:.3f}"),
            *(Property(name="provgraph:completeness:missing", value=m) for m in self.score.missing),
            *(Property(name="provgraph:excludedSource", value=s) for s in facts.exclusions),
        ]
        if facts.is_partial:
            found.append(Property(name="provgraph:partial", value="upstream lineage cut at the node cap"))
        return found

    def model(self, m: ModelFacts) -> Component:
        version = m.version
        properties = [Property(name="provgraph:id", value=m.id)]
        properties += [Property(name=f"provgraph:hyperparameter:{k}", value=v) for k, v in m.params]
        if m.training:
            properties.append(Property(name="provgraph:training", value=m.training))
        for data_id, role in m.inputs:
            properties.append(Property(name=f"provgraph:data:{role.value.lower()}", value=data_id))
        properties += [Property(name="provgraph:preprocessing", value=step) for step in m.preprocessing]
        if version.framework:
            properties.append(Property(name="provgraph:framework", value=version.framework))
        if m.id == self.facts.subject.id:
            properties += [
                Property(name="provgraph:dependsOnExcludedSource", value=s) for s in self.facts.exclusions
            ]
        return Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            bom_ref=m.id,
            name=m.name,
            version=str(version.version),
            description=version.description or (m.model.description if m.model else None),
            supplier=OrganizationalEntity(name=m.owner) if m.owner else None,
            external_references=[
                ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(version.artifact_uri))
            ],
            pedigree=Pedigree(notes=f"fine-tuned from {m.base_id}") if m.base_id else None,
            properties=properties,
        )

    def dataset(self, d: DataFacts) -> Component:
        properties = [Property(name="provgraph:id", value=d.id)]
        if d.digest is not None and not d.digest.well_formed:
            properties.append(Property(name="provgraph:digest", value=d.digest.raw))
        if d.row_count is not None:
            properties.append(Property(name="provgraph:rowCount", value=str(d.row_count)))
        if d.generated_by:
            properties.append(Property(name="provgraph:generatedBy", value=d.generated_by))
        properties += [Property(name="provgraph:preprocessing", value=step) for step in d.preprocessing]
        properties += [
            Property(
                name="provgraph:sourceLicence",
                value=f"{s.source.id}: {s.licence.raw if s.licence else 'not recorded'}",
            )
            for s in d.sources
        ]
        properties += [
            Property(name="provgraph:derivedFromExcludedSource", value=s.source.id)
            for s in d.sources
            if s.source.id in self.facts.exclusions
        ]
        return Component(
            type=ComponentType.DATA,
            bom_ref=d.id,
            name=d.name,
            version=d.version,
            hashes=_hashes(d.digest),
            licenses=_licences([(s.source.id, s.licence) for s in d.sources]) if d.licences else None,
            external_references=[ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(d.uri))]
            if d.uri
            else None,
            properties=properties,
        )

    def source(self, source: Source) -> Component:
        properties = [
            Property(name="provgraph:id", value=source.id),
            Property(name="provgraph:kind", value=source.kind),
        ]
        if source.license:
            properties.append(Property(name="provgraph:licence", value=source.license))
        if source.id in self.facts.exclusions:
            properties += [
                Property(name="provgraph:excluded", value="true"),
                Property(name="provgraph:excludedAt", value=_iso(source.excluded_at)),
                Property(name="provgraph:exclusionReason", value=source.exclusion_reason or "not recorded"),
                Property(name="provgraph:exclusionRecordedAt", value=_iso(source.exclusion_recorded_at)),
            ]
        licence = Licence.parse(source.license) if source.license else None
        return Component(
            type=ComponentType.DATA,
            bom_ref=source.id,
            name=source.name,
            description=source.description,
            supplier=OrganizationalEntity(name=source.owner) if source.owner else None,
            licenses=_licences([(source.id, licence)]) if licence else None,
            external_references=[
                ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(source.uri))
            ]
            if source.uri
            else None,
            properties=properties,
        )

    def package(self, p: PackageFacts) -> Component:
        properties = [Property(name="provgraph:usedBy", value=m) for m in p.used_by]
        if p.digest is not None and not p.digest.well_formed:
            properties.append(Property(name="provgraph:digest", value=p.digest.raw))
        return Component(
            type=_TYPES[p.purpose],
            bom_ref=p.id,
            name=p.name,
            version=p.version,
            purl=PackageURL.from_string(p.purl) if p.purl else None,
            hashes=_hashes(p.digest),
            properties=properties,
        )

    def add_model_cards_and_data(self, document: dict[str, Any]) -> None:
        """Add what cyclonedx-python-lib cannot model yet: each model's `modelCard` and each data
        component's `data` (CycloneDX 1.6 `componentData`)."""
        components = {c["bom-ref"]: c for c in _components(document)}
        for m in self.facts.models:
            card: dict[str, Any] = {}
            datasets = [{"ref": i} for i, _ in m.inputs if i in components]
            if datasets:
                card["modelParameters"] = {"datasets": datasets}
            if m.metrics:
                card["quantitativeAnalysis"] = {
                    "performanceMetrics": [{"type": k, "value": v} for k, v in m.metrics]
                }
            roles = _roles(m)
            if roles:
                card["properties"] = roles
            if card:
                components[m.id]["modelCard"] = card
        for d in self.facts.data:
            components[d.id]["data"] = [_component_data(d.name, "dataset", d.uri, d.description, d.owner)]
        for s in self.facts.sources:
            components[s.id]["data"] = [_component_data(s.name, "dataset", s.uri, s.description, s.owner)]


def _component_data(
    name: str, kind: str, uri: str | None, description: str | None, owner: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "name": name}
    if uri:
        data["contents"] = {"url": uri}
    if description:
        data["description"] = description
    if owner:
        data["governance"] = {"owners": [{"organization": {"name": owner}}]}
    return data


def _roles(m: ModelFacts) -> list[dict[str, str]]:
    """The role each dataset played in training: CycloneDX's datasets list has no role of its own."""
    names = {
        InputRole.TRAIN: "training",
        InputRole.VALIDATION: "validation",
        InputRole.TEST: "test",
        InputRole.OTHER: "other",
    }
    return [{"name": f"provgraph:dataset:{names[role]}", "value": i} for i, role in m.inputs]


def _components(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    root = document.get("metadata", {}).get("component")
    if root:
        yield root
    yield from document.get("components", [])


def _hashes(digest: Digest | None) -> list[HashType] | None:
    if digest is None or not digest.well_formed or digest.algorithm is None:
        return None
    return [HashType(alg=_HASHES[digest.algorithm], content=digest.value)]


def _licences(given: Sequence[tuple[str, Licence | None]]) -> list[License]:
    """Licences with the source each came from. Single SPDX ids and names are listed one by one (with a
    `provgraph:source` property each); when a source recorded a compound SPDX expression, CycloneDX allows
    only one expression, so they are joined with AND (the component's properties keep the attribution)."""
    known = [(sid, lic) for sid, lic in given if lic is not None]
    if any(lic.expression and not is_supported_id(lic.expression) for _, lic in known) and all(
        lic.expression for _, lic in known
    ):
        expressions = sorted({f"({lic.expression})" for _, lic in known})
        value = expressions[0][1:-1] if len(expressions) == 1 else " AND ".join(expressions)
        return [LicenseExpression(value, acknowledgement=LicenseAcknowledgement.DECLARED)]
    by_licence: dict[str, list[str]] = {}
    for sid, lic in known:
        by_licence.setdefault(lic.raw, []).append(sid)
    out: list[License] = []
    for raw, sids in sorted(by_licence.items()):
        lic = Licence.parse(raw)
        props = [Property(name="provgraph:source", value=s) for s in sorted(sids)]
        if lic.expression and is_supported_id(lic.expression):
            out.append(
                DisjunctiveLicense(
                    id=lic.expression, acknowledgement=LicenseAcknowledgement.DECLARED, properties=props
                )
            )
        else:
            out.append(
                DisjunctiveLicense(
                    name=raw, acknowledgement=LicenseAcknowledgement.DECLARED, properties=props
                )
            )
    return out


def _iso(moment: Any) -> str:
    return moment.isoformat() if moment is not None else "not recorded"
