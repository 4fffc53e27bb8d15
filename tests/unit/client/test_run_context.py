"""The run context's own logic — what it captures, when it registers, how it ends — against a fake
transport that answers like the service. (The run context against the real service is in
tests/e2e/test_sdk_run.py.)"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from provgraph.client import (
    AsyncClient,
    Client,
    InputRole,
    InvalidArgumentError,
    RunStateError,
    RunStatus,
)
from provgraph.client import _capture as capture_module
from provgraph.client._capture import capture, git_code, imported_frameworks, installed_packages

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
PACKAGE = re.compile(r"[^=\s]+==[^=\s]+")


class FakeService:
    """Answers the run, model and model version mutations and the run query like the service, keeping
    the runs it registered (so a re-run under the same key finds the first)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.runs: dict[str, dict[str, Any]] = {}

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def sent(self, operation: str) -> dict[str, Any]:
        """The input of the one request of this operation."""
        (found,) = [variables for name, variables in self.calls if name == operation]
        return found

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        operation = re.search(r"\{\s*(\w+)", body["query"]).group(1)  # type: ignore[union-attr]
        variables = body["variables"]
        self.calls.append((operation, variables.get("input", variables)))
        answer = getattr(self, operation)(variables)
        if isinstance(answer, str):
            return httpx.Response(
                200, json={"errors": [{"message": answer, "extensions": {"code": "NOT_FOUND"}}]}
            )
        return httpx.Response(200, json={"data": {operation: answer}})

    def registerRun(self, variables: dict[str, Any]) -> dict[str, Any]:
        given = variables["input"]
        run = self.runs.setdefault(
            given["key"],
            {
                "id": f"run:{given['key']}",
                "key": given["key"],
                "kind": given["kind"],
                "status": given["status"],
                "startedAt": given.get("startedAt") or T0.isoformat(),
                "params": given["params"],
                "metrics": [],
                "inputs": given["inputs"],
                "code": given.get("code"),
                "environment": given.get("environment"),
            },
        )
        return {"run": run}

    def completeRun(self, variables: dict[str, Any]) -> dict[str, Any]:
        given = variables["input"]
        run = self.runs[given["runId"].removeprefix("run:")]
        run.update(
            status=given["status"], endedAt=given.get("endedAt") or T0.isoformat(), metrics=given["metrics"]
        )
        return {"created": True, "run": run}

    def run(self, variables: dict[str, Any]) -> dict[str, Any] | str:
        return (
            self.runs.get(variables["id"].removeprefix("run:")) or f"run {variables['id']!r} does not exist"
        )

    def registerModel(self, variables: dict[str, Any]) -> dict[str, Any]:
        name = variables["input"]["name"]
        return {"model": {"id": f"model:{name}", "name": name}}

    def registerModelVersion(self, variables: dict[str, Any]) -> dict[str, Any]:
        given = variables["input"]
        return {
            "modelVersion": {
                "id": f"modelVersion:{given['model']}:1",
                "modelId": f"model:{given['model']}",
                "version": 1,
                "artifactUri": given["artifactUri"],
                "stage": "NONE",
                "createdAt": T0.isoformat(),
                "trainedById": given.get("trainedBy"),
                "framework": given.get("framework"),
                "metrics": given["metrics"],
            }
        }


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def pg(service: FakeService) -> Iterator[Client]:
    with Client(
        "http://provgraph.test/graphql", http_client=httpx.Client(transport=httpx.MockTransport(service))
    ) as client:
        yield client


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit, an origin whose URL holds credentials, and a script in a folder."""
    root = tmp_path / "repo"
    (root / "train").mkdir(parents=True)
    (root / "train" / "train.py").write_text("print('training')\n")
    git(root, "init", "--quiet")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "first")
    git(root, "remote", "add", "origin", "https://bob:s3cret@git.example.com/ml/intent.git")
    return root


def pairs(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["key"]: e["value"] for e in entries}


# --- capture -------------------------------------------------------------------------------------------


def test_git_capture_records_commit_repo_entrypoint_and_whether_tracked_files_changed(repo: Path) -> None:
    script = str(repo / "train" / "train.py")
    clean = git_code(repo / "train", script)
    assert clean == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "dirty": False,
        "repo": "https://git.example.com/ml/intent.git",  # the user and token are not recorded
        "entrypoint": "train/train.py",
    }
    (repo / "notes.txt").write_text("untracked files do not make the tree dirty\n")
    assert git_code(repo, script)["dirty"] is False
    (repo / "train" / "train.py").write_text("print('changed')\n")
    assert git_code(repo, script)["dirty"] is True


def test_without_a_repository_or_without_git_no_code_is_recorded(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # even if a folder above is a repository
    outside = tmp_path / "outside"
    outside.mkdir()
    assert git_code(outside, "job.py") == {"entrypoint": "job.py"}
    assert git_code(outside, "-c") == {}
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))  # git cannot be found
    assert git_code(repo, "job.py") == {"entrypoint": "job.py"}


def test_a_repository_without_commits_records_no_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    assert git_code(tmp_path, "job.py") == {"dirty": False, "entrypoint": "job.py"}


def test_frameworks_are_read_from_sys_modules_in_priority_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "torch" not in sys.modules
    sklearn = types.ModuleType("sklearn")
    sklearn.__version__ = "1.5.2"  # type: ignore[attr-defined]
    xgboost = types.ModuleType("xgboost")
    xgboost.__version__ = "2.1.3"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sklearn", sklearn)  # imported first, as xgboost imports it
    monkeypatch.setitem(sys.modules, "xgboost", xgboost)
    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))  # no __version__, not installed
    assert imported_frameworks() == {"xgboost": "2.1.3", "sklearn": "1.5.2", "keras": None}
    assert "torch" not in sys.modules  # looking does not import


def test_packages_are_pinned_sorted_and_capped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    everything, omitted = installed_packages()
    assert omitted == 0
    assert everything == sorted(everything, key=str.lower)
    assert all(PACKAGE.fullmatch(p) for p in everything)
    assert f"httpx=={httpx.__version__}" in everything
    monkeypatch.setattr(capture_module, "MAX_PACKAGES", 5)
    with caplog.at_level(logging.WARNING, logger="provgraph.client"):
        captured = capture()
    assert captured.environment["packages"] == everything[:5]
    assert captured.packages_omitted == len(everything) - 5
    assert f"{len(everything) - 5} installed packages are left out" in caplog.text


def test_the_image_digest_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PROVGRAPH_IMAGE_DIGEST", raising=False)
    assert "image_digest" not in capture().environment
    monkeypatch.setenv("PROVGRAPH_IMAGE_DIGEST", "registry.example.com/train@sha256:9f2c1d7e")
    assert capture().environment["image_digest"] == "registry.example.com/train@sha256:9f2c1d7e"
    monkeypatch.setenv("PROVGRAPH_IMAGE_DIGEST", "sha256:9f2c\nsha256:0000")
    with caplog.at_level(logging.WARNING, logger="provgraph.client"):
        assert "image_digest" not in capture().environment
    assert "PROVGRAPH_IMAGE_DIGEST is not a one-line value" in caplog.text


# --- the run context -----------------------------------------------------------------------------------


def test_a_run_is_registered_at_the_end_of_the_block_and_finished_with_its_metrics(
    pg: Client, service: FakeService, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    with pg.run("train-intent", kind="train", inputs=["datasetVersion:intents:v1"]) as run:
        run.log_params(lr=3e-5, epochs=3)
        run.log_params({"optimizer": "adamw"})
        run.log_metrics(val_f1=0.5)
        run.log_metric("val_f1", 0.91)
        assert service.calls == []  # nothing is sent while params may still come
    assert service.operations() == ["registerRun", "completeRun"]
    registration = service.sent("registerRun")
    assert re.fullmatch(r"train-intent-\d{8}T\d{6}Z-[0-9a-f]{6}", registration["key"])
    assert (registration["kind"], registration["status"]) == ("TRAIN", "RUNNING")
    assert registration["inputs"] == [{"id": "datasetVersion:intents:v1", "role": "TRAIN"}]
    assert pairs(registration["params"]) == {"lr": "3e-05", "epochs": "3", "optimizer": "adamw"}
    assert registration["code"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert registration["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert datetime.fromisoformat(registration["startedAt"]) <= datetime.now(UTC)
    completion = service.sent("completeRun")
    assert (completion["runId"], completion["status"]) == (run.id, "FINISHED")
    assert pairs(completion["metrics"]) == {"val_f1": 0.91}
    assert datetime.fromisoformat(completion["endedAt"]) >= datetime.fromisoformat(registration["startedAt"])
    assert run.record is not None and run.record.status is RunStatus.FINISHED


def test_an_exception_fails_the_run_records_the_error_and_is_reraised(
    pg: Client, service: FakeService
) -> None:
    error = ValueError("loss is NaN at step 1200")
    with pytest.raises(ValueError) as raised, pg.run("train-intent") as run:
        run.log_params(lr=3e-5)
        raise error
    assert raised.value is error
    assert pairs(service.sent("registerRun")["params"]) == {"lr": "3e-05"}
    completion = service.sent("completeRun")
    assert (completion["status"], completion["error"]) == ("FAILED", "ValueError: loss is NaN at step 1200")
    assert run.record is not None and run.record.status is RunStatus.FAILED


def test_a_failure_after_the_run_was_registered_records_the_error_too(
    pg: Client, service: FakeService
) -> None:
    class LabelMissing(LookupError):
        pass

    with pytest.raises(LookupError), pg.run("train-intent", params={"lr": 0.1}) as run:
        run.start()
        raise LabelMissing("label\x00")
    assert pairs(service.sent("registerRun")["params"]) == {"lr": "0.1"}
    completion = service.sent("completeRun")
    # module-qualified (not a built-in), and a control character made fit for the API's text
    expected = f"{__name__}.{LabelMissing.__qualname__}: label\ufffd"
    assert (completion["status"], completion["error"]) == ("FAILED", expected)


def test_sys_exit_zero_in_the_block_is_a_normal_end(pg: Client, service: FakeService) -> None:
    with pytest.raises(SystemExit), pg.run("train-intent"):
        sys.exit(0)
    assert service.sent("completeRun")["status"] == "FINISHED"


def test_a_param_logged_after_registration_is_refused_and_says_why(pg: Client, service: FakeService) -> None:
    with pg.run("train-intent") as run:
        run.log_params(lr=3e-5)
        version = run.register_model_version("intent", "s3://models/intent/1")
        run.log_params(lr=3e-5)  # the same value again is harmless
        with pytest.raises(RunStateError) as late:
            run.log_params(epochs=3)
    assert "already registered with its params" in str(late.value)
    assert (late.value.code, late.value.field) == ("FAILED_PRECONDITION", "params")
    assert service.operations() == ["registerRun", "registerModel", "registerModelVersion", "completeRun"]
    assert version.trained_by_id == run.id
    with pytest.raises(RunStateError):
        run.log_metrics(val_f1=0.9)  # the run has ended


def test_a_model_version_carries_the_runs_framework_and_metrics_unless_told_otherwise(
    pg: Client, service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = types.ModuleType("torch")
    torch.__version__ = "2.6.0"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)  # imported inside the block: seen at registration
    with pg.run("train-intent") as run:
        run.log_metrics(val_f1=0.91)
        run.register_model_version("intent", "s3://models/intent/1")
        run.register_model_version("intent", "s3://models/intent/2", framework="onnx", metrics={"auc": 0.97})
    first, second = [variables for name, variables in service.calls if name == "registerModelVersion"]
    assert (first["framework"], pairs(first["metrics"]), first["trainedBy"]) == (
        "torch",
        {"val_f1": 0.91},
        run.id,
    )
    assert (second["framework"], pairs(second["metrics"])) == ("onnx", {"auc": 0.97})
    environment = service.sent("registerRun")["environment"]
    assert (environment["framework"], environment["frameworkVersion"]) == ("torch", "2.6.0")


def test_explicit_values_override_captured_ones_field_by_field(
    pg: Client, service: FakeService, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PROVGRAPH_IMAGE_DIGEST", "sha256:captured")
    jax = types.ModuleType("jax")
    jax.__version__ = "0.4.35"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.setitem(sys.modules, "jax", jax)
    with pg.run(
        "train-intent",
        code={"commit": "abc1234", "repo": None},
        environment={"python": "3.12.1", "framework": "jax", "image_digest": "sha256:given"},
        started_at=T0,
    ) as run:
        pass
    registration = service.sent("registerRun")
    assert registration["code"] == {
        "commit": "abc1234",
        "dirty": False,
        "entrypoint": registration["code"]["entrypoint"],
    }  # the captured repo is left out, the captured dirty flag kept
    environment = registration["environment"]
    assert (environment["python"], environment["imageDigest"]) == ("3.12.1", "sha256:given")
    assert (environment["framework"], environment["frameworkVersion"]) == ("jax", "0.4.35")
    assert environment["packages"]  # not overridden, so captured
    assert registration["startedAt"] == T0.isoformat()
    assert run.key.startswith("train-intent-20260601T093000Z-")


def test_capture_false_records_only_what_is_given(pg: Client, service: FakeService) -> None:
    with pg.run("eval-intent", kind="eval", capture=False, code={"commit": "abc1234"}):
        pass
    registration = service.sent("registerRun")
    assert (registration["kind"], registration["code"]) == ("EVAL", {"commit": "abc1234"})
    assert "environment" not in registration


def test_a_given_key_makes_a_rerun_report_the_same_start_and_end(pg: Client, service: FakeService) -> None:
    for _ in range(2):
        with pg.run(
            "train-intent", key="train-intent-2026-06", inputs=[("slice:intents:v1:train", InputRole.TRAIN)]
        ) as run:
            run.log_params(lr=3e-5)
            run.log_metrics(val_f1=0.91)
    assert service.operations() == ["run", "registerRun", "completeRun"] * 2
    first, second = [v for name, v in service.calls if name == "registerRun"]
    assert second["startedAt"] == first["startedAt"]
    first_end, second_end = [v for name, v in service.calls if name == "completeRun"]
    assert "endedAt" in first_end and "endedAt" not in second_end  # the same end again: a no-op


def test_bad_params_and_metrics_fail_where_they_are_logged(pg: Client, service: FakeService) -> None:
    with pg.run("train-intent") as run:
        with pytest.raises(InvalidArgumentError, match="finite"):
            run.log_metrics(loss=float("nan"))
        with pytest.raises(InvalidArgumentError, match="params key"):
            run.log_params({"learning rate": 0.1})
        with pytest.raises(InvalidArgumentError, match="control characters"):
            run.log_param("note", "a\x00b")
    assert pairs(service.sent("registerRun")["params"]) == {}
    with pytest.raises(InvalidArgumentError, match="run name"):
        pg.run("train intent")


def test_the_async_context_records_the_same(service: FakeService) -> None:
    async def script() -> str:
        transport = httpx.AsyncClient(transport=httpx.MockTransport(service))
        async with AsyncClient("http://provgraph.test/graphql", http_client=transport) as pg:
            with pytest.raises(RuntimeError):
                async with pg.run("train-intent", kind="finetune") as run:
                    run.log_params(lr=1e-5)
                    await run.register_model_version("intent", "s3://models/intent/1")
                    raise RuntimeError("out of memory")
            await transport.aclose()
            return run.key

    key = asyncio.run(script())
    assert service.operations() == ["registerRun", "registerModel", "registerModelVersion", "completeRun"]
    assert service.sent("registerRun")["kind"] == "FINETUNE"
    assert pairs(service.sent("registerRun")["params"]) == {"lr": "1e-05"}  # registered before the failure
    assert (service.sent("completeRun")["runId"], service.sent("completeRun")["status"]) == (
        f"run:{key}",
        "FAILED",
    )
