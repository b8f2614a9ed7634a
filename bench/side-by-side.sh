#!/usr/bin/env bash
# Side-by-side figures for create-invite and get-invite, measured from outside the
# process as a real HTTP client sees them (wrk with keep-alive on loopback), next to
# PostgreSQL's own limit on the same machine (pgbench -M prepared: durable single-row
# inserts into a table like `events`, and primary-key reads of it).
#
#   cargo build --release --bin invite-ledger
#   bench/side-by-side.sh            # about 3 minutes; needs wrk and pgbench on PATH
#
# It makes a database of its own (dropped at the end), an admin, and a server on a free
# port; it prints one table in Markdown.
set -euo pipefail

BIN=${INVITE_LEDGER_BIN:-target/release/invite-ledger}
PG=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
DURATION=${DURATION:-10s}
DB=invite_ledger_side_by_side_$$
PORT=$((20000 + $$ % 20000))
WORK=$(mktemp -d)
SERVER_PID=

for tool in wrk pgbench psql curl; do
  command -v "$tool" >/dev/null || { echo "side-by-side: $tool is not on PATH" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "side-by-side: build it first: cargo build --release --bin invite-ledger" >&2; exit 1; }

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# pgbench connects as the server does on loopback: without TLS (see DATABASE_URL in the README).
export PGSSLMODE=disable
# wrk's 64 connections all come from one address: more than the default per-address cap.
export DATABASE_URL="$PG/$DB" RUST_LOG=warn MAX_CONNECTIONS_PER_ADDRESS=1024
export TOKEN_HASH_KEY=${TOKEN_HASH_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n")}
"$BIN" migrate >/dev/null
"$BIN" user create --email admin@example.com --password side-by-side-admin \
  --name "Ada Admin" --role admin >/dev/null
"$BIN" serve --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
curl -sf "$BASE/healthz" >/dev/null || { echo "side-by-side: the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }

ADMIN_TOKEN=$(curl -sf -X POST "$BASE/api/auth/sign-in/email" -H 'content-type: application/json' \
  -d '{"email":"admin@example.com","password":"side-by-side-admin"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
export ADMIN_TOKEN

cat >"$WORK/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"role":"user","senderResponse":"token"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ADMIN_TOKEN")
LUA

# 1,000 invites to read back at random.
{
  echo "tokens = {"
  for _ in $(seq 1000); do
    curl -sf -X POST "$BASE/api/auth/invite/create" -H 'content-type: application/json' \
      -H "authorization: Bearer $ADMIN_TOKEN" -d '{"role":"user","senderResponse":"token"}' |
      sed -E 's/.*"message":"([^"]+)".*/"\1",/'
  done
  echo "}"
  cat <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/auth/invite/get?token=" .. tokens[math.random(#tokens)])
end
LUA
} >"$WORK/get.lua"

# wrk's summary as: requests/s, p50, p99 (and non-2xx answers, which must be none).
measure() { # script clients
  local threads=$(($2 < 2 ? 1 : 2))
  wrk -t"$threads" -c"$2" -d"$DURATION" --latency -s "$WORK/$1.lua" "$BASE/api/auth/invite/$1" >"$WORK/out" 2>&1
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/out")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/out")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/out")
  echo "$rps|$p50|$p99|${bad:-0}"
}

# pgbench's rate for a script at a number of clients.
limit() { # script clients
  pgbench -n -M prepared -c "$2" -j "$(($2 < 2 ? 1 : 2))" -T "${DURATION%s}" -f "$WORK/$1.sql" \
    -D "payload=$PAYLOAD" "$DATABASE_URL" 2>&1 |
    awk '/^tps/ {print int($3)}'
}
psql "$DATABASE_URL" -qc "CREATE TABLE limit_events (LIKE events INCLUDING ALL)" >/dev/null
# A real `Created` event's payload, bound as a pgbench variable.
PAYLOAD=$(psql "$DATABASE_URL" -Atc "SELECT payload FROM events WHERE event_type = 'Created' LIMIT 1")
cat >"$WORK/insert.sql" <<'SQL'
INSERT INTO limit_events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ('invite', gen_random_uuid()::text, 1, 'Created', '1', :payload::json, '{}');
SQL

echo "| what | clients | invite-ledger (wrk) | p50 | p99 | non-2xx | limit (pgbench) | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for clients in 1 16 64; do
  IFS='|' read -r rps p50 p99 bad <<<"$(measure create "$clients")"
  inserts=$(limit insert "$clients")
  ratio=$(awk -v a="$rps" -v b="$inserts" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  echo "| create invite | $clients | $rps req/s | $p50 | $p99 | $bad | $inserts inserts/s | $ratio |"
done
# A write answers before the read models fold it: the reads are measured on their own,
# once the creates' backlog is folded.
started=$(date +%s.%N)
for _ in $(seq 1200); do
  behind=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM projection_checkpoint
    WHERE last_position < (SELECT max(global_position) FROM events)")
  [ "$behind" = 0 ] && break
  sleep 0.1
done
echo
echo "(the checkpoints reached the log's head $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s after the last create)"
echo
ROWS=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM limit_events")
# The primary-key read limit: a table of the inserted rows keyed by their number.
psql "$DATABASE_URL" -qc "CREATE TABLE limit_keys AS SELECT row_number() OVER () AS n, * FROM limit_events;
  ALTER TABLE limit_keys ADD PRIMARY KEY (n); ANALYZE limit_keys" >/dev/null
cat >"$WORK/read.sql" <<SQL
\set n random(1, $ROWS)
SELECT * FROM limit_keys WHERE n = :n;
SQL
for clients in 1 16 64; do
  IFS='|' read -r rps p50 p99 bad <<<"$(measure get "$clients")"
  reads=$(limit read "$clients")
  ratio=$(awk -v a="$rps" -v b="$reads" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  echo "| get invite by token | $clients | $rps req/s | $p50 | $p99 | $bad | $reads PK reads/s | $ratio |"
done
echo
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' /proc/$SERVER_PID/status)"
