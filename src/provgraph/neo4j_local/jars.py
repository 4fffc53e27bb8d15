"""Fetching the Neo4j server's jars from Maven Central (once; cached under the state directory)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The pom is only a download list: `org.neo4j:neo4j` depends on the kernel, Cypher, Bolt and the rest of
# what the distribution's lib/ holds. Nothing is built.
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.provgraph</groupId>
  <artifactId>neo4j-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.neo4j</groupId>
      <artifactId>neo4j</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-dependency-plugin</artifactId>
    <version>3.8.1</version>
  </plugin></plugins></build>
</project>
"""

ATTEMPTS = 4


class FetchError(Exception):
    pass


def ensure_jars(version: str, lib_root: Path, progress: Callable[[str], None]) -> Path:
    """Return the directory holding Neo4j `version`'s runtime jars, downloading them if needed."""
    lib = lib_root / version
    marker = lib / ".complete"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FetchError(
            "Maven (`mvn`) is needed once to fetch Neo4j's jars from Maven Central and was not found on PATH. "
            "Install it (Debian/Ubuntu: `apt-get install maven`) or set NEO4J_URI to an existing Neo4j."
        )
    progress(f"Fetching Neo4j {version} Community from Maven Central (first run only, about 120 MB)...")
    staging = lib_root / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="provgraph-mvn-") as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_POM.format(version=version))
        command = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
            # Central has been seen answering 429 under bursts; let the HTTP layer retry too.
            "-Dmaven.wagon.http.retryHandler.count=5",
        ]
        last_error = ""
        for attempt in range(1, ATTEMPTS + 1):
            started = time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == 0 and (staging / f"neo4j-{version}.jar").exists():
                progress(
                    f"Fetched {len(list(staging.glob('*.jar')))} jars in {time.monotonic() - started:.0f}s."
                )
                break
            last_error = (done.stdout + done.stderr).strip()[-2000:]
            if attempt < ATTEMPTS:
                delay = 5 * attempt
                progress(f"Maven attempt {attempt} failed; retrying in {delay}s...")
                time.sleep(delay)
        else:
            raise FetchError(f"could not fetch Neo4j {version} from Maven Central:\n{last_error}")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    marker.write_text(version)
    return lib
