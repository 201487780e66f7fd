#!/usr/bin/env bash
# Moderation queue benchmark: a site with 1,000,000 pending comments, seeded with SQL
# (generate_series, not HTTP), then timed over HTTP as a moderator.
#
#   bash benches/queue.sh            # builds the release binary first
#   SKIP_BUILD=1 bash benches/queue.sh
#   (benches/load.sh runs it at its end unless SKIP_QUEUE=1)
#
# What it does, all on 127.0.0.1, in at most $TIME_LIMIT seconds (default 300):
#   1. drops and recreates a throwaway database ($BENCH_DB, default colloquy_bench_queue);
#   2. starts target/release/colloquy on $PORT, creates site "queue" (premoderated) and an owner,
#      logs in;
#   3. seeds $N pending comments (default 1,000,000) over $THREADS_N threads by $USERS guest
#      authors, 30 days of them, with triggers off and the secondary indexes of `comments`
#      dropped and rebuilt afterwards (as a bulk import would), then VACUUM ANALYZE;
#   4. follows the queue's cursors $DEEP_PAGES pages of 200 in, then times $PAGE_REQS page
#      requests (limit 50) in a loop, each following the previous page's cursor; runs wrk for
#      $WRK_DURATION on one page 900,000 items deep; prints EXPLAIN (ANALYZE, BUFFERS) of every
#      query a page runs (the SQL is copied from src/moderation/review.rs and claims.rs: keep
#      them in step);
#   5. times claims of 50 (EXPLAIN of the claim statement, rolled back, too) and a bulk approve
#      of 1,000 ids (the bulk endpoint takes at most 200 ids: 5 calls of 200);
#   6. prints a summary and checks the targets: < 5 ms server time per page, < 1 s per
#      1,000-comment bulk action. Exit status 0 even when a target is missed (it is a
#      measurement); non-zero when the benchmark itself could not run.
# The server it started is stopped and the database dropped on exit (KEEP_DB=1 keeps it).
# Results are kept in target/bench-queue/ (summary.txt, explain.txt, server log).
#
# Settings (environment): QUEUE_PORT=18090 QUEUE_DB=colloquy_bench_queue PGHOST=127.0.0.1
#   PGPORT=5432 PGUSER=postgres N=1000000 USERS=100000 THREADS_N=2000 DEEP_PAGES=50
#   PAGE_REQS=200 WRK_DURATION=5s WRK_CONNS=4 TIME_LIMIT=300 WORKERS=0 SKIP_BUILD=1 KEEP_DB=1
#   COLLOQUY_BIN=path (another build of the server) ALLOW_SMALL=1 (N below 1,000,000, to try it)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PORT=${QUEUE_PORT:-18090}
BENCH_DB=${QUEUE_DB:-colloquy_bench_queue}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
N=${N:-1000000}
USERS=${USERS:-100000}
THREADS_N=${THREADS_N:-2000}
DEEP_PAGES=${DEEP_PAGES:-50}
PAGE_REQS=${PAGE_REQS:-200}
WRK_DURATION=${WRK_DURATION:-5s}
WRK_CONNS=${WRK_CONNS:-4}
TIME_LIMIT=${TIME_LIMIT:-300}
WORKERS=${WORKERS:-0}
SITE=queue
EMAIL=bench-owner@example.com
PASSWORD=bench-password-not-secret
OUT=$ROOT/target/bench-queue

case "$PGHOST" in 127.*|localhost|::1) ;; *) echo "queue.sh: PGHOST must be local" >&2; exit 2 ;; esac
for v in PORT N USERS THREADS_N DEEP_PAGES PAGE_REQS WRK_CONNS TIME_LIMIT; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || { echo "queue.sh: bad $v=${!v}" >&2; exit 2; }
done
((N >= 1000000 || ${ALLOW_SMALL:-0} == 1)) || { echo "queue.sh: N below 1,000,000 needs ALLOW_SMALL=1" >&2; exit 2; }

log() { printf '\n== [%3ds] %s\n' "$SECONDS" "$*"; }
die() { echo "queue.sh: $*" >&2; exit 1; }
for tool in curl jq psql wrk flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (benches/load.sh installs it)"
done

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building the release binary"
    cargo build --release --bin colloquy
fi
APP=${COLLOQUY_BIN:-$ROOT/target/release/colloquy}
[[ -x $APP ]] || die "$APP missing (cargo build --release)"

mkdir -p "$ROOT/target"
exec 8>"$ROOT/target/.bench-queue.lock"
flock -n 8 || die "another benches/queue.sh is running"
rm -rf "$OUT" && mkdir -p "$OUT"
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is already in use (set QUEUE_PORT=...)"

psql_db() { psql -X -v ON_ERROR_STOP=1 -qAt -d "$BENCH_DB" "$@"; }
drop_db() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -qAt -d postgres -c "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null
}

PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP_DB:-0} == 1 ]]; then
        echo "queue.sh: keeping database $BENCH_DB"
    else
        drop_db || echo "queue.sh: could not drop $BENCH_DB" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "queue.sh: stopped after the ${TIME_LIMIT} s limit" >&2; exit 124' TERM
# Bounded: the whole run, seeding included, stops at TIME_LIMIT.
(
    sleep "$TIME_LIMIT" &
    s=$!
    trap 'kill $s 2>/dev/null; exit 0' TERM
    wait $s && kill -TERM $$ 2>/dev/null
) &
PIDS+=($!)

# ---------------------------------------------------------------- server
log "fresh database $BENCH_DB"
drop_db
export COLLOQUY__DATABASE__URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
export COLLOQUY__SERVER__HOST=127.0.0.1
export COLLOQUY__SERVER__PORT=$PORT
export COLLOQUY__SERVER__PUBLIC_URL="http://127.0.0.1:$PORT"
export COLLOQUY__SERVER__WORKERS=$WORKERS
export COLLOQUY__LOG__LEVEL=warn
export COLLOQUY__LOG__FORMAT=pretty
BASE="http://127.0.0.1:$PORT"
"$APP" serve >"$OUT/colloquy.log" 2>&1 &
APP_PID=$!
PIDS+=("$APP_PID")
for ((i = 0; i < 120; i++)); do
    kill -0 "$APP_PID" 2>/dev/null || die "colloquy exited during start-up (see $OUT/colloquy.log)"
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready" || true) == 200 ]] && break
    sleep 0.5
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready" || true) == 200 ]] || die "colloquy not ready"
"$APP" site create --slug "$SITE" --name "Queue bench" --origin http://localhost --guests --policy pre >/dev/null
printf '%s\n' "$PASSWORD" | "$APP" moderator create --email "$EMAIL" --site "$SITE" --role owner >/dev/null
TOKEN=$(curl -sS -f -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" \
    "$BASE/api/mod/v1/login" | jq -r .token)
[[ -n $TOKEN && $TOKEN != null ]] || die "moderator login failed"
AUTH="Authorization: Bearer $TOKEN"
SITE_ID=$(psql_db -c "SELECT id FROM sites WHERE slug = '$SITE'")

# ---------------------------------------------------------------- seed
log "seeding $N pending comments ($THREADS_N threads, $USERS authors) with generate_series"
seed_start=$SECONDS
psql_db <<SQL
-- Triggers off (no NOTIFY per row, no foreign-key checks: the rows below are consistent by
-- construction), and the secondary indexes rebuilt once at the end, as a bulk import would.
SET session_replication_role = replica;
SET maintenance_work_mem = '256MB';
CREATE TEMP TABLE saved_indexes AS
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'comments' AND indexname <> 'comments_pkey';
DO \$\$ DECLARE r record; BEGIN
    FOR r IN SELECT indexname FROM saved_indexes LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
    END LOOP;
END \$\$;
CREATE TEMP TABLE bt AS
    SELECT g AS n, gen_random_uuid() AS id FROM generate_series(1, $THREADS_N) g;
INSERT INTO threads (id, site_id, uri, title, created_at)
    SELECT id, '$SITE_ID', '/posts/' || n || '/', 'Post ' || n, now() - interval '31 days' FROM bt;
CREATE TEMP TABLE bu AS
    SELECT g AS n, gen_random_uuid() AS id FROM generate_series(1, $USERS) g;
INSERT INTO users (id, name, email, created_at)
    SELECT id, 'Reader ' || n, 'reader' || n || '@readers.example', now() - interval '31 days' FROM bu;
INSERT INTO comments (id, site_id, thread_id, root_id, depth, user_id, author_provider,
                      author_name, author_email, author_ip, author_user_agent, body_markdown,
                      body_html, status, reasons, created_at, updated_at)
SELECT c.id, '$SITE_ID', t.id, c.id, 1, u.id, 'guest', 'Reader ' || u.n,
       'reader' || u.n || '@readers.example',
       ('10.' || (c.g % 250) || '.' || (c.g / 250 % 250) || '.' || (c.g % 7 + 1))::inet,
       'Mozilla/5.0 (bench)',
       'Comment ' || c.g || ': have you measured how this behaves once the cache is cold? **Thanks** for the write-up.',
       '<p>Comment ' || c.g || ': have you measured how this behaves once the cache is cold? <strong>Thanks</strong> for the write-up.</p>' || chr(10),
       'pending', '[{"kind": "policy", "policy": "pre"}]'::jsonb, c.at, c.at
FROM (SELECT g, gen_random_uuid() AS id,
             now() - interval '30 days' + g * (interval '30 days' / $N) AS at
      FROM generate_series(1, $N) g) c
JOIN bt t ON t.n = c.g % $THREADS_N + 1
JOIN bu u ON u.n = (c.g::bigint * 7919) % $USERS + 1;
DO \$\$ DECLARE r record; BEGIN
    FOR r IN SELECT indexdef FROM saved_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END \$\$;
SQL
psql_db -c "VACUUM (ANALYZE) comments, threads, users"
SEED_S=$((SECONDS - seed_start))
PENDING=$(psql_db -c "SELECT count(*) FROM comments WHERE site_id = '$SITE_ID' AND status = 'pending'")
TABLE_SIZE=$(psql_db -c "SELECT pg_size_pretty(pg_total_relation_size('comments'))")
echo "pending: $PENDING; comments with indexes: $TABLE_SIZE; seeded in ${SEED_S}s"
((PENDING >= N)) || die "seeding made $PENDING pending comments, expected $N"

# ---------------------------------------------------------------- helpers
# stats FILE -> "n mean p50 p95 p99 max" of the seconds in FILE, in ms
stats() {
    sort -g "$1" | awk '{ v[NR] = $1 * 1000; s += $1 * 1000 } END {
        if (NR == 0) { print "0 0 0 0 0 0"; exit }
        i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
        i95 = int(NR * 0.95); if (i95 < 1) i95 = 1
        i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
        printf "%d %.2f %.2f %.2f %.2f %.2f\n", NR, s / NR, v[i50], v[i95], v[i99], v[NR] }'
}
# cursor_at MICROS UUID -> the queue's cursor (base64url of "<micros>.<uuid simple>")
cursor_at() { printf '%s.%s' "$1" "${2//-/}" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
# get_page URL -> body in $OUT/page.json, time in $T, status checked
get_page() {
    local out
    out=$(curl -sS -o "$OUT/page.json" -w '%{http_code} %{time_total}' -H "$AUTH" "$1")
    [[ ${out%% *} == 200 ]] || die "GET $1 answered ${out%% *}: $(head -c 300 "$OUT/page.json")"
    T=${out##* }
}
explain() {  # TITLE SQL...
    local title=$1
    shift
    { echo "---- $title"; psql_db "$@"; echo; } >>"$OUT/explain.txt"
}
exec_ms() {  # the "Execution Time" of the last plan in explain.txt
    grep 'Execution Time' "$OUT/explain.txt" | tail -1 | sed 's/.*: \([0-9.]*\) ms/\1/'
}

# ---------------------------------------------------------------- queue pages
log "queue: following cursors $DEEP_PAGES pages of 200 in"
QUEUE="$BASE/api/mod/v1/sites/$SITE/queue"
cursor=""
for ((p = 0; p < DEEP_PAGES; p++)); do
    get_page "$QUEUE?limit=200${cursor:+&cursor=$cursor}"
    cursor=$(jq -r .next_cursor "$OUT/page.json")
    [[ $cursor != null ]] || die "queue ended after $p pages"
done
DEPTH=$((DEEP_PAGES * 200))
DEEP_CURSOR=$cursor
echo "at item $DEPTH"

log "queue: $PAGE_REQS page requests (limit 50) from item $DEPTH, each following the last cursor"
: >"$OUT/pages.txt"
for ((p = 0; p < PAGE_REQS; p++)); do
    get_page "$QUEUE?limit=50&cursor=$cursor"
    echo "$T" >>"$OUT/pages.txt"
    [[ $(jq '.items | length' "$OUT/page.json") == 50 ]] || die "a page of the loop had fewer than 50 items"
    cursor=$(jq -r .next_cursor "$OUT/page.json")
done
read -r P_N P_MEAN P_50 P_95 P_99 P_MAX < <(stats "$OUT/pages.txt")
echo "HTTP per page: n=$P_N mean ${P_MEAN} ms p50 ${P_50} ms p95 ${P_95} ms p99 ${P_99} ms max ${P_MAX} ms"

# A page 90% of the way down, for wrk and for EXPLAIN.
IFS='|' read -r FAR_MICROS FAR_ID FAR_AT < <(psql_db -c "
    SELECT (extract(epoch FROM created_at) * 1000000)::bigint, id, created_at FROM comments
    WHERE site_id = '$SITE_ID' AND status = 'pending'
    ORDER BY created_at, id OFFSET $((N * 9 / 10)) LIMIT 1")
FAR_CURSOR=$(cursor_at "$FAR_MICROS" "$FAR_ID")
get_page "$QUEUE?limit=50&cursor=$FAR_CURSOR"
[[ $(jq -r '.items[0].comment.created_at' "$OUT/page.json") > ${FAR_AT:0:10} ]] || die "the far cursor didn't land where expected"

log "queue: wrk, $WRK_CONNS connections, $WRK_DURATION, on one page $((N * 9 / 10)) items deep"
wrk -t 2 -c "$WRK_CONNS" -d "$WRK_DURATION" --latency -H "$AUTH" \
    "$QUEUE?limit=50&cursor=$FAR_CURSOR" >"$OUT/wrk_queue.txt" 2>&1 || die "wrk failed"
sed 's/^/    /' "$OUT/wrk_queue.txt"
W_RPS=$(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk_queue.txt")
W_P50=$(awk '$1 == "50%" { print $2 }' "$OUT/wrk_queue.txt")
W_P99=$(awk '$1 == "99%" { print $2 }' "$OUT/wrk_queue.txt")
W_NON2XX=$(awk '/Non-2xx/ { print $NF }' "$OUT/wrk_queue.txt")

log "queue: EXPLAIN (ANALYZE, BUFFERS) of the queries one page runs"
: >"$OUT/explain.txt"
# A page's rows, as the app reads them (QUEUE_BY_STATUS in src/moderation/review.rs), at the
# 50-pages-deep cursor, with the app's limit + 1.
IFS='.' read -r D_MICROS D_ID < <(printf '%s' "$DEEP_CURSOR" | tr -- '-_' '+/' | { d=$(cat); while ((${#d} % 4)); do d+='='; done; printf '%s' "$d"; } | base64 -d; echo)
D_UUID="${D_ID:0:8}-${D_ID:8:4}-${D_ID:12:4}-${D_ID:16:4}-${D_ID:20:12}"
page_sql() {  # MICROS UUID
    cat <<SQL
EXPLAIN (ANALYZE, BUFFERS)
SELECT c.id, c.site_id, c.thread_id, t.uri AS thread_uri, t.title AS thread_title, c.parent_id,
       c.body_markdown, c.body_html, c.status, c.version, c.created_at, c.edited_at, c.score,
       c.reasons, c.user_id, c.author_name, c.author_provider, c.author_email,
       host(c.author_ip) AS author_ip, c.author_user_agent, c.shadow
FROM comments c JOIN threads t ON t.id = c.thread_id
WHERE c.site_id = '$SITE_ID' AND c.status = 'pending'
  AND (c.created_at, c.id) > (COALESCE(to_timestamp($1 / 1000000.0), '-infinity'),
                              COALESCE('$2'::uuid, '00000000-0000-0000-0000-000000000000'))
ORDER BY c.created_at, c.id
LIMIT 51
SQL
}
# The app sends it as a prepared statement with parameters; the same plan shape is checked here
# (PREPARE + EXPLAIN EXECUTE, after 6 runs so a generic plan would be chosen if it were cheaper).
prepared_sql() {  # MICROS UUID
    cat <<SQL
PREPARE q(uuid, text, timestamptz, uuid, bigint) AS
SELECT c.id, c.site_id, c.thread_id, t.uri AS thread_uri, t.title AS thread_title, c.parent_id,
       c.body_markdown, c.body_html, c.status, c.version, c.created_at, c.edited_at, c.score,
       c.reasons, c.user_id, c.author_name, c.author_provider, c.author_email,
       host(c.author_ip) AS author_ip, c.author_user_agent, c.shadow
FROM comments c JOIN threads t ON t.id = c.thread_id
WHERE c.site_id = \$1 AND c.status = \$2
  AND (c.created_at, c.id) > (COALESCE(\$3::timestamptz, '-infinity'),
                              COALESCE(\$4::uuid, '00000000-0000-0000-0000-000000000000'))
ORDER BY c.created_at, c.id
LIMIT \$5;
\o /dev/null
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
\o
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q('$SITE_ID', 'pending', to_timestamp($1 / 1000000.0), '$2', 51);
SQL
}
explain "queue page rows, $DEPTH items deep (literal values)" -c "$(page_sql "$D_MICROS" "$D_UUID")"
E_PAGE=$(exec_ms)
explain "queue page rows, $DEPTH items deep (prepared, 7th execution, as the app runs it)" <<<"$(prepared_sql "$D_MICROS" "$D_UUID")"
E_PAGE_PREP=$(exec_ms)
explain "queue page rows, $((N * 9 / 10)) items deep (prepared, 7th execution)" <<<"$(prepared_sql "$FAR_MICROS" "$FAR_ID")"
E_PAGE_FAR=$(exec_ms)
PAGE_IDS=$(psql_db -c "SELECT string_agg(quote_literal(id::text) || '::uuid', ',') FROM (
    SELECT id FROM comments WHERE site_id = '$SITE_ID' AND status = 'pending'
    AND (created_at, id) > (to_timestamp($D_MICROS / 1000000.0), '$D_UUID'::uuid)
    ORDER BY created_at, id LIMIT 50) p")
PAGE_USERS=$(psql_db -c "SELECT string_agg(DISTINCT quote_literal(user_id::text) || '::uuid', ',') FROM comments WHERE id IN ($PAGE_IDS)")
# The three batched reads of review::items (flags, authors' history, live claims).
explain "page flags (review::items)" -c "EXPLAIN (ANALYZE, BUFFERS)
    SELECT comment_id, reason, note, created_at FROM flags
    WHERE comment_id = ANY (ARRAY[$PAGE_IDS]) AND site_id = '$SITE_ID' ORDER BY created_at, user_id"
E_FLAGS=$(exec_ms)
explain "page authors' history (review::status_counts)" -c "EXPLAIN (ANALYZE, BUFFERS)
    SELECT user_id, status, count(*) FROM comments
    WHERE site_id = '$SITE_ID' AND user_id = ANY (ARRAY[$PAGE_USERS]) GROUP BY user_id, status"
E_COUNTS=$(exec_ms)
explain "page claims (claims::live)" -c "EXPLAIN (ANALYZE, BUFFERS)
    SELECT k.comment_id, k.moderator_id, m.email, k.claimed_until
    FROM comment_claims k JOIN moderators m ON m.id = k.moderator_id
    WHERE k.comment_id = ANY (ARRAY[$PAGE_IDS]) AND k.site_id = '$SITE_ID' AND k.claimed_until > now()"
E_CLAIMS=$(exec_ms)
E_TOTAL=$(awk -v a="$E_PAGE_PREP" -v b="$E_FLAGS" -v c="$E_COUNTS" -v d="$E_CLAIMS" 'BEGIN { printf "%.3f", a + b + c + d }')
sed -n '/queue page rows, '"$DEPTH"' items deep (prepared/,/^$/p' "$OUT/explain.txt" | sed 's/^/    /'
echo "server time of one page (execution, 4 queries): ${E_TOTAL} ms = rows $E_PAGE_PREP + flags $E_FLAGS + history $E_COUNTS + claims $E_CLAIMS"

# ---------------------------------------------------------------- claims
log "claims: EXPLAIN of a claim of 50 (rolled back), then 5 claims of 50 over HTTP"
MOD_ID=$(psql_db -c "SELECT id FROM moderators WHERE email = '$EMAIL'")
explain "claim of 50 (claims::claim; rolled back)" <<SQL
BEGIN;
EXPLAIN (ANALYZE, BUFFERS)
WITH picked AS (
    SELECT c.id, c.created_at FROM comments c
    WHERE c.site_id = '$SITE_ID' AND c.status = 'pending'
      AND NOT EXISTS (SELECT 1 FROM comment_claims k
                      WHERE k.comment_id = c.id AND k.claimed_until > now())
    ORDER BY c.created_at, c.id
    LIMIT 50
    FOR UPDATE OF c SKIP LOCKED
), taken AS (
    INSERT INTO comment_claims (comment_id, site_id, moderator_id, claimed_until)
    SELECT id, '$SITE_ID', '$MOD_ID', now() + make_interval(secs => 300) FROM picked
    ON CONFLICT ON CONSTRAINT comment_claims_pkey DO UPDATE
        SET moderator_id = EXCLUDED.moderator_id, claimed_at = now(),
            claimed_until = EXCLUDED.claimed_until
        WHERE comment_claims.claimed_until <= now()
          AND comment_claims.site_id = EXCLUDED.site_id
    RETURNING comment_id
)
SELECT p.id, p.created_at FROM picked p JOIN taken t ON t.comment_id = p.id;
ROLLBACK;
SQL
E_CLAIM=$(exec_ms)
: >"$OUT/claims.txt"
for ((i = 0; i < 5; i++)); do
    out=$(curl -sS -o "$OUT/claim.json" -w '%{http_code} %{time_total}' -H "$AUTH" \
        -H 'Content-Type: application/json' --data-binary '{"limit": 50}' \
        "$BASE/api/mod/v1/sites/$SITE/queue/claim")
    [[ ${out%% *} == 200 ]] || die "claim answered ${out%% *}: $(head -c 300 "$OUT/claim.json")"
    [[ $(jq '.items | length' "$OUT/claim.json") == 50 ]] || die "a claim of 50 answered fewer"
    echo "${out##* }" >>"$OUT/claims.txt"
done
read -r C_N C_MEAN C_50 C_95 C_99 C_MAX < <(stats "$OUT/claims.txt")
echo "claim of 50 over HTTP: $(awk '{ printf "%.1f ms  ", $1 * 1000 }' "$OUT/claims.txt"); server (EXPLAIN) $E_CLAIM ms"

# ---------------------------------------------------------------- bulk approve
log "bulk approve of 1,000 ids: 5 calls of 200 (the endpoint's maximum)"
mapfile -t BULK_IDS < <(psql_db -c "SELECT id FROM comments WHERE site_id = '$SITE_ID' AND status = 'pending'
    ORDER BY created_at, id OFFSET $((N / 2)) LIMIT 1000")
((${#BULK_IDS[@]} == 1000)) || die "could not pick 1,000 ids"
: >"$OUT/bulk.txt"
# Bodies first, so the timing is the requests' alone.
for ((i = 0; i < 5; i++)); do
    printf '%s\n' "${BULK_IDS[@]:$((i * 200)):200}" | jq -R . \
        | jq -cs '{ids: ., action: "approve", note: "bench"}' >"$OUT/bulk_body_$i.json"
done
bulk_start=$(date +%s.%N)
for ((i = 0; i < 5; i++)); do
    out=$(curl -sS -o "$OUT/bulk.json" -w '%{http_code} %{time_total}' -H "$AUTH" \
        -H 'Content-Type: application/json' --data-binary "@$OUT/bulk_body_$i.json" \
        "$BASE/api/mod/v1/sites/$SITE/actions")
    [[ ${out%% *} == 200 ]] || die "bulk action answered ${out%% *}: $(head -c 300 "$OUT/bulk.json")"
    ok=$(jq '[.results[] | select(.ok)] | length' "$OUT/bulk.json")
    [[ $ok == 200 ]] || die "bulk call $i approved $ok of 200: $(jq -c '[.results[] | select(.ok | not)][0]' "$OUT/bulk.json")"
    echo "${out##* }" >>"$OUT/bulk.txt"
done
bulk_end=$(date +%s.%N)
# The action's time is the sum of its requests' (the checks between calls above aren't in it);
# the wall time of the loop, checks included, is printed beside it.
BULK_TOTAL=$(awk '{ s += $1 } END { printf "%.3f", s }' "$OUT/bulk.txt")
BULK_WALL=$(awk -v a="$bulk_start" -v b="$bulk_end" 'BEGIN { printf "%.3f", b - a }')
BULK_CALLS=$(awk '{ printf "%.0f ms  ", $1 * 1000 }' "$OUT/bulk.txt")
APPROVED=$(psql_db -c "SELECT count(*) FROM comments WHERE site_id = '$SITE_ID' AND status = 'approved'")
AUDITED=$(psql_db -c "SELECT count(*) FROM moderation_events WHERE site_id = '$SITE_ID' AND note = 'bench'")
echo "5 x 200: $BULK_CALLS; total ${BULK_TOTAL} s (loop wall time with checks ${BULK_WALL} s); approved $APPROVED, audit rows $AUDITED"
[[ $APPROVED == 1000 && $AUDITED == 1000 ]] || die "expected 1,000 approved comments and audit rows"

# ---------------------------------------------------------------- summary
pass() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
WARNS=$(grep -c -E 'WARN|ERROR' "$OUT/colloquy.log" || true)
{
    echo
    echo "==================== colloquy moderation queue benchmark ===================="
    echo "machine: $(nproc) cores; PostgreSQL $(psql_db -c 'SHOW server_version'), shared_buffers $(psql_db -c 'SHOW shared_buffers'), synchronous_commit $(psql_db -c 'SHOW synchronous_commit')"
    echo "data: $PENDING pending comments on one site ($THREADS_N threads, $USERS authors), comments table + indexes $TABLE_SIZE; seeded in ${SEED_S}s"
    echo
    echo "Queue pages (GET /sites/$SITE/queue?limit=50), $PAGE_REQS requests in a loop from item $DEPTH:"
    echo "  HTTP (client, keep-alive off): mean $P_MEAN ms  p50 $P_50 ms  p95 $P_95 ms  p99 $P_99 ms  max $P_MAX ms"
    echo "  server, EXPLAIN ANALYZE execution: rows $E_PAGE_PREP ms (literal $E_PAGE ms; $((N * 9 / 10)) deep $E_PAGE_FAR ms)"
    echo "    + flags $E_FLAGS ms + authors' history $E_COUNTS ms + claims $E_CLAIMS ms = $E_TOTAL ms"
    echo "  wrk, $WRK_CONNS connections, $WRK_DURATION, page $((N * 9 / 10)) deep: $W_RPS req/s  p50 $W_P50  p99 $W_P99  non-2xx ${W_NON2XX:-0}"
    echo "Claim of 50 (POST /sites/$SITE/queue/claim): HTTP $(awk '{ printf "%.1f ", $1 * 1000 }' "$OUT/claims.txt")ms; server (EXPLAIN) $E_CLAIM ms"
    echo "Bulk approve of 1,000 (5 x POST /sites/$SITE/actions with 200 ids): $BULK_CALLS-> ${BULK_TOTAL} s (loop wall ${BULK_WALL} s)"
    echo
    echo "Targets:"
    echo "  < 5 ms server time per page:          $(pass "$E_TOTAL < 5")  ($E_TOTAL ms; HTTP p50 $P_50 ms)"
    echo "  < 1 s per 1,000-comment bulk action:  $(pass "$BULK_TOTAL < 1")  (${BULK_TOTAL} s)"
    echo
    echo "colloquy log: $WARNS WARN/ERROR lines ($OUT/colloquy.log); plans: $OUT/explain.txt"
    echo "total run time: ${SECONDS}s"
    echo "============================================================================="
} | tee "$OUT/summary.txt"
