"""The Docker files cannot run on machines without a Docker engine; check what can be checked."""

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_neo4j_526_community_and_the_api_against_it() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["api"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "healthcheck" in neo4j
    assert api["build"] == "."
    assert api["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"


def test_dockerfile_serves_the_api_on_all_interfaces() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["provgraph", "serve"]' in dockerfile
    assert "PROVGRAPH_HOST=0.0.0.0" in dockerfile
    assert "USER provgraph" in dockerfile


def test_the_image_carries_the_built_explorer() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "npm run build" in dockerfile
    assert "COPY --from=explorer /build/src/provgraph/api/explorer_static" in dockerfile
    # The build context leaves out local builds, so the image never ships a stale explorer.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "explorer/node_modules" in ignored and "src/provgraph/api/explorer_static" in ignored


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` substitution, enough to read a published port as compose would."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), value)


def _compose(name: str = "docker-compose.yml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return loaded


def test_compose_publishes_configurable_ports_on_loopback_by_default() -> None:
    services = _compose()["services"]
    (api_port,) = services["api"]["ports"]
    (bolt_port,) = services["neo4j"]["ports"]
    assert _interpolate(api_port, {}) == "127.0.0.1:8000:8000"
    assert _interpolate(bolt_port, {}) == "127.0.0.1:7687:7687"
    chosen = {"PROVGRAPH_HOST_PORT": "9000", "NEO4J_HOST_PORT": "17687", "PROVGRAPH_BIND": "192.0.2.10"}
    assert _interpolate(api_port, chosen) == "192.0.2.10:9000:8000"
    assert _interpolate(bolt_port, chosen) == "192.0.2.10:17687:7687"


def test_compose_defaults_to_production_with_a_sealing_key_and_restarts() -> None:
    services = _compose()["services"]
    environment = services["api"]["environment"]
    assert _interpolate(environment["PROVGRAPH_ENV"], {}) == "production"
    assert environment["PROVGRAPH_AUDIT_KEY"].startswith("${PROVGRAPH_AUDIT_KEY:?")  # required, no default
    assert all(service["restart"] == "unless-stopped" for service in services.values())
    assert any(v.endswith(":/var/lib/provgraph") for v in services["api"]["volumes"])


def test_the_api_is_healthy_when_ready_in_compose_and_in_the_image() -> None:
    check = _compose()["services"]["api"]["healthcheck"]
    assert "http://127.0.0.1:8000/readyz" in " ".join(check["test"])
    assert check["start_period"]  # warming and migrating are not failures
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "/readyz" in healthcheck.split("\nCMD [")[0] and "/healthz" not in dockerfile


def test_the_development_override_turns_on_development_and_the_neo4j_browser() -> None:
    base, dev = _compose()["services"], _compose("docker-compose.dev.yml")["services"]
    assert set(dev) <= set(base)  # it only overrides services the base file defines
    assert dev["api"]["environment"]["PROVGRAPH_ENV"] == "development"
    assert [_interpolate(p, {}) for p in dev["neo4j"]["ports"]] == ["127.0.0.1:7474:7474"]
    assert {service["restart"] for service in dev.values()} == {"no"}


def test_the_lock_pins_every_dependency_and_make_install_and_the_image_use_it() -> None:
    lines = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pins = {canonicalize_name(Requirement(line).name): line for line in lines}
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[^=\s]+", line) for line in lines), "only name==version lines"
    assert "provgraph" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["dev"],
        *project["optional-dependencies"]["fast"],
    ]
    for spec in wanted:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pins[name].split("==")[1], prereleases=True), pins[name]
    makefile = (ROOT / "Makefile").read_text()
    assert "-c requirements.lock -e '.[dev,fast]'" in makefile
    assert re.search(r"^\$\(STAMP\): .*requirements\.lock", makefile, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -c requirements.lock '.[fast]'" in dockerfile
    assert re.search(r"^COPY .*requirements\.lock", dockerfile, re.MULTILINE)
