#!/usr/bin/env bash
# The schema types from the server's own OpenAPI schema: manage.py spectacular → openapi.json
# → openapi-typescript (pinned in package.json, options in the README) → src/schema.d.ts.
# Both outputs are committed; .ci/client runs this and fails when they differ.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
cd "$root"
DJANGO_DEBUG="${DJANGO_DEBUG:-true}" "$python" manage.py spectacular --format openapi-json \
  --validate --fail-on-warn --file "$here/openapi.json"
cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent generate
