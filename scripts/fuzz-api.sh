#!/usr/bin/env bash
# Schema fuzzing: schemathesis (pinned, from PyPI, in a throwaway venv) against this server's own
# /api/openapi.json, once anonymously and once as a site owner holding an API token. It fails on
# any server error, any status code the document doesn't list for the operation, and any answer
# whose content type or body doesn't match what the document says.
#
# The server is this repository's binary (debug by default; PROFILE=release), with the test
# configuration, every optional route switched on (metrics, demo, dev login) and a database of
# its own, dropped at the end. The `{site}` of every path is the site made here, so the fuzzer
# reaches the handlers rather than the unknown-site 404 (the API tests cover that one).
#
#   scripts/fuzz-api.sh                 # at most 5 examples per operation and run (~5 minutes in all)
#   FUZZ_EXAMPLES=100 scripts/fuzz-api.sh
#   FUZZ_VENV=/tmp/st scripts/fuzz-api.sh   # reuse a venv between runs (created if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
PROFILE=${PROFILE:-debug}
EXAMPLES=${FUZZ_EXAMPLES:-5}
SEED=${FUZZ_SEED:-$RANDOM}
PG=${COLLOQUY_TEST_PG:-postgres://postgres@127.0.0.1:5432}

scripts/ensure-postgres.sh
# `--tests` as the test suite builds it: the same features, so the suite's build is reused.
if [ "$PROFILE" = release ]; then cargo build --release --bin colloquy; else cargo build --bins --tests; fi
BIN=$PWD/target/$PROFILE/colloquy

work=$(mktemp -d)
VENV=${FUZZ_VENV:-$work/venv}
DB=colloquy_fuzz_$$
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export COLLOQUY_CONFIG_DIR=$PWD/config
export COLLOQUY_ENV=test
export COLLOQUY__DATABASE__URL=$PG/$DB
export COLLOQUY__SERVER__HOST=127.0.0.1
export COLLOQUY__SERVER__PORT=$port
export COLLOQUY__SERVER__PUBLIC_URL=$base
export COLLOQUY__SERVER__DEMO=true
export COLLOQUY__METRICS__ENABLED=true
export COLLOQUY__AUTH__DEV_PROVIDER=true
# Room for the moderator run's connections next to the fuzzer's (test.toml's pool is tiny).
export COLLOQUY__DATABASE__MAX_CONNECTIONS=10

echo "== database $DB, site fuzz, server $base" >&2
"$BIN" migrate >/dev/null
"$BIN" site create --slug fuzz --name Fuzz --origin "$base" --guests --provider dev >/dev/null
OWNER=owner@fuzz.example
PASSWORD="fuzz owner password $$"
printf '%s\n' "$PASSWORD" | "$BIN" moderator create --email "$OWNER" --site fuzz --role owner >/dev/null

"$BIN" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fs "$base/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/health/ready" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
session=$(curl -fs "$base/api/mod/v1/login" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$OWNER\", \"password\": \"$PASSWORD\"}" | json "['token']")
# A named API token, not the session: the fuzzer calls POST /logout too, which would end a
# session halfway through the run (an API token is refused there with a documented 403).
token=$(curl -fs "$base/api/mod/v1/tokens" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $session" -d '{"name": "fuzz"}' | json "['token']")

cat >"$work/schemathesis.toml" <<EOF
[parameters]
"path.site" = "fuzz"
EOF

run() {
  local name=$1
  shift
  echo "== schemathesis, $name (seed $SEED, at most $EXAMPLES examples per operation)" >&2
  # From the throwaway directory: schemathesis keeps a cache (`.schemathesis/`) where it runs.
  (cd "$work" && "$VENV/bin/st" --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --request-timeout 30 \
    --workers 2 \
    --no-color \
    "$@")
}

status=0
run anonymous || status=1
# Not DELETE /tokens/{id}: revoking its own token would leave the rest of the run at 401.
run "as the site's owner (API token)" -H "Authorization: Bearer $token" \
  --exclude-operation-id revoke_token || status=1
if [ "$status" -ne 0 ]; then
  echo "== server log (errors)" >&2
  grep -E '"level":"(ERROR|WARN)"|ERROR|WARN' "$work/server.log" | tail -40 >&2 || true
fi
exit "$status"
