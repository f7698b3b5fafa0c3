#!/usr/bin/env bash
# Installs and runs a real single-node Apache Kafka broker for weir's tests:
# KRaft mode (broker and controller in one JVM) on 127.0.0.1, from the jars
# that scripts/kafka/pom.xml resolves from Maven Central (version set there).
#
# Usage: bash scripts/kafka.sh COMMAND   (from any directory)
#   install            copy the jars into .cache/kafka/<version>/lib (once per
#                      pom.xml; Maven caches the downloads in ~/.m2)
#   start              install, then start a broker on fresh storage unless one
#                      is running; prints one line: WEIR_KAFKA_BROKERS=host:port
#   stop               stop the broker (no error if none runs)
#   status             exit 0 if the broker runs and answers, else 1
#   topic NAME PARTS   create a topic on the running broker
# Env: WEIR_KAFKA_PORT (default 19092), WEIR_KAFKA_CONTROLLER_PORT (19093).
# Needs Java 17+ and Maven. Broker files: .cache/kafka/run/ (server.log there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="$root/scripts/kafka"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$conf/pom.xml")"
home="$root/.cache/kafka/$version"
lib="$home/lib"
run="$root/.cache/kafka/run"
pidfile="$run/kafka.pid"
port="${WEIR_KAFKA_PORT:-19092}"
cport="${WEIR_KAFKA_CONTROLLER_PORT:-19093}"
brokers="127.0.0.1:$port"
apt_line="sudo apt-get install -y openjdk-17-jre-headless maven"

say() { echo "kafka: $*" >&2; }
die() { say "$*"; exit 1; }

need() { # need CMD...: install Java/Maven (as root on Debian) or stop with the line to run
    local c missing=0
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing=1; done
    if [ "$missing" = 1 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing Java and Maven (openjdk-17-jre-headless, maven)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
    fi
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "$c is missing. Run: $apt_line"
    done
    local v
    v="$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -1)"
    [ "${v:-0}" -ge 17 ] || die "Kafka $version needs Java 17+, found '${v:-?}'. Run: $apt_line"
}

install() {
    # The marker holds the pom's checksum: editing the pom re-resolves.
    local stamp
    stamp="$(cksum <"$conf/pom.xml")"
    [ "$(cat "$home/.installed" 2>/dev/null)" = "$stamp" ] && return 0
    need java mvn
    say "resolving Kafka $version jars with Maven into $lib"
    rm -rf "$lib" "$lib.tmp"
    # -q prints errors only; Debian's Maven 3.8 still emits colour resets.
    mvn -q -B -f "$conf/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$lib.tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
    mv "$lib.tmp" "$lib"
    echo "$stamp" >"$home/.installed"
}

tool_limit=60
tool() { # tool CLASS ARGS...: run one of Kafka's command-line tools, bounded
    timeout "$tool_limit" java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$lib/*" \
        -Dlog4j2.configurationFile="$conf/log4j2.yaml" \
        -Dkafka.logs.dir="$run" -Dkafka.log.name=tools "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { # the pid in the pid file is a live Kafka broker (not a reused pid)
    [ -f "$pidfile" ] && ps -o args= -p "$(cat "$pidfile")" 2>/dev/null | grep -q 'kafka\.Kafka'
}
running() { alive && port_open "$port"; }

stop() {
    if alive; then
        local pid i
        pid="$(cat "$pidfile")"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do alive || break; sleep 0.1; done
        if alive; then
            say "broker $pid still up 30 s after SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do alive || break; sleep 0.1; done
        fi
    fi
    rm -f "$pidfile"
}

write_config() {
    cat >"$run/server.properties" <<EOF
# Written by scripts/kafka.sh: a one-node KRaft test broker on 127.0.0.1.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
# A dynamic quorum (format --standalone) wants bootstrap servers, not voters.
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$run/data
auto.create.topics.enable=false
# Keep every record: generated records carry event times from 2026-01-01,
# which the default 7-day retention would delete within minutes.
log.retention.ms=-1
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=16777216
EOF
    # For the readiness probe: retry the port fast, give up in seconds.
    printf '%s\n' reconnect.backoff.ms=100 reconnect.backoff.max.ms=200 \
        request.timeout.ms=10000 default.api.timeout.ms=15000 >"$run/probe.properties"
}

fail_start() {
    say "$1; first errors and last 40 lines of $run/server.log:"
    grep -m 3 -A 1 ' ERROR ' "$run/server.log" >&2 2>/dev/null || true
    tail -n 40 "$run/server.log" >&2 2>/dev/null || true
    local f
    for f in console.log probe.log; do
        [ -s "$run/$f" ] && { say "last lines of $run/$f:"; tail -n 10 "$run/$f" >&2; }
    done
    stop
    exit 1
}

start() {
    install
    need java
    if running; then echo "WEIR_KAFKA_BROKERS=$brokers"; return 0; fi
    stop # a stale pid file, or a broker that does not answer
    if port_open "$port" || port_open "$cport"; then
        die "port $port or $cport is taken by another process; set WEIR_KAFKA_PORT and WEIR_KAFKA_CONTROLLER_PORT"
    fi
    rm -rf "$run"
    mkdir -p "$run"
    write_config
    local t0=$SECONDS
    # Storage is fresh on each start, so a fixed cluster id will do (it is
    # base64 of 16 bytes, "weir-test-broker"); saves a JVM for random-uuid.
    tool kafka.tools.StorageTool format --standalone --cluster-id d2Vpci10ZXN0LWJyb2tlcg \
        --config "$run/server.properties" >"$run/format.log" 2>&1 ||
        { cat "$run/format.log" >&2; die "formatting the storage failed"; }
    # setsid: own session, so the caller's terminal and $(...) are not held.
    # The inner bash writes its own pid, then becomes the JVM.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
        java -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -cp "$lib/*" -Dlog4j2.configurationFile="$conf/log4j2.yaml" \
        -Dkafka.logs.dir="$run" -Dkafka.log.name=server \
        kafka.Kafka "$run/server.properties" \
        </dev/null >"$run/console.log" 2>&1 &
    # Ready means a topic can be created, then found and deleted (the delete
    # lists topics first), not just an open port. The first try starts while
    # the broker boots: its admin client waits a few seconds for the port.
    local deadline=$((SECONDS + 90)) t=weir-ready
    for ((;;)); do
        ((SECONDS < deadline)) || fail_start "the broker was not ready within 90 s"
        [ -f "$pidfile" ] && ! alive && fail_start "the broker exited"
        tool_limit=$((deadline - SECONDS < 20 ? deadline - SECONDS : 20))
        if tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" \
            --command-config "$run/probe.properties" --create --if-not-exists \
            --topic "$t" --partitions 1 --replication-factor 1 >>"$run/probe.log" 2>&1 &&
            tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" \
                --command-config "$run/probe.properties" --delete --topic "$t" >>"$run/probe.log" 2>&1; then
            break
        fi
        sleep 0.5
    done
    say "Kafka $version up in $((SECONDS - t0)) s (pid $(cat "$pidfile"), log $run/server.log)"
    echo "WEIR_KAFKA_BROKERS=$brokers"
}

topic() {
    [ $# -eq 2 ] || die "usage: bash scripts/kafka.sh topic NAME PARTITIONS"
    running || die "no broker is running; run: bash scripts/kafka.sh start"
    tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$brokers" \
        --create --if-not-exists --topic "$1" --partitions "$2" --replication-factor 1
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) running ;;
topic) shift; topic "$@" ;;
*) die "usage: bash scripts/kafka.sh install|start|stop|status|topic NAME PARTITIONS" ;;
esac
