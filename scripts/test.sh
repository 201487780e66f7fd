#!/usr/bin/env bash
# The whole test suite: unit tests, and integration tests that run the real app over HTTP
# against the local PostgreSQL (each test in its own throwaway database); then the widget's
# browser tests in headless Chromium (Debian's package) against the freshly built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo test --all-targets "$@"

# Browser tests: playwright-core (pinned in tests/browser/package-lock.json) drives the
# system Chromium; nothing downloads a browser. `cargo test` above built target/debug/colloquy.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (Debian package) for the browser tests" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm ci --prefix tests/browser --no-audit --no-fund
fi
node --test --test-reporter=tap --test-concurrency=1 tests/browser/run.mjs
