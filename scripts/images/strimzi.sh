#!/usr/bin/env bash
# The Strimzi 1.2.0 images of the offline cluster, built here without a container registry:
#
#   scripts/images/strimzi.sh           # build (cached); prints the operator and the Kafka image refs
#   scripts/images/strimzi.sh verify    # build, then check both in docker (--network none): a KRaft broker serves
#                                       # produce/consume; Strimzi's kafka_run.sh and the cluster operator start and
#                                       # stop where they need the (absent) Kubernetes API
#
# - localhost/offline/strimzi/operator:1.2.0 — the cluster, topic and user operators and kafka-init: Strimzi's source
#   (tag 1.2.0) built with Maven (Maven Central only), packaged with Strimzi's own docker-images/operator/Dockerfile,
#   whose FROM is pointed at our base.
# - localhost/offline/strimzi/kafka:1.2.0-kafka-<v> — Kafka <v> (images/offline/strimzi/kafka/pom.xml) laid out as
#   Strimzi's Kafka image, with substitutions (images/offline/strimzi/kafka/Dockerfile says which): no Kafka Exporter,
#   no Cruise Control, no Strimzi Metrics Reporter, no OAuth or quotas plugins, JMX exporter 1.0.1.
# - localhost/offline/strimzi/base:1.2.0 (both build FROM it) — a Debian bookworm rootfs and a Java runtime jlinked
#   from this machine's newest JDK >= 21 (Debian bookworm has no Java 21; Strimzi 1.2.0 needs 21+): STRIMZI_JDK=DIR
#   picks another JDK.
# Inputs: Strimzi's source archive and Apache Kafka's bin/ and config/ (no registry serves the release's scripts), from
# $STOCKWATCH_SHARED/src (default ../shared: this machine's mirror). Caches under $STOCKWATCH_CACHE/strimzi.
source "$(dirname "$0")/lib.sh"

STRIMZI_VERSION=1.2.0
HERE="$ROOT/images/offline/strimzi"
SHARED="${STOCKWATCH_SHARED:-$ROOT/../shared}"
W="$CACHE/strimzi"
M2="$W/m2"
SETTINGS="$HERE/settings.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/kafka/pom.xml")"
OPERATOR_REF="$OFFLINE_PREFIX/strimzi/operator:$STRIMZI_VERSION"
KAFKA_REF="$OFFLINE_PREFIX/strimzi/kafka:$STRIMZI_VERSION-kafka-$KAFKA_VERSION"
BASE_REF="$OFFLINE_PREFIX/strimzi/base:$STRIMZI_VERSION"
# Packages of the base: what Strimzi's ubi9 base and Kafka image install (openssl, useradd, tini, netstat, unzip...)
# and what their scripts call (gawk, ps, curl for the readiness probe, hostname, find, tar, gzip).
BASE_PACKAGES=ca-certificates,openssl,passwd,tini,net-tools,unzip,gawk,procps,curl,hostname,findutils,tar,gzip
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1
JMX_EXPORTER=io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1
mkdir -p "$W"

# input NAME: the path of a file from $SHARED/src, or a clear error naming where it comes from.
input() {
  local path="$SHARED/src/$1"
  [ -f "$path" ] || die "$path not found. It is $2. Put it there (or set STOCKWATCH_SHARED to the folder holding src/$1)."
  echo "$path"
}

hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# Time a step: STEP NAME COMMAND... logs its duration to stderr.
step() {
  local name="$1" start=$SECONDS
  shift
  "$@"
  log "$name: $((SECONDS - start)) s"
}

mvn_central() { mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$M2" -s "$SETTINGS" "$@" >&2; }

java_spec() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' "/ $2 =/ {print \$2}"; }

# The JDK that builds Strimzi and whose runtime the images get: STRIMZI_JDK, else the newest JDK >= 21 here.
find_jdk() {
  local dir best="" best_major=0 major
  for dir in ${STRIMZI_JDK:-/usr/lib/jvm/*}; do
    [ -x "$dir/bin/jlink" ] && [ -x "$dir/bin/javac" ] || continue
    major="$(java_spec "$dir" java.specification.version)"
    if [ "${major%%.*}" -ge 21 ] 2>/dev/null && [ "${major%%.*}" -gt "$best_major" ]; then
      best="$dir" best_major="${major%%.*}"
    fi
  done
  [ -n "$best" ] || die "no JDK >= 21 with jlink found (${STRIMZI_JDK:-/usr/lib/jvm/*}): Strimzi $STRIMZI_VERSION builds and runs on Java 21+. Install one (e.g. Temurin 21 or 25) or set STRIMZI_JDK."
  echo "$best"
}

# Strimzi's operator and agent jars: $SRC/docker-images/artifacts/binaries/*-dist.zip.
build_strimzi() {
  local tarball="$1"
  rm -rf "$SRC" && mkdir -p "$SRC"
  tar -xzf "$tarball" -C "$SRC" --strip-components=1
  [ "$(cat "$SRC/release.version")" = "$STRIMZI_VERSION" ] || die "$tarball is not Strimzi $STRIMZI_VERSION"
  python3 "$HERE/patch_poms.py" strimzi "$SRC"
  (
    cd "$SRC"
    export JAVA_HOME="$JDK" PATH="$JDK/bin:$PATH" MAVEN_OPTS="${MAVEN_OPTS:--Xmx2g}"
    # Kafka's config models (config-model-generator/build-config-models.sh; that script needs mikefarah's yq).
    log "maven: config-model"
    mvn_central "${MVN_FLAGS[@]}" -pl config-model -am install
    supported_versions | while read -r version maven_version; do
      log "maven: Kafka $version config model"
      (cd config-model-generator && mvn_central "${MVN_FLAGS[@]}" -Pgenerate-model verify exec:java \
        -Dkafka-metadata-version="$maven_version" \
        -Dconfig-model-file="../cluster-operator/src/main/resources/kafka-$version-config-model.json") </dev/null
    done
    log "maven: operators, kafka-init, kafka-agent, tracing-agent"
    mvn_central "${MVN_FLAGS[@]}" -pl cluster-operator,topic-operator,user-operator,kafka-init,kafka-agent,tracing-agent \
      -am package
  ) || die "the Maven build of Strimzi $STRIMZI_VERSION failed (see above)"
  touch "$SRC/.built"
}

# "version maven-version" of each Kafka version Strimzi supports (kafka-versions.yaml).
supported_versions() {
  awk '/^- version:/ {if (v != "" && s == "true") print v, (m == "" ? v : m); v = $3; m = ""; s = ""}
       /^  maven-version:/ {m = $2} /^  supported:/ {s = $2}
       END {if (v != "" && s == "true") print v, (m == "" ? v : m)}' "$SRC/kafka-versions.yaml"
}

# kafka-versions.yaml's FIELD of Kafka version $KAFKA_VERSION.
kafka_field() {
  awk -v want="$KAFKA_VERSION" -v field="$1" '/^- version:/ {v = $3}
       v == want && $1 == field ":" {print $2; exit}' "$SRC/kafka-versions.yaml"
}

# A kafka_2.13-<v> distribution at $1: libs/ from Maven Central, bin/ config/ licenses/ from Kafka's source tree,
# with the fix-ups that tree (trunk of 2024-10-25) needs for 4.x.
kafka_dist() {
  local out="$1" binconfig
  binconfig="$(input apache-kafka-trunk-2024-10-25-bin-config.tar.gz "Apache Kafka's bin/, config/ and licences from its source tree (https://github.com/apache/kafka, or the bin/ and config/ of https://archive.apache.org/dist/kafka/$KAFKA_VERSION/kafka_2.13-$KAFKA_VERSION.tgz)")"
  rm -rf "$out" && mkdir -p "$out"
  tar -xzf "$binconfig" -C "$out" --strip-components=1
  (
    cd "$out"
    mv LICENSE-binary LICENSE && mv NOTICE-binary NOTICE
    rm -rf bin/windows bin/zookeeper-*.sh config/zookeeper.properties # ZooKeeper is gone in 4.0
    sed -i 's/kafka\.admin\.AclCommand/org.apache.kafka.tools.AclCommand/' bin/kafka-acls.sh
    sed -i 's/kafka\.tools\.DumpLogSegments/org.apache.kafka.tools.DumpLogSegments/' bin/kafka-dump-log.sh
    local script class
    while read -r script class; do # tools added after the snapshot: same wrapper as kafka-topics.sh
      sed "s/org\.apache\.kafka\.tools\.TopicCommand/$class/" bin/kafka-topics.sh >"bin/$script" && chmod +x "bin/$script"
    done <<'EOF'
kafka-groups.sh org.apache.kafka.tools.GroupsCommand
kafka-streams-groups.sh org.apache.kafka.tools.streams.StreamsGroupCommand
kafka-share-consumer-perf-test.sh org.apache.kafka.tools.ShareConsumerPerformance
EOF
    # Kafka 4 ships log4j2 only: point the scripts' defaults at log4j2 configs.
    sed -i 's#-Dlog4j.configuration=file:$base_dir/../config/log4j.properties#-Dlog4j2.configurationFile=$base_dir/../config/log4j2.properties#' bin/kafka-server-start.sh
    sed -i 's#-Dlog4j.configuration=file:$base_dir/../config/connect-log4j.properties#-Dlog4j2.configurationFile=$base_dir/../config/connect-log4j2.properties#' bin/connect-*.sh
    sed -i 's#LOG4J_DIR="$base_dir/config/tools-log4j.properties"#LOG4J_DIR="$base_dir/config/tools-log4j2.properties"#; s#KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:${LOG4J_DIR}"#KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=${LOG4J_DIR}"#' bin/kafka-run-class.sh
    rm -f config/*log4j.properties
    cp "$HERE/kafka/log4j2.properties" "$HERE/kafka/tools-log4j2.properties" config/
    cp "$HERE/kafka/log4j2.properties" config/connect-log4j2.properties
    if [ -d config/kraft ]; then cp config/kraft/*.properties config/ && rm -rf config/kraft; fi # 4.0 flattened it
  )
  mvn_central -f "$HERE/kafka/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime \
    -DoutputDirectory="$out/libs"
  # Every main class a bin/ script runs must be in libs/.
  local classes missing=""
  classes="$(for jar in "$out"/libs/*.jar; do unzip -Z1 "$jar" '*.class' 2>/dev/null || true; done | sed 's/\.class$//; s#/#.#g' | sort -u)"
  for script in "$out"/bin/*.sh; do
    class="$(grep -oE 'kafka-run-class.sh[^"]*"?[[:space:]]+(-[a-z]+ +[^ ]+ +)*[A-Za-z0-9_.$]+' "$script" \
      | grep -oE '[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)+$' | tail -1)" || true
    [ -z "$class" ] || grep -qxF "$class" <<<"$classes" || missing="$missing ${script##*/}:$class"
  done
  [ -z "$missing" ] || die "Kafka $KAFKA_VERSION distribution: main classes missing from libs/:$missing"
}

# The docker build context of the Kafka image at $1.
kafka_context() {
  local ctx="$1" third_party bin="$SRC/docker-images/artifacts/binaries" agent
  third_party="$(kafka_field third-party-libs)"
  [ -n "$third_party" ] || die "Strimzi $STRIMZI_VERSION does not know Kafka $KAFKA_VERSION (kafka-versions.yaml)"
  rm -rf "$ctx" && mkdir -p "$ctx/tmp"
  kafka_dist "$ctx/kafka-dist"
  cp -a "$SRC/docker-images/kafka-based/kafka/scripts" "$ctx/scripts"
  for agent in kafka-agent tracing-agent; do
    unzip -qoj "$bin/$agent-$STRIMZI_VERSION-dist.zip" "lib/io.strimzi.$agent-$STRIMZI_VERSION.jar" -d "$ctx/tmp"
    mv "$ctx/tmp/io.strimzi.$agent-$STRIMZI_VERSION.jar" "$ctx/tmp/$agent-$STRIMZI_VERSION.jar"
  done
  # Strimzi's third-party libs for this Kafka line, minus the plugins Maven Central does not serve.
  mkdir -p "$ctx/thirdparty-pom"
  cp "$SRC/docker-images/artifacts/kafka-thirdparty-libs/$third_party/pom.xml" "$ctx/thirdparty-pom/pom.xml"
  python3 "$HERE/patch_poms.py" thirdparty "$ctx/thirdparty-pom/pom.xml"
  mvn_central -f "$ctx/thirdparty-pom/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
    -DoutputDirectory="$ctx/tmp/thirdparty-libs-$third_party"
  rm -rf "$ctx/thirdparty-pom"
  mvn_central "$DEPENDENCY_PLUGIN:copy" -Dartifact="$JMX_EXPORTER" -DoutputDirectory="$ctx/jmx-exporter"
  cp "$HERE/kafka/Dockerfile" "$ctx/Dockerfile"
  echo "$third_party" >"$ctx/.third-party-libs"
  touch "$ctx/.complete"
}

# The modules of the runtime: Java SE plus what the operators and Kafka use (JMX, JFR, jcmd, DNS, Kerberos/SASL,
# PKCS#11, zipfs, charsets and locales), those of them this JDK has.
jre_modules() {
  local wanted=" java.se jdk.unsupported jdk.management jdk.management.agent jdk.crypto.cryptoki jdk.crypto.ec \
jdk.security.auth jdk.security.jgss jdk.naming.dns jdk.httpserver jdk.zipfs jdk.jfr jdk.net jdk.charsets jdk.jcmd \
jdk.localedata "
  "$JDK/bin/java" --list-modules | sed 's/@.*//' | while read -r module; do
    [[ "$wanted" == *" $module "* ]] && echo "$module"
  done | paste -sd, -
}

build() {
  need mvn "Install Maven (apt-get install maven)."
  need python3 "Install Python 3 (apt-get install python3)."
  need unzip "Install unzip (apt-get install unzip)."
  local tarball jre base_root key ctx third_party base_id
  JDK="$(find_jdk)"
  local java_version
  java_version="$(java_spec "$JDK" java.runtime.version)"
  log "JDK $JDK ($java_version)"
  tarball="$(input "strimzi-kafka-operator-$STRIMZI_VERSION.tar.gz" "Strimzi's source at tag $STRIMZI_VERSION (https://github.com/strimzi/strimzi-kafka-operator/archive/refs/tags/$STRIMZI_VERSION.tar.gz)")"
  MVN_FLAGS=(-T1 -Dlombok.version=1.18.42 -Dmaven.compiler.version=3.13.0 -Dmaven.compiler.proc=full
    -Dmaven.test.skip=true -Dmaven.javadoc.skip=true -Dspotbugs.skip -Dcheckstyle.skip -Djacoco.skip=true
    -Dmaven.source.skip=true -Dmdep.analyze.skip=true)
  # Lombok 1.18.42 and -proc:full (compiler plugin 3.13.0): what JDK 23+ needs to build Strimzi's annotation-processed
  # code. The key covers everything the Maven build reads.
  key="$( (sha256sum "$tarball" "$HERE/patch_poms.py" "$SETTINGS"; echo "$java_version ${MVN_FLAGS[*]}") | hash_of)"
  SRC="$W/src-$STRIMZI_VERSION-$key"
  if [ ! -f "$SRC/.built" ]; then
    step "Maven build of Strimzi $STRIMZI_VERSION" build_strimzi "$tarball"
    find "$W" -maxdepth 1 -name "src-$STRIMZI_VERSION-*" ! -name "${SRC##*/}" -exec rm -rf {} +
  fi

  # The base: Debian rootfs + jlinked runtime.
  jre="$W/jre-$java_version"
  if [ ! -x "$jre/bin/java" ]; then
    log "jlink a Java $java_version runtime"
    rm -rf "$jre"
    "$JDK/bin/jlink" --output "$jre" --strip-debug --no-man-pages --no-header-files --add-modules "$(jre_modules)" >&2 \
      || die "jlink from $JDK failed"
  fi
  base_root="$(step "rootfs strimzi-base" rootfs strimzi-base "$BASE_PACKAGES")"
  has_image "$base_root" || die "the strimzi-base rootfs image ($base_root) was not imported"
  ctx="$W/ctx-base"
  rm -rf "$ctx" && mkdir -p "$ctx" && cp "$HERE/base/Dockerfile" "$ctx/"
  cp -al "$jre" "$ctx/jre" 2>/dev/null || cp -a "$jre" "$ctx/jre"
  build_image "$BASE_REF" "$ctx" --build-arg BASE="$base_root" --build-arg strimzi_version="$STRIMZI_VERSION" \
    --build-arg java_version="$java_version"
  base_id="$(docker image inspect -f '{{.Id}}' "$BASE_REF")"

  # The operator: Strimzi's Dockerfile and scripts as they are, FROM our base.
  ctx="$W/ctx-operator"
  rm -rf "$ctx" && cp -a "$SRC/docker-images/operator" "$ctx" && mkdir -p "$ctx/tmp"
  grep -qx 'FROM strimzi/base:latest' "$ctx/Dockerfile" || die "Strimzi's operator Dockerfile no longer builds FROM strimzi/base:latest"
  sed -i "s#^FROM strimzi/base:latest\$#FROM $BASE_REF#" "$ctx/Dockerfile"
  local dist
  for dist in topic-operator user-operator kafka-init cluster-operator; do
    unzip -qo "$SRC/docker-images/artifacts/binaries/$dist-$STRIMZI_VERSION-dist.zip" -d "$ctx/tmp"
  done
  build_image "$OPERATOR_REF" "$ctx" --build-arg strimzi_version="$STRIMZI_VERSION" --label "dev.stockwatch.base=$base_id"

  # Kafka.
  key="$( (sha256sum "$HERE"/kafka/* "$HERE/patch_poms.py" "$SETTINGS" \
    "$SHARED/src/apache-kafka-trunk-2024-10-25-bin-config.tar.gz" 2>/dev/null; declare -f kafka_dist kafka_context
    echo "$SRC") | hash_of)"
  ctx="$W/ctx-kafka-$KAFKA_VERSION-$key"
  if [ ! -f "$ctx/.complete" ]; then
    step "Kafka $KAFKA_VERSION context" kafka_context "$ctx"
    find "$W" -maxdepth 1 -name "ctx-kafka-*" ! -name "${ctx##*/}" -exec rm -rf {} +
  fi
  third_party="$(cat "$ctx/.third-party-libs")"
  build_image "$KAFKA_REF" "$ctx" --build-arg BASE="$BASE_REF" --build-arg strimzi_version="$STRIMZI_VERSION" \
    --build-arg KAFKA_VERSION="$KAFKA_VERSION" --build-arg THIRD_PARTY_LIBS="$third_party" \
    --label "dev.stockwatch.base=$base_id"
  echo "$OPERATOR_REF"
  echo "$KAFKA_REF"
}

# A single KRaft broker+controller in the Kafka image, as the chart runs it (non-root UID, read-only root, /tmp
# writable), no network: storage format, topic, produce, consume.
verify_kafka() {
  local name="strimzi-verify-kafka-$$" out
  CONTAINERS+=("$name")
  log "verify $KAFKA_REF: KRaft storage format, produce, consume"
  out="$(timeout 420 docker run --name "$name" --network none --hostname localhost --user 10001:10001 --read-only \
    --tmpfs /tmp:rw,exec -e LOG_DIR=/tmp/logs -e KAFKA_HEAP_OPTS="-Xmx512m -Xms256m" "$KAFKA_REF" bash -c '
set -euo pipefail
cat >/tmp/kraft.properties <<EOP
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=/tmp/kraft-logs
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
EOP
java -version 2>&1 | head -1
./bin/kafka-storage.sh format -t "$(./bin/kafka-storage.sh random-uuid)" -c /tmp/kraft.properties
./bin/kafka-server-start.sh /tmp/kraft.properties >/tmp/broker.log 2>&1 &
for _ in $(seq 1 300); do grep -q "Kafka Server started" /tmp/broker.log && break; sleep 1; done
grep -E "Kafka version|Kafka Server started" /tmp/broker.log || { tail -40 /tmp/broker.log; exit 1; }
./bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic verify --partitions 1 --replication-factor 1
printf "hello\nstrimzi\n" | ./bin/kafka-console-producer.sh --bootstrap-server localhost:9092 --topic verify
echo "consumed: $(./bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic verify --from-beginning \
  --max-messages 2 --timeout-ms 30000 | tr "\n" " ")"
./bin/kafka-server-stop.sh
wait || true
' 2>&1)" || { echo "$out" >&2; die "$KAFKA_REF: the KRaft smoke test failed"; }
  echo "$out" >&2
  grep -q "consumed: hello strimzi" <<<"$out" || die "$KAFKA_REF: consumed something else than was produced"
}

# The Kafka image through Strimzi's own entrypoint (kafka_run.sh), with the files the cluster operator would mount
# (custom-config, the service account's namespace), as the chart runs it: it formats the KRaft storage, starts the
# broker under tini, and stops where kafka-agent fetches the cluster CA Secret from the (absent) API server.
verify_kafka_run() {
  local name="strimzi-verify-kafka-run-$$" dir out
  CONTAINERS+=("$name")
  dir="$(mktemp -d)"
  mkdir -p "$dir/cc" "$dir/sa"
  echo stockwatch >"$dir/sa/namespace"
  echo 4.3-IV0 >"$dir/cc/metadata.version"
  echo wuSftGIRRSWsVuLN0RiZwA >"$dir/cc/cluster.id"
  cp "$HERE/kafka/log4j2.properties" "$dir/cc/"
  printf '%s\n' node.id=0 process.roles=broker,controller controller.listener.names=CONTROLPLANE-9090 \
    controller.quorum.voters=0@verify-kafka-0:9090 \
    listeners=CONTROLPLANE-9090://0.0.0.0:9090,PLAIN-9092://0.0.0.0:9092 \
    advertised.listeners=PLAIN-9092://verify-kafka-0:9092 \
    listener.security.protocol.map=CONTROLPLANE-9090:PLAINTEXT,PLAIN-9092:PLAINTEXT \
    inter.broker.listener.name=PLAIN-9092 log.dirs=/var/lib/kafka/data-0/kafka-log0 \
    metadata.log.dir=/var/lib/kafka/data-0/kafka-log0 >"$dir/cc/server.config"
  chmod -R a+rX "$dir"
  log "verify $KAFKA_REF through Strimzi's kafka_run.sh (stops at the absent API server)"
  out="$(timeout 300 docker run --name "$name" --network none --hostname verify-kafka-0 \
    --add-host verify-kafka-0:127.0.0.1 --user 10001:10001 --read-only --tmpfs /tmp:rw,exec \
    --tmpfs /var/lib/kafka:rw,uid=10001,gid=10001 -e KAFKA_CLUSTER_NAME=verify -v "$dir/cc:/opt/kafka/custom-config:ro" \
    -v "$dir/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" "$KAFKA_REF" /opt/kafka/kafka_run.sh 2>&1)" || true
  rm -rf "$dir"
  grep -q "KRaft storage formatting is done" <<<"$out" && grep -q "verify-cluster-ca-cert" <<<"$out" \
    || { tail -40 <<<"$out" >&2; die "$KAFKA_REF: kafka_run.sh did not format the storage and start the broker"; }
  log "$KAFKA_REF: kafka_run.sh formatted the storage and started the broker up to the cluster CA Secret"
}

# The cluster operator with the env of Strimzi's Deployment and an API server that is not there: it starts and
# stops at connecting to it. The operator wants an image for every supported Kafka version (as the chart writes
# them); only $KAFKA_VERSION's is built.
verify_operator() {
  local name="strimzi-verify-operator-$$" out images version _
  images="$(supported_versions | while read -r version _; do
    echo "$version=$OFFLINE_PREFIX/strimzi/kafka:$STRIMZI_VERSION-kafka-$version"
  done | paste -sd, -)"
  CONTAINERS+=("$name")
  log "verify $OPERATOR_REF: the cluster operator starts (and stops at the absent API server)"
  docker run -d --name "$name" --network none --hostname strimzi-cluster-operator --read-only \
    --tmpfs /tmp:rw -e STRIMZI_NAMESPACE=stockwatch -e STRIMZI_OPERATOR_NAMESPACE=strimzi \
    -e STRIMZI_FULL_RECONCILIATION_INTERVAL_MS=120000 -e STRIMZI_OPERATION_TIMEOUT_MS=300000 \
    -e STRIMZI_KAFKA_IMAGES="$images" -e STRIMZI_KAFKA_CONNECT_IMAGES="$images" \
    -e STRIMZI_KAFKA_MIRROR_MAKER_2_IMAGES="$images" -e STRIMZI_DEFAULT_TOPIC_OPERATOR_IMAGE="$OPERATOR_REF" \
    -e STRIMZI_DEFAULT_USER_OPERATOR_IMAGE="$OPERATOR_REF" -e STRIMZI_DEFAULT_KAFKA_INIT_IMAGE="$OPERATOR_REF" \
    -e STRIMZI_LEADER_ELECTION_ENABLED=false -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT=6443 \
    "$OPERATOR_REF" /opt/strimzi/bin/cluster_operator_run.sh >/dev/null
  local deadline=$((SECONDS + 240)) reached=""
  while [ $SECONDS -lt $deadline ]; do # until it has tried the API server, or has exited, or 4 minutes
    out="$(docker logs "$name" 2>&1)"
    if grep -qiE "127\.0\.0\.1:6443|connection refused|ConnectException" <<<"$out"; then reached=1 && break; fi
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 2
  done
  out="$(docker logs "$name" 2>&1)"
  grep -E "ClusterOperatorConfig|Main|Exception|6443" <<<"$out" | head -20 >&2
  [ -n "$reached" ] || { tail -40 <<<"$out" >&2; die "$OPERATOR_REF: the cluster operator did not get as far as the API server"; }
  log "$OPERATOR_REF: started, stopped at the API server as expected"
}

case "${1:-build}" in
  build) build ;;
  verify)
    CONTAINERS=()
    trap 'for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done' EXIT
    build
    verify_kafka
    verify_kafka_run
    verify_operator
    ;;
  *) die "usage: $0 [build|verify]" ;;
esac
