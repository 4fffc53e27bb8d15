"""Who may do what: every mutation × every role (and no token), tokens, and who writes are recorded as."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from neo4j import Driver
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from helpers import data, error
from provgraph.api.auth import ADMIN_FIELDS
from provgraph.api.schema import build_schema
from provgraph.config import Settings

_SCHEMA = build_schema(development=True)._schema  # type: ignore[attr-defined]


def _document(operation: str, field: Any, name: str) -> str:
    """The field with every argument as a declared variable; the test sends no variables, so an
    authorised caller gets INVALID_ARGUMENT from variable coercion, which runs after authorisation."""
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    passed = ", ".join(f"{a}: ${a}" for a, arg in field.args.items())
    head = f"{operation}({declared})" if declared else operation
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {{ __typename }} }}"


MUTATIONS = {name: _document("mutation", f, name) for name, f in _SCHEMA.mutation_type.fields.items()}


def _expected(role: str | None, field: str) -> str:
    if role is None:
        return "UNAUTHENTICATED"
    if field in ADMIN_FIELDS:
        return "INVALID_ARGUMENT" if role == "admin" else "PERMISSION_DENIED"
    return "PERMISSION_DENIED" if role == "reader" else "INVALID_ARGUMENT"


@pytest.mark.parametrize("role", [None, "reader", "writer", "admin"])
@pytest.mark.parametrize("field", sorted(MUTATIONS))
def test_every_mutation_for_every_role(
    client: TestClient, tokens: Tokens, role: str | None, field: str
) -> None:
    headers = tokens.header(role) if role else {"authorization": ""}
    response = client.post("/graphql", json={"query": MUTATIONS[field]}, headers=headers)
    if (
        "errors" not in response.json()
    ):  # a mutation without arguments (compactInferences) just runs when allowed
        assert _expected(role, field) not in ("UNAUTHENTICATED", "PERMISSION_DENIED"), response.text
        return
    code = response.json()["errors"][0]["extensions"]["code"]
    assert code == _expected(role, field), response.text
    assert response.status_code == {"UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403}.get(code, 200)


def test_the_matrix_covers_the_whole_mutation_root() -> None:
    assert len(MUTATIONS) >= 20 and {"registerSource", "logInferences", "createApiToken"} <= set(MUTATIONS)


@pytest.mark.parametrize(
    ("headers", "code"),
    [({"authorization": ""}, "UNAUTHENTICATED"), ({"authorization": "Bearer pgt_not-a-token"}, "UNAUTHENTICATED"),
     ({"authorization": "Basic dXNlcjpwdw=="}, "UNAUTHENTICATED")],
)  # fmt: skip
def test_queries_need_a_valid_token_too(client: TestClient, headers: dict[str, str], code: str) -> None:
    for query in ("{ __typename }", "{ whoami { name } }", "{ sources { totalCount } }"):
        response = client.post("/graphql", json={"query": query}, headers=headers)
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (401, code)


def test_readers_read_and_only_admins_list_tokens(gql: GraphQL, tokens: Tokens) -> None:
    me = data(gql("{ whoami { name role } }", authorization=f"Bearer {tokens.reader}"))
    assert me["whoami"] == {"name": "test-reader", "role": "READER"}
    assert data(gql("{ sources { totalCount } }", authorization=f"Bearer {tokens.reader}"))
    denied = error(gql("{ apiTokens { id } }", authorization=f"Bearer {tokens.writer}"))
    assert denied["extensions"]["code"] == "PERMISSION_DENIED"
    listed = data(gql("{ apiTokens { name role } }"))["apiTokens"]
    assert {"name": "test-reader", "role": "READER"} in listed


def test_health_is_open_and_the_pages_need_no_token(client: TestClient) -> None:
    """The explorer and (in development) GraphiQL are static pages: they hold no data, and every call they
    make sends the token the user signs in with."""
    assert client.get("/healthz", headers={"authorization": ""}).status_code == 200
    page = client.get("/graphql", headers={"authorization": "", "accept": "text/html"})
    assert page.status_code == 200 and "/explorer/assets/graphiql-" in page.text
    explorer = client.get("/", headers={"authorization": ""})
    assert explorer.status_code == 200 and "/explorer/assets/app-" in explorer.text


def test_the_actor_of_a_write_is_the_token_name(gql: GraphQL, tokens: Tokens, clean_graph: Driver) -> None:
    created = data(
        gql(
            'mutation { registerSource(input: {name: "s", kind: "bucket"}) { source { recordedBy } } }',
            authorization=f"Bearer {tokens.writer}",
        )
    )
    assert created["registerSource"]["source"]["recordedBy"] == "test-writer"


def test_tokens_created_and_revoked_through_the_api(gql: GraphQL) -> None:
    made = data(
        gql('mutation { createApiToken(input: {name: "ci", role: WRITER}) { secret token { id role } } }')
    )
    secret, token_id = made["createApiToken"]["secret"], made["createApiToken"]["token"]["id"]
    assert data(gql("{ whoami { name } }", authorization=f"Bearer {secret}"))["whoami"]["name"] == "ci"
    revoked = data(
        gql("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt revokedBy } }", {"id": token_id})
    )
    assert revoked["revokeApiToken"]["revokedBy"] == "test-admin"
    after = error(gql("{ whoami { name } }", authorization=f"Bearer {secret}"))
    assert after["extensions"]["code"] == "UNAUTHENTICATED"
    missing = error(gql('mutation { revokeApiToken(id: "token:000000000000") { id } }'))
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_the_bulk_path_needs_a_writer(client: TestClient, tokens: Tokens) -> None:
    body = {"inferences": []}
    anonymous = client.post("/v1/inferences", json=body, headers={"authorization": ""})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "UNAUTHENTICATED")
    reader = client.post("/v1/inferences", json=body, headers=tokens.header("reader"))
    assert (reader.status_code, reader.json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    writer = client.post("/v1/inferences", json=body, headers=tokens.header("writer"))
    assert writer.json() == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_the_token_cli(settings: Settings, tmp_path: Any) -> None:
    env = {
        **os.environ,
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password or "",
        "PROVGRAPH_STATE_DIR": str(tmp_path),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provgraph", "token", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    made = cli("create", "--name", "pipeline", "--role", "writer")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("pgt_")
    listed = cli("list")
    line = next(row for row in listed.stdout.splitlines() if "\tpipeline\t" in row)
    assert "WRITER" in line and line.endswith("active")
    revoked = cli("revoke", line.split("\t")[0])
    assert revoked.returncode == 0 and "Revoked" in revoked.stderr
    assert "revoked" in next(r for r in cli("list").stdout.splitlines() if "\tpipeline\t" in r)
    bad = cli("create", "--name", "x", "--role", "superuser")
    assert (
        bad.returncode == 2
        and "role must be reader, writer or admin" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    dev = cli("dev")
    assert cli("dev").stdout == dev.stdout  # reused, not re-created
