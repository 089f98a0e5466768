"""Local paths for the pinned upstream artifacts (real CRDs, Helm charts) in `tools/upstream/upstream.lock.toml`.

`resolve(name)` gives a folder: the verified copy in the cache, else the official download checked against its pinned
sha256 (then cached), else the mirror under `../shared` when its tree hash matches, else one error naming both the
URL it tried and the mirror folder. A checksum mismatch is refused outright (nothing is cached, no fallback).

    python -m stockwatch.testing.upstream resolve strimzi-crds      # prints the folder (for bash scripts)
    python -m stockwatch.testing.upstream list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

REPO_ROOT = Path(__file__).resolve().parents[3]
MANIFEST = REPO_ROOT / "tools" / "upstream" / "upstream.lock.toml"
MAX_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 16


class Download(BaseModel):
    """One official file: where it is released and the sha256 it must have ("" = no honest pin yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    url: str
    sha256: str = Field(pattern=r"^([0-9a-f]{64})?$")


class Artifact(BaseModel):
    """A folder of upstream files (`files`) or one Helm chart .tgz served unpacked (`helm-chart`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    kind: Literal["files", "helm-chart"]
    license: str
    release: str
    mirror: str
    mirror_tree_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    verified: str
    not_verified: str
    files: tuple[Download, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_chart(self) -> Artifact:
        if self.kind == "helm-chart" and (len(self.files) != 1 or not self.files[0].path.endswith(".tgz")):
            raise ValueError("a helm-chart artifact has exactly one .tgz file")
        return self

    def cache_key(self) -> str:
        """Changes whenever a pin does, so a cached copy of other bytes is never taken for this one."""
        pins = "".join(f"{d.path} {d.sha256} {d.url}\n" for d in self.files)
        return hashlib.sha256(f"{self.kind} {self.version}\n{pins}".encode()).hexdigest()[:12]


class Manifest(RootModel[dict[str, Artifact]]):
    """The whole lock file: artifact name -> artifact."""

    def get(self, name: str) -> Artifact:
        if name not in self.root:
            raise UpstreamError(f"unknown upstream artifact {name!r}; known: {', '.join(sorted(self.root))}")
        return self.root[name]


class UpstreamError(RuntimeError):
    """An artifact could not be provided; the message says what was tried and what to do."""


class ChecksumMismatchError(UpstreamError):
    """The official download is not the pinned file: refused, nothing cached."""


class _UnavailableError(Exception):
    """The official download did not happen (host unreachable, HTTP error, no pin): try the mirror."""


def load_manifest(path: Path = MANIFEST) -> Manifest:
    """Parse and validate the lock file."""
    try:
        return Manifest.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise UpstreamError(f"cannot read the upstream manifest {path}: {exc}") from exc


def default_cache() -> Path:
    """$STOCKWATCH_CACHE, else $XDG_CACHE_HOME/stockwatch, else ~/.cache/stockwatch (as scripts/lib.sh)."""
    if env := os.environ.get("STOCKWATCH_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stockwatch"


def default_shared() -> Path:
    """$STOCKWATCH_SHARED, else `../shared` beside the repo."""
    return Path(os.environ.get("STOCKWATCH_SHARED") or REPO_ROOT.parent / "shared")


def tree_sha256(folder: Path) -> str:
    """sha256 of `find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum` run in `folder`."""
    files = sorted((p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()), key=lambda p: p.as_posix())
    lines = "".join(f"{file_sha256(p)}  ./{p.relative_to(folder).as_posix()}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Resolver:
    """Gives local folders for the artifacts of `manifest` (cache -> intact local mirror -> official download)."""

    manifest: Manifest
    cache: Path = field(default_factory=default_cache)
    shared: Path = field(default_factory=default_shared)
    timeout: float = 30.0  # seconds, per read
    connect_timeout: float = 5.0

    def resolve(self, name: str) -> Path:
        """The cache, else the local mirror when it is there and intact (no network is tried then), else the
        official download checked against its sha256; else one error naming both."""
        artifact = self.manifest.get(name)
        entry = self.cache / "upstream" / f"{name}-{artifact.version}-{artifact.cache_key()}"
        if (found := self._cached(entry, name)) is not None:
            return found
        mirror = self.shared / artifact.mirror
        if not mirror.is_dir():
            why = "is missing (set STOCKWATCH_SHARED to the folder holding crds/ and charts/)"
        elif (got := tree_sha256(mirror)) != artifact.mirror_tree_sha256:
            why = f"has tree sha256 {got}, not the pinned {artifact.mirror_tree_sha256}"
        else:
            return mirror
        try:
            return self._download(name, artifact, entry)
        except _UnavailableError as exc:
            official = str(exc)
        raise UpstreamError(f"cannot get {name} {artifact.version}: {official}, and the local mirror {mirror} {why}")

    def _cached(self, entry: Path, name: str) -> Path | None:
        """The cached folder when its content still has the tree hash recorded when it was verified."""
        try:
            recorded = json.loads((entry / "verified.json").read_text())["tree_sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if tree_sha256(entry / name) == recorded:
            return entry / name
        shutil.rmtree(entry, ignore_errors=True)  # changed since it was verified: fetch it again
        return None

    def _download(self, name: str, artifact: Artifact, entry: Path) -> Path:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=entry.parent))
        try:
            content = tmp / name
            content.mkdir()
            with httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout), follow_redirects=True
            ) as client:
                for download in artifact.files:
                    target = (tmp if artifact.kind == "helm-chart" else content) / download.path
                    self._fetch(client, download, target)
            if artifact.kind == "helm-chart":
                _unpack_chart(tmp / artifact.files[0].path, content, artifact.version)
            record = {"files": [d.model_dump() for d in artifact.files], "tree_sha256": tree_sha256(content)}
            (tmp / "verified.json").write_text(json.dumps(record, indent=2) + "\n")
            try:
                tmp.rename(entry)  # atomic: the entry exists only complete and verified
            except OSError:  # another process got there first
                if (found := self._cached(entry, name)) is None:
                    raise
                return found
            return entry / name
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # a failed or lost attempt leaves nothing behind

    @staticmethod
    def _fetch(client: httpx.Client, download: Download, target: Path) -> None:
        official = f"the official download {download.url}"
        if not download.sha256:
            raise _UnavailableError(f"{official} is not used: it has no pinned sha256 yet")
        digest, size = hashlib.sha256(), 0
        try:
            with client.stream("GET", download.url) as response, target.open("wb") as out:
                if response.status_code != httpx.codes.OK:
                    raise _UnavailableError(f"{official} answered HTTP {response.status_code}")
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise _UnavailableError(f"{official} is over {MAX_BYTES} bytes")
                    digest.update(chunk)
                    out.write(chunk)
        except httpx.HTTPError as exc:
            raise _UnavailableError(f"{official} failed ({type(exc).__name__}: {exc})") from exc
        if digest.hexdigest() != download.sha256:
            raise ChecksumMismatchError(
                f"refused {download.url}: its sha256 is {digest.hexdigest()}, the pinned one is {download.sha256} "
                "(nothing was cached; if upstream re-published it, check the new file and update "
                "tools/upstream/upstream.lock.toml)"
            )


def _unpack_chart(tgz: Path, dest: Path, version: str) -> None:
    """Unpack a chart .tgz (one top-level folder) into `dest`; its Chart.yaml must carry `version`."""
    unpacked = tgz.parent / "unpacked"
    try:
        with tarfile.open(tgz, "r:gz") as archive:
            archive.extractall(unpacked, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise UpstreamError(f"{tgz.name} is not a readable chart archive: {exc}") from exc
    tops = list(unpacked.iterdir())
    chart_yaml = tops[0] / "Chart.yaml"
    if len(tops) != 1 or not chart_yaml.is_file():
        raise UpstreamError(f"{tgz.name} is not one <chart>/ folder with a Chart.yaml")
    found = yaml.safe_load(chart_yaml.read_text()).get("version")
    if str(found) != version:
        raise UpstreamError(f"{tgz.name}: Chart.yaml has version {found}, the manifest pins {version}")
    dest.rmdir()
    chart_yaml.parent.rename(dest)
    shutil.rmtree(unpacked)
    tgz.unlink()


def resolve(name: str) -> Path:
    """The local folder of artifact `name` from the project's manifest, with the default cache and mirror."""
    return Resolver(load_manifest()).resolve(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stockwatch.testing.upstream", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    resolve_cmd = commands.add_parser("resolve", help="print the local folder of each artifact, one a line")
    resolve_cmd.add_argument("names", nargs="+", metavar="NAME")
    commands.add_parser("list", help="the artifacts in the manifest")
    options = parser.parse_args(argv)
    try:
        resolver = Resolver(load_manifest())
        if options.command == "list":
            for name, artifact in sorted(resolver.manifest.root.items()):
                print(f"{name}\t{artifact.version}\t{artifact.kind}\t{artifact.license}\t{artifact.mirror}")
        else:
            for name in options.names:
                print(resolver.resolve(name))
    except UpstreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
