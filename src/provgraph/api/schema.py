"""The GraphQL schema: root types composed from per-area mixins, scalars, and the safety extensions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from provgraph.api.auth import Authorization
from provgraph.api.cost import QueryCost
from provgraph.api.errors import ErrorCodes
from provgraph.api.observe import OperationRecorder
from provgraph.api.scalars import SCALAR_MAP
from provgraph.api.types.admin import AdminMutation, AdminQuery
from provgraph.api.types.catalog import CatalogMutation, CatalogQuery
from provgraph.api.types.documents import DocumentQuery
from provgraph.api.types.erasure import ErasureMutation
from provgraph.api.types.exclusions import ExclusionMutation, ExclusionQuery
from provgraph.api.types.membership import MembershipMutation, MembershipQuery
from provgraph.api.types.provenance import ProvenanceQuery
from provgraph.api.types.registry import RegistryMutation, RegistryQuery
from provgraph.api.types.retention import RetentionMutation, RetentionQuery
from provgraph.api.types.runs import RunMutation, RunQuery
from provgraph.api.types.serving import ServingMutation, ServingQuery
from provgraph.config import Limits


@strawberry.type
class Query(
    ProvenanceQuery,
    CatalogQuery,
    RunQuery,
    RegistryQuery,
    ServingQuery,
    AdminQuery,
    DocumentQuery,
    ExclusionQuery,
    RetentionQuery,
    MembershipQuery,
):
    pass


@strawberry.type
class Mutation(
    CatalogMutation,
    RunMutation,
    RegistryMutation,
    ServingMutation,
    ExclusionMutation,
    ErasureMutation,
    AdminMutation,
    RetentionMutation,
    MembershipMutation,
):
    pass


class RecordsWrites(FieldExtension):
    """Notes on the request's context whether a mutation recorded anything: a mutation answering
    `created: false` repeated a recorded fact; anything else (a new fact, a batch, a token) wrote."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = await next_(source, info, **kwargs)
        if getattr(result, "created", True) is not False and hasattr(info.context, "wrote"):
            info.context.wrote = True
        return result


for _field in Mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
    _field.extensions.append(RecordsWrites())


class ProvgraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes logs the errors that deserve it, with the request id; expected errors (bad input,
        # not found) are answers, not incidents, and stay out of the error log.
        return None


def build_schema(*, development: bool = False, limits: Limits | None = None) -> strawberry.Schema:
    """The schema. Production turns off introspection and field suggestions (both leak the schema)."""
    limits = limits or Limits()
    # The limiters' validation rules are built once: strawberry's ValidationCache keys on the rule
    # classes, and a limiter built per request makes new classes, so every request would miss the cache
    # (measured: ~4 ms of validation per request). Extensions themselves are per-request factories.
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    if not development:
        rules += DisableIntrospection().validation_rules
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ErrorCodes(suggestions=development),
        OperationRecorder,
        Authorization,
        lambda: QueryCost(budget=limits.max_query_cost),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    config = StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=not development)
    return ProvgraphSchema(query=Query, mutation=Mutation, config=config, extensions=extensions)


def schema_sdl() -> str:
    """The SDL committed as `schema.graphql`."""
    return print_schema(build_schema(development=True)) + "\n"
