"""The SDK's public surface: what `help()` shows, docstrings everywhere, enums that match the schema and
plain strings that keep working."""

from __future__ import annotations

import inspect
import pydoc
import re
from enum import StrEnum
from pathlib import Path

import pytest

import provgraph.client
from provgraph.client import (
    AsyncClient,
    AsyncRunContext,
    Certainty,
    Client,
    Direction,
    ExclusionDecisionKind,
    InputRole,
    MembershipBasis,
    RegistryEventKind,
    RunContext,
    RunKind,
    RunStatus,
    Stage,
)
from provgraph.client import _operations as ops
from provgraph.client import _queries as queries
from provgraph.client._models import Deployment, ModelVersion, Run, Source, parse

SCHEMA = Path(__file__).resolve().parents[3] / "schema.graphql"


def test_help_shows_what_a_method_returns_not_the_call_it_builds() -> None:
    signature = inspect.signature(Client.register_source)
    assert signature.return_annotation is Source
    assert list(signature.parameters)[:3] == ["self", "name", "kind"]
    assert signature.parameters["name"].annotation is str
    assert inspect.signature(Client.deployed_at).return_annotation == list[Deployment]
    assert inspect.signature(AsyncClient.register_source).return_annotation is Source
    assert inspect.iscoroutinefunction(AsyncClient.register_source)
    assert Client.register_source.__doc__ and "Register a data source" in Client.register_source.__doc__
    assert "-> provgraph.client._models.Source" in _help(Client.register_source)


def _help(function: object) -> str:
    return pydoc.render_doc(function, renderer=pydoc.plaintext)


@pytest.mark.parametrize("cls", [Client, AsyncClient, RunContext, AsyncRunContext])
def test_every_public_method_and_property_has_a_docstring(cls: type) -> None:
    missing = [
        name
        for name, member in vars(cls).items()
        if not name.startswith("_")
        and (callable(member) or isinstance(member, property))
        and not inspect.getdoc(member)
    ]
    inherited = [
        name
        for base in cls.__mro__[1:-1]
        for name, member in vars(base).items()
        if not name.startswith("_")
        and (callable(member) or isinstance(member, property))
        and not inspect.getdoc(member)
    ]
    assert missing + inherited == []


def test_the_public_surface_is_sorted_and_complete() -> None:
    assert provgraph.client.__all__ == sorted(provgraph.client.__all__)
    assert all(hasattr(provgraph.client, name) for name in provgraph.client.__all__)


@pytest.mark.parametrize(
    "enum",
    [
        Stage,
        RunKind,
        RunStatus,
        InputRole,
        Direction,
        RegistryEventKind,
        ExclusionDecisionKind,
        Certainty,
        MembershipBasis,
    ],
)
def test_each_enum_has_the_values_of_the_schema(enum: type[StrEnum]) -> None:
    block = re.search(rf"^enum {enum.__name__} \{{(.*?)\}}", SCHEMA.read_text(), re.S | re.M)
    assert block is not None
    assert [m.value for m in enum] == re.findall(r"^\s+([A-Z_]+)\s*$", block.group(1), re.M)


def test_enum_arguments_take_members_or_strings_in_any_case() -> None:
    def stage(value: str) -> object:
        return ops.transition_stage("modelVersion:m:1", value).variables["input"]["stage"]

    assert stage(Stage.STAGING) == stage("STAGING") == stage("staging") == "STAGING"
    run = ops.register_run("k", "train", inputs=["datasetVersion:d:v1", ("slice:d:v1:val", "validation")])
    assert run.variables["input"]["kind"] == "TRAIN"
    assert run.variables["input"]["inputs"] == [
        {"id": "datasetVersion:d:v1", "role": "TRAIN"},
        {"id": "slice:d:v1:val", "role": "VALIDATION"},
    ]
    assert queries.lineage("source:s", direction="both").variables["direction"] == "BOTH"
    assert queries.models_using_source("s", stage=Stage.PRODUCTION).variables["stage"] == "PRODUCTION"


def test_results_carry_enum_members_that_equal_their_strings() -> None:
    version = parse(
        ModelVersion,
        {"id": "modelVersion:m:1", "modelId": "model:m", "version": 1, "artifactUri": "s3://m/1",
         "stage": "PRODUCTION", "createdAt": "2026-06-01T00:00:00+00:00"},
    )  # fmt: skip
    assert version.stage is Stage.PRODUCTION and version.stage == "PRODUCTION"
    run = parse(
        Run,
        {"id": "run:k", "key": "k", "kind": "TRAIN", "status": "PAUSED", "startedAt": "2026-06-01T00:00:00+00:00",
         "inputs": [{"id": "datasetVersion:d:v1", "role": "TEST"}],
         "code": {"repo": None, "commit": "abc", "entrypoint": None, "dirty": True}},
    )  # fmt: skip
    assert run.kind is RunKind.TRAIN and run.inputs[0].role is InputRole.TEST
    assert run.status == "PAUSED"  # a value added to the API later stays a plain string
    assert run.code is not None and (run.code.commit, run.code.dirty) == ("abc", True)
