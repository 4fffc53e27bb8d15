"""The Docker files cannot run on machines without a Docker engine; check what can be checked."""

from pathlib import Path

import yaml

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
