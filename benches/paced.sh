#!/usr/bin/env bash
# Latency at a given share of the maximum throughput (issue 12: p99 at half the maximum
# ≤ 5 ms). wrk has no constant-rate mode, so this runs the side-by-side harness's scenario
# scripts through benches/paced.lua: many connections, each pausing a random time
# (exponential, mean --pause-ms) between an answer and its next request, which adds up to
# requests arriving at random at a steady rate. The rate comes from the connection count: a
# 3 s calibration run measures it, the count is scaled to the target, then the measured run.
#
#   benches/paced.sh --max RESULTS.json [--share 0.5] [--target URL] [--start CMD]
#                    [--mint-refresh CMD] [--scenarios LIST] [--harness DIR]
#
#   --max RESULTS.json  a full-load run of the harness (target/perf/results/NAME.json):
#                       each scenario's maximum req/s
#   --share 0.5         the share of that maximum to run at
#   --pause-ms 10       mean pause of a connection between requests
#   --duration 10       measured seconds per scenario
#   --harness DIR       the harness copied from ../shared/perf (default target/perf)
#   --target, --start, --mint-refresh, --refresh-pool, --server-cpus, --load-cpus: as in
#                       the harness's run.sh (defaults http://127.0.0.1:8080, 0 and 1)
#
# Prints, per scenario: the target and reached rates, the share of the maximum, p50, p99,
# the server's CPU per request, and whether every answer was right.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=$ROOT/target/perf TARGET=http://127.0.0.1:8080 MAX="" SHARE=0.5 PAUSE=10 DURATION=10
START_CMD="" MINT="" POOL=4096 SERVER_CPUS=0 LOAD_CPUS=1
SCENARIOS=discovery,jwks,client_credentials,introspect,refresh
CLIENT_ID=bench CLIENT_SECRET=bench-secret
die() { echo "paced.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --max) MAX=$2; shift 2 ;;
    --share) SHARE=$2; shift 2 ;;
    --pause-ms) PAUSE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --harness) HARNESS=$2; shift 2 ;;
    --target) TARGET=${2%/}; shift 2 ;;
    --start) START_CMD=$2; shift 2 ;;
    --mint-refresh) MINT=$2; shift 2 ;;
    --refresh-pool) POOL=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --server-cpus) SERVER_CPUS=$2; shift 2 ;;
    --load-cpus) LOAD_CPUS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$MAX" ] && [ -r "$MAX" ] || die "--max RESULTS.json is required (a run of $HARNESS/run.sh)"
[ -d "$HARNESS/wrk" ] || die "no harness at $HARNESS (cp -r ../shared/perf target/perf)"
for tool in wrk jq curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done

WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$START_CMD" ]; then
  (exec taskset -c "$SERVER_CPUS" bash -c "exec $START_CMD") > "$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$TARGET/.well-known/openid-configuration" && break
    kill -0 "$SERVER" 2>/dev/null || die "the server exited: $(tail -3 "$WORK/server.log")"
    sleep 0.2
  done
fi
PID=${SERVER:-$(ss -Hltnp "sport = :${TARGET##*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)}
curl -sf "$TARGET/.well-known/openid-configuration" > "$WORK/discovery.json" || die "no discovery at $TARGET"
ep() { jq -r --arg k "$1" '.[$k]' "$WORK/discovery.json"; }
BASIC="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"
export PERF_BASIC="$BASIC" PERF_CC_PARAMS="" PERF_THREADS=1 PERF_PAUSE_MS="$PAUSE"
ticks() { sed -E 's/^.*\) //' "/proc/$PID/stat" | awk '{print $12 + $13}'; }

# wrk_paced SCENARIO URL CONNECTIONS SECONDS -> the PERF_JSON line, with the server's CPU
wrk_paced() {
  local t0 t1 line
  t0=$(ticks)
  PERF_SCENARIO_LUA="$HARNESS/wrk/$1.lua" taskset -c "$LOAD_CPUS" \
    wrk -t1 -c"$3" -d"$4"s --timeout 10s -s "$ROOT/benches/paced.lua" "$2" > "$WORK/wrk.out" 2>&1 || true
  t1=$(ticks)
  line=$(grep '^PERF_JSON ' "$WORK/wrk.out" | tail -1 | cut -d' ' -f2-)
  [ -n "$line" ] || { tail -5 "$WORK/wrk.out" >&2; return 1; }
  jq -c --arg t "$((t1 - t0))" --arg tck "$(getconf CLK_TCK)" \
    '. + {cpu_us: (($t|tonumber) / ($tck|tonumber) * 1e6 / .requests | round),
          valid: (.non2xx == 0 and .bad_body == 0 and .requests > 0 and ([.socket_errors[]] | add) == 0)}' <<<"$line"
}

mint() {
  PERF_TARGET="$TARGET" PERF_COUNT="$POOL" PERF_CLIENT_ID="$CLIENT_ID" PERF_CLIENT_SECRET="$CLIENT_SECRET" \
    bash -c "$MINT" > "$WORK/refresh.txt"
  export PERF_REFRESH_FILE="$WORK/refresh.txt"
}

printf '%-19s %9s %9s %6s %8s %8s %8s %6s %s\n' scenario "target/s" "reached/s" share "p50 ms" "p99 ms" "us/req" conns valid
IFS=, read -r -a LIST <<<"$SCENARIOS"
for s in "${LIST[@]}"; do
  max=$(jq -r --arg s "$s" '[.scenarios[] | select(.scenario == $s and .valid) | .rps][0] // empty' "$MAX")
  [ -n "$max" ] || { echo "$s: no valid maximum in $MAX" >&2; continue; }
  rate=$(jq -n --arg m "$max" --arg f "$SHARE" '($m|tonumber) * ($f|tonumber) | round')
  unset PERF_INTROSPECT_TOKEN PERF_REFRESH_FILE
  case "$s" in
    discovery) url=$TARGET/.well-known/openid-configuration ;;
    jwks) url=$(ep jwks_uri) ;;
    client_credentials) url=$(ep token_endpoint) ;;
    introspect) url=$(ep introspection_endpoint)
      PERF_INTROSPECT_TOKEN=$(curl -sf -H "Authorization: $BASIC" -d grant_type=client_credentials \
        "$(ep token_endpoint)" | jq -r .access_token)
      export PERF_INTROSPECT_TOKEN ;;
    refresh) url=$(ep token_endpoint)
      [ -n "$MINT" ] || { echo "refresh: no --mint-refresh" >&2; continue; } ;;
    *) die "unknown scenario $s" ;;
  esac
  # calibration: one connection per (pause + 1 ms) of each request's cycle, then scaled
  conns=$(jq -n --arg r "$rate" --arg p "$PAUSE" '[($r|tonumber) * (($p|tonumber) + 1) / 1000 | ceil, 1] | max')
  [ "$s" = refresh ] && mint
  cal=$(wrk_paced "$s" "$url" "$conns" 3) || { echo "$s: calibration failed" >&2; continue; }
  conns=$(jq -n --argjson c "$cal" --arg n "$conns" --arg r "$rate" \
    '[($n|tonumber) * ($r|tonumber) / $c.rps | round, 1] | max')
  [ "$s" = refresh ] && mint
  res=$(wrk_paced "$s" "$url" "$conns" "$DURATION") || { echo "$s: run failed" >&2; continue; }
  jq -r --arg s "$s" --arg r "$rate" --arg m "$max" --arg c "$conns" \
    '[$s, $r, (.rps|round), ((.rps / ($m|tonumber) * 100 | round | tostring) + "%"),
      (.latency_us.p50 / 1000), (.latency_us.p99 / 1000), .cpu_us, $c,
      (if .valid then "yes" else "NO" end)]
     | "\(.[0] | . + " " * (19 - length)) \(.[1] | tostring | " " * (9 - length) + .) \(.[2] | tostring | " " * (9 - length) + .) \(.[3] | " " * (6 - length) + .) \(.[4] | tostring | .[0:6] | " " * (8 - length) + .) \(.[5] | tostring | .[0:6] | " " * (8 - length) + .) \(.[6] | tostring | " " * (8 - length) + .) \(.[7] | " " * (6 - length) + .) \(.[8])"' <<<"$res"
done
