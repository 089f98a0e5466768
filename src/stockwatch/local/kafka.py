"""The real Apache Kafka broker (KRaft, single node) from Maven Central jars, for the demo and the tests.

`scripts/kafka-fetch.sh` fetches the jars (tools/kafka/pom.xml) into the cache; `LocalKafka` formats a
data dir and runs `kafka.Kafka` on free loopback ports. The data dir survives `kill()` + `start()`, so a
test can crash the broker and bring the same log back.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from stockwatch.local.process import ManagedProcess, free_port, port_open

REPO_ROOT = Path(__file__).resolve().parents[3]

_LOG4J2 = """\
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT">
    <PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/><Logger name="org.apache.kafka" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
"""


def kafka_libs() -> Path:
    """The folder with the broker's jars, fetched on first use (needs Java 17+ and Maven)."""
    if env := os.environ.get("STOCKWATCH_KAFKA_LIBS"):
        return Path(env)
    script = REPO_ROOT / "scripts" / "kafka-fetch.sh"
    if shutil.which("java") is None or shutil.which("mvn") is None:
        raise RuntimeError(
            "the local Kafka broker needs Java 17+ and Maven: apt-get install openjdk-17-jre-headless maven"
        )
    out = subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


class LocalKafka:
    """A single-node KRaft broker listening on 127.0.0.1."""

    def __init__(self, workdir: Path, port: int | None = None, heap: str = "512m"):
        self.workdir = workdir
        self.port = port or free_port()
        self.controller_port = free_port()
        self.heap = heap
        self.data_dir = workdir / "data"
        self.libs = kafka_libs()
        self.process: ManagedProcess | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java", f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.xml'}",
            "-cp", f"{self.libs}/*", main, *args,
        ]  # fmt: skip

    def _write_config(self) -> Path:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # No fsync per message: a killed broker process loses nothing that reached the page cache.
        }
        path = self.workdir / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.workdir / "log4j2.xml").write_text(_LOG4J2)
        return path

    def start(self, timeout: float = 90.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            # A KRaft cluster id is 16 random bytes, url-safe base64 without padding.
            cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", cid, "-c", str(config)),
                check=True, capture_output=True,
            )  # fmt: skip
        self.process = ManagedProcess("kafka", self._java("kafka.Kafka", str(config)), self.workdir / "kafka.log")
        self.process.start()
        self.process.wait_ready(lambda: port_open(self.port), timeout)

    def stop(self) -> None:
        if self.process:
            self.process.stop(timeout=30)

    def kill(self) -> None:
        """kill -9 the broker (the data dir stays for a restart)."""
        if self.process:
            self.process.kill()
