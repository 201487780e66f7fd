#!/usr/bin/env bash
# The whole test suite: unit tests, and integration tests that run the real app over HTTP
# against the local PostgreSQL (each test in its own throwaway database).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo test --all-targets "$@"
