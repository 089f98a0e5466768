"""The upstream resolver against a real loopback HTTP server standing in for the official hosts.

The server serves the same files the pinned manifest names (got once through the resolver itself: cache, official
download or the ../shared mirror), under the official URLs' paths; only the host differs.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from stockwatch.local.process import free_port
from stockwatch.testing.k8s import k8s_tool
from stockwatch.testing.upstream import (
    REPO_ROOT,
    Artifact,
    ChecksumMismatchError,
    Download,
    Manifest,
    Resolver,
    UpstreamError,
    load_manifest,
    resolve,
    tree_sha256,
)

MANIFEST = load_manifest()
FILE_ARTIFACTS = sorted(name for name, a in MANIFEST.root.items() if a.kind == "files")


@functools.cache
def real(name: str) -> Path:
    """The real files of `name`, once per session (cache, official download or mirror)."""
    return resolve(name)


@dataclass
class Origin:
    """A threaded HTTP server on 127.0.0.1 serving `files` (URL path -> bytes) and recording each GET."""

    files: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def origin() -> Iterator[Origin]:
    state = Origin()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            body = state.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def at_host(artifact: Artifact, base: str) -> Artifact:
    """The same artifact with every official URL moved to `base` (path kept)."""
    moved = tuple(d.model_copy(update={"url": base + urlsplit(d.url).path}) for d in artifact.files)
    return artifact.model_copy(update={"files": moved})


def serve_real(origin: Origin, name: str) -> Artifact:
    """Put the real files of `name` on the loopback origin; the artifact pointing there, pins unchanged."""
    artifact = at_host(MANIFEST.get(name), origin.base)
    for download in artifact.files:
        origin.files[urlsplit(download.url).path] = (real(name) / download.path).read_bytes()
    return artifact


def mirror_of(name: str, shared: Path) -> Path:
    """A copy of the real files of `name` at its mirror path under `shared`."""
    dest = shared / MANIFEST.get(name).mirror
    shutil.copytree(real(name), dest)
    return dest


def cache_entries(cache: Path) -> list[Path]:
    return sorted((cache / "upstream").glob("*")) if (cache / "upstream").exists() else []


@pytest.mark.parametrize("name", FILE_ARTIFACTS)
def test_right_checksum_is_accepted_and_cached(origin: Origin, tmp_path: Path, name: str) -> None:
    artifact = serve_real(origin, name)
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "no-shared")

    got = resolver.resolve(name)

    assert got.is_relative_to(tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in got.iterdir()} == {
        d.path: origin.files[urlsplit(d.url).path] for d in artifact.files
    }
    assert tree_sha256(got) == artifact.mirror_tree_sha256  # the same bytes as the pinned mirror
    assert len(origin.hits) == len(artifact.files)
    assert resolver.resolve(name) == got  # the second time from the cache: no request
    assert len(origin.hits) == len(artifact.files)


def test_a_changed_cache_is_fetched_again(origin: Origin, tmp_path: Path) -> None:
    name = FILE_ARTIFACTS[0]
    artifact = serve_real(origin, name)
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "no-shared")
    changed = resolver.resolve(name) / artifact.files[0].path
    changed.write_text("tampered")

    assert resolver.resolve(name) / artifact.files[0].path == changed
    assert changed.read_bytes() == origin.files[urlsplit(artifact.files[0].url).path]
    assert len(origin.hits) == 2 * len(artifact.files)


def test_wrong_checksum_is_refused_and_nothing_cached(origin: Origin, tmp_path: Path) -> None:
    name = FILE_ARTIFACTS[0]
    artifact = serve_real(origin, name)
    bad = artifact.files[-1]
    origin.files[urlsplit(bad.url).path] += b"\n# not the released file\n"
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "no-shared")

    with pytest.raises(ChecksumMismatchError) as caught:
        resolver.resolve(name)

    served = hashlib.sha256(origin.files[urlsplit(bad.url).path]).hexdigest()
    assert bad.url in str(caught.value)
    assert served in str(caught.value)
    assert bad.sha256 in str(caught.value)
    assert cache_entries(tmp_path / "cache") == []


def test_an_intact_mirror_is_used_without_the_network(origin: Origin, tmp_path: Path) -> None:
    name = FILE_ARTIFACTS[0]
    artifact = serve_real(origin, name)
    mirror = mirror_of(name, tmp_path / "shared")
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "shared")

    assert resolver.resolve(name) == mirror
    assert origin.hits == []


@pytest.mark.parametrize("official", ["closed port", "HTTP 404"])
def test_unreachable_official_falls_back_to_the_mirror(origin: Origin, tmp_path: Path, official: str) -> None:
    name = FILE_ARTIFACTS[0]
    base = f"http://127.0.0.1:{free_port()}" if official == "closed port" else origin.base  # origin serves nothing
    mirror = mirror_of(name, tmp_path / "shared")
    resolver = Resolver(
        Manifest({name: at_host(MANIFEST.get(name), base)}), cache=tmp_path / "cache", shared=tmp_path / "shared"
    )

    assert resolver.resolve(name) == mirror
    assert cache_entries(tmp_path / "cache") == []


def test_neither_gives_one_error_naming_both(tmp_path: Path) -> None:
    name = FILE_ARTIFACTS[0]
    artifact = at_host(MANIFEST.get(name), f"http://127.0.0.1:{free_port()}")
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "shared")

    with pytest.raises(UpstreamError) as caught:
        resolver.resolve(name)

    message = str(caught.value)
    assert artifact.files[0].url in message
    assert "ConnectError" in message
    assert str(tmp_path / "shared" / artifact.mirror) in message
    assert "STOCKWATCH_SHARED" in message
    assert "\n" not in message


def test_a_changed_mirror_is_refused(tmp_path: Path) -> None:
    name = FILE_ARTIFACTS[0]
    mirror = mirror_of(name, tmp_path / "shared")
    next(mirror.iterdir()).write_text("kind: NotTheRelease\n")
    artifact = at_host(MANIFEST.get(name), f"http://127.0.0.1:{free_port()}")
    resolver = Resolver(Manifest({name: artifact}), cache=tmp_path / "cache", shared=tmp_path / "shared")

    with pytest.raises(UpstreamError, match=rf"{mirror} has tree sha256 [0-9a-f]{{64}}, not the pinned"):
        resolver.resolve(name)


def chart_artifact(tmp_path: Path, origin: Origin, *, version: str | None = None) -> Artifact:
    """Our stockwatch-crds chart packed as a release .tgz, on the origin, pinned by its sha256."""
    chart = REPO_ROOT / "charts" / "stockwatch-crds"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(chart, arcname="stockwatch-crds")
    body = buffer.getvalue()
    origin.files["/charts/stockwatch-crds.tgz"] = body
    return Artifact(
        version=version or str(yaml.safe_load((chart / "Chart.yaml").read_text())["version"]),
        kind="helm-chart",
        license="Apache-2.0",
        release=f"{origin.base}/charts",
        mirror="charts/stockwatch-crds",
        mirror_tree_sha256=tree_sha256(chart),
        verified="test",
        not_verified="test",
        files=(
            Download(
                path="stockwatch-crds.tgz",
                url=f"{origin.base}/charts/stockwatch-crds.tgz",
                sha256=hashlib.sha256(body).hexdigest(),
            ),
        ),
    )


def test_a_chart_is_unpacked_into_a_folder_helm_renders(origin: Origin, tmp_path: Path) -> None:
    resolver = Resolver(Manifest({"crds": chart_artifact(tmp_path, origin)}), cache=tmp_path / "c", shared=tmp_path)

    chart = resolver.resolve("crds")

    assert tree_sha256(chart) == tree_sha256(REPO_ROOT / "charts" / "stockwatch-crds")
    rendered = subprocess.run(
        [str(k8s_tool("helm")), "template", "t", str(chart)], capture_output=True, text=True, check=True
    )
    kinds = {doc["kind"] for doc in yaml.safe_load_all(rendered.stdout) if doc}
    assert kinds == {"CustomResourceDefinition"}


def test_a_chart_of_another_version_is_refused(origin: Origin, tmp_path: Path) -> None:
    artifact = chart_artifact(tmp_path, origin, version="9.9.9")
    resolver = Resolver(Manifest({"crds": artifact}), cache=tmp_path / "c", shared=tmp_path)

    with pytest.raises(UpstreamError, match=r"Chart.yaml has version 0\.1\.0, the manifest pins 9\.9\.9"):
        resolver.resolve("crds")
    assert cache_entries(tmp_path / "c") == []


@pytest.mark.parametrize("name", FILE_ARTIFACTS)
def test_the_mirror_pin_is_the_pinned_files(name: str) -> None:
    """For a folder of files the mirror's tree hash follows from the files' pins: the mirror is those bytes."""
    artifact = MANIFEST.get(name)
    lines = "".join(f"{d.sha256}  ./{d.path}\n" for d in sorted(artifact.files, key=lambda d: d.path))
    assert hashlib.sha256(lines.encode()).hexdigest() == artifact.mirror_tree_sha256


def test_tree_hash_is_the_documented_shell_pipeline(tmp_path: Path) -> None:
    for rel, text in {"b.yaml": "b", "a/z.txt": "z", "a/B c.txt": "space", ".hidden": "h"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    shell = "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
    out = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == tree_sha256(tmp_path)


def test_cli_prints_the_folder_or_one_error_line(tmp_path: Path) -> None:
    env = {"STOCKWATCH_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "stockwatch.testing.upstream", "resolve"]

    ok = subprocess.run([*cli, "strimzi-crds"], env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert tree_sha256(Path(ok.stdout.strip())) == MANIFEST.get("strimzi-crds").mirror_tree_sha256

    bad = subprocess.run([*cli, "no-such-thing"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert bad.stderr.startswith("error: unknown upstream artifact 'no-such-thing'; known: airflow,")
    assert bad.stderr.count("\n") == 1
