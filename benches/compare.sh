#!/usr/bin/env bash
# Write path and counts, in one run on this machine: Colloquy against Isso 0.14.0, a bare
# Postgres INSERT (pgbench) and nginx serving the same bytes (issue 12).
#
#   bash benches/compare.sh            # builds target/release/colloquy first
#   SKIP_BUILD=1 DURATION=10s bash benches/compare.sh
#
# What it runs, all on 127.0.0.1, every wrk run with -t$THREADS after a $WARMUP warm-up:
#   Colloquy  target/release/colloquy on $PORT against a throwaway database ($BENCH_DB); site
#             "bench": guests allowed, policy post, 5 enabled word rules (action hold) that
#             never match, added through the moderator API so the rule engine runs; flood limits
#             off (COLLOQUY__LIMITS__*=0: all load comes from one address); 1,000 threads
#             /p/0 .. /p/999 inserted with SQL; 3 comments on each of /p/0 .. /p/9 over HTTP.
#   Isso      isso==0.14.0 from PyPI in a venv ($OUT/venv, kept between runs), served by
#             gunicorn, sync workers = 2 x cores, --preload (Isso's docs deploy it with
#             gunicorn; 2 x cores is gunicorn's own advice for sync workers); SQLite in the run
#             directory (Python's defaults: rollback journal, synchronous=FULL, so durable);
#             moderation off, [guard] off (its flood limits: the counterpart of Colloquy's
#             limits at 0); the same 1,000 threads and the same 30 seeded comments.
#   pgbench   the physical limit: one durable single-row INSERT per transaction (-M prepared)
#             into a comments-like table (uuid primary key, 2 secondary indexes) in $BENCH_DB,
#             synchronous_commit on (the server's setting, printed), -c 16 and -c 64.
#   nginx     (apt nginx-light) foreground, worker_processes = cores, access_log off, serving
#             the exact bytes Colloquy answered for the counts request: the ceiling for counts.
# Workloads:
#   a. guest posts to random pages of the 1,000 threads, c=16 and c=64, unique body and email
#      per request (benches/compare.lua); for Colloquy every 2xx is checked to be a stored row,
#      for Isso too (rows in SQLite). Postgres CPU per post: utime+stime of every `postgres`
#      process (plus the postmaster's cutime+cstime, which holds backends that exited) from
#      /proc, before and after the run, divided by the 2xx answers. The same figure for
#      pgbench's INSERTs.
#   b. counts of 10 uris, c=16: Colloquy GET .../counts?uri=/p/0&...&uri=/p/9, Isso POST /count
#      with the same 10 uris, nginx the Colloquy answer's bytes.
#   c. mixed, c=64: two wrk processes started together, thread reads of the 10 hot pages at
#      c=61 (-t2) and posts to those same pages at c=3 (-t1); the reads' p99 and the posts' rate
#      are reported separately. Colloquy and Isso.
#   Profile: a separate run of $PROFILE_POSTS posts at 16 concurrent clients (not timed for the
#      table). With pg_stat_statements in shared_preload_libraries it is read from there;
#      otherwise the shared server is NOT restarted: log_min_duration_statement = 0 is set for
#      $BENCH_DB only (ALTER DATABASE, reset afterwards), Colloquy is restarted so its
#      connections pick it up, and the server log's lines for $BENCH_DB are summarised.
#      -> $OUT/profile.txt (statement, calls per post, mean time).
# Exit status 0 even when a target is missed (it is a measurement); non-zero when the benchmark
# itself could not run. Servers it started are stopped and the database dropped on exit.
# Results: target/bench-compare/ (summary.txt, profile.txt, wrk/pgbench outputs, server logs).
#
# Settings (environment): PORT=18180 ISSO_PORT=18181 NGINX_PORT=18182
#   BENCH_DB=colloquy_bench_compare PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres
#   DURATION=15s WARMUP=3s THREADS=2 WORKERS=0 (Colloquy's workers, 0 = one per core)
#   ISSO_WORKERS=2 x cores PROFILE_POSTS=200 SKIP_BUILD=1 KEEP_DB=1 SKIP_ISSO=1
#   COLLOQUY_BIN=path (another build of the server)
#   PG_LOG=/var/log/postgresql/postgresql-<version>-main.log (where the server's log goes)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PORT=${PORT:-18180}
ISSO_PORT=${ISSO_PORT:-18181}
NGINX_PORT=${NGINX_PORT:-18182}
BENCH_DB=${BENCH_DB:-colloquy_bench_compare}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-0}
CORES=$(nproc)
ISSO_WORKERS=${ISSO_WORKERS:-$((2 * CORES))}
PROFILE_POSTS=${PROFILE_POSTS:-200}
SITE=bench
PAGES=1000
HOT=10
EMAIL=bench-owner@example.com
PASSWORD=bench-password-not-secret
OUT=$ROOT/target/bench-compare
VENV=$OUT/venv
RUN=$OUT/run

case "$PGHOST" in 127.*|localhost|::1) ;; *) echo "compare.sh: PGHOST must be local (Postgres CPU is read from /proc)" >&2; exit 2 ;; esac
for v in PORT ISSO_PORT NGINX_PORT ISSO_WORKERS PROFILE_POSTS THREADS; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || { echo "compare.sh: bad $v=${!v}" >&2; exit 2; }
done
[[ $BENCH_DB =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "compare.sh: bad BENCH_DB" >&2; exit 2; }
dur_s() { [[ $1 =~ ^([0-9]+)s?$ ]] || { echo "compare.sh: durations are seconds (15s)" >&2; exit 2; }; echo "${BASH_REMATCH[1]}"; }
DURATION_S=$(dur_s "$DURATION")
WARMUP_S=$(dur_s "$WARMUP")

log() { printf '\n== [%3ds] %s\n' "$SECONDS" "$*"; }
die() { echo "compare.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v jq >/dev/null || need_apt+=(jq)
command -v curl >/dev/null || need_apt+=(curl)
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v pgbench >/dev/null || need_apt+=(postgresql-contrib)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]}"
    SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v flock >/dev/null || die "flock is missing (util-linux)"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building the release binary"
    cargo build --release --bin colloquy
fi
APP=${COLLOQUY_BIN:-$ROOT/target/release/colloquy}
[[ -x $APP ]] || die "$APP missing (cargo build --release)"

mkdir -p "$OUT"
# One run at a time: a second one would drop the first one's database.
exec 9>"$ROOT/target/.bench-compare.lock"
flock -n 9 || die "another benches/compare.sh is running"
# Everything but the venv is this run's.
find "$OUT" -mindepth 1 -maxdepth 1 ! -name venv -exec rm -rf {} +
mkdir -p "$RUN"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$ISSO_PORT" "$NGINX_PORT"; do
    port_busy "$p" && die "port $p is already in use"
done

if [[ ${SKIP_ISSO:-0} != 1 ]]; then
    if ! "$VENV/bin/python" -c 'import isso, gunicorn, sys; sys.exit(isso.__version__ != "0.14.0")' 2>/dev/null; then
        log "installing isso==0.14.0 and gunicorn into $VENV"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q isso==0.14.0 gunicorn
    fi
    ISSO_VERSION=$("$VENV/bin/python" -c 'import isso; print(isso.__version__)')
    GUNICORN_VERSION=$("$VENV/bin/python" -c 'import gunicorn; print(gunicorn.__version__)')
fi

psql_db() { psql -X -v ON_ERROR_STOP=1 -qAt -d "$BENCH_DB" "$@"; }
psql_pg() { psql -X -v ON_ERROR_STOP=1 -qAt -d postgres "$@"; }
drop_db() {
    PGOPTIONS='-c client_min_messages=warning' psql_pg -c "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null
}

PIDS=()
stop_pid() {  # PID: TERM, then wait
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP_DB:-0} == 1 ]]; then
        psql_pg -c "ALTER DATABASE \"$BENCH_DB\" RESET log_min_duration_statement" >/dev/null 2>&1 || true
        echo "compare.sh: keeping database $BENCH_DB"
    else
        drop_db || echo "compare.sh: could not drop $BENCH_DB" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_ready() {  # url pid what
    local i
    for ((i = 0; i < 120; i++)); do
        kill -0 "$2" 2>/dev/null || die "$3 exited during start-up"
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
        sleep 0.5
    done
    die "$3 not ready after 60 s ($1)"
}

BUSY=$(pgrep -c -x 'rustc|cargo' || true)
[[ ${BUSY:-0} -gt 0 ]] && echo "compare.sh: warning: $BUSY cargo/rustc processes are running; figures will be lower than on an idle machine" >&2

# ---------------------------------------------------------------- measuring helpers
# Postgres CPU in clock ticks: every postgres process's utime+stime, plus cutime+cstime (only
# the postmaster has postgres children: backends that exited during the run land there).
CLK_TCK=$(getconf CLK_TCK)
pg_ticks() {
    local pid sum=0 t
    for pid in $(pgrep -x postgres); do
        t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }') || continue
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}
# Commits in other databases: the server is shared, their work would count as ours.
other_commits() {
    psql_pg -c "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname IS DISTINCT FROM '$BENCH_DB'"
}
# The Colloquy server's own CPU (all its threads), in the same ticks.
app_ticks() {
    sed 's/^.*) //' "/proc/$APP_PID/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
ms_per() {  # TICKS N -> ms per item
    awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.3f", t * 1000 / hz / n; else print "n/a" }'
}

CONTENDED=()
others_busy() { [[ $(pgrep -c -x 'rustc|cargo' || true) != 0 ]]; }
# parse_wrk FILE -> R_* from its RESULT line
parse_wrk() {
    local line
    line=$(grep '^RESULT ' "$1" | tail -1) || die "$(basename "$1") printed no RESULT line"
    R_RPS=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    R_P99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
    R_REQ=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$line")
    R_NON2XX=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")
    R_ERRS=$(awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^err_/) { split($i, kv, "="); s += kv[2] } print s }' <<<"$line")
    R_STATUSES=$(sed -n 's/.* statuses=\([^ ]*\).*/\1/p' <<<"$line")
    R_SAMPLE=$(grep '^ERROR_SAMPLE ' "$1" | head -1 | cut -c14- || true)
}
# run_wrk NAME CONNS THREADS DURATION [wrk args...]: warm-up-free single run -> R_*
run_wrk() {
    local name=$1 conns=$2 threads=$3 dur=$4
    shift 4
    others_busy && CONTENDED+=("$name")
    wrk -t "$threads" -c "$conns" -d "$dur" --timeout 10s --latency "$@" >"$OUT/$name.txt" 2>&1 \
        || { cat "$OUT/$name.txt"; die "wrk $name failed"; }
    others_busy && CONTENDED+=("$name")
    parse_wrk "$OUT/$name.txt"
    printf '    %-28s %9s req/s  p99 %8s ms  non-2xx %s  socket errors %s  statuses %s\n' \
        "$name" "$R_RPS" "$(ms "$R_P99")" "$R_NON2XX" "$R_ERRS" "${R_STATUSES:-n/a}"
    [[ -n $R_SAMPLE ]] && echo "      first error answer: ${R_SAMPLE:0:300}"
    return 0
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# ---------------------------------------------------------------- colloquy
log "fresh database $BENCH_DB"
drop_db
export COLLOQUY__DATABASE__URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
export COLLOQUY__SERVER__HOST=127.0.0.1
export COLLOQUY__SERVER__PORT=$PORT
export COLLOQUY__SERVER__PUBLIC_URL="http://127.0.0.1:$PORT"
export COLLOQUY__SERVER__WORKERS=$WORKERS
export COLLOQUY__LOG__LEVEL=warn
export COLLOQUY__LOG__FORMAT=pretty
# All the load comes from one address, so the flood limits are off (0), as in load.sh.
export COLLOQUY__LIMITS__COMMENT_INTERVAL_S=0
export COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_USER=0
export COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_IP=0
export COLLOQUY__LIMITS__GUEST_COMMENTS_PER_MINUTE=0
BASE="http://127.0.0.1:$PORT"
APP_PID=
start_colloquy() {  # LOGNAME
    "$APP" serve >"$OUT/$1" 2>&1 &
    APP_PID=$!
    PIDS+=("$APP_PID")
    wait_ready "$BASE/health/ready" "$APP_PID" "colloquy (see $OUT/$1)"
}
start_colloquy colloquy.log
"$APP" site create --slug "$SITE" --name Bench --origin http://localhost --guests --policy post >/dev/null
printf '%s\n' "$PASSWORD" | "$APP" moderator create --email "$EMAIL" --site "$SITE" --role owner >/dev/null
TOKEN=$(curl -sS -f -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" \
    "$BASE/api/mod/v1/login" | jq -r .token)
[[ -n $TOKEN && $TOKEN != null ]] || die "moderator login failed"
for word in casino viagra jackpot bitcoin-giveaway cheap-pills; do
    code=$(curl -sS -o "$RUN/rule.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' \
        --data-binary "$(jq -cn --arg w "$word" '{kind: "word", pattern: $w, action: "hold", note: "compare.sh"}')" \
        "$BASE/api/mod/v1/sites/$SITE/rules")
    [[ $code == 201 || $code == 200 ]] || die "adding rule $word answered $code: $(cat "$RUN/rule.json")"
done
RULES=$(psql_db -c "SELECT count(*) FROM rules r JOIN sites s ON s.id = r.site_id WHERE s.slug = '$SITE' AND r.enabled")
SITE_ID=$(psql_db -c "SELECT id FROM sites WHERE slug = '$SITE'")
[[ $RULES == 5 ]] || die "expected 5 enabled rules, found $RULES"
psql_db -c "INSERT INTO threads (id, site_id, uri, title)
            SELECT gen_random_uuid(), '$SITE_ID', '/p/' || g, 'Post ' || g FROM generate_series(0, $((PAGES - 1))) g"

# The seed comments, identical for both servers: 3 on each hot page.
seed_text() { printf 'Seed comment %d on /p/%d: have you measured how this behaves once the cache is *cold*?' "$1" "$2"; }
log "colloquy: 1,000 threads, 5 rules, seeding 3 comments on each of /p/0 .. /p/$((HOT - 1))"
for ((p = 0; p < HOT; p++)); do
    for ((k = 0; k < 3; k++)); do
        body=$(jq -cn --arg uri "/p/$p" --arg b "$(seed_text "$k" "$p")" --arg e "seed-$k-$p@readers.example" \
            '{uri: $uri, body: $b, guest: {name: "Seed Reader", email: $e}}')
        resp=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' --data-binary "$body" \
            "$BASE/api/v1/sites/$SITE/comments")
        [[ ${resp##*$'\n'} == 201 ]] || die "colloquy seed answered ${resp##*$'\n'}: ${resp%$'\n'*}"
        [[ $(jq -r .status <<<"${resp%$'\n'*}") == approved ]] || die "a seed comment was held: ${resp%$'\n'*}"
    done
done
COUNTS_QS=$(for ((p = 0; p < HOT; p++)); do printf '&uri=/p/%d' "$p"; done)
COUNTS_PATH="/api/v1/sites/$SITE/counts?${COUNTS_QS#&}"
curl -sS -f -o "$RUN/counts.json" "$BASE$COUNTS_PATH"
[[ $(jq '[.[]] | add' "$RUN/counts.json") == $((3 * HOT)) ]] || die "counts answered $(cat "$RUN/counts.json")"
echo "counts answer ($(wc -c <"$RUN/counts.json") bytes): $(cat "$RUN/counts.json")"

# ---------------------------------------------------------------- isso
ISSO_PID=
isso_rows() {
    "$VENV/bin/python" - "$RUN/isso.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM comments").fetchone()[0])
PY
}
if [[ ${SKIP_ISSO:-0} != 1 ]]; then
    log "isso $ISSO_VERSION: gunicorn $GUNICORN_VERSION, $ISSO_WORKERS sync workers, --preload"
    cat >"$RUN/isso.cfg" <<CFG
[general]
dbpath = $RUN/isso.db
host = http://localhost
notify = stdout
gravatar = false
[moderation]
enabled = false
[server]
listen = http://127.0.0.1:$ISSO_PORT
[guard]
enabled = false
CFG
    (cd "$RUN" && exec "$VENV/bin/gunicorn" -b "127.0.0.1:$ISSO_PORT" -w "$ISSO_WORKERS" --preload \
        --env "ISSO_SETTINGS=$RUN/isso.cfg" isso.run) >"$OUT/isso.log" 2>&1 &
    ISSO_PID=$!
    PIDS+=("$ISSO_PID")
    wait_ready "http://127.0.0.1:$ISSO_PORT/config" "$ISSO_PID" "isso (see $OUT/isso.log)"
    "$VENV/bin/python" - "$RUN/isso.db" "$PAGES" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with db:
    db.executemany("INSERT INTO threads (uri, title) VALUES (?, ?)",
                   [("/p/%d" % g, "Post %d" % g) for g in range(int(sys.argv[2]))])
PY
    for ((p = 0; p < HOT; p++)); do
        for ((k = 0; k < 3; k++)); do
            body=$(jq -cn --arg b "$(seed_text "$k" "$p")" --arg e "seed-$k-$p@readers.example" \
                '{text: $b, author: "Seed Reader", email: $e, website: null, parent: null}')
            code=$(curl -sS -o "$RUN/isso_seed.json" -w '%{http_code}' -H 'Content-Type: application/json' \
                -H 'Origin: http://localhost' --data-binary "$body" "http://127.0.0.1:$ISSO_PORT/new?uri=/p/$p")
            [[ $code == 201 ]] || die "isso seed answered $code: $(cat "$RUN/isso_seed.json")"
        done
    done
    ISSO_COUNTS_BODY=$(for ((p = 0; p < HOT; p++)); do printf '/p/%d\n' "$p"; done | jq -R . | jq -cs .)
    ISSO_COUNTS=$(curl -sS -f -H 'Content-Type: application/json' -H 'Origin: http://localhost' \
        --data-binary "$ISSO_COUNTS_BODY" "http://127.0.0.1:$ISSO_PORT/count")
    [[ $(jq 'add' <<<"$ISSO_COUNTS") == $((3 * HOT)) ]] || die "isso counts answered $ISSO_COUNTS"
    echo "isso: $PAGES threads, $(isso_rows) comments; /count answers $ISSO_COUNTS"
fi

# ---------------------------------------------------------------- nginx
cat >"$RUN/nginx.conf" <<CONF
worker_processes $CORES;
daemon off;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $RUN/nginx-tmp;
    proxy_temp_path $RUN/nginx-tmp;
    fastcgi_temp_path $RUN/nginx-tmp;
    uwsgi_temp_path $RUN/nginx-tmp;
    scgi_temp_path $RUN/nginx-tmp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $RUN;
        location / {
            default_type application/json;
            try_files /counts.json =404;
        }
    }
}
CONF
mkdir -p "$RUN/nginx-tmp"
nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_ready "http://127.0.0.1:$NGINX_PORT$COUNTS_PATH" "$NGINX_PID" "nginx (see $RUN/nginx-error.log)"
curl -sS -f "http://127.0.0.1:$NGINX_PORT$COUNTS_PATH" | cmp -s - "$RUN/counts.json" || die "nginx serves other bytes"

# ---------------------------------------------------------------- durability
SYNC=$(psql_db -c 'SHOW synchronous_commit')
FSYNC=$(psql_db -c 'SHOW fsync')
OVERRIDES=$(psql_db -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') ~ '(synchronous_commit|fsync)'")
echo "synchronous_commit=$SYNC fsync=$FSYNC (per-database/role overrides: $OVERRIDES)"
[[ $SYNC == on && $FSYNC == on && $OVERRIDES == 0 ]] || echo "compare.sh: warning: commits are not durable with these settings" >&2

# ---------------------------------------------------------------- b. counts (before any post: both hold the same 30 comments)
declare -A RPS P99 PGCPU APPCPU NOTE
count_run() {  # KEY SCRIPT URL [script args]
    local key=$1 script=$2 url=$3 t0 t1
    shift 3
    local args=(-s "$script" "$url")
    (($# == 0)) || args+=(-- "$@")
    run_wrk "${key}_warmup" 16 "$THREADS" "$WARMUP" "${args[@]}" >/dev/null
    t0=$(pg_ticks)
    run_wrk "$key" 16 "$THREADS" "$DURATION" "${args[@]}"
    t1=$(pg_ticks)
    RPS[$key]=$R_RPS P99[$key]=$R_P99
    PGCPU[$key]=$(ms_per $((t1 - t0)) $((R_REQ - R_NON2XX)))
    ((R_NON2XX + R_ERRS == 0)) || NOTE[$key]="non-2xx $R_NON2XX, socket errors $R_ERRS"
}
log "b. counts of $HOT uris, c=16"
count_run counts_nginx benches/read.lua "http://127.0.0.1:$NGINX_PORT$COUNTS_PATH"
count_run counts_colloquy benches/read.lua "$BASE$COUNTS_PATH"
[[ ${SKIP_ISSO:-0} == 1 ]] || count_run counts_isso benches/compare.lua "http://127.0.0.1:$ISSO_PORT" counts-isso x "$HOT"

# ---------------------------------------------------------------- a. posts
RUN_ID=$(date +%s)
colloquy_rows() { psql_db -c "SELECT count(*) FROM comments WHERE site_id = '$SITE_ID'"; }
# stored_check CONNS STORED -> CHECK text, sets MISMATCH
stored_check() {
    local conns=$1 stored=$2 ok=$((R_REQ - R_NON2XX)) extra
    extra=$((stored - ok))
    if ((extra == 0)); then CHECK="every 2xx stored ($stored)"
    elif ((extra > 0 && extra <= conns)); then CHECK="every 2xx stored; +$extra committed by requests in flight when wrk stopped"
    else CHECK="MISMATCH: $ok 2xx, $stored stored"; MISMATCH+=("$CHECK"); fi
}
MISMATCH=()
# settled ROWS_FN: the row count once it stops moving. A server with few workers (Isso's sync
# workers) still drains requests queued in its backlog after wrk has gone.
settled() {
    local prev=-1 cur i
    for ((i = 0; i < 40; i++)); do
        cur=$($1)
        [[ $cur == "$prev" ]] && break
        prev=$cur
        sleep 0.5
    done
    echo "$cur"
}
post_run() {  # KEY SERVER CONNS URL MODE PAGES ROWS_FN
    local key=$1 server=$2 conns=$3 url=$4 mode=$5 pages=$6 rows=$7 t0 t1 o0 o1 r0 r1 a0 a1
    run_wrk "${key}_warmup" "$conns" "$THREADS" "$WARMUP" -s benches/compare.lua "$url" -- "$mode" "w$RUN_ID-$key" "$pages" "$SITE" >/dev/null
    r0=$(settled "$rows") o0=$(other_commits) t0=$(pg_ticks) a0=$(app_ticks)
    run_wrk "$key" "$conns" "$THREADS" "$DURATION" -s benches/compare.lua "$url" -- "$mode" "m$RUN_ID-$key" "$pages" "$SITE"
    t1=$(pg_ticks) a1=$(app_ticks)
    r1=$(settled "$rows") o1=$(other_commits)
    stored_check "$conns" $((r1 - r0))
    local others="about $((o1 - o0))"
    # A database dropped meanwhile takes its counters with it.
    ((o1 >= o0)) || others="an unknown number of (a database was dropped)"
    echo "      $CHECK; Postgres CPU $(ms_per $((t1 - t0)) 1) ms in all; other databases committed $others transactions meanwhile"
    RPS[$key]=$R_RPS P99[$key]=$R_P99
    if [[ $server == colloquy ]]; then
        PGCPU[$key]=$(ms_per $((t1 - t0)) $((R_REQ - R_NON2XX)))
        APPCPU[$key]=$(ms_per $((a1 - a0)) $((R_REQ - R_NON2XX)))
        echo "      Colloquy's own CPU ${APPCPU[$key]} ms per post, Postgres ${PGCPU[$key]} ms per post"
    fi
    NOTE[$key]="$CHECK"
    ((R_NON2XX + R_ERRS == 0)) || NOTE[$key]+="; non-2xx $R_NON2XX ($R_STATUSES), socket errors $R_ERRS"
}
for c in 16 64; do
    log "a. guest posts to random pages of $PAGES threads, c=$c"
    post_run "post${c}_colloquy" colloquy "$c" "$BASE" post-colloquy "$PAGES" colloquy_rows
    [[ ${SKIP_ISSO:-0} == 1 ]] || post_run "post${c}_isso" isso "$c" "http://127.0.0.1:$ISSO_PORT" post-isso "$PAGES" isso_rows
done

# ---------------------------------------------------------------- pgbench
log "pgbench: single-row durable INSERT into a comments-like table (synchronous_commit=$SYNC)"
psql_db <<'SQL'
CREATE TABLE bench_comments (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    site_id       uuid        NOT NULL,
    thread_id     uuid        NOT NULL,
    author_name   text        NOT NULL,
    author_email  text,
    body_markdown text        NOT NULL,
    body_html     text        NOT NULL,
    status        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bench_comments_pkey PRIMARY KEY (id)
);
CREATE INDEX bench_comments_thread_idx ON bench_comments (thread_id, created_at, id);
CREATE INDEX bench_comments_site_status_idx ON bench_comments (site_id, status, created_at);
SQL
cat >"$RUN/insert.sql" <<'SQL'
\set t random(0, 999)
INSERT INTO bench_comments (site_id, thread_id, author_name, author_email, body_markdown, body_html, status)
VALUES ('6f1c1c4e-0000-4000-8000-000000000001', md5('thread' || :t)::uuid, 'Bench Guest ' || :client_id,
        'b-' || :client_id || '-' || md5(random()::text) || '@bench.example',
        'Load-test comment **' || md5(random()::text) || '** about *latency* and fsync. See [the docs](https://example.org/docs/1) and `cfg.workers = 1`.\n\n- first point on fsync\n- second point\n\n> quoted line 1',
        '<p>Load-test comment <strong>' || md5(random()::text) || '</strong> about <em>latency</em> and fsync. See <a href="https://example.org/docs/1" rel="nofollow noopener ugc">the docs</a> and <code>cfg.workers = 1</code>.</p>\n<ul>\n<li>first point on fsync</li>\n<li>second point</li>\n</ul>\n<blockquote>\n<p>quoted line 1</p>\n</blockquote>\n',
        'approved');
SQL
pgbench_run() {  # CONNS
    local c=$1 key="pgbench$1" t0 t1 n
    pgbench -n -M prepared -c "$c" -j "$THREADS" -T "$WARMUP_S" -f "$RUN/insert.sql" "$BENCH_DB" >"$OUT/${key}_warmup.txt" 2>&1 \
        || { cat "$OUT/${key}_warmup.txt"; die "pgbench failed"; }
    rm -f "$RUN/$key".[0-9]*
    t0=$(pg_ticks)
    pgbench -n -M prepared -c "$c" -j "$THREADS" -T "$DURATION_S" -f "$RUN/insert.sql" \
        -l --log-prefix="$RUN/$key" "$BENCH_DB" >"$OUT/$key.txt" 2>&1 || { cat "$OUT/$key.txt"; die "pgbench failed"; }
    t1=$(pg_ticks)
    n=$(awk '/^number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$OUT/$key.txt")
    RPS[$key]=$(awk '/^tps = / { printf "%.1f", $3 }' "$OUT/$key.txt")
    # Per-transaction log: client, transaction, latency in us, ...
    P99[$key]=$(cat "$RUN/$key".[0-9]* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] + 0 }')
    PGCPU[$key]=$(ms_per $((t1 - t0)) "$n")
    rm -f "$RUN/$key".[0-9]*
    printf '    %-28s %9s tps    p99 %8s ms  Postgres CPU %s ms per INSERT\n' "$key" "${RPS[$key]}" "$(ms "${P99[$key]}")" "${PGCPU[$key]}"
}
pgbench_run 16
pgbench_run 64

# ---------------------------------------------------------------- c. mixed
# Two wrk processes started together: reads (c=61, -t2) and posts (c=3, -t1, one thread: wrk
# gives each thread conns/threads connections) to the same 10 hot pages.
mixed_run() {  # SERVER URL ROWS_FN
    local server=$1 url=$2 rows=$3 r0 r1 rp pp
    for phase in warmup main; do
        local dur=$DURATION sfx=""
        [[ $phase == warmup ]] && dur=$WARMUP sfx=_warmup
        # The warm-up's last posts must be stored before the count the check starts from.
        [[ $phase == main ]] && r0=$(settled "$rows")
        others_busy && CONTENDED+=("mixed_$server")
        wrk -t "$THREADS" -c 61 -d "$dur" --timeout 10s --latency -s benches/compare.lua "$url" \
            -- "read-$server" x "$HOT" "$SITE" >"$OUT/mixed_${server}_reads$sfx.txt" 2>&1 &
        rp=$!
        wrk -t 1 -c 3 -d "$dur" --timeout 10s --latency -s benches/compare.lua "$url" \
            -- "post-$server" "x$RUN_ID-$phase" "$HOT" "$SITE" >"$OUT/mixed_${server}_posts$sfx.txt" 2>&1 &
        pp=$!
        wait "$rp" || die "wrk (mixed reads, $server) failed"
        wait "$pp" || die "wrk (mixed posts, $server) failed"
    done
    r1=$(settled "$rows")
    parse_wrk "$OUT/mixed_${server}_reads.txt"
    RPS[mixed_reads_$server]=$R_RPS P99[mixed_reads_$server]=$R_P99
    NOTE[mixed_reads_$server]="non-2xx $R_NON2XX, socket errors $R_ERRS"
    printf '    %-28s %9s req/s  p99 %8s ms  non-2xx %s  socket errors %s\n' "reads ($server)" "$R_RPS" "$(ms "$R_P99")" "$R_NON2XX" "$R_ERRS"
    parse_wrk "$OUT/mixed_${server}_posts.txt"
    RPS[mixed_posts_$server]=$R_RPS P99[mixed_posts_$server]=$R_P99
    stored_check 3 $((r1 - r0))
    NOTE[mixed_posts_$server]="$CHECK; non-2xx $R_NON2XX, socket errors $R_ERRS"
    printf '    %-28s %9s req/s  p99 %8s ms  non-2xx %s  socket errors %s  %s\n' "posts ($server)" "$R_RPS" "$(ms "$R_P99")" "$R_NON2XX" "$R_ERRS" "$CHECK"
}
log "c. mixed, c=64: thread reads of $HOT hot pages (c=61) + posts to them (c=3)"
mixed_run colloquy "$BASE" colloquy_rows
[[ ${SKIP_ISSO:-0} == 1 ]] || mixed_run isso "http://127.0.0.1:$ISSO_PORT" isso_rows

# ---------------------------------------------------------------- profile
log "statement profile of the submit path: $PROFILE_POSTS posts, 16 concurrent clients"
post_many() {  # N -> posts N comments to random pages, 16 at a time; prints the 201 count
    python3 - "$BASE/api/v1/sites/$SITE/comments" "$1" "$RUN_ID" "$PAGES" <<'PY'
import json, random, sys, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
url, n, run, pages = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def post(i):
    body = {"uri": "/p/%d" % random.randrange(pages),
            "body": "Profile comment **p%s-%d** about *latency* and fsync. See [the docs](https://example.org/docs/%d).\n\n- first point\n- second point" % (run, i, i),
            "guest": {"name": "Bench Guest", "email": "p-%s-%d@bench.example" % (run, i)}}
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
with ThreadPoolExecutor(16) as ex:
    print(sum(1 for s in ex.map(post, range(n)) if s == 201))
PY
}
PRELOAD=$(psql_db -c 'SHOW shared_preload_libraries')
PROFILE=$OUT/profile.txt
if [[ ,${PRELOAD// /}, == *,pg_stat_statements,* ]]; then
    PROFILE_SOURCE="pg_stat_statements"
    psql_db -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    post_many 48 >/dev/null
    psql_db -c "SELECT pg_stat_statements_reset()" >/dev/null
    OK=$(post_many "$PROFILE_POSTS")
    psql_db -F $'\t' -c "SELECT round(calls::numeric / $OK, 2), round(mean_exec_time::numeric, 3),
                                round((total_exec_time / $OK)::numeric, 3), regexp_replace(query, '\s+', ' ', 'g')
                         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                           AND query NOT ILIKE '%pg_stat_statements%'
                         ORDER BY total_exec_time DESC" >"$RUN/profile.tsv"
else
    PG_LOG=${PG_LOG:-/var/log/postgresql/postgresql-$(psql_db -c 'SHOW server_version_num' | cut -c1-2)-main.log}
    PROFILE_SOURCE="the server log ($PG_LOG), log_min_duration_statement=0 for $BENCH_DB only"
    [[ -r $PG_LOG ]] || die "shared_preload_libraries has no pg_stat_statements and $PG_LOG is not readable (set PG_LOG)"
    PREFIX=$(psql_db -c 'SHOW log_line_prefix')
    [[ $PREFIX == *%d* ]] || die "log_line_prefix ($PREFIX) does not name the database; can't tell our statements apart"
    psql_pg -c "ALTER DATABASE \"$BENCH_DB\" SET log_min_duration_statement = 0" >/dev/null
    stop_pid "$APP_PID"
    start_colloquy colloquy-profile.log
    # Fresh connections first resolve types and fill the caches; that start-up is not the
    # submit path's cost, so it happens before the window the profile reads.
    post_many 48 >/dev/null
    sleep 1
    OFFSET=$(stat -c %s "$PG_LOG")
    OK=$(post_many "$PROFILE_POSTS")
    sleep 1
    psql_pg -c "ALTER DATABASE \"$BENCH_DB\" RESET log_min_duration_statement" >/dev/null
    tail -c +"$((OFFSET + 1))" "$PG_LOG" >"$RUN/pg-profile.log"
    # Records: a line starting with a timestamp, plus its tab-indented continuation lines.
    # Kept: "duration: X ms  <phase>: SQL" of sessions on $BENCH_DB as user $PGUSER. The phases
    # of the extended protocol (parse, bind, execute) are summed per statement; calls counts
    # executions (execute, or a simple-protocol "statement").
    awk -v db="$PGUSER@$BENCH_DB " -v n="$OK" '
        function flush() {
            if (rec != "" && index(rec, db) && match(rec, /LOG:  duration: [0-9.]+ ms  /)) {
                rest = substr(rec, RSTART + RLENGTH)
                d = substr(rec, RSTART, RLENGTH); gsub(/[^0-9.]/, "", d)
                phase = rest; sub(/[ :].*/, "", phase)
                sql = rest; sub(/^[^:]*: /, "", sql); gsub(/[ \t]+/, " ", sql)
                if (phase == "execute" || phase == "statement") { calls[sql]++; exec[sql] += d }
                else { other[sql] += d }
                total[sql] += d
            }
            rec = ""
        }
        /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { flush(); rec = $0; next }
        { sub(/^\t/, " "); rec = rec $0 }
        END {
            flush()
            for (s in total) printf "%.2f\t%.3f\t%.3f\t%s\t%.3f\n", calls[s] / n, (calls[s] ? exec[s] / calls[s] : 0), total[s] / n, s, other[s] / n
        }' "$RUN/pg-profile.log" | sort -t $'\t' -k3,3gr >"$RUN/profile.tsv"
fi
((OK > 0)) || die "the profile run stored no comment"
{
    echo "Statement profile of POST /api/v1/sites/$SITE/comments: $OK posts answered 201 ($PROFILE_POSTS sent, 16 at a time)"
    echo "source: $PROFILE_SOURCE"
    echo "site: guests, policy post, $RULES word rules, flood limits off; Colloquy $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "mean = mean execution time of one call; ms/post = all its time per post; of which parse+bind"
    echo "(planning happens at bind: a large share there is a statement planned on every call)"
    echo "(background work of the server on $BENCH_DB during the run counts too)"
    echo
    printf '%10s %9s %8s %11s  %s\n' "calls/post" "mean ms" "ms/post" "parse+bind" "statement"
    awk -F '\t' '{ printf "%10s %9s %8s %11s  %s\n", $1, $2, $3, ($5 == "" ? "-" : $5), substr($4, 1, 160) }' "$RUN/profile.tsv"
    echo
    awk -F '\t' '{ c += $1; t += $3 } END { printf "total: %.1f statements per post, %.3f ms of statement time per post\n", c, t }' "$RUN/profile.tsv"
} >"$PROFILE"
cat "$PROFILE"

# ---------------------------------------------------------------- summary
cell() {  # KEY -> "N/s, p99 X ms" or "-"
    [[ -n ${RPS[$1]:-} ]] || { echo "-"; return; }
    printf "%s/s, p99 %s ms" "$(printf "%'.0f" "${RPS[$1]}" 2>/dev/null || echo "${RPS[$1]}")" "$(ms "${P99[$1]}")"
}
ratio() { [[ -n ${RPS[$1]:-} && -n ${RPS[$2]:-} ]] || { echo "-"; return; }; awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
pass() { if awk "BEGIN { exit !($1) }"; then echo pass; else echo MISS; fi; }
val() { echo "${RPS[$1]:-0}"; }
p99ms() { ms "${P99[$1]:-0}"; }
WARNS=$(grep -c -E 'WARN|ERROR' "$OUT/colloquy.log" || true)
{
    echo
    echo "==================== write path and counts: Colloquy vs Isso vs the limits ===================="
    echo "machine: $CORES cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), -t$THREADS; $DURATION per run after a $WARMUP warm-up; all on 127.0.0.1"
    echo "PostgreSQL $(psql_db -c 'SHOW server_version'): synchronous_commit=$SYNC fsync=$FSYNC; colloquy $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (workers $WORKERS, 0 = one per core), log level warn"
    [[ ${SKIP_ISSO:-0} == 1 ]] || echo "Isso $ISSO_VERSION on gunicorn $GUNICORN_VERSION ($ISSO_WORKERS sync workers, --preload), SQLite, moderation off, guard off"
    echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $CORES workers, access_log off; pgbench -M prepared -j $THREADS, one INSERT per transaction"
    if [[ ${BUSY:-0} -gt 0 || ${#CONTENDED[@]} -gt 0 ]]; then
        echo "WARNING: cargo/rustc was running at the start or during: $(printf '%s\n' "${CONTENDED[@]}" | grep -v warmup | sort -u | tr '\n' ' ')"
        echo "         the machine was not idle; these figures understate an idle machine's"
    fi
    echo
    echo "| workload | Isso | Colloquy | nginx / pgbench limit | Colloquy/Isso | Colloquy/limit |"
    echo "|---|---|---|---|---|---|"
    for c in 16 64; do
        echo "| guest posts, c=$c | $(cell "post${c}_isso") | $(cell "post${c}_colloquy") | INSERT: $(cell "pgbench$c") | $(ratio "post${c}_colloquy" "post${c}_isso") | $(ratio "post${c}_colloquy" "pgbench$c") |"
        echo "| Postgres CPU per post, c=$c | - | ${PGCPU[post${c}_colloquy]:-?} ms | ${PGCPU[pgbench$c]:-?} ms per INSERT | - | $(awk -v a="${PGCPU[post${c}_colloquy]:-0}" -v b="${PGCPU[pgbench$c]:-0}" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }') |"
        echo "| Colloquy CPU per post, c=$c | - | ${APPCPU[post${c}_colloquy]:-?} ms | - | - | - |"
    done
    echo "| counts of $HOT uris, c=16 | $(cell counts_isso) | $(cell counts_colloquy) | nginx: $(cell counts_nginx) | $(ratio counts_colloquy counts_isso) | $(ratio counts_colloquy counts_nginx) |"
    echo "| Postgres CPU per counts request | - | ${PGCPU[counts_colloquy]} ms | - | - | - |"
    echo "| mixed c=64: thread reads (c=61) | $(cell mixed_reads_isso) | $(cell mixed_reads_colloquy) | - | $(ratio mixed_reads_colloquy mixed_reads_isso) | - |"
    echo "| mixed c=64: posts (c=3) | $(cell mixed_posts_isso) | $(cell mixed_posts_colloquy) | - | $(ratio mixed_posts_colloquy mixed_posts_isso) | - |"
    echo
    echo "Checks:"
    for k in post16_colloquy post64_colloquy post16_isso post64_isso mixed_posts_colloquy mixed_posts_isso counts_colloquy counts_isso counts_nginx mixed_reads_colloquy mixed_reads_isso; do
        [[ -n ${NOTE[$k]:-} ]] && printf '  %-22s %s\n' "$k:" "${NOTE[$k]}"
    done
    ((${#MISMATCH[@]} == 0)) || echo "  WARNING: answers and stored rows disagree: ${MISMATCH[*]}"
    echo
    echo "Targets (issue 12):"
    echo "  posts >= 3,000/s at c=16:              $(pass "$(val post16_colloquy) >= 3000")  ($(val post16_colloquy)/s; $(ratio post16_colloquy post16_isso) Isso, target >= 6x; $(ratio post16_colloquy pgbench16) bare INSERT, target >= 0.18x)"
    echo "  post p99 < 50 ms at c=16:              $(pass "$(p99ms post16_colloquy) < 50")  ($(p99ms post16_colloquy) ms)"
    echo "  Postgres CPU per post <= 1 ms (c=16):  $(pass "${PGCPU[post16_colloquy]:-99} <= 1")  (${PGCPU[post16_colloquy]:-?} ms)"
    echo "  counts >= 30,000/s:                    $(pass "$(val counts_colloquy) >= 30000")  ($(val counts_colloquy)/s)"
    echo "  counts >= 0.3x nginx:                  $(pass "$(val counts_colloquy) >= 0.3 * $(val counts_nginx)")  ($(ratio counts_colloquy counts_nginx))"
    echo "  mixed: thread p99 < 10 ms:             $(pass "$(p99ms mixed_reads_colloquy) < 10")  ($(p99ms mixed_reads_colloquy) ms)"
    echo "  mixed: posts >= 500/s meanwhile:       $(pass "$(val mixed_posts_colloquy) >= 500")  ($(val mixed_posts_colloquy)/s)"
    echo
    echo "Postgres CPU: utime+stime of all postgres processes (/proc) over the run / 2xx answers; the server"
    echo "is shared, so other databases' work in the same seconds counts too (printed per run above)."
    echo "profile: $PROFILE; colloquy log: $WARNS WARN/ERROR lines ($OUT/colloquy.log); raw outputs: $OUT"
    echo "total run time: ${SECONDS}s"
    echo "==============================================================================================="
} | tee "$OUT/summary.txt"
