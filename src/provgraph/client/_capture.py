"""What a run context records without being told: the code (git) and the environment it runs in.

Capturing never fails a run: no git, no repository, a slow git or a broken package's metadata each leave
that fact out (not recorded), and nothing is imported to find out which frameworks are in use."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("provgraph.client")

GIT_TIMEOUT = 2.0  # seconds per git command; a hung git (a network filesystem, a lock) is not waited for
# The service refuses more packages than this, or entries longer than this (EnvironmentInput.packages).
MAX_PACKAGES = 2000
MAX_PACKAGE_LENGTH = 256
# Where the digest of the container image the run executes in is read from, first set wins. No runtime
# sets one by itself (Docker and Kubernetes do not expose the digest to the container), so the
# deployment passes it, e.g. `docker run -e PROVGRAPH_IMAGE_DIGEST=sha256:…`.
IMAGE_DIGEST_VARIABLES = ("PROVGRAPH_IMAGE_DIGEST",)
# ML frameworks by import name and distribution name, in the order the first one found in sys.modules
# becomes the run's framework: the libraries a model is built with before the ones they import
# (xgboost and lightgbm import sklearn, keras a backend, transformers torch).
FRAMEWORKS = (
    ("torch", "torch"),
    ("tensorflow", "tensorflow"),
    ("jax", "jax"),
    ("xgboost", "xgboost"),
    ("lightgbm", "lightgbm"),
    ("catboost", "catboost"),
    ("sklearn", "scikit-learn"),
    ("keras", "keras"),
    ("transformers", "transformers"),
)
_NOT_LINE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Captured:
    """What was captured: `code` and `environment` in the shape `Client.register_run` takes (only the
    facts found), every imported framework's version, and how many packages were left out."""

    code: dict[str, object] = field(default_factory=dict)
    environment: dict[str, object] = field(default_factory=dict)
    frameworks: dict[str, str | None] = field(default_factory=dict)
    packages_omitted: int = 0


def capture(cwd: Path | None = None, argv0: str | None = None) -> Captured:
    """Code and environment as they are now (frameworks are looked up later, by `imported_frameworks`)."""
    packages, omitted = installed_packages(MAX_PACKAGES)
    if omitted:
        log.warning(
            "%d installed packages are left out of the run's environment: the service keeps at most %d "
            "entries of at most %d characters",
            omitted,
            MAX_PACKAGES,
            MAX_PACKAGE_LENGTH,
        )
    environment: dict[str, object] = {"python": platform.python_version(), "packages": packages}
    if digest := image_digest(os.environ):
        environment["image_digest"] = digest
    return Captured(
        code=git_code(cwd or Path.cwd(), sys.argv[0] if argv0 is None else argv0),
        environment=environment,
        packages_omitted=omitted,
    )


def _git(cwd: Path, *args: str) -> str | None:
    """One git command's output, or None when git is missing, fails or takes too long."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            # `git status` may refresh the index; without this it takes the index lock to do so, and can
            # fail a concurrent git command the user runs.
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_code(cwd: Path, argv0: str) -> dict[str, object]:
    """The repository URL (origin's, credentials removed), commit and dirty flag of the git work tree
    `cwd` is in, and the entrypoint relative to its root. Dirty means tracked files differ from the
    commit (as `git describe --dirty`); untracked files do not count."""
    root = _git(cwd, "rev-parse", "--show-toplevel")
    code: dict[str, object] = {}
    if root is not None:
        if commit := _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD"):
            code["commit"] = commit
        if (status := _git(cwd, "status", "--porcelain", "--untracked-files=no")) is not None:
            code["dirty"] = bool(status)
        if url := _git(cwd, "config", "--get", "remote.origin.url"):
            code["repo"] = without_credentials(url)
    if entrypoint := _entrypoint(argv0, Path(root) if root else None, cwd):
        code["entrypoint"] = entrypoint
    return code


def _entrypoint(argv0: str, root: Path | None, cwd: Path) -> str | None:
    if not argv0 or argv0 in ("-", "-c", "-m"):  # an interactive session, `python -c`, a script on stdin
        return None
    if root is not None:
        try:
            return (cwd / argv0).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:  # a script outside the repository
            pass
    return argv0


def without_credentials(url: str) -> str:
    """A remote URL fit to record: `https://user:token@host/x` loses its user and token (GitHub accepts a
    token as the user name), other URLs their password; scp-like `git@host:x` stays as it is."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if parts.scheme not in ("http", "https"):
        host = f"{userinfo.split(':', 1)[0]}@{host}"
    return urlunsplit(parts._replace(netloc=host))


def installed_packages(limit: int = MAX_PACKAGES) -> tuple[list[str], int]:
    """`name==version` of every installed distribution, sorted without regard to case, at most `limit`
    of them; and how many were left out (over the limit, too long, or without a name or version)."""
    found: dict[str, str] = {}
    left_out = 0
    for dist in importlib.metadata.distributions():
        try:
            name, version = dist.name, dist.version
        except Exception:  # a broken METADATA file must not fail the run
            name, version = "", ""
        entry = f"{name}=={version}"
        if not name or not version or len(entry) > MAX_PACKAGE_LENGTH or _NOT_LINE.search(entry):
            left_out += 1
            continue
        # The first distribution of a name on sys.path is the one `import` finds.
        found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), entry)
    entries = sorted(found.values(), key=str.lower)
    left_out += max(0, len(entries) - limit)
    return entries[:limit], left_out


def image_digest(environ: Mapping[str, str]) -> str | None:
    """The container image digest from the first of IMAGE_DIGEST_VARIABLES that holds a usable value."""
    for name in IMAGE_DIGEST_VARIABLES:
        value = environ.get(name, "").strip()
        if value and len(value) <= MAX_PACKAGE_LENGTH and not _NOT_LINE.search(value):
            return value
        if value:
            log.warning("%s is not a one-line value of at most 256 characters; not recorded", name)
    return None


def imported_frameworks(modules: Mapping[str, ModuleType] | None = None) -> dict[str, str | None]:
    """The version (None if unknown) of each of FRAMEWORKS already imported (in `sys.modules`), in
    FRAMEWORKS order."""
    modules = sys.modules if modules is None else modules
    versions: dict[str, str | None] = {}
    for module_name, distribution in FRAMEWORKS:
        module = modules.get(module_name)
        if module is None:
            continue
        version = getattr(module, "__version__", None)
        if not isinstance(version, str):
            try:
                version = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                version = None
        versions[module_name] = str(version) if version else None
    return versions
