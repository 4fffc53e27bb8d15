"""GraphQL types for endpoints, deployments and inferences."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from provgraph.api.context import Info
from provgraph.api.types.common import KnownAt
from provgraph.api.types.paging import After, First, page_after
from provgraph.domain import serving as domain

if TYPE_CHECKING:
    from provgraph.api.types.registry import ModelVersionType

Lazy = strawberry.lazy


@strawberry.type(name="Endpoint", description="Where models serve: a named endpoint in an environment.")
class EndpointType:
    id: strawberry.ID
    name: str
    environment: str
    description: str | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field(description="The deployments on this endpoint, oldest first, a page at a time.")
    async def deployments(self, info: Info, first: First = None, after: After = None) -> list[DeploymentType]:
        found = await info.context.loaders.deployments_of_endpoint.load(self.id)
        return [DeploymentType.of(d) for d in page_after(found, lambda d: d.id, first, after)]

    @classmethod
    def of(cls, e: domain.Endpoint) -> EndpointType:
        return cls(
            id=strawberry.ID(e.id),
            name=e.name,
            environment=e.environment,
            description=e.description,
            recorded_at=e.recorded.recorded_at,
            recorded_by=e.recorded.recorded_by,
        )


@strawberry.type(
    name="Deployment",
    description="An interval [startedAt, endedAt) during which an endpoint served a version.",
)
class DeploymentType:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    model_version_id: strawberry.ID
    started_at: datetime
    ended_at: datetime | None
    traffic_share: float
    reason: str | None
    end_reason: str | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field
    async def endpoint(self, info: Info) -> EndpointType:
        found = await info.context.loaders.endpoints.load(self.endpoint_id)
        assert found is not None
        return EndpointType.of(found)

    @strawberry.field
    async def model_version(
        self, info: Info
    ) -> Annotated[ModelVersionType, Lazy("provgraph.api.types.registry")]:
        from provgraph.api.types.registry import ModelVersionType

        found = await info.context.loaders.model_versions.load(self.model_version_id)
        assert found is not None
        return ModelVersionType.of(found)

    @classmethod
    def of(cls, d: domain.Deployment) -> DeploymentType:
        return cls(
            id=strawberry.ID(d.id),
            endpoint_id=strawberry.ID(d.endpoint_id),
            model_version_id=strawberry.ID(d.model_version_id),
            started_at=d.started_at,
            ended_at=d.ended_at,
            traffic_share=d.traffic_share,
            reason=d.reason,
            end_reason=d.end_reason,
            recorded_at=d.recorded.recorded_at,
            recorded_by=d.recorded.recorded_by,
        )


@strawberry.type(
    name="Inference", description="One prediction, linked to the model version (and deployment) that made it."
)
class InferenceType:
    id: strawberry.ID
    at: datetime
    model_version_id: strawberry.ID
    deployment_id: strawberry.ID | None
    input_digest: str | None
    output_digest: str | None
    latency_ms: float | None
    recorded_at: datetime
    recorded_by: str

    @strawberry.field
    async def model_version(
        self, info: Info
    ) -> Annotated[ModelVersionType, Lazy("provgraph.api.types.registry")]:
        from provgraph.api.types.registry import ModelVersionType

        found = await info.context.loaders.model_versions.load(self.model_version_id)
        assert found is not None
        return ModelVersionType.of(found)

    @strawberry.field
    async def deployment(self, info: Info) -> DeploymentType | None:
        if self.deployment_id is None:
            return None
        found = await info.context.loaders.deployments.load(self.deployment_id)
        return DeploymentType.of(found) if found else None

    @classmethod
    def of(cls, i: domain.Inference) -> InferenceType:
        return cls(
            id=strawberry.ID(i.id),
            at=i.at,
            model_version_id=strawberry.ID(i.model_version_id),
            deployment_id=strawberry.ID(i.deployment_id) if i.deployment_id else None,
            input_digest=i.input_digest,
            output_digest=i.output_digest,
            latency_ms=i.latency_ms,
            recorded_at=i.recorded.recorded_at,
            recorded_by=i.recorded.recorded_by,
        )


# -- inputs and payloads -------------------------------------------------------------------------------


@strawberry.input
class RegisterEndpointInput:
    name: str
    environment: str = strawberry.field(description="production, staging, dev, …")
    description: str | None = None


@strawberry.input
class DeployInput:
    endpoint: str = strawberry.field(description="The endpoint's name.")
    model_version_id: strawberry.ID
    started_at: datetime | None = strawberry.field(
        default=None, description="Defaults to now; send it explicitly to make retries idempotent."
    )
    traffic_share: float = strawberry.field(default=1.0, description="The share of traffic, in (0, 1].")
    reason: str | None = None
    ended_at: datetime | None = strawberry.field(
        default=None,
        description="For a past interval recorded after the fact: when it ended (else use endDeployment later).",
    )
    end_reason: str | None = None


@strawberry.input
class EndDeploymentInput:
    deployment_id: strawberry.ID
    ended_at: datetime | None = None
    reason: str | None = None


@strawberry.input
class InferenceInput:
    key: str = strawberry.field(
        description="Your unique id for this inference (a UUID): retries never duplicate."
    )
    at: datetime
    model_version_id: strawberry.ID | None = None
    endpoint: str | None = strawberry.field(
        default=None,
        description="With no modelVersionId, the deployment live on this endpoint at `at` is used.",
    )
    input_digest: str | None = None
    output_digest: str | None = None
    latency_ms: float | None = None


@strawberry.type
class RegisterEndpointPayload:
    endpoint: EndpointType
    created: bool


@strawberry.type
class DeployPayload:
    deployment: DeploymentType
    created: bool


@strawberry.type
class EndDeploymentPayload:
    deployment: DeploymentType
    created: bool = strawberry.field(description="False when it had already ended at that time.")


@strawberry.type
class LogInferencePayload:
    inference: InferenceType
    created: bool


@strawberry.type(name="Rejection", description="Why one item of a batch did not land.")
class RejectionType:
    index: int
    key: str
    code: str
    reason: str
    field: str | None


@strawberry.type
class LogInferencesPayload:
    accepted: int = strawberry.field(description="Newly recorded.")
    duplicates: int = strawberry.field(description="Already recorded with the same facts (retries).")
    rejected: list[RejectionType]


def outcome_payload(outcome: domain.BatchOutcome) -> LogInferencesPayload:
    return LogInferencesPayload(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=[
            RejectionType(index=r.index, key=r.key, code=r.code, reason=r.reason, field=r.field)
            for r in outcome.rejected
        ],
    )


def inference_spec(i: InferenceInput) -> domain.InferenceSpec:
    return domain.InferenceSpec(
        key=i.key,
        at=i.at,
        model_version_id=i.model_version_id,
        endpoint=i.endpoint,
        input_digest=i.input_digest,
        output_digest=i.output_digest,
        latency_ms=i.latency_ms,
    )


@strawberry.type
class ServingQuery:
    @strawberry.field
    async def endpoint(self, info: Info, id: strawberry.ID) -> EndpointType:
        return EndpointType.of(await info.context.services.serving.endpoint(id))

    @strawberry.field
    async def deployment(self, info: Info, id: strawberry.ID) -> DeploymentType:
        return DeploymentType.of(await info.context.services.serving.deployment(id))

    @strawberry.field
    async def inference(self, info: Info, id: strawberry.ID) -> InferenceType:
        return InferenceType.of(await info.context.services.serving.inference(id))

    @strawberry.field(description="The deployments live on an endpoint at a time (default: now).")
    async def deployed_at(
        self, info: Info, endpoint: str, at: datetime | None = None, known_at: KnownAt = None
    ) -> list[DeploymentType]:
        found = await info.context.services.serving.deployed_at(endpoint, at, known_at)
        return [DeploymentType.of(d) for d in found]


@strawberry.type
class ServingMutation:
    @strawberry.mutation(description="Record an endpoint. Idempotent on its name.")
    async def register_endpoint(self, info: Info, input: RegisterEndpointInput) -> RegisterEndpointPayload:
        done = await info.context.services.serving.register_endpoint(
            domain.EndpointSpec(
                name=input.name, environment=input.environment, description=input.description
            ),
            info.context.caller,
        )
        return RegisterEndpointPayload(endpoint=EndpointType.of(done.entity), created=done.created)

    @strawberry.mutation(
        description="Start serving a model version on an endpoint (a new deployment interval)."
    )
    async def deploy(self, info: Info, input: DeployInput) -> DeployPayload:
        done = await info.context.services.serving.deploy(
            domain.DeploymentSpec(
                endpoint=input.endpoint,
                model_version_id=input.model_version_id,
                started_at=input.started_at,
                traffic_share=input.traffic_share,
                reason=input.reason,
                ended_at=input.ended_at,
                end_reason=input.end_reason,
            ),
            info.context.caller,
        )
        return DeployPayload(deployment=DeploymentType.of(done.entity), created=done.created)

    @strawberry.mutation(description="End a deployment interval (a rollback ends one and deploys another).")
    async def end_deployment(self, info: Info, input: EndDeploymentInput) -> EndDeploymentPayload:
        done = await info.context.services.serving.end_deployment(
            input.deployment_id, input.ended_at, input.reason, info.context.caller
        )
        return EndDeploymentPayload(deployment=DeploymentType.of(done.entity), created=done.created)

    @strawberry.mutation(description="Log one inference. Errors say why it cannot land.")
    async def log_inference(self, info: Info, input: InferenceInput) -> LogInferencePayload:
        inference, created = await info.context.services.serving.log_inference(
            inference_spec(input), info.context.caller
        )
        return LogInferencePayload(inference=InferenceType.of(inference), created=created)

    @strawberry.mutation(
        description="Log a batch of inferences in one transaction. Items that cannot land are listed in `rejected` "
        "with their reason; the others land."
    )
    async def log_inferences(self, info: Info, inferences: list[InferenceInput]) -> LogInferencesPayload:
        outcome = await info.context.services.serving.log_inferences(
            [inference_spec(i) for i in inferences], info.context.caller
        )
        return outcome_payload(outcome)
