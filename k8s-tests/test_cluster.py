"""The cluster itself, before anything of ours is deployed on it (`make kind-up`; `make e2e` runs this first).

What the deployment relies on and a dry run cannot show: pods start under the restricted Pod Security Standard,
Services answer by DNS name, CoreDNS resolves no outside name (all traffic stays on this machine), NetworkPolicies
are enforced (our charts rely on them), and the default StorageClass binds a volume.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kube import apply, get_json, kubectl, poll, require_cluster, unavailable

ROOT = Path(__file__).resolve().parents[1]
RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
# A client that exits 0 once it reached the URL and 1 if it did not within 20 s, and says which. It tries for a while
# because a NetworkPolicy enforcer learns a new pod's address a moment after the pod starts (kube-router: ~2 s), so
# the first packets of a just-started client are refused even where a policy admits it.
FETCH = (
    "import sys, time, urllib.request\n"
    "deadline = time.monotonic() + 20\n"
    "while True:\n"
    "    try:\n"
    "        urllib.request.urlopen(sys.argv[1], timeout=3).read()\n"
    "        print('reached', sys.argv[1]); break\n"
    "    except Exception as error:\n"
    "        if time.monotonic() > deadline:\n"
    "            print('failed', sys.argv[1], error); sys.exit(1)\n"
    "        time.sleep(1)\n"
)


@pytest.fixture(scope="module")
def probe_image() -> str:
    require_cluster()
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "kind" / "probe-image.sh")], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        unavailable(f"cannot build or load the probe image (scripts/kind/probe-image.sh):\n{out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    require_cluster()
    name = f"e2e-cluster-{uuid.uuid4().hex[:6]}"
    apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
        }
    )
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def container(image: str, *command: str) -> dict[str, Any]:
    return {
        "name": "main",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(command),
        "securityContext": RESTRICTED,
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
    }


def pod_spec(image: str, *command: str, restart: str = "Always") -> dict[str, Any]:
    return {
        "restartPolicy": restart,
        "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001},
        "containers": [container(image, *command)],
    }


def run_once(
    namespace: str, image: str, name: str, *command: str, labels: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run `command` in a one-shot pod; return its phase (Succeeded/Failed) and its log."""
    apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": pod_spec(image, *command, restart="Never"),
        }
    )

    def finished() -> str | None:
        phase = get_json("-n", namespace, "pod", name).get("status", {}).get("phase")
        return phase if phase in {"Succeeded", "Failed"} else None

    phase = poll(f"pod {namespace}/{name} to finish", finished, timeout=180)
    log = kubectl("-n", namespace, "logs", name, check=False).stdout.strip()
    kubectl("-n", namespace, "delete", "pod", name, "--wait=false", check=False)
    return phase, log


@pytest.fixture(scope="module")
def web(namespace: str, probe_image: str) -> str:
    """An HTTP server (Deployment + Service) in the namespace; returns its URL by Service DNS name."""
    labels = {"app": "web"}
    apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": pod_spec(probe_image, "python3", "-m", "http.server", "8080", "--directory", "/etc"),
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    kubectl("-n", namespace, "rollout", "status", "deployment/web", "--timeout=180s", timeout=200)
    return f"http://web.{namespace}.svc.cluster.local/hostname"


def test_every_node_is_ready_at_the_pinned_version() -> None:
    require_cluster()
    gomod = (ROOT / "tools" / "k8s" / "go.mod").read_text()
    pinned = next(line.split()[1] for line in gomod.splitlines() if line.startswith("\tk8s.io/kubernetes v"))
    nodes = get_json("nodes")["items"]
    assert nodes
    for node in nodes:
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions.get("Ready") == "True", f"node {node['metadata']['name']} is not Ready: {conditions}"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == pinned


def test_a_service_answers_by_its_dns_name(namespace: str, probe_image: str, web: str) -> None:
    phase, log = run_once(namespace, probe_image, "client-dns", "python3", "-c", FETCH, web)
    assert phase == "Succeeded", log
    assert log.startswith("reached")


def test_outside_names_do_not_resolve(namespace: str, probe_image: str) -> None:
    check = (
        "import socket, sys\n"
        "try:\n"
        "    print('resolved', socket.getaddrinfo('pypi.org', 443)); sys.exit(1)\n"
        "except socket.gaierror as error:\n"
        "    print('unresolved', error)\n"
        "print('cluster', socket.getaddrinfo('kubernetes.default.svc.cluster.local', 443)[0][4][0])\n"
    )
    phase, log = run_once(namespace, probe_image, "client-outside", "python3", "-c", check)
    assert phase == "Succeeded", log
    assert log.startswith("unresolved") and "cluster " in log


def test_a_privileged_pod_is_refused_by_the_namespace(namespace: str, probe_image: str) -> None:
    spec = pod_spec(probe_image, "true", restart="Never")
    spec["containers"][0]["securityContext"] = {"privileged": True}
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": namespace},
        "spec": spec,
    }
    with pytest.raises(AssertionError, match='violates PodSecurity "restricted'):
        apply(manifest)


def test_network_policies_are_enforced(namespace: str, probe_image: str, web: str) -> None:
    # Before any policy: reachable.
    phase, log = run_once(namespace, probe_image, "client-open", "python3", "-c", FETCH, web)
    assert phase == "Succeeded", log
    # Deny all ingress to the web pods, then allow only pods labelled role=client.
    apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web-allow-clients", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": 8080}]}
                ],
            },
        }
    )
    # Enforcement follows policy events within seconds, so each verdict is polled with fresh client pods.
    attempt = iter(range(1000))

    def verdict(labels: dict[str, str], expected: str) -> str | None:
        name = f"client-{'allowed' if labels else 'denied'}-{next(attempt)}"
        phase, log = run_once(namespace, probe_image, name, "python3", "-c", FETCH, web, labels=labels)
        return log if phase == expected else None

    log = poll("the NetworkPolicy to block an unlabelled client", lambda: verdict({}, "Failed"), timeout=120)
    assert log.startswith("failed")
    log = poll("the NetworkPolicy to let a role=client pod in", lambda: verdict({"role": "client"}, "Succeeded"), 120)
    assert log.startswith("reached")
    # And the unlabelled client is still kept out once the labelled one got through.
    phase, log = run_once(namespace, probe_image, "client-denied-again", "python3", "-c", FETCH, web)
    assert phase == "Failed", log


def test_the_default_storage_class_binds_a_volume(namespace: str, probe_image: str) -> None:
    apply(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": namespace},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}},
        }
    )
    spec = pod_spec(
        probe_image, "python3", "-c", "open('/data/x', 'w').write('ok'); print(open('/data/x').read())", restart="Never"
    )
    spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "writer", "namespace": namespace}, "spec": spec})

    def finished() -> str | None:
        phase = get_json("-n", namespace, "pod", "writer").get("status", {}).get("phase")
        return phase if phase in {"Succeeded", "Failed"} else None

    phase = poll("the pod writing to the volume to finish", finished, timeout=180)
    log = kubectl("-n", namespace, "logs", "writer", check=False).stdout.strip()
    assert (phase, log) == ("Succeeded", "ok")
    assert get_json("-n", namespace, "pvc", "data")["status"]["phase"] == "Bound"
