"""A real Kubernetes control plane for the tests: etcd + kube-apiserver, and kube-controller-manager on request.

The binaries come from `scripts/k8s-tools.sh` (release downloads or a build through the Go module proxy, cached in
$STOCKWATCH_CACHE), or from the folder in $STOCKWATCH_K8S_BIN. The API server listens on 127.0.0.1 with a
self-signed certificate, authenticates an admin (group `system:masters`) by a static token, authorizes with RBAC,
runs the default admission plugins, and serves the real Strimzi and prometheus-operator CRDs (pinned in
`tools/upstream/upstream.lock.toml`, got by `stockwatch.testing.upstream`: cache, official download, or the `../shared`
mirror) plus our own from `charts/stockwatch-crds/templates`, so custom resources are checked by their real schemas.

Fixtures (loaded with `-p stockwatch.testing.k8s`): `kube_apiserver` (session), `kube_controller_manager` (session,
started only when a test asks for it: garbage collection, namespace deletion, Deployments -> ReplicaSets), and
`k8s_namespace` (a fresh namespace per test, Pod Security `restricted` enforced). Nothing here skips: a part that
cannot start fails the test with its log.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import secrets
import signal
import ssl
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from stockwatch.local.process import ManagedProcess, free_port
from stockwatch.testing.upstream import resolve

REPO_ROOT = Path(__file__).resolve().parents[3]
CHART_CRDS = REPO_ROOT / "charts" / "stockwatch-crds" / "templates"
# The real CRDs of the operators our charts drive (names in tools/upstream/upstream.lock.toml).
UPSTREAM_CRDS = ("prometheus-operator-crds", "strimzi-crds")
ADMIN_USER = "stockwatch-admin"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
LOCALHOST = "127.0.0.1"


class KubectlError(subprocess.CalledProcessError):
    """kubectl exited non-zero; the message carries its stderr."""

    def __str__(self) -> str:
        return f"kubectl {' '.join(self.cmd[2:])} failed (exit {self.returncode}):\n{self.stderr}"


@functools.cache
def k8s_bin_dir() -> Path:
    """The folder with helm, kubectl, kube-apiserver, kube-controller-manager and etcd (built on first use)."""
    if env := os.environ.get("STOCKWATCH_K8S_BIN"):
        return Path(env)
    script = REPO_ROOT / "scripts" / "k8s-tools.sh"
    out = subprocess.run(["bash", str(script), "all"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{script} failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def k8s_tool(name: str) -> Path:
    """The path of one of the tools (`helm`, `kubectl`, `kube-apiserver`, `kube-controller-manager`, `etcd`)."""
    path = k8s_bin_dir() / name
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is missing: run `make k8s-tools` (scripts/k8s-tools.sh {name})")
    return path


def default_crd_files() -> list[Path]:
    """The pinned upstream CRDs (fails naming the official URL and the mirror when neither is there), then our
    own chart's CRDs."""
    upstream = [path for name in UPSTREAM_CRDS for path in sorted(resolve(name).glob("*.yaml"))]
    return upstream + sorted(CHART_CRDS.glob("*.yaml"))


def _get_ok(url: str, *, verify: ssl.SSLContext | bool, token: str | None = None) -> bool:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return httpx.get(url, headers=headers, verify=verify, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc (0 when gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


class LocalEtcd:
    """A single-member etcd on loopback ports, data in `workdir`."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.client_port = free_port()
        self.peer_port = free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.client_port}"

    def start(self, timeout: float = 60.0) -> None:
        peer = f"http://{LOCALHOST}:{self.peer_port}"
        argv = [
            str(k8s_tool("etcd")),
            "--name=stockwatch-test",
            f"--data-dir={self.workdir / 'data'}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=stockwatch-test={peer}",
            "--unsafe-no-fsync",  # test data: durability on power loss does not matter, speed does
            "--log-level=warn",
        ]
        self.process = ManagedProcess("etcd", argv, self.workdir / "etcd.log")
        self.process.start()
        self.process.wait_ready(lambda: _get_ok(f"{self.url}/health", verify=False), timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class KubeAPIServer:
    """etcd + kube-apiserver on 127.0.0.1, with an admin kubeconfig at `.kubeconfig`."""

    def __init__(self, workdir: Path, *, watch_cache: bool = True):
        self.workdir = workdir
        self.port = free_port()
        self.server = f"https://{LOCALHOST}:{self.port}"
        self.token = secrets.token_urlsafe(32)
        self.cert_dir = workdir / "certs"
        self.kubeconfig = workdir / "kubeconfig"
        self.sa_key = workdir / "sa.key"
        self.sa_pub = workdir / "sa.pub"
        self.watch_cache = watch_cache
        self.etcd = LocalEtcd(workdir / "etcd")
        self.process: ManagedProcess | None = None

    @property
    def ca_file(self) -> Path:
        """The self-signed serving certificate and its CA, written by the API server into `--cert-dir`."""
        return self.cert_dir / "apiserver.crt"

    def _write_credentials(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        self.sa_key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.sa_pub.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        for path in (self.sa_key, tokens):
            path.chmod(0o600)

    def start(self, timeout: float = 180.0) -> None:
        self._write_credentials()
        self.etcd.start()
        argv = [
            str(k8s_tool("kube-apiserver")),
            f"--etcd-servers={self.etcd.url}",
            f"--bind-address={LOCALHOST}",
            f"--advertise-address={LOCALHOST}",
            f"--secure-port={self.port}",
            f"--cert-dir={self.cert_dir}",
            f"--token-auth-file={self.workdir / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={SA_ISSUER}",
            f"--service-account-key-file={self.sa_pub}",
            f"--service-account-signing-key-file={self.sa_key}",
            "--service-cluster-ip-range=10.96.0.0/16",
            f"--watch-cache={str(self.watch_cache).lower()}",
            "--profiling=false",
            "--v=1",
        ]
        self.process = ManagedProcess("kube-apiserver", argv, self.workdir / "kube-apiserver.log")
        self.process.start()
        self.process.wait_ready(self._ready, timeout)
        self.write_kubeconfig(self.kubeconfig, ADMIN_USER, self.token)

    def _ready(self) -> bool:
        if not self.ca_file.exists():
            return False
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file))
        except ssl.SSLError:  # the file is being written
            return False
        return _get_ok(f"{self.server}/readyz", verify=context, token=self.token)

    def write_kubeconfig(self, path: Path, user: str, token: str, namespace: str = "default") -> Path:
        """A kubeconfig for `user` with a bearer `token` against this server (mode 0600)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "stockwatch-test",
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [
                {"name": user, "context": {"cluster": "stockwatch-test", "user": user, "namespace": namespace}}
            ],
            "current-context": user,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        """The environment for a subprocess (helm, the operator) that should talk to this server."""
        return {**os.environ, "KUBECONFIG": str(kubeconfig or self.kubeconfig)}

    def kubectl(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        kubeconfig: Path | None = None,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl against this server (as admin, or as the user in `kubeconfig`)."""
        argv = [str(k8s_tool("kubectl")), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args]
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise KubectlError(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc

    def install_crds(self, files: Sequence[Path], timeout: float = 120.0) -> list[str]:
        """Server-side apply the CRDs in `files` (big ones exceed client-side apply's annotation limit) and wait
        until each is Established. Returns the applied object names."""
        names: list[str] = []
        for path in files:
            out = self.kubectl("apply", "--server-side", "--force-conflicts", "-o", "name", "-f", str(path))
            names += out.stdout.split()
        crds = [name for name in names if name.startswith("customresourcedefinition")]
        if crds:
            self.kubectl(
                "wait", "--for=condition=Established", f"--timeout={timeout:.0f}s", *crds, timeout=timeout + 10
            )
        return names

    def service_account_kubeconfig(
        self, namespace: str, name: str, *, path: Path | None = None, duration: str = "1h"
    ) -> Path:
        """A kubeconfig that acts as ServiceAccount `namespace/name`, with a token from the TokenRequest API."""
        token = self.kubectl("create", "token", name, "-n", namespace, f"--duration={duration}").stdout.strip()
        path = path or self.workdir / "sa-kubeconfigs" / f"{namespace}.{name}"
        return self.write_kubeconfig(path, f"system:serviceaccount:{namespace}:{name}", token, namespace=namespace)

    def rss_kib(self) -> dict[str, int]:
        """Resident memory of etcd and kube-apiserver, for the measurements in the docs."""
        procs = {"etcd": self.etcd.process, "kube-apiserver": self.process}
        return {name: _rss_kib(p.proc.pid) if p and p.proc else 0 for name, p in procs.items()}

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.etcd.stop()


class KubeControllerManager:
    """kube-controller-manager against a `KubeAPIServer`: garbage collection, namespaces, workloads."""

    def __init__(self, api: KubeAPIServer, workdir: Path, controllers: str = "*"):
        self.api = api
        self.workdir = workdir
        self.port = free_port()
        self.controllers = controllers
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 120.0) -> None:
        argv = [
            str(k8s_tool("kube-controller-manager")),
            f"--kubeconfig={self.api.kubeconfig}",
            "--leader-elect=false",
            f"--bind-address={LOCALHOST}",
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'certs'}",
            f"--controllers={self.controllers}",
            f"--service-account-private-key-file={self.api.sa_key}",
            f"--root-ca-file={self.api.ca_file}",
            "--profiling=false",
        ]
        self.process = ManagedProcess("kube-controller-manager", argv, self.workdir / "kube-controller-manager.log")
        self.process.start()
        # Its serving certificate is self-signed in memory; /healthz is readable without credentials.
        url = f"https://{LOCALHOST}:{self.port}/healthz"
        self.process.wait_ready(lambda: _get_ok(url, verify=False), timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def _namespace_name(test_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{uuid.uuid4().hex[:6]}" if slug else f"t-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def kube_apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeAPIServer]:
    """A real kube-apiserver + etcd for the whole session, with the Strimzi, prometheus-operator and our CRDs."""
    crds = default_crd_files()  # before starting anything: fails at once when the CRDs cannot be had
    server = KubeAPIServer(tmp_path_factory.mktemp("k8s"))
    try:
        server.start()
        server.install_crds(crds)
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kube_controller_manager(
    kube_apiserver: KubeAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeControllerManager]:
    """kube-controller-manager for the rest of the session (owner-reference cascade deletion, namespaces, ...)."""
    manager = KubeControllerManager(kube_apiserver, tmp_path_factory.mktemp("kcm"))
    try:
        manager.start()
    except BaseException:
        manager.stop()
        raise
    yield manager
    manager.stop()


@pytest.fixture
def k8s_namespace(kube_apiserver: KubeAPIServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for this test, Pod Security `restricted` enforced, with a `default` ServiceAccount."""
    name = _namespace_name(request.node.name)
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")},
        },
    }
    kube_apiserver.kubectl("create", "-f", "-", input=yaml.safe_dump(manifest))
    # Without the controller manager nobody creates it, and the ServiceAccount admission plugin needs it for Pods.
    made = kube_apiserver.kubectl("create", "serviceaccount", "default", "-n", name, check=False)
    if made.returncode != 0 and "already exists" not in made.stderr:
        raise KubectlError(made.returncode, made.args, made.stdout, made.stderr)
    yield name
    kube_apiserver.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the control plane carry the `k8s` marker (`-m "not k8s"` leaves them out)."""
    for item in items:
        if {"kube_apiserver", "kube_controller_manager", "k8s_namespace"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.k8s)


def serve(workdir: Path, *, controller_manager: bool = False) -> None:
    """Run the test control plane in the foreground until SIGINT/SIGTERM (`make k8s-apiserver`)."""
    crds = default_crd_files()
    api = KubeAPIServer(workdir)
    manager = KubeControllerManager(api, workdir / "kcm") if controller_manager else None
    try:
        api.start()
        api.install_crds(crds)
        if manager is not None:
            manager.start()
        print(f"kube-apiserver {api.server} is ready (logs in {workdir}); Ctrl-C stops it.")
        print(f"export KUBECONFIG={api.kubeconfig}", flush=True)
        # Blocked only now: children inherit the signal mask, and they must still get our SIGTERM.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        if manager is not None:
            manager.stop()
        api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run etcd + kube-apiserver with the CRDs, as the tests do.")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--controller-manager", action="store_true", help="also run kube-controller-manager")
    options = parser.parse_args()
    serve(options.workdir, controller_manager=options.controller_manager)
