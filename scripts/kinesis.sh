#!/usr/bin/env bash
# Installs and runs two local AWS emulators for weir's tests, both on
# 127.0.0.1 only and in memory (every start begins empty):
#   kinesis-mock (npm kinesis-local, a Kinesis API on plain HTTP and TLS)
#   dynalite     (npm dynalite, a DynamoDB API, for the lease tables)
#
# Usage: bash scripts/kinesis.sh COMMAND   (from any directory)
#   install   npm-install both into .cache/kinesis/node_modules (once per
#             version pair) and make kinesis-mock's loopback copy
#   start     install, then start whichever is not running; waits until both
#             answer, then prints two lines:
#               WEIR_KINESIS_ENDPOINT=http://127.0.0.1:PORT
#               WEIR_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT
#   stop      stop both (no error if none runs)
#   status    exit 0 if both run and answer, else 1
#   stream NAME SHARDS
#             create a stream on the running kinesis-mock (unless it exists)
#             and wait until it is ACTIVE
# Env: WEIR_KINESIS_PORT (default 14567, plain HTTP), WEIR_KINESIS_TLS_PORT
#   (14568, self-signed TLS), WEIR_DYNAMODB_PORT (14569).
# Needs Node 18+ and npm (installed with apt-get when run as root on Debian).
# Pid files and logs: .cache/kinesis/run/ (kinesis.log, dynamodb.log).
# Both want an AWS4 Authorization header and X-Amz-Date but check no signature;
# kinesis-mock keeps streams per region of the credential scope (use us-east-1).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/kinesis"
mock="$cache/kinesis-mock" # loopback copy of kinesis-mock: main.js, server.json
run="$cache/run"
versions="kinesis-local@0.6.2 dynalite@4.0.0"
kport="${WEIR_KINESIS_PORT:-14567}"
tport="${WEIR_KINESIS_TLS_PORT:-14568}"
dport="${WEIR_DYNAMODB_PORT:-14569}"
apt_line="sudo apt-get install -y nodejs npm"

say() { echo "kinesis: $*" >&2; }
die() { say "$*"; exit 1; }

need() { # install Node and npm (as root on Debian) or stop with the line to run
    local c missing=0
    for c in node npm; do command -v "$c" >/dev/null 2>&1 || missing=1; done
    if [ "$missing" = 1 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing Node and npm (nodejs, npm)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq nodejs npm >/dev/null
    fi
    for c in node npm; do
        command -v "$c" >/dev/null 2>&1 || die "$c is missing. Run: $apt_line"
    done
    local v
    v="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
    [ "${v:-0}" -ge 18 ] 2>/dev/null || die "the emulators need Node 18+, found '${v:-?}'. Run: $apt_line"
}

install() {
    # The marker holds the versions: changing them above re-installs.
    [ "$(cat "$cache/.installed" 2>/dev/null)" = "$versions" ] && [ -f "$mock/main.js" ] && return 0
    need
    say "installing $versions with npm into $cache/node_modules"
    mkdir -p "$cache"
    rm -rf "$cache/node_modules" "$cache/package.json" "$cache/package-lock.json" "$cache/.installed" "$mock"
    # --ignore-scripts: the only install script is classic-level's node-gyp
    # fallback; its prebuilt binary (which dynalite loads) ships in the package.
    # shellcheck disable=SC2086
    npm install --prefix "$cache" --no-audit --no-fund --no-save --ignore-scripts \
        --loglevel=error $versions >&2 || die "npm install failed"
    # kinesis-mock listens on a hard-coded 0.0.0.0: run a copy that says
    # 127.0.0.1, with its TLS certificate (server.json) beside it.
    local pkg="$cache/node_modules/kinesis-local"
    if [ ! -f "$pkg/main.js" ] || [ ! -f "$pkg/server.json" ]; then
        die "no main.js or server.json in $pkg"
    fi
    mkdir -p "$mock"
    # The $ is literal: Scala.js's name for ip4s's Host object.
    # shellcheck disable=SC2016
    sed 's/Host$().em("0.0.0.0")/Host$().em("127.0.0.1")/' "$pkg/main.js" >"$mock/main.js.tmp"
    # shellcheck disable=SC2016
    if [ "$(grep -oF 'Host$().em("127.0.0.1")' "$mock/main.js.tmp" | wc -l)" != 1 ] ||
        grep -qF 'Host$().em("0.0.0.0")' "$mock/main.js.tmp"; then
        rm -f "$mock/main.js.tmp"
        die "could not rewrite kinesis-mock's listen host in $pkg/main.js (has its code changed?)"
    fi
    mv "$mock/main.js.tmp" "$mock/main.js"
    cp "$pkg/server.json" "$mock/server.json"
    [ -f "$cache/node_modules/dynalite/cli.js" ] || die "no cli.js in $cache/node_modules/dynalite"
    echo "$versions" >"$cache/.installed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { # alive NAME: the pid in NAME's pid file is that emulator (not a reused pid)
    local pidfile="$run/$1.pid" want
    case "$1" in
    kinesis) want="$mock/main.js" ;;
    dynamodb) want="$cache/node_modules/dynalite/cli.js" ;;
    esac
    [ -f "$pidfile" ] && ps -o args= -p "$(cat "$pidfile")" 2>/dev/null | grep -qF "$want"
}

call() { # call PORT TARGET TYPE BODY: POST one API call; prints the reply, exit 0 on HTTP 200
    # Neither emulator checks signatures, but both want the AWS4
    # Authorization header and X-Amz-Date to be there.
    P_PORT="$1" P_TARGET="$2" P_TYPE="$3" P_BODY="$4" timeout 10 node -e '
const e = process.env;
const req = require("http").request({
  host: "127.0.0.1", port: Number(e.P_PORT), path: "/", method: "POST", timeout: 5000,
  headers: { "Content-Type": e.P_TYPE, "X-Amz-Target": e.P_TARGET, "X-Amz-Date": "20260101T000000Z",
    Authorization: "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/probe/aws4_request, SignedHeaders=host, Signature=x" },
}, (res) => {
  let body = "";
  res.on("data", (d) => { body += d; });
  res.on("end", () => { process.stdout.write(body); process.exit(res.statusCode === 200 ? 0 : 1); });
});
req.on("timeout", () => process.exit(1));
req.on("error", () => process.exit(1));
req.end(e.P_BODY);'
}

kinesis_call() { call "$kport" "Kinesis_20131202.$1" application/x-amz-json-1.1 "$2"; }

answers() { # answers NAME: a List call on its port gets HTTP 200
    case "$1" in
    kinesis) kinesis_call ListStreams '{}' >/dev/null 2>&1 ;;
    dynamodb) call "$dport" DynamoDB_20120810.ListTables application/x-amz-json-1.0 '{}' >/dev/null 2>&1 ;;
    esac
}

stream() { # stream NAME SHARDS: create a stream unless it exists, wait until ACTIVE
    local name="$1" shards="$2" reply i
    [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "stream name '$name': letters, digits, _ . - only"
    [[ "$shards" =~ ^[0-9]+$ ]] || die "shard count '$shards' is not a number"
    running kinesis || die "kinesis-mock is not running; start it with: bash scripts/kinesis.sh start"
    if ! reply="$(kinesis_call CreateStream "{\"StreamName\":\"$name\",\"ShardCount\":$shards}" 2>&1)"; then
        case "$reply" in
        *ResourceInUseException*) ;;
        *) die "creating stream $name: $reply" ;;
        esac
    fi
    for ((i = 0; i < 300; i++)); do
        reply="$(kinesis_call DescribeStreamSummary "{\"StreamName\":\"$name\"}" 2>/dev/null || true)"
        case "$reply" in *'"StreamStatus":"ACTIVE"'*) say "stream $name is ACTIVE"; return 0 ;; esac
        sleep 0.1
    done
    die "stream $name not ACTIVE after 30 s: $reply"
}

running() { alive "$1" && answers "$1"; }

stop_one() { # stop_one NAME: SIGTERM its process group, SIGKILL after 10 s
    local pidfile="$run/$1.pid" pid i
    if alive "$1"; then
        pid="$(cat "$pidfile")"
        # Started by setsid, so the pid is also its process group id.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do alive "$1" || break; sleep 0.1; done
        if alive "$1"; then
            say "$1 ($pid) still up 10 s after SIGTERM; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do alive "$1" || break; sleep 0.1; done
        fi
    fi
    rm -f "$pidfile"
}

stop() { stop_one kinesis; stop_one dynamodb; }

launch() { # launch NAME PROGRAM ARGS...: run detached, its pid in NAME.pid
    local name="$1"
    shift
    # setsid: own session and process group, so the caller's terminal and
    # $(...) are not held and stop can signal the whole group. The inner bash
    # writes its own pid, then becomes node.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$run/$name.pid" "$@" \
        </dev/null >"$run/$name.log" 2>&1 &
}

start_kinesis() {
    # Durations: streams, splits and merges finish in 100 ms (default 500 ms),
    # still through CREATING/UPDATING so callers' waits for ACTIVE run.
    # SHARD_LIMIT: the default of 50 open shards per account holds only 12
    # four-shard streams. No persistence and no INITIALIZE_STREAMS: each start
    # is empty and tests create their own streams.
    (
        cd "$mock"
        unset INITIALIZE_STREAMS
        export KINESIS_MOCK_PLAIN_PORT="$kport" KINESIS_MOCK_TLS_PORT="$tport" \
            KINESIS_MOCK_CERT_PATH="$mock/server.json" \
            CREATE_STREAM_DURATION=100ms DELETE_STREAM_DURATION=100ms \
            MERGE_SHARDS_DURATION=100ms SPLIT_SHARD_DURATION=100ms \
            UPDATE_SHARD_COUNT_DURATION=100ms UPDATE_STREAM_MODE_DURATION=100ms \
            REGISTER_STREAM_CONSUMER_DURATION=100ms DEREGISTER_STREAM_CONSUMER_DURATION=100ms \
            START_STREAM_ENCRYPTION_DURATION=100ms STOP_STREAM_ENCRYPTION_DURATION=100ms \
            SHARD_LIMIT=10000 ON_DEMAND_STREAM_COUNT_LIMIT=1000 \
            SHOULD_PERSIST_DATA=false LOAD_DATA_IF_EXISTS=false \
            LOG_LEVEL=WARN
        launch kinesis node "$mock/main.js"
    )
}

start_dynamodb() {
    # In memory (no --path); tables are ACTIVE at once.
    launch dynamodb node "$cache/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dport" \
        --createTableMs 0 --deleteTableMs 0 --updateTableMs 0
}

fail_start() {
    local name
    say "$1"
    for name in kinesis dynamodb; do
        [ -s "$run/$name.log" ] && { say "last 30 lines of $run/$name.log:"; tail -n 30 "$run/$name.log" >&2; }
    done
    stop
    exit 1
}

start() {
    install
    need
    mkdir -p "$run"
    local name p started=() t0=$SECONDS
    for name in kinesis dynamodb; do
        running "$name" && continue
        stop_one "$name" # a stale pid file, or one that does not answer
        started+=("$name")
    done
    # Check every port before launching anything, so a clash starts neither.
    for name in "${started[@]}"; do
        case "$name" in
        kinesis) for p in "$kport" "$tport"; do
            port_open "$p" && die "port $p is taken by another process; set WEIR_KINESIS_PORT and WEIR_KINESIS_TLS_PORT"
        done ;;
        dynamodb) port_open "$dport" && die "port $dport is taken by another process; set WEIR_DYNAMODB_PORT" ;;
        esac
    done
    for name in "${started[@]}"; do "start_$name"; done
    local deadline=$((SECONDS + 60))
    for name in "${started[@]}"; do
        for ((;;)); do
            ((SECONDS < deadline)) || fail_start "$name did not answer within 60 s"
            [ -f "$run/$name.pid" ] && ! alive "$name" && fail_start "$name exited"
            answers "$name" && break
            sleep 0.3
        done
    done
    [ "${#started[@]}" = 0 ] || say "${started[*]} up in $((SECONDS - t0)) s (logs in $run)"
    echo "WEIR_KINESIS_ENDPOINT=http://127.0.0.1:$kport"
    echo "WEIR_DYNAMODB_ENDPOINT=http://127.0.0.1:$dport"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) running kinesis && running dynamodb ;;
stream) [ $# = 3 ] || die "usage: bash scripts/kinesis.sh stream NAME SHARDS"; stream "$2" "$3" ;;
*) die "usage: bash scripts/kinesis.sh install|start|stop|status|stream NAME SHARDS" ;;
esac
