#!/usr/bin/env bash
# Load benchmark for colloquy: thread reads against a static-file baseline, and guest
# submissions with durable commits.
#
#   bash benches/load.sh            # builds the release binaries first
#   SKIP_BUILD=1 bash benches/load.sh
#
# What it does, all on 127.0.0.1:
#   1. drops and recreates a throwaway database ($BENCH_DB, default colloquy_bench);
#   2. starts target/release/colloquy on $PORT (log level warn), waits for /health/ready,
#      creates site "bench" (guests allowed, policy post);
#   3. seeds /bench/ with 200 comments (120 top-level, 80 replies, markdown bodies of 100-600
#      characters) and saves the exact bytes of GET thread?uri=/bench/&limit=200;
#   4. serves those bytes with examples/static_file.rs (same actix-web, same worker count) on
#      $STATIC_PORT and runs wrk with identical settings against both (warm-up run first);
#   5. runs wrk with benches/submit.lua (unique body and guest email per request) and checks
#      that every 2xx answer is a comment stored in Postgres (synchronous_commit is printed);
#   6. prints a summary and checks the targets: reads >= 0.5x baseline with p99 < 10 ms,
#      >= 2,000 submissions/s. Exit status is 0 even when a target is missed (it is a
#      measurement); it is non-zero when the benchmark itself could not run.
# Servers it started are stopped and the database dropped on exit. Results are kept in
# target/bench-load/ (summary.txt, wrk outputs, thread.json, server log).
#
# Settings (environment): PORT=18080 STATIC_PORT=18081 BENCH_DB=colloquy_bench
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres CONNS=64 THREADS=2 DURATION=15s WARMUP=3s
#   SUBMIT_RUNS="64:1 64:64 16:1" (connections:pages; pages=1 sends every comment to one
#   page, N spreads them over N pages) WORKERS=0 (0 = one per core, for both servers)
#   SKIP_BUILD=1 KEEP_DB=1 (leave the database for inspection)
#   SKIP_QUEUE=1 (skip the moderation queue benchmark, benches/queue.sh, run at the end with
#   its own server and database: 1,000,000 pending comments, queue pages, claims, bulk approve)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PORT=${PORT:-18080}
STATIC_PORT=${STATIC_PORT:-18081}
BENCH_DB=${BENCH_DB:-colloquy_bench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
SUBMIT_RUNS=${SUBMIT_RUNS:-"64:1 64:64 16:1"}
WORKERS=${WORKERS:-0}
SITE=bench
URI=/bench/
TOP_LEVEL=120
REPLIES=80
OUT=$ROOT/target/bench-load

case "$PGHOST" in 127.*|localhost|::1) ;; *) echo "load.sh: PGHOST must be local" >&2; exit 2 ;; esac
for p in "$PORT" "$STATIC_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] || { echo "load.sh: bad port $p" >&2; exit 2; }
done

log() { printf '\n== %s\n' "$*"; }
die() { echo "load.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v jq >/dev/null || need_apt+=(jq)
command -v curl >/dev/null || need_apt+=(curl)
command -v psql >/dev/null || need_apt+=(postgresql-client)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]}"
    SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building release binaries"
    cargo build --release --bin colloquy --example static_file
fi
APP=$ROOT/target/release/colloquy
STATIC=$ROOT/target/release/examples/static_file
[[ -x $APP ]] || die "$APP missing (cargo build --release)"
[[ -x $STATIC ]] || die "$STATIC missing (cargo build --release --example static_file)"

mkdir -p "$ROOT/target"
# One run at a time: a second one would drop the first one's database.
exec 9>"$ROOT/target/.bench-load.lock"
flock -n 9 || die "another benches/load.sh is running"
rm -rf "$OUT" && mkdir -p "$OUT"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$PORT" && die "port $PORT is already in use (set PORT=...)"
port_busy "$STATIC_PORT" && die "port $STATIC_PORT is already in use (set STATIC_PORT=...)"

psql_db() { psql -X -v ON_ERROR_STOP=1 -qAt -d "$BENCH_DB" "$@"; }
drop_db() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -qAt -d postgres -c "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null
}

PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${KEEP_DB:-0} == 1 ]]; then
        echo "load.sh: keeping database $BENCH_DB"
    else
        drop_db || echo "load.sh: could not drop $BENCH_DB" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BUSY=$(pgrep -c -x 'rustc|cargo' || true)
if [[ ${BUSY:-0} -gt 0 ]]; then
    echo "load.sh: warning: $BUSY cargo/rustc processes are running; figures will be lower than on an idle machine" >&2
fi

# ---------------------------------------------------------------- server
log "fresh database $BENCH_DB"
drop_db

export COLLOQUY__DATABASE__URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
export COLLOQUY__SERVER__HOST=127.0.0.1
export COLLOQUY__SERVER__PORT=$PORT
export COLLOQUY__SERVER__PUBLIC_URL="http://127.0.0.1:$PORT"
export COLLOQUY__SERVER__WORKERS=$WORKERS
export COLLOQUY__LOG__LEVEL=warn
# All the load comes from one address, so the flood limits are off (0): with a limit of N the
# history query reads at most N of the address's last-minute comments (an index range), so with
# real limits it costs no more than here.
export COLLOQUY__LIMITS__COMMENT_INTERVAL_S=0
export COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_USER=0
export COLLOQUY__LIMITS__COMMENTS_PER_MINUTE_IP=0
# The site-wide guest cap (30 a minute by default) would answer 429 from the 31st seed comment.
export COLLOQUY__LIMITS__GUEST_COMMENTS_PER_MINUTE=0
export COLLOQUY__LOG__FORMAT=pretty

BASE="http://127.0.0.1:$PORT"
"$APP" serve >"$OUT/colloquy.log" 2>&1 &
APP_PID=$!
PIDS+=("$APP_PID")

wait_ready() {  # url pid what
    local i
    for ((i = 0; i < 120; i++)); do
        kill -0 "$2" 2>/dev/null || die "$3 exited during start-up"
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
        sleep 0.5
    done
    die "$3 not ready after 60 s ($1)"
}
wait_ready "$BASE/health/ready" "$APP_PID" "colloquy (see $OUT/colloquy.log)"
"$APP" site create --slug "$SITE" --name Bench --origin http://localhost --guests --policy post

# ---------------------------------------------------------------- seed
log "seeding $URI with $((TOP_LEVEL + REPLIES)) comments ($TOP_LEVEL top-level, $REPLIES replies)"
RANDOM=4242  # same thread every run
SENTENCES=(
    "I ran into the same problem last week and the fix was simpler than I expected."
    "Thanks for writing this up, it is the clearest explanation of the trade-off I have read."
    "Have you measured how this behaves once the cache is cold?"
    "We tried this approach in production and it held up well under a few thousand requests per second."
    "One caveat: the defaults assume a single node, so check the docs before scaling out."
    "I disagree with the conclusion, but the benchmarks are honest and easy to reproduce."
    "The part about connection pools deserves its own post."
    "Minor nit: the second example is missing a semicolon."
    "This is exactly why I keep my blog static and put the dynamic bits behind an API."
    "Could you share the configuration you used for Postgres?"
    "Great read. Bookmarked for the next time someone asks me why fsync matters."
    "It would be interesting to compare this with the numbers from last year."
)
EMPH=("*really*" "**important**" "_subtle_" "**not**" "*exactly*")
CODES=('`EXPLAIN ANALYZE`' '`work_mem = 64MB`' '`cargo build --release`' '`SELECT count(*)`' '`max_connections`')
LINKS=("[the manual](https://www.postgresql.org/docs/15/wal-async-commit.html)"
    "[this issue](https://github.com/example/project/issues/42)"
    "[my notes](https://blog.example.org/notes/latency)")
NAMES=("Ada" "Grace" "Linus" "Barbara" "Ken" "Margaret" "Dennis" "Radia" "Edsger" "Frances"
    "Donald" "Hedy" "Alan" "Katherine" "Tim" "Sophie" "Guido" "Anita" "John" "Yukihiro")

# pick ARRAY: a random element into $P (no subshells, so RANDOM's seeded sequence is used).
pick() { local -n arr=$1; P=${arr[RANDOM % ${#arr[@]}]}; }
# make_body: a markdown body of 100-600 characters into $BODY.
make_body() {
    local target=$((100 + RANDOM % 450)) piece a b
    BODY=""
    while ((${#BODY} < target)); do
        pick SENTENCES; a=$P
        case $((RANDOM % 7)) in
            0) pick EMPH; b=$P; pick LINKS; piece="$a It is $b worth reading $P." ;;
            1) pick CODES; piece="Try $P first; $a" ;;
            2) piece="> $a" ;;
            3) pick CODES; b=$P; pick EMPH; piece=$'- '"$a"$'\n- '"$b"$'\n- '"$P agreed" ;;
            4) piece=$'```sql\nSELECT id, body FROM comments WHERE thread_id = $1 LIMIT 200;\n```' ;;
            *) pick SENTENCES; piece="$a $P" ;;
        esac
        if ((${#BODY} + ${#piece} + 2 > 600)); then
            ((${#BODY} >= 100)) && break
            piece="${piece:0:$((600 - ${#BODY} - 2))}"
        fi
        BODY+="${BODY:+$'\n\n'}$piece"
    done
}

IDS=()
DEPTHS=()
tops=0
replies=0
total=$((TOP_LEVEL + REPLIES))
for ((i = 0; i < total; i++)); do
    remaining=$((total - i))
    left_replies=$((REPLIES - replies))
    parent=""
    if ((i >= 5 && left_replies > 0 && (RANDOM % remaining) < left_replies)); then
        # Reply to a random earlier comment that can still take replies (max depth 5).
        for ((try = 0; try < 50; try++)); do
            j=$((RANDOM % ${#IDS[@]}))
            if ((DEPTHS[j] < 5)); then parent=${IDS[j]}; pdepth=${DEPTHS[j]}; break; fi
        done
    fi
    pick NAMES
    name=$P
    email="${name,,}.$((RANDOM % 40))@readers.example"
    make_body
    payload=$(jq -cn --arg uri "$URI" --arg body "$BODY" --arg name "$name" --arg email "$email" \
        --arg parent "$parent" --arg title "Bench thread" \
        '{uri: $uri, body: $body, guest: {name: $name, email: $email}}
         + (if $parent == "" then {} else {parent_id: $parent} end)
         + (if $parent == "" and '"$i"' == 0 then {title: $title} else {} end)')
    resp=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' --data-binary "$payload" \
        "$BASE/api/v1/sites/$SITE/comments")
    code=${resp##*$'\n'}
    [[ $code == 201 ]] || die "seed comment $i answered $code: ${resp%$'\n'*}"
    id=$(jq -r '.comment.id' <<<"${resp%$'\n'*}")
    IDS+=("$id")
    if [[ -n $parent ]]; then
        DEPTHS+=($((pdepth + 1)))
        replies=$((replies + 1))
    else
        DEPTHS+=(1)
        tops=$((tops + 1))
    fi
done
echo "seeded $tops top-level comments and $replies replies"

READ_PATH="/api/v1/sites/$SITE/thread?uri=$URI&limit=200"
curl -sS -f -o "$OUT/thread.json" "$BASE$READ_PATH"
n=$(jq '.comments | length' "$OUT/thread.json")
cc=$(jq '.thread.comment_count' "$OUT/thread.json")
[[ $n == "$total" && $cc == "$total" ]] || die "thread has $n comments (comment_count $cc), expected $total"
[[ $(jq -r '.next_cursor' "$OUT/thread.json") == null ]] || die "thread read is paginated; expected one page"
BYTES=$(wc -c <"$OUT/thread.json")
echo "thread JSON: $n comments, $BYTES bytes -> $OUT/thread.json"

# The response must be stable between reads, or the baseline would serve different bytes.
curl -sS -f "$BASE$READ_PATH" | cmp -s - "$OUT/thread.json" || die "two thread reads gave different bytes"

"$STATIC" "$OUT/thread.json" "$STATIC_PORT" "$WORKERS" >"$OUT/static_file.log" 2>&1 &
STATIC_PID=$!
PIDS+=("$STATIC_PID")
wait_ready "http://127.0.0.1:$STATIC_PORT$READ_PATH" "$STATIC_PID" "static_file"
curl -sS -f "http://127.0.0.1:$STATIC_PORT$READ_PATH" | cmp -s - "$OUT/thread.json" \
    || die "static_file serves different bytes"

# ---------------------------------------------------------------- wrk helpers
# run_wrk NAME DURATION [wrk args...] -> prints wrk's output, saves it, sets R_* from RESULT
CONTENDED=()
others_busy() { [[ $(pgrep -c -x 'rustc|cargo' || true) != 0 ]]; }
run_wrk() {
    local name=$1 dur=$2
    shift 2
    others_busy && CONTENDED+=("$name")
    wrk -t "$THREADS" -c "$CONNS_NOW" -d "$dur" --timeout 10s --latency "$@" >"$OUT/$name.txt" 2>&1 \
        || { cat "$OUT/$name.txt"; die "wrk $name failed"; }
    others_busy && CONTENDED+=("$name")
    sed 's/^/    /' "$OUT/$name.txt"
    local line
    line=$(grep '^RESULT ' "$OUT/$name.txt" | tail -1) || die "wrk $name printed no RESULT line"
    R_RPS=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    R_P50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line")
    R_P99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line")
    R_REQ=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$line")
    R_NON2XX=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")
    R_ERRS=$(awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^err_/) { split($i, kv, "="); s += kv[2] } print s }' <<<"$line")
    R_STATUSES=$(sed -n 's/.* statuses=\([^ ]*\).*/\1/p' <<<"$line")
    R_SAMPLE=$(grep '^ERROR_SAMPLE ' "$OUT/$name.txt" | head -1 | cut -c14- || true)
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# ---------------------------------------------------------------- reads
CONNS_NOW=$CONNS
log "reads: static baseline (warm-up $WARMUP, then $DURATION, $CONNS connections, $THREADS threads)"
run_wrk static_warmup "$WARMUP" -s benches/read.lua "http://127.0.0.1:$STATIC_PORT$READ_PATH" >/dev/null
run_wrk static "$DURATION" -s benches/read.lua "http://127.0.0.1:$STATIC_PORT$READ_PATH"
S_RPS=$R_RPS S_P50=$R_P50 S_P99=$R_P99 S_NON2XX=$R_NON2XX S_ERRS=$R_ERRS

log "reads: colloquy GET thread (warm-up $WARMUP, then $DURATION, $CONNS connections, $THREADS threads)"
run_wrk read_warmup "$WARMUP" -s benches/read.lua "$BASE$READ_PATH" >/dev/null
run_wrk read "$DURATION" -s benches/read.lua "$BASE$READ_PATH"
C_RPS=$R_RPS C_P50=$R_P50 C_P99=$R_P99 C_NON2XX=$R_NON2XX C_ERRS=$R_ERRS
kill "$STATIC_PID" 2>/dev/null || true

RATIO=$(awk -v a="$C_RPS" -v b="$S_RPS" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')

# ---------------------------------------------------------------- submissions
log "durability settings"
SYNC=$(psql_db -c 'SHOW synchronous_commit')
FSYNC=$(psql_db -c 'SHOW fsync')
WALSYNC=$(psql_db -c 'SHOW wal_sync_method')
echo "synchronous_commit=$SYNC fsync=$FSYNC wal_sync_method=$WALSYNC"
# A per-database or per-role override would change what the app's sessions run with.
OVERRIDES=$(psql_db -c "SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') ~ '(synchronous_commit|fsync)'")
echo "per-database/role overrides of synchronous_commit/fsync: $OVERRIDES"
[[ $SYNC == on && $FSYNC == on ]] || echo "load.sh: warning: commits are not durable with these settings" >&2

stored_count() { psql_db -c "SELECT count(*) FROM comments c JOIN threads t ON t.id = c.thread_id WHERE t.uri LIKE '/bench/submit/%'"; }
wal_syncs() { psql_db -c 'SELECT wal_sync FROM pg_stat_wal'; }
commits() { psql_db -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }

SUB_LINES=()
SUB_BEST=0
SUB_FIRST=""
run_id=$(date +%s)-$$
for spec in $SUBMIT_RUNS; do
    CONNS_NOW=${spec%%:*}
    pages=${spec##*:}
    [[ $CONNS_NOW =~ ^[0-9]+$ && $pages =~ ^[0-9]+$ ]] || die "bad SUBMIT_RUNS entry $spec"
    label="${CONNS_NOW}c-${pages}p"
    log "submissions: $CONNS_NOW connections, $pages page(s) (warm-up $WARMUP, then $DURATION)"
    run_wrk "submit_${label}_warmup" "$WARMUP" -s benches/submit.lua "$BASE/api/v1/sites/$SITE/comments" \
        -- "w$run_id-$label" "$pages" >/dev/null
    sleep 1
    before=$(stored_count)
    wal0=$(wal_syncs)
    tx0=$(commits)
    run_wrk "submit_$label" "$DURATION" -s benches/submit.lua "$BASE/api/v1/sites/$SITE/comments" \
        -- "m$run_id-$label" "$pages"
    sleep 1
    after=$(stored_count)
    wal1=$(wal_syncs)
    tx1=$(commits)
    stored=$((after - before))
    ok2xx=$((R_REQ - R_NON2XX))
    extra=$((stored - ok2xx))
    if ((extra == 0)); then
        check="match"
    elif ((extra > 0 && extra <= CONNS_NOW)); then
        check="ok: +$extra committed by requests in flight when wrk stopped"
    else
        check="MISMATCH ($extra)"
    fi
    echo "2xx=$ok2xx stored=$stored ($check); non-2xx=$R_NON2XX socket errors=$R_ERRS statuses=$R_STATUSES"
    echo "WAL fsyncs during the run: $((wal1 - wal0)) for $((tx1 - tx0)) committed transactions"
    [[ -n $R_SAMPLE ]] && echo "first error answer: $R_SAMPLE"
    line=$(printf '  %-26s %9s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  socket errors %s\n      2xx %s, stored %s (%s); WAL fsyncs %s for %s commits' \
        "$CONNS_NOW conns, $pages page(s):" "$R_RPS" "$(ms "$R_P50")" "$(ms "$R_P99")" "$R_NON2XX" "$R_ERRS" \
        "$ok2xx" "$stored" "$check" "$((wal1 - wal0))" "$((tx1 - tx0))")
    [[ -n $R_SAMPLE ]] && line+=$'\n'"      first error: ${R_SAMPLE:0:200}"
    SUB_LINES+=("$line")
    [[ -z $SUB_FIRST ]] && SUB_FIRST="$R_RPS:$R_P99:$CONNS_NOW:$pages"
    SUB_BEST=$(awk -v a="$SUB_BEST" -v b="$R_RPS" 'BEGIN { print (b > a ? b : a) }')
done

# ---------------------------------------------------------------- summary
WARNS=$(grep -c -E 'WARN|ERROR' "$OUT/colloquy.log" || true)
pass() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
{
    echo
    echo "==================== colloquy load benchmark ===================="
    echo "machine: $(nproc) cores; $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $THREADS wrk threads; $DURATION per run after a $WARMUP warm-up"
    echo "server workers: ${WORKERS} (0 = one per core) for colloquy and the baseline; colloquy log level warn"
    if [[ ${BUSY:-0} -gt 0 || ${#CONTENDED[@]} -gt 0 ]]; then
        echo "WARNING: cargo/rustc was running at the start or during: $(printf '%s\n' "${CONTENDED[@]}" | sort -u | grep -v warmup | tr '\n' ' ')"
        echo "         the machine was not idle; these figures understate an idle machine's"
    else
        echo "no cargo/rustc seen running before or after any wrk run"
    fi
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "thread $URI: $total comments ($tops top-level, $replies replies), $BYTES bytes of JSON"
    echo
    echo "Reads, GET $READ_PATH, $CONNS connections:"
    printf '  %-26s %9s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  socket errors %s\n' \
        "static baseline:" "$S_RPS" "$(ms "$S_P50")" "$(ms "$S_P99")" "$S_NON2XX" "$S_ERRS"
    printf '  %-26s %9s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  socket errors %s\n' \
        "colloquy thread read:" "$C_RPS" "$(ms "$C_P50")" "$(ms "$C_P99")" "$C_NON2XX" "$C_ERRS"
    echo "  ratio colloquy/baseline: $RATIO"
    echo
    echo "Guest submissions, POST /api/v1/sites/$SITE/comments (synchronous_commit=$SYNC, fsync=$FSYNC, db/role overrides: $OVERRIDES):"
    printf '%s\n' "${SUB_LINES[@]}"
    echo
    IFS=: read -r f_rps f_p99 f_conns f_pages <<<"$SUB_FIRST"
    echo "Targets:"
    echo "  reads >= 0.5x static baseline:        $(pass "$RATIO >= 0.5")  ($RATIO)"
    echo "  read p99 < 10 ms:                     $(pass "$C_P99 < 10000")  ($(ms "$C_P99") ms)"
    echo "  >= 2,000 submissions/s ($f_conns conns, $f_pages page(s)): $(pass "$f_rps >= 2000")  ($f_rps/s; best run $SUB_BEST/s)"
    echo
    echo "colloquy log: $WARNS WARN/ERROR lines ($OUT/colloquy.log)"
    echo "raw wrk output and thread.json: $OUT"
    echo "================================================================="
} | tee "$OUT/summary.txt"

if [[ ${SKIP_QUEUE:-0} != 1 ]]; then
    log "moderation queue benchmark (benches/queue.sh; SKIP_QUEUE=1 skips it)"
    kill "$APP_PID" 2>/dev/null || true
    SKIP_BUILD=1 bash "$ROOT/benches/queue.sh" || echo "load.sh: the queue benchmark failed" >&2
fi
