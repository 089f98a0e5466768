"""Patch Strimzi's Maven poms (in the build cache, never in the repository) so they resolve from Maven Central alone.

    python3 patch_poms.py strimzi SRC_DIR        # Strimzi's source tree: operator and agent modules
    python3 patch_poms.py thirdparty POM         # a docker-images/artifacts/kafka-thirdparty-libs/<v>/pom.xml

`strimzi`: drops every test-scoped dependency of the module poms (the build skips tests with -Dmaven.test.skip, but
Maven still resolves test scope, and Central lacks io.strimzi:strimzi-test-container 0.116.0 and the
fault-injection-source-connector), and pins the managed io.fabric8 openshift-* artifacts from 7.8.0 to 7.7.0 (Central
has no 7.8.0 of them; kubernetes-client stays 7.8.0). `thirdparty`: drops the Kafka plugins Central does not serve
(Strimzi OAuth 0.18.0, the quotas plugin 0.4.0, the Strimzi Metrics Reporter, Cruise Control's metrics reporter)
and the extra repositories. Both are idempotent and print what they changed; a pom that no longer has what they
expect (another Strimzi version) fails loudly rather than building something else.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEPENDENCY = re.compile(r"[ \t]*<dependency>(?:(?!</dependency>).)*</dependency>[ \t]*\n?", re.S)
OPENSHIFT_PIN = "7.7.0"
OPENSHIFT_ARTIFACTS = {"openshift-client", "openshift-client-api", "openshift-model", "openshift-model-operatorhub"}
THIRDPARTY_DROPPED = ("kafka-oauth-", "kafka-quotas-plugin", "server-metrics-reporter", "cruise-control")


def coordinates(block: str) -> tuple[str, str]:
    group = re.search(r"<groupId>\s*([^<]+?)\s*</groupId>", block)
    artifact = re.search(r"<artifactId>\s*([^<]+?)\s*</artifactId>", block)
    return (group.group(1) if group else "", artifact.group(1) if artifact else "")


def is_test(block: str, managed_test: set[tuple[str, str]]) -> bool:
    return (
        "<scope>test</scope>" in block
        or "<type>test-jar</type>" in block
        or "<classifier>tests</classifier>" in block
        or ("<scope>" not in block and coordinates(block) in managed_test)
    )


def patch_strimzi(src: Path) -> None:
    root_pom = src / "pom.xml"
    root = root_pom.read_text()
    managed = re.search(r"<dependencyManagement>(.*?)</dependencyManagement>", root, re.S)
    if managed is None:
        sys.exit(f"{root_pom}: no <dependencyManagement>: not the Strimzi pom this patch was written for")
    # Plain jar entries managed as test scope (operator-common also has a separate tests test-jar entry).
    managed_test = {
        coordinates(m.group(0))
        for m in DEPENDENCY.finditer(managed.group(1))
        if "<scope>test</scope>" in m.group(0) and "<classifier>" not in m.group(0) and "<type>" not in m.group(0)
    }
    for pom in sorted(src.glob("*/pom.xml")):
        text = pom.read_text()
        removed: list[str] = []

        def drop_test(match: re.Match[str], removed: list[str] = removed) -> str:
            if is_test(match.group(0), managed_test):
                removed.append(":".join(coordinates(match.group(0))))
                return ""
            return match.group(0)

        # Project dependencies only: plugin dependencies live under <build>.
        head, sep, tail = text.partition("<build>")
        patched = DEPENDENCY.sub(drop_test, head) + sep + tail
        if removed:
            pom.write_text(patched)
            print(f"{pom.parent.name}: dropped {len(removed)} test dependencies", file=sys.stderr)

    pinned: list[str] = []

    def pin(match: re.Match[str]) -> str:
        block = match.group(0)
        group, artifact = coordinates(block)
        if group == "io.fabric8" and artifact in OPENSHIFT_ARTIFACTS and "<classifier>" not in block:
            new = re.sub(r"<version>[^<]*</version>", f"<version>{OPENSHIFT_PIN}</version>", block, count=1)
            if new != block:
                pinned.append(artifact)
            return new
        return block

    patched_root = DEPENDENCY.sub(pin, root)
    if patched_root != root:
        root_pom.write_text(patched_root)
        print(f"root pom: pinned {', '.join(sorted(pinned))} to {OPENSHIFT_PIN}", file=sys.stderr)


def patch_thirdparty(pom: Path) -> None:
    text = pom.read_text()
    dropped: list[str] = []

    def drop(match: re.Match[str]) -> str:
        artifact = coordinates(match.group(0))[1]
        if artifact.startswith(THIRDPARTY_DROPPED):
            dropped.append(artifact)
            return ""
        return match.group(0)

    # Top-level dependencies only: exclusions inside a kept dependency are part of its block.
    patched = DEPENDENCY.sub(drop, text)
    patched = re.sub(r"<repositories>.*?</repositories>", "", patched, flags=re.S)
    pom.write_text(patched)
    if dropped:
        print(f"{pom}: dropped {', '.join(dropped)} (not on Maven Central)", file=sys.stderr)


def main(argv: list[str]) -> None:
    if len(argv) != 3 or argv[1] not in {"strimzi", "thirdparty"}:
        sys.exit(__doc__)
    target = Path(argv[2])
    if not target.exists():
        sys.exit(f"{target}: no such file or directory")
    if argv[1] == "strimzi":
        patch_strimzi(target)
    else:
        patch_thirdparty(target)


if __name__ == "__main__":
    main(sys.argv)
