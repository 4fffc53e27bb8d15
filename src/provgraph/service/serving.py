"""Endpoints, deployments as intervals, and inference logging (single and batched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from provgraph.domain.errors import (
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    ProvgraphError,
)
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.records import Caller
from provgraph.domain.serving import (
    TRAFFIC_EPSILON,
    BatchOutcome,
    Deployment,
    DeploymentSpec,
    Endpoint,
    EndpointSpec,
    Inference,
    InferenceSpec,
    Rejection,
    peak_traffic,
)
from provgraph.domain.time import utcnow
from provgraph.service import validate as v
from provgraph.service.catalog import Registered, check_unchanged, pick
from provgraph.store.serving import ServingStore

MAX_LATENCY_MS = 1e9

_ERRORS: dict[str, type[ProvgraphError]] = {
    "NOT_FOUND": NotFound,
    "FAILED_PRECONDITION": FailedPrecondition,
    "CONFLICT": Conflict,
    "INVALID_ARGUMENT": InvalidArgument,
}


class ServingService:
    def __init__(self, store: ServingStore, max_batch_size: int) -> None:
        self.store = store
        self.max_batch_size = max_batch_size

    async def register_endpoint(self, spec: EndpointSpec, caller: Caller) -> Registered[Endpoint]:
        spec = EndpointSpec(
            name=v.name(spec.name, "name"),
            environment=v.token(spec.environment, "environment"),
            description=v.text(spec.description, "description", 4096),
        )
        endpoint, created = await self.store.merge_endpoint(spec, v.new_stamp(caller))
        if not created:
            check_unchanged(
                "endpoint",
                endpoint.id,
                {
                    "environment": (spec.environment, endpoint.environment),
                    "description": (spec.description, endpoint.description),
                },
            )
        return Registered(endpoint, created)

    async def deploy(self, spec: DeploymentSpec, caller: Caller) -> Registered[Deployment]:
        """Record that a model version serves on an endpoint over an interval. The rules, checked with the
        endpoint locked: the version must exist by the start; it must not also be live there during the
        interval; at no instant of the interval may the endpoint's traffic shares add up to more than 1.
        The same (endpoint, version, start) again is a repeat; so is "deploy now" while that version is
        already live there with the same share."""
        spec = replace(
            spec,
            endpoint=v.name(spec.endpoint, "endpoint"),
            model_version_id=v.one_id(spec.model_version_id, "modelVersionId", Kind.MODEL_VERSION),
            started_at=v.not_in_future(spec.started_at, "startedAt"),
            traffic_share=v.fraction(spec.traffic_share, "trafficShare"),
            reason=v.text(spec.reason, "reason", 2048),
            ended_at=v.not_in_future(spec.ended_at, "endedAt"),
            end_reason=v.text(spec.end_reason, "endReason", 2048),
        )
        if spec.end_reason is not None and spec.ended_at is None:
            raise InvalidArgument("endReason needs endedAt", field="endReason")
        stamp = v.new_stamp(caller)
        started_at = spec.started_at or stamp.at
        start_given = spec.started_at is not None or caller.retry
        if spec.ended_at is not None and spec.ended_at <= started_at:
            raise InvalidArgument("endedAt must be after startedAt", field="endedAt")

        def decide(
            same: Deployment | None, overlapping: list[Deployment], version_created_at: datetime
        ) -> Deployment | None:
            if same is not None:
                check_unchanged(
                    "deployment",
                    same.id,
                    {
                        "trafficShare": (spec.traffic_share, same.traffic_share),
                        "endedAt": (spec.ended_at, same.ended_at),
                    },
                )
                return same
            live_now = [d for d in overlapping if d.model_version_id == spec.model_version_id]
            if not start_given and spec.ended_at is None:
                for d in live_now:
                    # "Deploy it now" while it is live with this share is already true. A deployment of it that
                    # started after this request's "now" and is still open is the same request from a
                    # concurrent caller that took the endpoint's lock first: the same fact, not a clash.
                    live = d.live_at(started_at) or (d.started_at > started_at and d.ended_at is None)
                    if live and abs(d.traffic_share - spec.traffic_share) <= TRAFFIC_EPSILON:
                        return d
            if started_at < version_created_at:
                raise FailedPrecondition(
                    f"{spec.model_version_id} was created at {version_created_at.isoformat()}, after startedAt",
                    field="startedAt",
                )
            if live_now:
                clash = live_now[0]
                raise FailedPrecondition(
                    f"{spec.model_version_id} is already live on {spec.endpoint} during this interval "
                    f"({clash.id}, from {clash.started_at.isoformat()})",
                    field="modelVersionId",
                )
            peak, peak_at = peak_traffic(started_at, spec.ended_at, overlapping)
            if peak + spec.traffic_share > 1 + TRAFFIC_EPSILON:
                raise FailedPrecondition(
                    f"{spec.endpoint} would serve {peak + spec.traffic_share:.0%} of its traffic at "
                    f"{peak_at.isoformat()}; end or shrink a live deployment first",
                    field="trafficShare",
                )
            return None

        deployment, created = await self.store.create_deployment(spec, started_at, stamp, decide)
        return Registered(deployment, created)

    async def end_deployment(
        self, deployment_id: str, ended_at: datetime | None, reason: str | None, caller: Caller
    ) -> Registered[Deployment]:
        """End a deployment. Ending it again (with no time, or the same time) is a repeat (`created` false)."""
        deployment_id = v.one_id(deployment_id, "deploymentId", Kind.DEPLOYMENT)
        requested = v.not_in_future(ended_at, "endedAt")
        reason = v.text(reason, "reason", 2048)
        stamp = v.new_stamp(caller)
        end = requested or stamp.at

        def decide(current: Deployment) -> bool:
            if current.ended_at is not None:
                if requested is None or requested == current.ended_at:
                    return False
                raise FailedPrecondition(
                    f"{current.id} already ended at {current.ended_at.isoformat()}", field="endedAt"
                )
            if end <= current.started_at:
                raise InvalidArgument(
                    f"endedAt must be after the deployment's start ({current.started_at.isoformat()})",
                    field="endedAt",
                )
            return True

        deployment, created = await self.store.end_deployment(deployment_id, end, reason, stamp, decide)
        return Registered(deployment, created)

    async def deployed_at(
        self, endpoint: str, at: datetime | None, known_at: datetime | None = None
    ) -> list[Deployment]:
        """The deployments live on an endpoint at `at` (default now), as known at `known_at`."""
        endpoint_id = make_id(Kind.ENDPOINT, v.name(endpoint, "endpoint"))
        when = v.aware(at, "at") or utcnow()
        found = await self.store.deployed_at(endpoint_id, when, v.known_at(known_at))
        if found is None:
            raise NotFound(f"endpoint {endpoint_id!r} does not exist", field="endpoint")
        return found

    async def log_inference(self, spec: InferenceSpec, caller: Caller) -> tuple[Inference, bool]:
        """Log one inference; any reason it cannot land is raised as that error."""
        outcome = await self.log_inferences([spec], caller)
        if outcome.rejected:
            rejection = outcome.rejected[0]
            raise _ERRORS[rejection.code](rejection.reason, field=rejection.field)
        inference_id = make_id(Kind.INFERENCE, spec.key)
        found = await self.store.inferences_by_ids([inference_id])
        return found[inference_id], outcome.accepted == 1

    async def log_inferences(self, specs: Sequence[InferenceSpec], caller: Caller) -> BatchOutcome:
        """Log a batch in one transaction. Items that are malformed or cannot be resolved are rejected with
        their reason; the others land."""
        check_batch_size(len(specs), self.max_batch_size)
        valid, rejected = checked_batch(enumerate(specs))
        if not valid:
            return BatchOutcome(accepted=0, duplicates=0, rejected=tuple(rejected))
        outcome = await self.store.log_inferences([spec for _, spec in valid], v.new_stamp(caller))
        rejected += [replace(r, index=valid[r.index][0]) for r in outcome.rejected]
        return replace(outcome, rejected=tuple(sorted(rejected, key=lambda r: r.index)))

    async def endpoint(self, endpoint_id: str) -> Endpoint:
        checked = v.one_id(endpoint_id, "id", Kind.ENDPOINT)
        return pick(await self.store.endpoints_by_ids([checked]), checked, "endpoint")

    async def deployment(self, deployment_id: str) -> Deployment:
        checked = v.one_id(deployment_id, "id", Kind.DEPLOYMENT)
        return pick(await self.store.deployments_by_ids([checked]), checked, "deployment")

    async def inference(self, inference_id: str) -> Inference:
        checked = v.one_id(inference_id, "id", Kind.INFERENCE)
        return pick(await self.store.inferences_by_ids([checked]), checked, "inference")

    async def endpoints_by_ids(self, ids: Sequence[str]) -> dict[str, Endpoint]:
        return await self.store.endpoints_by_ids(ids)

    async def deployments_by_ids(self, ids: Sequence[str]) -> dict[str, Deployment]:
        return await self.store.deployments_by_ids(ids)

    async def deployments_of_versions(self, ids: Sequence[str]) -> dict[str, list[Deployment]]:
        return await self.store.deployments_of_versions(ids)

    async def deployments_of_endpoints(self, ids: Sequence[str]) -> dict[str, list[Deployment]]:
        return await self.store.deployments_of_endpoints(ids)

    async def inference_counts(self, ids: Sequence[str]) -> dict[str, int]:
        return await self.store.inference_counts(ids)

    async def served_by_deployments(
        self, ids: Sequence[str], as_of: datetime, known_at: datetime
    ) -> dict[str, int]:
        return await self.store.served_by_deployments(ids, as_of, known_at)


def check_batch_size(n: int, maximum: int) -> None:
    if n > maximum:
        raise LimitExceeded(
            f"a batch may hold at most {maximum} inferences; got {n} (split it)", field="inferences"
        )


def checked_batch(
    specs: Iterable[tuple[int, InferenceSpec]],
) -> tuple[list[tuple[int, InferenceSpec]], list[Rejection]]:
    """Each item checked (positions kept): the valid ones, and a rejection for each other — a key seen
    earlier in the batch included. Both inference paths check batches with this."""
    valid: list[tuple[int, InferenceSpec]] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for index, spec in specs:
        try:
            checked = checked_inference(spec)
            if checked.key in seen:
                raise InvalidArgument(f"inference {checked.key} appears twice in the batch", field="key")
            seen.add(checked.key)
            valid.append((index, checked))
        except ProvgraphError as exc:
            rejected.append(Rejection(index, str(spec.key), exc.code, exc.message, exc.field))
    return valid, rejected


def checked_inference(spec: InferenceSpec) -> InferenceSpec:
    if spec.model_version_id is None and spec.endpoint is None:
        raise InvalidArgument(
            "an inference names a modelVersionId, an endpoint, or both", field="modelVersionId"
        )
    if spec.latency_ms is not None and not 0 <= spec.latency_ms <= MAX_LATENCY_MS:
        # Also refuses NaN and infinities, which Neo4j would store and every later read would choke on.
        raise InvalidArgument(
            f"latencyMs must be a number of milliseconds between 0 and {MAX_LATENCY_MS:g}", field="latencyMs"
        )
    return replace(
        spec,
        key=v.name(spec.key, "key"),
        at=v.not_in_future(spec.at, "at") or utcnow(),
        model_version_id=v.opt_id(spec.model_version_id, "modelVersionId", Kind.MODEL_VERSION),
        endpoint=v.name(spec.endpoint, "endpoint") if spec.endpoint else None,
        input_digest=v.line(spec.input_digest, "inputDigest", 256),
        output_digest=v.line(spec.output_digest, "outputDigest", 256),
    )
