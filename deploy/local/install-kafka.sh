#!/usr/bin/env bash
# Resolves the Kafka broker and tools jars from Maven Central into deploy/local/kafka/lib.
# Skips the work when lib/ already holds the jars for the current pom.xml (marker file).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$LOCAL_DIR/kafka"
LIB="$KAFKA_DIR/lib"
MARKER="$LIB/.resolved"

command -v java >/dev/null || die "java not found: install a JDK 17 (apt-get install -y openjdk-17-jdk-headless)"
command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven)"

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_DIR/pom.xml")"
[[ -n "$version" ]] || die "no <kafka.version> in $KAFKA_DIR/pom.xml"
# The pom's hash is in the marker too, so an edited pom (a new jar, a new version) re-resolves.
want="kafka $version pom $(sha256sum "$KAFKA_DIR/pom.xml" | cut -c1-16)"

if [[ -f "$MARKER" && "$(<"$MARKER")" == "$want" && -f "$LIB/kafka_2.13-$version.jar" ]]; then
  exit 0
fi

mkdir -p "$LIB"
rm -f "$LIB"/*.jar "$MARKER"
quietly mvn -B -q -f "$KAFKA_DIR/pom.xml" package ||
  die "could not resolve Kafka $version from Maven Central"

for jar in "kafka_2.13-$version.jar" "kafka-tools-$version.jar" "kafka-clients-$version.jar"; do
  [[ -f "$LIB/$jar" ]] || die "$jar missing from $LIB after resolution"
done
# Kafka's POMs bring slf4j-api but no binding: without exactly one, the broker logs nothing.
bindings=("$LIB"/log4j-slf4j*-impl-*.jar)
if ((${#bindings[@]} != 1)) || [[ ! -f "${bindings[0]}" ]]; then
  die "expected exactly one slf4j binding in $LIB, found: ${bindings[*]}"
fi
echo "$want" >"$MARKER"
