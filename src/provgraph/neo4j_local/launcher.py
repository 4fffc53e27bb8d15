"""Start, stop and inspect a local Neo4j 5.26 Community server.

The server runs `org.neo4j.server.CommunityEntryPoint` directly (what `bin/neo4j console` ends up running)
on a classpath Maven assembled. That skips Neo4j's boot loader, so the JVM flags and heap the boot loader
would derive from neo4j.conf are passed here explicitly.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provgraph.neo4j_local.jars import FetchError, ensure_jars

NEO4J_VERSION = "5.26.30"
DEFAULT_HEAP = "1g"
DEFAULT_PAGECACHE = "512m"
READY_TIMEOUT = 180.0

# The functionally important flags of the distribution's default neo4j.conf (Netty and NIO need the
# opens on JDK 17+). -XX:+AlwaysPreTouch is left out: it commits the whole heap before anything runs.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


class LauncherError(Exception):
    """Something the user must fix before a local Neo4j can run; the message says what."""


@dataclass(frozen=True)
class Connection:
    uri: str
    user: str
    password: str


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    connection: Connection | None


Progress = Callable[[str], None]

# Servers this process started, kept so they can be reaped when stopped (and not reported by Python as
# leaked child processes when the start call returns).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _quiet(_: str) -> None:
    pass


class LocalNeo4j:
    """One local server instance living in `instance_dir`.

    Parameters:
        state_dir: the project's state directory (jars are shared by every instance in it).
        instance: the instance's name; `neo4j` for `make run`, `neo4j-test` for the test suite.
        port: the Bolt port; 0 picks a free port at every start.
        heap / pagecache: JVM heap (initial = max) and Neo4j page cache sizes, e.g. `1g`, `512m`.
    """

    def __init__(
        self,
        state_dir: Path,
        instance: str = "neo4j",
        port: int = 7687,
        heap: str = DEFAULT_HEAP,
        pagecache: str = DEFAULT_PAGECACHE,
        version: str = NEO4J_VERSION,
    ) -> None:
        # Absolute, because neo4j.conf's directories are resolved against the server's home directory.
        self.state_dir = state_dir.resolve()
        self.home = self.state_dir / instance
        self.port = port
        self.heap = heap
        self.pagecache = pagecache
        self.version = version
        for size, name in ((heap, "heap"), (pagecache, "page cache")):
            if not re.fullmatch(r"\d+[kmgKMG]", size):
                raise LauncherError(f"the {name} size must look like 512m or 2g, not {size!r}")

    @classmethod
    def from_env(cls, state_dir: Path, instance: str = "neo4j", port: int | None = None) -> LocalNeo4j:
        env = os.environ
        return cls(
            state_dir,
            instance,
            port=port if port is not None else _port(env.get("PROVGRAPH_NEO4J_PORT", "7687")),
            heap=env.get("PROVGRAPH_NEO4J_HEAP", DEFAULT_HEAP),
            pagecache=env.get("PROVGRAPH_NEO4J_PAGECACHE", DEFAULT_PAGECACHE),
        )

    # -- paths -------------------------------------------------------------------------------------------
    @property
    def _pid_file(self) -> Path:
        return self.home / "neo4j.pid"

    @property
    def _connection_file(self) -> Path:
        return self.home / "connection.json"

    @property
    def console_log(self) -> Path:
        return self.home / "console.log"

    # -- public operations -------------------------------------------------------------------------------
    def status(self) -> Status:
        pid = self._live_pid()
        return Status(running=pid is not None, pid=pid, connection=self._read_connection() if pid else None)

    def start(self, progress: Progress = _quiet) -> Connection:
        """Start the server unless it already runs; return how to connect. Safe to call twice."""
        pid = self._live_pid()
        if pid is not None:
            connection = self._read_connection()
            if connection is not None:
                self._wait_ready(connection, pid=pid, timeout=READY_TIMEOUT)
                progress(f"Neo4j is already running (pid {pid}) on {connection.uri}.")
                return connection
        java = find_java()
        try:
            lib = ensure_jars(self.version, self.state_dir / "neo4j-lib", progress)
        except FetchError as exc:
            raise LauncherError(str(exc)) from None
        port = self.port or _free_port()
        _check_port_free(port)
        self._write_conf(port)
        password = self._ensure_password(java, lib)
        connection = Connection(uri=f"bolt://127.0.0.1:{port}", user="neo4j", password=password)
        first_start = not (self.home / "data" / "databases").exists()
        progress(
            f"Starting Neo4j {self.version} on {connection.uri} (heap {self.heap}, page cache {self.pagecache})..."
        )
        started = time.monotonic()
        with self.console_log.open("ab") as log:
            process = subprocess.Popen(
                [
                    java,
                    f"-Xms{self.heap}",
                    f"-Xmx{self.heap}",
                    *_JVM_FLAGS,
                    "-cp",
                    f"{self.home / 'plugins'}/*:{lib}/*",
                    "org.neo4j.server.CommunityEntryPoint",
                    f"--home-dir={self.home}",
                    f"--config-dir={self.home / 'conf'}",
                    "--console-mode",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the command that started it; stopped by `stop`
            )
        _children[process.pid] = process
        self._pid_file.write_text(str(process.pid))
        self._wait_ready(connection, pid=process.pid, timeout=READY_TIMEOUT)
        self._connection_file.write_text(json.dumps(connection.__dict__))
        self._connection_file.chmod(0o600)
        elapsed = time.monotonic() - started
        progress(
            f"Neo4j is ready on {connection.uri} after {elapsed:.1f}s ({'first' if first_start else 'later'} start)."
        )
        return connection

    def stop(self, progress: Progress = _quiet, timeout: float = 60.0) -> bool:
        """Stop the server gracefully (SIGTERM, then SIGKILL after `timeout`). False if it was not running."""
        pid = self._live_pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            progress("Neo4j is not running.")
            return False
        progress(f"Stopping Neo4j (pid {pid})...")
        os.kill(pid, signal.SIGTERM)
        if not _wait_exit(pid, timeout):
            progress("Neo4j did not stop in time; killing it.")
            os.kill(pid, signal.SIGKILL)
            _wait_exit(pid, 10)
        _reap(pid)
        self._pid_file.unlink(missing_ok=True)
        progress("Neo4j stopped.")
        return True

    def kill(self) -> None:
        """Stop the server abruptly, as a crash would (used by fault-injection tests)."""
        pid = self._live_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_exit(pid, 10)
            _reap(pid)
        self._pid_file.unlink(missing_ok=True)

    def reset(self, progress: Progress = _quiet) -> None:
        """Stop the server and delete its data, logs and password (the jars stay)."""
        self.stop(progress)
        shutil.rmtree(self.home, ignore_errors=True)
        progress(f"Removed {self.home}.")

    # -- internals ---------------------------------------------------------------------------------------
    def _live_pid(self) -> int | None:
        try:
            pid = int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return None
        # Guard against a recycled pid: the process must be our server for this home directory.
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists():
            args = cmdline.read_bytes().split(b"\0")
            if (
                b"org.neo4j.server.CommunityEntryPoint" not in args
                or f"--home-dir={self.home}".encode() not in args
            ):
                return None
            if _is_zombie(pid):
                return None
        return pid

    def _read_connection(self) -> Connection | None:
        try:
            data = json.loads(self._connection_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return Connection(uri=data["uri"], user=data["user"], password=data["password"])

    def _write_conf(self, port: int) -> None:
        for sub in ("conf", "data", "logs", "run", "plugins", "import"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        home = self.home
        lines = [
            "# Written by `provgraph neo4j start`; rewritten at every start.",
            "server.default_listen_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{port}",
            f"server.bolt.advertised_address=127.0.0.1:{port}",
            "server.bolt.tls_level=DISABLED",
            "server.http.enabled=false",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            "dbms.usage_report.enabled=false",
            f"server.directories.data={home / 'data'}",
            f"server.directories.logs={home / 'logs'}",
            f"server.directories.run={home / 'run'}",
            f"server.directories.plugins={home / 'plugins'}",
            f"server.directories.import={home / 'import'}",
            f"server.directories.transaction.logs.root={home / 'data' / 'transactions'}",
            f"server.memory.pagecache.size={self.pagecache}",
            # A server-side guard against runaway queries; the API sets tighter per-query timeouts.
            "db.transaction.timeout=60s",
            "db.tx_log.rotation.retention_policy=2 days",
        ]
        (home / "conf" / "neo4j.conf").write_text("\n".join(lines) + "\n")

    def _ensure_password(self, java: str, lib: Path) -> str:
        password_file = self.home / "password"
        auth_file = self.home / "data" / "dbms" / "auth.ini"
        if password_file.exists():
            return password_file.read_text().strip()
        if auth_file.exists():
            raise LauncherError(
                f"{self.home} holds a database whose password is unknown (the file {password_file} is missing); "
                "run `provgraph neo4j reset` to start over"
            )
        # The initial password must be set before the very first start.
        # Hex, not URL-safe base64: a password starting with "-" was read by neo4j-admin as an option (1 start
        # in 64 failed with "Missing required parameter: '<password>'").
        password = secrets.token_hex(24)
        done = subprocess.run(
            [java, "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool", "dbms", "set-initial-password", password],
            env={**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise LauncherError(f"could not set the initial Neo4j password:\n{done.stdout}{done.stderr}")
        password_file.write_text(password)
        password_file.chmod(0o600)
        return password

    def _wait_ready(self, connection: Connection, *, pid: int, timeout: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, DriverError, Neo4jError

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise LauncherError(
                    f"Neo4j exited during start-up. The end of {self.console_log}:\n{self._console_tail()}"
                )
            try:
                with GraphDatabase.driver(
                    connection.uri, auth=(connection.user, connection.password), connection_timeout=2
                ) as driver:
                    driver.verify_connectivity()
                return
            except AuthError as exc:
                raise LauncherError(f"Neo4j rejected the stored password: {exc.message}") from None
            except (DriverError, Neo4jError, OSError) as exc:
                last = exc
                time.sleep(0.5)
        raise LauncherError(
            f"Neo4j did not answer on {connection.uri} within {timeout:.0f}s ({last}). "
            f"The end of {self.console_log}:\n{self._console_tail()}"
        )

    def _console_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.console_log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no console log)"


def find_java() -> str:
    """The `java` to run Neo4j 5.26 with (17 or 21), or a LauncherError saying what to install."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LauncherError(
            "Java is needed to run the local Neo4j and was not found. Install a JDK 17 or 21 "
            "(Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) or set NEO4J_URI to an existing Neo4j."
        )
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', done.stderr + done.stdout)
    major = int(match.group(1)) if match else 0
    if major not in (17, 21):
        raise LauncherError(
            f"Neo4j {NEO4J_VERSION} runs on Java 17 or 21, but {java} is Java {major or 'of unknown version'}. "
            "Install OpenJDK 17 (`apt-get install openjdk-17-jre-headless`) or point JAVA_HOME at a JDK 17/21."
        )
    return java


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise LauncherError(
                f"port {port} on 127.0.0.1 is already in use by another process, so Neo4j cannot listen there. "
                "Stop that process or choose another port with PROVGRAPH_NEO4J_PORT=<port>."
            ) from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return False


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        child.wait(timeout=10)


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _port(raw: str) -> int:
    """PROVGRAPH_NEO4J_PORT as a port number, or a LauncherError saying what is wrong (not a traceback)."""
    try:
        port = int(raw)
    except ValueError:
        raise LauncherError(
            f"PROVGRAPH_NEO4J_PORT must be a port number (0 for any free one), not {raw!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise LauncherError(f"PROVGRAPH_NEO4J_PORT must be between 0 and 65535, not {port}")
    return port
