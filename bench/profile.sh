#!/usr/bin/env bash
# Profile Scopegate's gunicorn workers under the benchmark load with py-spy.
#
#   bash bench/profile.sh                 # token and introspect, 20 s each
#   OPS=introspect DUR=30 bash bench/profile.sh
#
# For each op: start wrk (harness/post_form.lua, 16 connections) and `py-spy record` every
# worker for the same window (raw collapsed stacks + an SVG flame graph per worker), then
# print the hot spots (self and inclusive % of samples, and % by package) with bench/pyspy_top.py.
# py-spy's sampling costs the workers some CPU: take throughput from `make bench`, not from here.
# Env: DUR (20) CONN (16) RATE (200 Hz) OPS ("token introspect") NTOKENS (0) OUT, BENCH_* as run.sh
#      IDLE=1: sample off-CPU time too (py-spy --idle): shows where workers wait (locks, sockets)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DUR="${DUR:-20}"; CONN="${CONN:-16}"; RATE="${RATE:-200}"; OPS="${OPS:-token introspect}"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-profile}"
mkdir -p "$OUT/logs"
trap stop_scopegate EXIT
ensure_tools
[ -x "$VENV/bin/py-spy" ] || "$VENV/bin/pip" install --quiet py-spy
start_scopegate "$OUT/logs" "${NTOKENS:-0}"

AUTH="$("$PY" -c 'import base64,sys,urllib.parse as u; q=lambda s:u.quote(s,safe="");
print("Basic "+base64.b64encode(f"{q(sys.argv[1])}:{q(sys.argv[2])}".encode()).decode())' \
  "$SG_CLIENT_ID" "$SG_CLIENT_SECRET")"
TOKEN="$(curl -s -X POST -H "Authorization: $AUTH" -d grant_type=client_credentials -d scope=cli \
  "$BENCH_URL/oauth/token" | json_get access_token)"

for op in $OPS; do
  case "$op" in
    token) url="$BENCH_URL/oauth/token"; body="grant_type=client_credentials&scope=cli"; expect='"access_token"' ;;
    introspect) url="$BENCH_URL/oauth/introspect"; body="token=$TOKEN"; expect='"active"%s*:%s*true' ;;
  esac
  # warm up without the profiler
  WRK_BODY="$body" WRK_AUTH="$AUTH" WRK_EXPECT="$expect" wrk -t1 -c"$CONN" -d3s \
    -s "$SHARED_BENCH/harness/post_form.lua" "$url" > /dev/null
  pids=()
  for w in $(pgrep -P "$SG_PID"); do
    "$VENV/bin/py-spy" record -p "$w" -r "$RATE" -d "$DUR" ${IDLE:+--idle} --format raw -o "$OUT/$op-$w.txt" \
      > "$OUT/logs/pyspy-$op-$w.log" 2>&1 &
    pids+=($!)
  done
  sleep 0.5
  WRK_BODY="$body" WRK_AUTH="$AUTH" WRK_EXPECT="$expect" wrk -t1 -c"$CONN" -d"$((DUR - 1))s" \
    -s "$SHARED_BENCH/harness/post_form.lua" "$url" | grep WRK_JSON | tee "$OUT/$op-wrk.txt"
  for p in "${pids[@]}"; do wait "$p" || true; done
  python3 "$BENCH_DIR/pyspy_top.py" "$OUT"/"$op"-[0-9]*.txt | tee "$OUT/$op-top.md"
done
log "profiles: $OUT"
