#!/usr/bin/env bash
# Fuzz the public API with Schemathesis against a live gunicorn server on 127.0.0.1,
# generated from the project's own OpenAPI schema. Bounded: --max-examples per
# operation and an outer time limit. Fails on any server error or any response that
# does not conform to the schema (status code, content type, body).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-40}
TIME_LIMIT=${FUZZ_TIME_LIMIT:-900}

work=$(mktemp -d /tmp/archive-fuzz.XXXXXX)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="sqlite:///$work/db.sqlite3"
export DATAPACKAGE_DIR="$work/published/datapackage"
export DJANGO_SECRET_KEY="fuzz-only-not-a-secret-$(date +%s)-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
export DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_ALLOWED_HOSTS=127.0.0.1
export API_ANON_THROTTLE_RATE=1000000/second

"$BIN/python" manage.py migrate -v0
"$BIN/python" manage.py load_seeds >/dev/null
"$BIN/python" manage.py generate_corpus --letters 200 --seed 3 >/dev/null
"$BIN/python" manage.py export_datapackage >/dev/null

port=$("$BIN/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$BIN/gunicorn" archive_api.wsgi -b "127.0.0.1:$port" -w 2 --threads 2 -k gthread \
  --log-level warning >"$work/gunicorn.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/api/v1/" >/dev/null 2>&1 && break
  sleep 0.2
done

timeout "$TIME_LIMIT" "$BIN/st" run "http://127.0.0.1:$port/api/schema/?format=json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 15 \
  --generation-deterministic \
  --phases examples,coverage,fuzzing \
  --workers 2
