#!/usr/bin/env bash
# The whole test suite on a throwaway PostgreSQL 15 (started here, stopped afterwards):
#   npm run test:pg [-- extra node --test arguments]
# Uses PAPERBOY_TEST_DATABASE_URL as is when it is already set (a server of your own).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PAPERBOY_TEST_DATABASE_URL:-}" ]; then
  PG_DIR=$(mktemp -d /tmp/paperboy-test-pg.XXXXXX)
  PG_PORT=${PG_PORT:-$(( 40000 + RANDOM % 20000 ))}
  trap 'scripts/pg-temp.sh stop "$PG_DIR" >/dev/null 2>&1 || true' EXIT
  PAPERBOY_TEST_DATABASE_URL=$(scripts/pg-temp.sh start "$PG_DIR" "$PG_PORT")
  export PAPERBOY_TEST_DATABASE_URL
fi
echo "test:pg: PostgreSQL at $PAPERBOY_TEST_DATABASE_URL"
node scripts/run-tests.js "$@"
