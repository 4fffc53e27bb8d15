"""An SPDX 3.0.1 AI-BOM of a model version (AI and Dataset profiles), written with the SPDX project's
Python bindings (`spdx-python-model`) as SPDX 3 JSON (`application/spdx3+json`, `.spdx3.json`).

What goes where (README "AI-BOM" has the table):

- the model version and each version it was fine-tuned from → `ai_AIPackage` (name, packageVersion,
  downloadLocation = artifact URI, releaseTime = created, suppliedBy = the model's owner, hyperparameter =
  its training run's params, metric = the version's metrics then the run's, informationAboutTraining = run,
  code and environment, modelDataPreprocessing = every transform its data went through); `descendantOf`
  its base;
- every dataset version and slice upstream → `dataset_DatasetPackage` (digest → verifiedUsing Hash when it
  is a whole digest, uri → downloadLocation, dataPreprocessing = its transform or predicate, originatedBy
  = the dataset's owner, datasetType noAssertion: the graph does not say); the model's run's inputs by role:
  TRAIN → `trainedOn`, VALIDATION/TEST → `testedOn`; derivations → `descendantOf`, slices ← `contains`;
- sources → `software_Package` (uri, owner, licence) that the data they fed is `descendantOf`; an excluded
  source carries a review `Annotation` with its time and reason;
- licences: a data package's declared licence is the AND of its sources' licences (an SPDX expression
  when a licence parses as one, else a `LicenseRef-provgraph-…`), NOASSERTION when any source recorded
  none; concluded licences are NOASSERTION (provgraph draws no legal conclusion); the model's licence is
  not in the graph (NOASSERTION);
- the training environments → `software_Package`s (pkg:pypi purls for `name==version`, the framework, the
  Python version as a platform, the image as a container) the model `dependsOn` (scope build).

Ids are derived from provgraph ids under a namespace that is a UUID5 of the subject and both times, so
the same request gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from spdx_python_model import v3_0_1 as spdx

from provgraph import __version__
from provgraph.domain.documents import Completeness, ExportRequest, Rendered, Serialisation
from provgraph.domain.ids import Kind
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

SPEC_VERSION = "3.0.1"
# IANA registered application/spdx3+json (extension .spdx3.json) for SPDX 3; application/spdx+json is SPDX 2's.
MEDIA_TYPE = "application/spdx3+json"

_NO_ASSERTION = spdx.expandedlicensing_IndividualLicensingInfo.NoAssertionLicense
_HASH_ALGORITHMS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
    "blake2b-256": "blake2b256",
    "blake2b-384": "blake2b384",
    "blake2b-512": "blake2b512",
    "blake3": "blake3",
}
_PURPOSES = {
    "library": spdx.software_SoftwarePurpose.library,
    "framework": spdx.software_SoftwarePurpose.framework,
    "platform": spdx.software_SoftwarePurpose.platform,
    "container": spdx.software_SoftwarePurpose.container,
}

# Recommended fields. The AI package's are the SPDX 3.0.1 AI profile's (spdx.github.io/spdx-spec/v3.0.1/
# model/AI/Classes/AIPackage: its properties and the ones its profile makes mandatory); the dataset's
# are the Dataset profile's DatasetPackage (…/model/Dataset/Classes/DatasetPackage); both as listed in
# "Implementing AI BOM with SPDX 3.0" (Bennet et al., Linux Foundation, 2024), mandatory and optional.
MODEL_FIELDS = (
    "name",
    "packageVersion",
    "downloadLocation",
    "releaseTime",
    "suppliedBy",
    "verifiedUsing",
    "hasDeclaredLicense",
    "hasConcludedLicense",
    "trainedOn",
    "testedOn",
    "autonomyType",
    "domain",
    "energyConsumption",
    "hyperparameter",
    "informationAboutApplication",
    "informationAboutTraining",
    "limitation",
    "metric",
    "metricDecisionThreshold",
    "modelDataPreprocessing",
    "modelExplainability",
    "safetyRiskAssessment",
    "standardCompliance",
    "typeOfModel",
    "useSensitivePersonalInformation",
)
DATASET_FIELDS = (
    "verifiedUsing",
    "downloadLocation",
    "releaseTime",
    "originatedBy",
    "hasDeclaredLicense",
    "hasConcludedLicense",
    "anonymizationMethodUsed",
    "confidentialityLevel",
    "dataCollectionProcess",
    "dataPreprocessing",
    "datasetAvailability",
    "datasetNoise",
    "datasetSize",
    "datasetType",
    "datasetUpdateMechanism",
    "hasSensitivePersonalInformation",
    "intendedUse",
    "knownBias",
    "sensor",
)


async def render(request: ExportRequest, gatherer: Gatherer) -> Rendered:
    """The SPDX 3.0.1 AI-BOM of the request's model version, as of its time."""
    provenance = await gatherer.model_version(request.subject_id, request.as_of, request.known_at)
    facts = BomFacts.of(provenance)
    namespace = f"urn:provgraph:spdx:{document_uuid('spdx', provenance)}/"
    score = spdx_completeness(facts)
    objects = _Writer(facts, namespace, score).write()
    data = spdx.JSONLDSerializer().serialize_data(spdx.SHACLObjectSet(objects), force_at_graph=True)
    body = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False).encode("utf-8") + b"\n"
    return Rendered(body, score)


SPDX = Renderer(formats={"json": Serialisation(MEDIA_TYPE, "spdx3.json")}, render=render)


def spdx_completeness(facts: BomFacts) -> Completeness:
    """Which of the AI and Dataset profiles' recommended fields the graph fills for the subject model and
    the data it was trained and tested on. A dataset field counts only when every such dataset has it."""
    model = facts.subject
    by_id = facts.data_by_id()
    used = [by_id[i] for i, _ in model.inputs if i in by_id]
    model_has = {
        "name": True,
        "packageVersion": True,
        "downloadLocation": bool(model.version.artifact_uri),
        "releaseTime": True,
        "suppliedBy": bool(model.owner),
        "verifiedUsing": False,  # the registry records no digest of a model's artifact
        "hasDeclaredLicense": False,  # nor its licence
        "hasConcludedLicense": False,
        "trainedOn": bool(model.used(InputRole.TRAIN)),
        "testedOn": bool(model.used(InputRole.VALIDATION, InputRole.TEST)),
        "hyperparameter": bool(model.params),
        "informationAboutTraining": model.training is not None,
        "metric": bool(model.metrics),
        "modelDataPreprocessing": bool(model.preprocessing),
    }
    data_has = {
        "verifiedUsing": lambda d: d.digest is not None and d.digest.well_formed,
        "downloadLocation": lambda d: bool(d.uri),
        "releaseTime": lambda d: True,
        "originatedBy": lambda d: bool(d.owner),
        "hasDeclaredLicense": lambda d: bool(d.licences),
        "dataPreprocessing": lambda d: bool(d.preprocessing),
    }
    return completeness(MODEL_FIELDS, model_has, DATASET_FIELDS, data_has, used)


class _Writer:
    """Builds the SPDX objects of one document; every id is `namespace` + a provgraph id or a fixed name."""

    def __init__(self, facts: BomFacts, namespace: str, score: Completeness) -> None:
        self.facts = facts
        self.ns = namespace
        self.score = score
        self.elements: list[Any] = []
        self.agents: dict[str, Any] = {}
        self.licences: dict[str, Any] = {}
        self.relationship_count = 0
        self.info = spdx.CreationInfo(specVersion=SPEC_VERSION, created=_second(facts.known_at))
        self.provgraph = self.add(spdx.SoftwareAgent(spdxId=self.ns + "agent/provgraph", name="provgraph"))
        tool = self.add(spdx.Tool(spdxId=self.ns + "tool/provgraph", name=f"provgraph {__version__}"))
        self.info.createdBy = [self.provgraph]
        self.info.createdUsing = [tool]
        self.info.comment = (
            f"Drawn from provgraph's lineage graph as of {facts.as_of.isoformat()}, as recorded by "
            f"{facts.known_at.isoformat()}."
        )

    def add(self, element: Any) -> Any:
        element.creationInfo = self.info
        self.elements.append(element)
        return element

    def id(self, *parts: str) -> str:
        return self.ns + "/".join(parts)

    def write(self) -> list[Any]:
        facts = self.facts
        packages = {p.id: self.package(p) for p in facts.packages}
        sources = {s.id: self.source(s) for s in facts.sources}
        data = {d.id: self.dataset(d) for d in facts.data}
        models = {m.id: self.model(m) for m in facts.models}
        for d in facts.data:
            for parent, _ in d.parents:
                if parent not in data:
                    continue
                if d.kind is Kind.SLICE:
                    self.relate(data[parent], "contains", [data[d.id]])
                else:
                    self.relate(data[d.id], "descendantOf", [data[parent]])
            reached = [sources[s] for s in d.direct_sources if s in sources]
            if reached:
                self.relate(data[d.id], "descendantOf", reached)
        for m in facts.models:
            element = models[m.id]
            for role, kind in (
                ((InputRole.TRAIN,), "trainedOn"),
                ((InputRole.VALIDATION, InputRole.TEST), "testedOn"),
                ((InputRole.OTHER,), "other"),
            ):
                used = [data[i] for i in m.used(*role) if i in data]
                if used:
                    self.relate(element, kind, used, comment=_roles(m, role))
            if m.base_id and m.base_id in models:
                self.relate(element, "descendantOf", [models[m.base_id]], comment="fine-tuned from")
            deps = [packages[p.id] for p in facts.packages if m.id in p.used_by]
            if deps:
                self.relate(
                    element,
                    "dependsOn",
                    deps,
                    scope=spdx.LifecycleScopeType.build,
                    comment=f"held by the environment of its training run {m.run.key if m.run else ''}".strip(),
                )
        for source in facts.exclusions.values():
            self.add(
                spdx.Annotation(
                    spdxId=self.id("annotation", "excluded", source.id),
                    annotationType=spdx.AnnotationType.review,
                    subject=sources[source.id],
                    statement=_exclusion(source),
                )
            )
        subject = models[facts.subject.id]
        self.add(
            spdx.Annotation(
                spdxId=self.id("annotation", "completeness"),
                annotationType=spdx.AnnotationType.other,
                subject=subject,
                statement=_score_text(self.score),
            )
        )
        content = list(self.elements)
        bom = self.add(
            spdx.software_Sbom(
                spdxId=self.id("sbom"),
                name=f"AI-BOM of {facts.subject.name} version {facts.subject.version.version}",
                rootElement=[subject],
                element=content,
            )
        )
        document = spdx.SpdxDocument(
            spdxId=self.id("document"),
            name=bom.name,
            rootElement=[bom],
            element=[*content, bom],
            profileConformance=[
                spdx.ProfileIdentifierType.core,
                spdx.ProfileIdentifierType.software,
                spdx.ProfileIdentifierType.ai,
                spdx.ProfileIdentifierType.dataset,
                spdx.ProfileIdentifierType.simpleLicensing,
                spdx.ProfileIdentifierType.expandedLicensing,
            ],
            comment=self.document_comment(),
        )
        self.add(document)
        return self.elements

    def document_comment(self) -> str:
        facts = self.facts
        lines = [
            f"AI-BOM of {facts.subject.id} drawn by provgraph {__version__} as of {facts.as_of.isoformat()}, "
            f"as recorded by {facts.known_at.isoformat()}.",
            _score_text(self.score),
        ]
        if facts.exclusions:
            lines.append(
                "Depends on excluded source(s): "
                + "; ".join(f"{s.id} ({_exclusion(s)})" for s in facts.exclusions.values())
            )
        if facts.is_partial:
            lines.append("The upstream lineage was cut at the service's node cap: this BOM is partial.")
        return "\n".join(lines)

    def agent(self, name: str) -> Any:
        if name not in self.agents:
            self.agents[name] = self.add(spdx.Agent(spdxId=self.id("agent", _slug(name)), name=name))
        return self.agents[name]

    def licence(self, licences: Sequence[Licence]) -> Any:
        """A licence expression element for the AND of `licences`, or NOASSERTION when there are none."""
        if not licences:
            return _NO_ASSERTION
        parts = [lic.spdx_expression for lic in licences]
        expression = parts[0] if len(parts) == 1 else " AND ".join(f"({p})" for p in parts)
        if expression not in self.licences:
            refs = [f"{lic.licence_ref} is {lic.raw!r} as recorded" for lic in licences if not lic.expression]
            element = self.add(
                spdx.simplelicensing_LicenseExpression(
                    spdxId=self.id("licence", str(len(self.licences) + 1)),
                    simplelicensing_licenseExpression=expression,
                )
            )
            if refs:
                element.comment = "; ".join(refs)
            self.licences[expression] = element
        return self.licences[expression]

    def licensed(self, element: Any, licences: Sequence[Licence]) -> None:
        self.relate(element, "hasDeclaredLicense", [self.licence(licences)])
        self.relate(
            element, "hasConcludedLicense", [_NO_ASSERTION], comment="provgraph draws no licence conclusion"
        )

    def relate(
        self,
        from_: Any,
        kind: str,
        to: Sequence[Any],
        *,
        scope: Any = None,
        comment: str | None = None,
    ) -> None:
        self.relationship_count += 1
        fields = {
            "spdxId": self.id("relationship", str(self.relationship_count)),
            "from_": from_,
            "relationshipType": getattr(spdx.RelationshipType, kind),
            "to": list(to),
        }
        relationship = (
            spdx.LifecycleScopedRelationship(scope=scope, **fields)
            if scope is not None
            else spdx.Relationship(**fields)
        )
        if comment:
            relationship.comment = comment
        self.add(relationship)

    def model(self, m: ModelFacts) -> Any:
        version = m.version
        element = self.add(
            spdx.ai_AIPackage(
                spdxId=self.id(m.id),
                name=m.name,
                software_packageVersion=str(version.version),
                software_downloadLocation=version.artifact_uri,
                releaseTime=_second(version.created_at),
                software_primaryPurpose=spdx.software_SoftwarePurpose.model,
                ai_hyperparameter=[spdx.DictionaryEntry(key=k, value=v) for k, v in m.params],
                ai_metric=[spdx.DictionaryEntry(key=k, value=v) for k, v in m.metrics],
                ai_modelDataPreprocessing=list(m.preprocessing),
            )
        )
        if m.owner:
            element.suppliedBy = self.agent(m.owner)
        if m.training:
            element.ai_informationAboutTraining = m.training
        description = version.description or (m.model.description if m.model else None)
        if description:
            element.description = description
        comment = [f"provgraph id {m.id}"]
        if version.framework:
            comment.append(f"framework {version.framework}")
        if version.size_bytes is not None:
            comment.append(f"artifact size {version.size_bytes} bytes")
        if m.id == self.facts.subject.id:
            comment += self.subject_state()
        element.comment = "; ".join(comment)
        self.licensed(element, [])
        return element

    def subject_state(self) -> list[str]:
        facts = self.facts
        lines = []
        if facts.exclusions:
            lines.append("depends on excluded source(s) " + ", ".join(facts.exclusions))
        if facts.is_partial:
            lines.append("upstream lineage partial (node cap)")
        return lines

    def dataset(self, d: DataFacts) -> Any:
        element = self.add(
            spdx.dataset_DatasetPackage(
                spdxId=self.id(d.id),
                name=d.name,
                software_packageVersion=d.version,
                builtTime=_second(d.created_at),
                releaseTime=_second(d.created_at),
                software_primaryPurpose=spdx.software_SoftwarePurpose.data,
                dataset_datasetType=[spdx.dataset_DatasetType.noAssertion],
                dataset_dataPreprocessing=d.preprocessing,
            )
        )
        if d.uri:
            element.software_downloadLocation = d.uri
        if d.owner:
            element.originatedBy = [self.agent(d.owner)]
        if d.description:
            element.description = d.description
        hashed = _hash(d.digest)
        if hashed is not None:
            element.verifiedUsing = [hashed]
        comment = [f"provgraph id {d.id}"]
        if d.digest is not None and hashed is None:
            comment.append(f"recorded digest {d.digest.raw!r} is not a whole digest of a known algorithm")
        if d.row_count is not None:
            comment.append(f"{d.row_count} rows")
        if d.generated_by:
            comment.append(f"generated by {d.generated_by}")
        comment += [
            f"licence {s.licence.raw!r} from {s.source.id}"
            if s.licence
            else f"no licence recorded for {s.source.id}"
            for s in d.sources
        ]
        excluded = [s.source.id for s in d.sources if s.source.id in self.facts.exclusions]
        if excluded:
            comment.append("derived from excluded source(s) " + ", ".join(excluded))
        element.comment = "; ".join(comment)
        self.licensed(element, d.licences)
        return element

    def source(self, source: Any) -> Any:
        element = self.add(
            spdx.software_Package(
                spdxId=self.id(source.id),
                name=source.name,
                software_primaryPurpose=spdx.software_SoftwarePurpose.data,
            )
        )
        if source.uri:
            element.software_downloadLocation = source.uri
        if source.owner:
            element.suppliedBy = self.agent(source.owner)
        if source.description:
            element.description = source.description
        comment = [f"provgraph id {source.id}", f"a data source of kind {source.kind}"]
        comment.append(f"licence {source.license!r} as recorded" if source.license else "no licence recorded")
        if source.id in self.facts.exclusions:
            comment.append(_exclusion(source))
        element.comment = "; ".join(comment)
        self.licensed(element, [Licence.parse(source.license)] if source.license else [])
        return element

    def package(self, p: PackageFacts) -> Any:
        element = self.add(
            spdx.software_Package(
                spdxId=self.id(p.id),
                name=p.name,
                software_primaryPurpose=_PURPOSES[p.purpose],
            )
        )
        if p.version:
            element.software_packageVersion = p.version
        if p.purl:
            element.software_packageUrl = p.purl
        hashed = _hash(p.digest)
        if hashed is not None:
            element.verifiedUsing = [hashed]
        elif p.digest is not None:
            element.comment = f"recorded digest {p.digest.raw!r} is not a whole digest of a known algorithm"
        return element


def _hash(digest: Digest | None) -> Any:
    if digest is None or not digest.well_formed or digest.algorithm is None:
        return None
    return spdx.Hash(
        algorithm=getattr(spdx.HashAlgorithm, _HASH_ALGORITHMS[digest.algorithm]), hashValue=digest.value
    )


def _roles(model: ModelFacts, roles: tuple[InputRole, ...]) -> str:
    return "used by its training run as " + " or ".join(r.value.lower() for r in roles)


def _exclusion(source: Any) -> str:
    recorded = (
        f", recorded {source.exclusion_recorded_at.isoformat()}" if source.exclusion_recorded_at else ""
    )
    reason = source.exclusion_reason or "no reason recorded"
    return f"EXCLUDED from use at {source.excluded_at.isoformat()}{recorded}: {reason}"


def _score_text(score: Completeness) -> str:
    return (
        f"provgraph completeness {score.score:.3f} ({len(score.present)} of "
        f"{len(score.present) + len(score.missing)} recommended fields); not recorded: "
        + (", ".join(score.missing) or "nothing")
    )


def _second(moment: datetime) -> datetime:
    """SPDX times are UTC to the second (`…T12:00:00Z`)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._\-]+", "-", text).strip("-") or "unnamed"
