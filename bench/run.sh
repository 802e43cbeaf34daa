#!/usr/bin/env bash
# `make bench`: Scopegate and the peer authorization servers, side by side, in one run.
#
# For each repetition and mode: start Scopegate as production runs it (gunicorn on wsgi:app,
# fresh SQLite DB, seeded org/admin/machine user over the CLI and admin API), drive it with the
# shared harness (../shared/bench: wrk + body-checking Lua + server CPU accounting), stop it;
# then the peers (node-oidc-provider on Node 20/22, django-oauth-toolkit) with the same
# harness. Prints one table: req/s, p50, p99, server CPU ms/req and Scopegate's ratio to each peer.
#
#   make bench                       # REPEAT=3, 15 s runs, unpinned
#   REPEAT=1 DUR=5 WARM=2 make bench # quick look
#   PEERS= make bench                # Scopegate only
#   BENCH_SCALE=1 make bench         # (= make bench-scale) cost vs 10^3/10^5/10^6 live tokens
#
# Env: REPEAT (3) DUR (15) WARM (5) CONN (16) MODES ("unpinned"; add "pinned" for per-core)
#      PEERS ("node20 node22 dot dot-hashed") DUR_HASHED (10)
#      BENCH_PROCESS (prod: `gunicorn -c config/gunicorn.py` as production; custom: the three below)
#      BENCH_WORKERS (2) BENCH_WORKER_CLASS (sync|gthread) BENCH_THREADS (1) BENCH_PORT (5055)
#      BENCH_SERVER (gunicorn | granian: same app on granian's WSGI interface, an experiment)
#      BENCH_DB (sqlite | postgres: a throwaway PostgreSQL with fsync on, a fresh database per start)
#      SCALE_LEVELS ("1000 10000 100000 1000000") SCALE_AUDIT ("0": audit-event levels, e.g. "0 10000000",
#      each combined with each token level)
#      BENCH_NICE (-10: renice this script and so every server and wrk it starts; 0 = off)
#      FLOORS ("": add e.g. "raw schema" for the stack's floor rows, see bench/floor.py)
#      TARGET_NAME (scopegate) OUT (bench/results/<timestamp>) SHARED_BENCH PEERS_HOME
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPEAT="${REPEAT:-3}"; DUR="${DUR:-15}"; WARM="${WARM:-5}"; CONN="${CONN:-16}"
MODES="${MODES:-unpinned}"
PEERS="${PEERS-node20 node22 dot dot-hashed}"
export DUR_HASHED="${DUR_HASHED:-10}"
TARGET_NAME="${TARGET_NAME:-scopegate}"
FLOORS="${FLOORS:-}"
SCALE_LEVELS="${SCALE_LEVELS:-1000 10000 100000 1000000}"
SCALE_AUDIT="${SCALE_AUDIT:-0}"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)$([ -n "${BENCH_SCALE:-}" ] && echo -scale || true)}"
mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"   # the peers' script runs elsewhere: give it an absolute path
trap stop_scopegate EXIT

ensure_tools
if [ "$BENCH_DB" = postgres ] && [ -z "${SCOPEGATE_TEST_PG_URL:-}" ]; then
  # one durable PostgreSQL server for the whole run (tests/pg.py starts and removes it)
  log "BENCH_DB=postgres: starting a throwaway PostgreSQL (fsync on)"
  OUT="$OUT" exec "$PY" "$ROOT/tests/pg.py" --durable -- bash "$0" "$@"
fi
# On a shared machine, give the servers under test and wrk (all children of this script,
# peers included, so the comparison stays fair) priority over unrelated work. Needs root.
if [ "${BENCH_NICE:--10}" != 0 ] && renice -n "${BENCH_NICE:--10}" -p $$ >/dev/null 2>&1; then
  log "running at nice ${BENCH_NICE:--10}"
fi

mode_args() {
  case "$1" in
    unpinned) ;;
    pinned) echo "--server-cpus 1 --wrk-cpus 0" ;;
    *) log "unknown mode $1"; exit 2 ;;
  esac
}

bench_scopegate() {  # out tag mode [ops] [name] [token path] [introspect path]
  local out="$1" tag="$2" mode="$3" ops="${4:-token,introspect}" name="${5:-$TARGET_NAME}"
  local pids="$SG_PID"
  # On PostgreSQL the store's CPU is part of the cost: count the database server's processes too.
  if [ "$BENCH_DB" = postgres ] && [ "$name" = "$TARGET_NAME" ]; then pids="$SG_PID,$(pg_server_pid)"; fi
  # shellcheck disable=SC2046
  python3 "$SHARED_BENCH/harness/bench.py" --name "$name" --tag "$tag" \
    --base-url "$BENCH_URL" --token-path "${6:-/oauth/token}" \
    --introspect-path "${7:-/oauth/introspect}" --scope cli --client-id "$SG_CLIENT_ID" --client-secret "$SG_CLIENT_SECRET" \
    --server-pid "$pids" --connections "$CONN" --duration "$DUR" --warmup "$WARM" \
    --ops "$ops" --out "$out" $(mode_args "$mode") | tee -a "$OUT/logs/bench.log"
}

{
  echo "date: $(date -Is)"; echo "host: $(uname -srm)"; echo "nproc: $(nproc)"
  grep -m1 "model name" /proc/cpuinfo || true
  echo "python: $("$PY" --version 2>&1)"
  "$VENV/bin/pip" list 2>/dev/null | grep -iE "^(flask|authlib|sqlalchemy|flask-sqlalchemy|gunicorn|werkzeug) " || true
  echo "sqlite: $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')"
  echo "database: $BENCH_DB$([ "$BENCH_DB" = postgres ] && echo " $(pg_version)")"
  echo "process model: $([ "$BENCH_PROCESS" = prod ] || echo "$BENCH_SERVER ")$(cd "$ROOT" && process_desc)"
  echo "git: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' (dirty)')"
  wrk -v 2>&1 | head -1 || true
} > "$OUT/versions.txt"

if [ -n "${BENCH_SCALE:-}" ]; then
  log "scaling mode: levels $SCALE_LEVELS, results in $OUT"
  for rep in $(seq 1 "$REPEAT"); do
    for n in $SCALE_LEVELS; do
      for a in $SCALE_AUDIT; do
        tag="tokens$n$([ "$a" != 0 ] && echo "-audit$a" || true)-r$rep"
        start_scopegate "$OUT/logs/$tag" "$n" "$a"
        bench_scopegate "$OUT/r$rep" "$tag" unpinned
        # the harness introspects one token (remembered after its first read): this reads
        # the index, over many different seeded tokens
        if [ "$n" -gt 0 ]; then
          "$PY" "$BENCH_DIR/introspect_many.py" --server-pid "$SG_PID" --base-url "$BENCH_URL" \
            --client-id "$SG_CLIENT_ID" --client-secret "$SG_CLIENT_SECRET" \
            --tokens "$SG_TOKEN_SAMPLE" --shared-bench "$SHARED_BENCH" --name "$TARGET_NAME" \
            --tag "$tag" --out "$OUT/r$rep" --connections "$CONN" --duration "$DUR" \
            --warmup "$WARM" | tee -a "$OUT/logs/bench.log"
        fi
        stop_scopegate
      done
    done
  done
  python3 "$BENCH_DIR/report.py" --scale --target "$TARGET_NAME" "$OUT"
  log "results: $OUT/scale.md"
  exit 0
fi

if [ -n "$PEERS" ]; then ensure_peers "$OUT/logs"; fi
log "side by side: REPEAT=$REPEAT MODES=$MODES DUR=${DUR}s CONN=$CONN peers: ${PEERS:-none}; results in $OUT"
for rep in $(seq 1 "$REPEAT"); do
  for mode in $MODES; do
    start_scopegate "$OUT/logs/$TARGET_NAME-$mode-r$rep"
    bench_scopegate "$OUT/r$rep" "$mode-r$rep" "$mode"
    stop_scopegate
    for kind in $FLOORS; do
      start_floor "$kind" "$OUT/logs/floor-$kind-$mode-r$rep"
      bench_scopegate "$OUT/r$rep" "$mode-r$rep" "$mode" token,introspect "floor-$kind" /token /introspect
      stop_floor
    done
  done
  if [ -n "$PEERS" ]; then
    # fresh peer servers each repetition, same harness, same machine, interleaved with Scopegate
    OUT="$OUT/r$rep" PEERS="$PEERS" MODES="$MODES" REPEAT=1 DUR="$DUR" WARM="$WARM" CONN="$CONN" \
      "$SHARED_BENCH/run_peers.sh" > "$OUT/logs/peers-r$rep.log" 2>&1 \
      || { tail -30 "$OUT/logs/peers-r$rep.log" >&2; exit 1; }
    grep -E '\] (token|introspect):' "$OUT/logs/peers-r$rep.log" >&2 || true
  fi
done
python3 "$BENCH_DIR/report.py" --target "$TARGET_NAME" "$OUT"
log "results: $OUT/report.md"
