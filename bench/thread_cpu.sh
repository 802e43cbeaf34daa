#!/usr/bin/env bash
# Per-thread server CPU per request (bench/RESULTS.md §15): start Scopegate as `make serve`
# runs it (bench/lib.sh), then for each op a 3 s warm-up and a measured wrk run.
#   bash bench/thread_cpu.sh [token] [introspect]      (SCOPEGATE_WORKERS=1 ... to vary)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-threads}"; mkdir -p "$OUT/logs"
trap stop_scopegate EXIT
ensure_tools
start_scopegate "$OUT/logs" 0
export WRK_AUTH
WRK_AUTH="$("$PY" -c 'import base64,sys,urllib.parse as u; q=lambda s:u.quote(s,safe="");
print("Basic "+base64.b64encode(f"{q(sys.argv[1])}:{q(sys.argv[2])}".encode()).decode())' \
  "$SG_CLIENT_ID" "$SG_CLIENT_SECRET")"
TOKEN="$(curl -s -X POST -H "Authorization: $WRK_AUTH" -d grant_type=client_credentials \
  -d scope=cli "$BENCH_URL/oauth/token" | json_get access_token)"
LUA="$SHARED_BENCH/harness/post_form.lua"
for op in "${@:-token introspect}"; do
  if [ "$op" = token ]; then export WRK_BODY="grant_type=client_credentials&scope=cli" P=/oauth/token
  else export WRK_BODY="token=$TOKEN" P=/oauth/introspect; fi
  wrk -t1 -c16 -d3s -s "$LUA" "$BENCH_URL$P" >/dev/null
  echo "== $op"
  "$PY" "$BENCH_DIR/thread_cpu.py" "$SG_PID" -- wrk -t1 -c16 -d"${DUR:-8}"s -s "$LUA" "$BENCH_URL$P"
done
