#!/usr/bin/env bash
# Fetch the Apache Kafka broker's jars (tools/kafka/pom.xml) from Maven Central into the cache.
# Prints the folder holding the jars. Needs Java 17+ and Maven.
source "$(dirname "$0")/lib.sh"
need java "Install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)."
need mvn "Install Maven (e.g. apt-get install maven)."
major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
[ "${major%%.*}" -ge 17 ] 2>/dev/null || die "Kafka 4 needs Java 17+, found ${major:-unknown}."
pom="$ROOT/tools/kafka/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
sum=$(sha256sum "$pom" | cut -c1-12)
dest="$CACHE/kafka-$version-$sum"
if [ ! -f "$dest/.complete" ]; then
  echo ">> fetching Apache Kafka $version jars into $dest" >&2
  rm -rf "$dest"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest/libs" >&2
  touch "$dest/.complete"
fi
echo "$dest/libs"
