"""SPDX 3's official validator, run without the network.

`spdx3-validate` (the SPDX tech team's validator) checks a document against the SPDX 3.0.1 JSON schema and
the SHACL shapes of the SPDX model, which it downloads from spdx.org at each run. This machine reaches
only package registries, so the same three official files (the JSON schema, the JSON-LD context and the
model) come from Maven Central instead: the SPDX project publishes them inside
`org.spdx:spdx-v3jsonld-store` (resources `schema-v3.0.1.json`, `spdx-context-v3.0.1.jsonld`,
`spdx-model-v3.0.1.jsonld`). The validation itself is spdx3-validate's own code: its schema validator
and its SHACL check (`check_graph`, pySHACL), exactly as `spdx3_validate.validate` calls them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import rdflib
from spdx3_validate import core
from spdx3_validate.spdx_versions import find_version

ARTIFACT = "org.spdx:spdx-v3jsonld-store:1.0.5"
JAR = "spdx-v3jsonld-store-1.0.5.jar"


@dataclass(frozen=True)
class OfficialFiles:
    schema: dict[str, Any]
    context: dict[str, Any]
    shacl: rdflib.Graph


def fetch(cache_dir: Path) -> Path:
    """The jar, fetched once with Maven into `cache_dir`."""
    jar = cache_dir / JAR
    if jar.exists():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(
            "Maven (`mvn`) is needed to fetch SPDX 3's official model files from Maven Central"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
            f"-Dartifact={ARTIFACT}",
            f"-DoutputDirectory={cache_dir}",
            "-Dmaven.wagon.http.retryHandler.count=5",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0 or not jar.exists():
        raise RuntimeError(f"could not fetch {ARTIFACT}:\n{(done.stdout + done.stderr)[-2000:]}")
    return jar


@contextmanager
def _rdflib_quiet() -> Iterator[None]:
    # rdflib 7.6's own JSON-LD parser still builds a ConjunctiveGraph, which rdflib itself deprecates.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        yield


@cache
def official_files(jar: Path) -> OfficialFiles:
    with zipfile.ZipFile(jar) as z:
        schema = json.loads(z.read("resources/schema-v3.0.1.json"))
        context = json.loads(z.read("resources/spdx-context-v3.0.1.jsonld"))
        model = z.read("resources/spdx-model-v3.0.1.jsonld").decode("utf-8")
    with _rdflib_quiet():
        shacl = rdflib.Graph().parse(data=model, format="json-ld")
    return OfficialFiles(schema, context, shacl)


def validate(text: str, files: OfficialFiles) -> list[str]:
    """spdx3-validate's findings for one SPDX 3 JSON document (empty when it is valid)."""
    data = json.loads(text)
    version = find_version(data["@context"])
    assert version is not None and version.pretty == "3.0.1", data["@context"]
    # The document names the context by its URL; give the RDF parser the same context inline.
    inline = json.dumps({**data, "@context": files.context["@context"]})
    errors = [
        str(core._schema_error("document", e)) for e in core.schema_validator(files.schema).iter_errors(data)
    ]
    with _rdflib_quiet():
        graph = rdflib.Graph().parse(data=inline, format="json-ld")
        errors += core.check_graph(graph, files.shacl, version, True)
    return errors
