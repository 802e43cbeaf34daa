# Shared helpers for bench/run.sh and bench/profile.sh (sourced, not executed).
# Starts Scopegate the way production runs it (gunicorn on wsgi:app) on a fresh
# temporary SQLite database, seeds an org, an admin, a machine user with client
# credentials, and optionally N extra live tokens.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$ROOT/bench"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

# The shared harness: ../shared/bench beside the repo (CI lays shared/ there), else /work/shared/bench.
if [ -z "${SHARED_BENCH:-}" ]; then
  for c in "$ROOT/../shared/bench" "$ROOT/../../shared/bench" /work/shared/bench; do
    if [ -f "$c/harness/bench.py" ]; then SHARED_BENCH="$(cd "$c" && pwd)"; break; fi
  done
fi
: "${SHARED_BENCH:?shared bench harness not found; set SHARED_BENCH=/path/to/shared/bench}"
export PEERS_HOME="${PEERS_HOME:-$HOME/.cache/scopegate-peers}"

# Process model. Default: exactly what `make serve` runs (`python -m config.serve`: granian,
# its worker count per store, the JSON access log), when that file exists. Setting any of
# BENCH_WORKERS / BENCH_WORKER_CLASS / BENCH_THREADS (or BENCH_PROCESS=custom) uses those instead,
# on BENCH_SERVER (gunicorn or granian).
if [ -z "${BENCH_PROCESS:-}" ]; then
  if [ -f "$ROOT/config/serve.py" ] && [ -z "${BENCH_WORKERS:-}${BENCH_WORKER_CLASS:-}${BENCH_THREADS:-}" ]; then
    BENCH_PROCESS=prod
  else
    BENCH_PROCESS=custom
  fi
fi
BENCH_PORT="${BENCH_PORT:-5055}"
BENCH_WORKERS="${BENCH_WORKERS:-2}"
BENCH_WORKER_CLASS="${BENCH_WORKER_CLASS:-sync}"
BENCH_THREADS="${BENCH_THREADS:-1}"
# BENCH_SERVER=granian: the same app under granian's WSGI interface (Rust HTTP; an experiment,
# production runs gunicorn). BENCH_THREADS is then granian's --blocking-threads per worker.
BENCH_SERVER="${BENCH_SERVER:-gunicorn}"
BENCH_URL="http://127.0.0.1:$BENCH_PORT"
# BENCH_DB=postgres: Scopegate's store is a fresh database per start on the PostgreSQL server
# whose maintenance URL is SCOPEGATE_TEST_PG_URL (run.sh starts one with tests/pg.py --durable).
BENCH_DB="${BENCH_DB:-sqlite}"

log() { printf '[bench] %s\n' "$*" >&2; }

ensure_tools() {
  # (1) the server installed in .venv, wrk for load.
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
  fi
  local stamp="$VENV/.bench-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ ! -x "$VENV/bin/gunicorn" ]; then
    log "installing the server into $VENV (.[server])"
    (cd "$ROOT" && "$VENV/bin/pip" install --quiet -e ".[server]") && touch "$stamp"
  fi
  if [ "$BENCH_SERVER" = granian ] && [ ! -x "$VENV/bin/granian" ]; then
    "$VENV/bin/pip" install --quiet granian
  fi
  if ! command -v wrk >/dev/null; then
    log "installing wrk"
    { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null
  fi
}

ensure_peers() {
  # idempotent; installs into $PEERS_HOME, outside the repo
  log "setting up peers in $PEERS_HOME"
  "$SHARED_BENCH/setup_peers.sh" > "$1/setup_peers.log" 2>&1 || {
    cat "$1/setup_peers.log" >&2; return 1; }
}

flask_json() {  # flask sub-command args... -> last JSON line of stdout
  local out
  out="$(cd "$ROOT" && "$VENV/bin/flask" --app wsgi "$@" 2>>"$SG_LOGDIR/seed.log")" || {
    log "flask $* failed:"; tail -20 "$SG_LOGDIR/seed.log" >&2; return 1; }
  printf '%s\n' "$out" >> "$SG_LOGDIR/seed.log"
  printf '%s\n' "$out" | grep -E '^\s*[{[]' | tail -1 | grep . || {
    log "flask $* printed no JSON: $out"; return 1; }
}

json_get() {  # key  (reads JSON from stdin)
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

wait_ready() {  # url
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null -m 1 "$1/healthz"; then return 0; fi
    if ! kill -0 "$SG_PID" 2>/dev/null; then log "gunicorn died; see $SG_LOGDIR"; return 1; fi
    sleep 0.1
  done
  log "Scopegate at $1 did not come up"; return 1
}

process_desc() {
  if [ "$BENCH_PROCESS" = prod ]; then
    local url="${SCOPEGATE_DATABASE_URL:-}"
    if [ -z "$url" ] && [ "$BENCH_DB" = postgres ]; then url="postgresql+psycopg://bench@localhost/bench"; fi
    echo "make serve (config/serve.py): $(cd "$ROOT" && SCOPEGATE_BIND="127.0.0.1:$BENCH_PORT" SCOPEGATE_DATABASE_URL="${url:-sqlite:///x}" "$PY" - 2>/dev/null <<'PYEOF'
from config.serve import command
argv, _ = command()
print(" ".join(a for a in argv[1:] if not a.startswith("/")))
PYEOF
)"
  elif [ "$BENCH_SERVER" = gunicorn ] && [ "$BENCH_PROCESS" = gunicorn-prod ]; then
    # the worker count depends on the store; before a start the URL may not be set yet
    local url="${SCOPEGATE_DATABASE_URL:-}"
    if [ -z "$url" ] && [ "$BENCH_DB" = postgres ]; then url="postgresql+psycopg://bench@localhost/bench"; fi
    echo "-c config/gunicorn.py: $(cd "$ROOT" && SCOPEGATE_DATABASE_URL="$url" "$PY" - 2>/dev/null <<'PYEOF'
import runpy
c = runpy.run_path("config/gunicorn.py")
print(f"workers={c['workers']} class={c['worker_class']} threads={c['threads']}")
PYEOF
)"
  else
    echo "workers=$BENCH_WORKERS class=$BENCH_WORKER_CLASS threads=$BENCH_THREADS"
  fi
}

start_server() {  # dir app -> SG_PID (the server's master process)
  if [ "$BENCH_PROCESS" = prod ] && [ "$2" = wsgi:app ]; then
    # exactly `make serve` (config/serve.py execs granian, so this pid is granian's master);
    # only the address differs, and the access log (stdout) goes to a file
    (cd "$ROOT" && SCOPEGATE_BIND="127.0.0.1:$BENCH_PORT" SCOPEGATE_LOG_LEVEL=warning \
      exec "$PY" -m config.serve >"$SG_LOGDIR/access.log" 2>"$SG_LOGDIR/granian.log") &
  elif [ "$BENCH_SERVER" = granian ] || [ "$BENCH_PROCESS" = prod ]; then
    (cd "$1" && exec "$VENV/bin/granian" --interface wsgi --workers "$BENCH_WORKERS" \
      --blocking-threads "$BENCH_THREADS" --host 127.0.0.1 --port "$BENCH_PORT" \
      --log-level warning "$2" >"$SG_LOGDIR/granian.log" 2>&1) &
  else
    local gargs
    if [ "$BENCH_PROCESS" = gunicorn-prod ]; then
      # the former production settings (config/gunicorn.py); only address and logs differ
      gargs=(-c "$ROOT/config/gunicorn.py" -b "127.0.0.1:$BENCH_PORT" --chdir "$1"
             --access-logfile "$SG_LOGDIR/access.log" --error-logfile "$SG_LOGDIR/gunicorn.log")
    else
      gargs=(-w "$BENCH_WORKERS" -k "$BENCH_WORKER_CLASS" -b "127.0.0.1:$BENCH_PORT"
             --chdir "$1" --error-logfile "$SG_LOGDIR/gunicorn.log" --log-level warning)
      if [ "$BENCH_WORKER_CLASS" = gthread ]; then gargs+=(--threads "$BENCH_THREADS"); fi
    fi
    "$VENV/bin/gunicorn" "${gargs[@]}" "$2" >>"$SG_LOGDIR/gunicorn.log" 2>&1 &
  fi
  SG_PID=$!
}

# start_scopegate LOGDIR [N_EXTRA_TOKENS] [N_AUDIT_EVENTS]
# Sets SG_PID, SG_DBDIR, SG_CLIENT_ID, SG_CLIENT_SECRET, SG_ADMIN_TOKEN.
start_scopegate() {
  SG_LOGDIR="$1"; local ntok="${2:-0}" naudit="${3:-0}"
  mkdir -p "$SG_LOGDIR"
  SG_DBDIR="$(mktemp -d /tmp/scopegate-bench.XXXXXX)"
  if [ "$BENCH_DB" = postgres ]; then
    SCOPEGATE_DATABASE_URL="$(pg_helper create_database "$SCOPEGATE_TEST_PG_URL")"
    export SCOPEGATE_DATABASE_URL
  else
    export SCOPEGATE_DATABASE_URL="sqlite:///$SG_DBDIR/bench.db"   # absolute path -> sqlite:////tmp/...
  fi
  export SCOPEGATE_SECRET_KEY=bench
  # Rate limits stay on, as in production; one client at full speed would be refused by the
  # per-minute defaults, so the allowances are per second and above any run's rate: the
  # counters then hold about as many entries as production's per-minute ones.
  # (BENCH_RATE_LIMITS=off measures without them.)
  export SCOPEGATE_RATE_LIMITS="${BENCH_RATE_LIMITS:-on}"
  export SCOPEGATE_RATE_LIMIT_PER_IP="${BENCH_RATE_LIMIT:-100000/second}"
  export SCOPEGATE_RATE_LIMIT_PER_CLIENT="${BENCH_RATE_LIMIT:-100000/second}"
  export SCOPEGATE_ISSUER="$BENCH_URL"
  (cd "$ROOT" && "$VENV/bin/flask" --app wsgi init-db) >>"$SG_LOGDIR/seed.log" 2>&1
  flask_json create-org bench --json >/dev/null
  flask_json create-admin --org bench --email admin@bench.test --json >/dev/null
  SG_ADMIN_TOKEN="$(flask_json issue-admin-token --email admin@bench.test --json | json_get token)"
  start_server "$ROOT" wsgi:app
  wait_ready "$BENCH_URL"
  # machine user + credentials over the admin API (as an admin would)
  local creds
  creds="$("$PY" "$BENCH_DIR/seed.py" --base-url "$BENCH_URL" --admin-token "$SG_ADMIN_TOKEN")"
  SG_CLIENT_ID="$(printf '%s' "$creds" | json_get client_id)"
  SG_CLIENT_SECRET="$(printf '%s' "$creds" | json_get client_secret)"
  if [ "$ntok" -gt 0 ] || [ "$naudit" -gt 0 ]; then
    # bulk rows straight into the store (same hashing as the server); the server is up, WAL lets it read
    log "seeding $ntok tokens, $naudit audit events"
    # some of the values are kept (SG_TOKEN_SAMPLE) for bench/introspect_many.py
    (cd "$ROOT" && "$PY" "$BENCH_DIR/seed_tokens.py" --tokens "$ntok" --audit-events "$naudit" \
        --client-id "$SG_CLIENT_ID" --sample-file "$SG_DBDIR/token-values.txt") \
        | tee -a "$SG_LOGDIR/seed.log" >&2
    SG_TOKEN_SAMPLE="$SG_DBDIR/token-values.txt"
    # the seeder leaves hundreds of MB of dirty pages at 10^6: written back now, not by the
    # kernel in the middle of the measured runs
    sync
  fi
  log "Scopegate up: pid=$SG_PID client_id=$SG_CLIENT_ID db=$SCOPEGATE_DATABASE_URL" \
      "($([ "$BENCH_PROCESS" = prod ] || echo "$BENCH_SERVER ")$(process_desc))"
}

worker_pids() {  # children of the gunicorn master
  pgrep -P "$SG_PID" | paste -sd, -
}

stop_scopegate() {
  [ -n "${SG_PID:-}" ] || return 0
  kill -TERM "$SG_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SG_PID" 2>/dev/null || true
  wait "$SG_PID" 2>/dev/null || true
  SG_PID=""
  if [ -n "${SG_DBDIR:-}" ] && [ -z "${BENCH_KEEP_DB:-}" ]; then
    rm -rf "$SG_DBDIR"
    if [ "$BENCH_DB" = postgres ]; then pg_helper drop_database "$SCOPEGATE_DATABASE_URL" || true; fi
  fi
}

pg_helper() {  # function url -> tests/pg.py's create_database / drop_database
  "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import pg; r = getattr(pg, sys.argv[2])(sys.argv[3]); print(r or "")' \
    "$ROOT/tests" "$@"
}

pg_server_pid() {  # the PostgreSQL postmaster serving SCOPEGATE_TEST_PG_URL (its CPU is the store's)
  "$PY" -c 'import sys, psycopg; c = psycopg.connect(sys.argv[1].replace("+psycopg", "")); b = c.execute("select pg_backend_pid()").fetchone()[0]; print(open(f"/proc/{b}/stat").read().rsplit(")", 1)[1].split()[1])' \
    "$SCOPEGATE_TEST_PG_URL"
}

pg_version() {
  "$PY" -c 'import sys, psycopg; c = psycopg.connect(sys.argv[1].replace("+psycopg", "")); print(c.execute("show server_version").fetchone()[0], "fsync=" + c.execute("show fsync").fetchone()[0])' \
    "$SCOPEGATE_TEST_PG_URL"
}

# start_floor KIND LOGDIR: a "null" authorization server (bench/floor.py) under the same
# gunicorn process model; sets SG_PID, SG_CLIENT_ID, SG_CLIENT_SECRET.
start_floor() {
  local kind="$1"; SG_LOGDIR="$2"; mkdir -p "$SG_LOGDIR"
  FLOOR="$kind" start_server "$BENCH_DIR" floor:app
  SG_DBDIR=""
  wait_ready "$BENCH_URL" || true
  for _ in $(seq 1 50); do curl -s -o /dev/null -m 1 -X POST "$BENCH_URL/token" && break; sleep 0.1; done
  SG_CLIENT_ID=bench-client; SG_CLIENT_SECRET=bench-secret-0123456789abcdef
  log "floor '$kind' up: pid=$SG_PID"
}

stop_floor() {
  local pid="$SG_PID"
  stop_scopegate
  rm -f "/tmp/scopegate-floor-$pid.db" "/tmp/scopegate-floor-$pid.db.lock" "/tmp/scopegate-floor-$pid.db-wal" "/tmp/scopegate-floor-$pid.db-shm" "/tmp/scopegate-floor-$pid.db-writers.lock"
}
