#!/usr/bin/env bash
# Apache Kafka 4.4.0 in KRaft mode (one node, broker and controller) for the stack suite, from Maven
# Central jars. Usage: kafka.sh provision | start [RUN_DIR] | stop RUN_DIR   (see lib.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=4.4.0
KAFKA_HOME="$WSYNC_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
# Small heap and a quick JIT: the broker shares two cores with the tests it serves.
KAFKA_JAVA_OPTS="${KAFKA_JAVA_OPTS:--Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

provision() {
  if [[ -f "$KAFKA_LIBS/.complete" ]]; then
    log "kafka $KAFKA_VERSION: cached in $KAFKA_LIBS"
    return
  fi
  command -v java >/dev/null || die "java is needed for Kafka (Debian: apt-get install -y openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn is needed to fetch Kafka's jars (Debian: apt-get install -y maven)"
  log "kafka $KAFKA_VERSION: fetching jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_HOME"
  local work
  work="$(mktemp -d "$KAFKA_HOME/fetch-XXXXXX")"
  # Maven works in a scratch copy of the pom so it leaves nothing in the source tree.
  cp "$STACK_DIR/kafka/pom.xml" "$work/pom.xml"
  # Maven prints colour codes even in batch mode: keep its output for when it fails.
  (cd "$work" && mvn -B -Dmaven.repo.local="$WSYNC_CACHE/m2" dependency:copy-dependencies \
    -DoutputDirectory="$work/libs" -DincludeScope=runtime >"$work/mvn.log" 2>&1) ||
    { tail -n 60 "$work/mvn.log" >&2; die "kafka: fetching jars failed (log: $work/mvn.log)"; }
  touch "$work/libs/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$work/libs" "$KAFKA_LIBS"
  rm -rf "$work"
  log "kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars cached"
}

kafka_java() {
  # shellcheck disable=SC2086 # the options are a word list on purpose
  java $KAFKA_JAVA_OPTS -Dlog4j2.configurationFile="$STACK_DIR/kafka/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

write_server_properties() {
  local dir="$1" port="$2" controller_port="$3"
  cat >"$dir/server.properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
}

start() {
  provision
  local run_dir
  run_dir="$(run_dir_for "${1:-}")"
  local dir="$run_dir/kafka"
  if [[ -f "$dir/kafka.pid" ]] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    log "kafka: already running in $dir"
    cat "$run_dir/kafka.env"
    return
  fi
  local port controller_port cluster_id attempt
  # A free port can be taken by another process before the JVM binds it (the suite starts many
  # servers at once): then Kafka dies with "Address already in use" and we try other ports.
  for attempt in 1 2 3; do
    rm -rf "$dir"
    mkdir -p "$dir"
    port="$(free_port)"
    controller_port="$(free_port)"
    while [[ "$controller_port" == "$port" ]]; do controller_port="$(free_port)"; done
    write_server_properties "$dir" "$port" "$controller_port"
    # The tool logs a warning on stderr; only stdout is the id.
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      { cat "$dir/format.log" >&2; die "kafka: storage format failed"; }
    log "kafka: starting on 127.0.0.1:$port (controller $controller_port), log $dir/kafka.log"
    # exec in the background subshell, so $! is the JVM itself and `stop` can signal it.
    (
      # shellcheck disable=SC2086
      exec java $KAFKA_JAVA_OPTS -Dlog4j2.configurationFile="$STACK_DIR/kafka/log4j2.properties" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1
    ) &
    echo $! >"$dir/kafka.pid"
    if wait_started "$dir" 90 &&
      wait_until 60 "kafka topic creation" kafka_java "$STACK_DIR/kafka/CreateTopic.java" "127.0.0.1:$port" wsync-stack-ready; then
      break
    fi
    if ((attempt < 3)) && grep -q "Address already in use" "$dir/kafka.log"; then
      log "kafka: a port was taken before Kafka bound it; trying other ports"
      stop "$run_dir"
      continue
    fi
    tail -n 40 "$dir/kafka.log" >&2
    stop "$run_dir"
    die "kafka did not become ready"
  done
  write_env "$run_dir/kafka.env" "KAFKA_BROKERS=127.0.0.1:$port"
}

# Waits until this JVM (not whatever else may hold the port) says it started; fails early if it died.
wait_started() {
  local dir="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    grep -q "Kafka Server started" "$dir/kafka.log" 2>/dev/null && return 0
    kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || return 1
    sleep 0.2
  done
  log "kafka: not started after $2 s"
  return 1
}

stop() {
  local run_dir="$1"
  stop_pidfile "$run_dir/kafka/kafka.pid" 30
}

stack_main "$@"
