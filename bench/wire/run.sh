#!/usr/bin/env bash
# Wire benchmark: cognigate's Cognito JSON 1.1 endpoint (POST / with X-Amz-Target) against moto's server
# (moto[server], PyPI) and cognito-local (npm), on this machine, in one run, with one load generator
# (crates/cognigate-loadgen: closed-loop HTTP/1.1 workers, the same request bodies for every server, every
# answer checked). Prints one table: requests/s, p50 and p99 per operation and server, the ratios
# cognigate/moto and cognigate/cognito-local against the goals (>= 10x moto on the operations that do not
# hash, >= 100x moto on ListUsers with a filter at 100k users), and each server's RSS at the end. The table
# also goes to target/bench-wire/results.md. Figures are measured, never asserted; a row with any failed
# request is printed as invalid.
#
#   bench/wire/run.sh              # 10k then 100k users, 2 s warm-up + 10 s per operation and server
#   QUICK=1 bench/wire/run.sh      # smoke run: 1k then 5k users, 1 s + 3 s
#
# Environment: USERS_SMALL (10000), USERS_LARGE (100000), DURATION (10 s measured), WARMUP (2 s),
# CONCURRENCY (16 connections), LOADGEN_THREADS (1: the generator's runtime threads), SEED_CONCURRENCY (16,
# moto's AdminCreateUser seeding), OPS_SMALL / OPS_LARGE (operations per phase, see `cognigate-loadgen bench
# --help`), SKIP_BUILD=1, CARGO_TARGET_DIR (honoured).
#
# What runs, on free loopback ports, with throwaway data under target/bench-wire/run/:
# - cognigate: `cognigate serve` (release) on a fresh SQLite store, from the repo root with every other
#   COGNIGATE_* variable unset; benchmarked on its configured customer pool (email usernames, argon2id).
# - moto from the repo's .venv (scripts/python-tests --venv-only: tests/python/requirements.txt pins
#   moto[server]==5.2.5); in memory only, so seeded through AdminCreateUser.
# - cognito-local 5.3.0 from bench/wire/package-lock.json (`npm ci` on first use).
# Seeding: cognigate and cognito-local are seeded offline while stopped (their own store / pool file), then
# restarted; moto through its API (the time is reported). The peers' pools have no UsernameAttributes (the
# username is the email): with UsernameAttributes=email every user lookup in moto, and AdminGetUser in
# cognito-local, scans all users, and seeding moto would be quadratic. That is the peers' fastest mode.
# One benchmark user per server, with a known password, is created through the API on every server.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ "${QUICK:-0}" = "1" ]; then
  users_small="${USERS_SMALL:-1000}"
  users_large="${USERS_LARGE:-5000}"
  duration="${DURATION:-3}"
  warmup="${WARMUP:-1}"
else
  users_small="${USERS_SMALL:-10000}"
  users_large="${USERS_LARGE:-100000}"
  duration="${DURATION:-10}"
  warmup="${WARMUP:-2}"
fi
concurrency="${CONCURRENCY:-16}"
seed_concurrency="${SEED_CONCURRENCY:-16}"
ops_small="${OPS_SMALL:-refresh-auth get-user admin-get-user list-users-prefix list-users-exact password-auth}"
ops_large="${OPS_LARGE:-admin-get-user list-users-prefix list-users-exact}"
export LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
bench_user="bench@bench.example"
bench_password="Bench-Passw0rd-1"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$root/target/bench-wire"
run="$work/run"
started_at=$(date +%s)

# Only the variables set below reach cognigate.
for name in $(compgen -e | grep '^COGNIGATE_' || true); do unset "$name"; done

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  echo "== building cognigate and the load generator (release)"
  cargo build --release -p cognigate -p cognigate-loadgen
fi
cognigate="$target_dir/release/cognigate"
loadgen="$target_dir/release/cognigate-loadgen"

# The repo's .venv, from tests/python/requirements.txt (which pins moto[server]).
scripts/python-tests --venv-only
moto_version=$(.venv/bin/python -c 'import moto; print(moto.__version__)')
if [ ! -x "$here/node_modules/.bin/cognito-local" ]; then
  echo "== installing cognito-local (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund)
fi

rm -rf "$run"
mkdir -p "$run"
seed_log="$run/seed.jsonl"

free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

declare -A pid=()
cleanup() {
  for name in "${!pid[@]}"; do
    kill "${pid[$name]}" 2>/dev/null || true
    wait "${pid[$name]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

stop() {
  kill "${pid[$1]}" 2>/dev/null || true
  wait "${pid[$1]}" 2>/dev/null || true
  unset "pid[$1]"
}

# cognigate ---------------------------------------------------------------------------------------------
cg_port=$(free_port)
cg_url="http://127.0.0.1:$cg_port/"
cg_data="$run/cognigate"
cg_store="sqlite://$cg_data/cognigate.db"
mkdir -p "$cg_data"
start_cognigate() {
  local log="$cg_data/server-$1.log"
  COGNIGATE_SERVICE__DATA_DIR="$cg_data" \
    COGNIGATE_STORE__URL="$cg_store" \
    COGNIGATE_SERVICE__PUBLIC_URL="http://127.0.0.1:$cg_port" \
    "$cognigate" serve --listen "127.0.0.1:$cg_port" > "$log" 2>&1 &
  pid[cognigate]=$!
  for _ in $(seq 1 600); do
    if grep -q '^cognigate listening on http://' "$log"; then
      local line
      line=$(grep -m1 '^customer pool: embedded engine' "$log")
      cg_pool=$(sed -E 's/.*pool id ([^,]+),.*/\1/' <<< "$line")
      cg_client=$(sed -E 's/.*client id ([^,]+),.*/\1/' <<< "$line")
      return 0
    fi
    if ! kill -0 "${pid[cognigate]}" 2>/dev/null; then
      echo "cognigate stopped before listening:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "cognigate did not listen within 60 s:" >&2
  cat "$log" >&2
  exit 1
}

# moto --------------------------------------------------------------------------------------------------
moto_port=$(free_port)
moto_url="http://127.0.0.1:$moto_port/"
mkdir -p "$run/moto"
start_moto() {
  (cd "$run/moto" && exec "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > server.log 2>&1) &
  pid[moto]=$!
  "$loadgen" wait --url "$moto_url"
}

# cognito-local -----------------------------------------------------------------------------------------
cl_port=$(free_port)
cl_url="http://127.0.0.1:$cl_port/"
cl_dir="$run/cognito-local"
mkdir -p "$cl_dir/.cognito"
# No UsernameAttributes (the default config sets ["email"]): see the header.
echo '{"UserPoolDefaults": {"UsernameAttributes": []}}' > "$cl_dir/.cognito/config.json"
start_cognito_local() {
  (cd "$cl_dir" && HOST=127.0.0.1 PORT="$cl_port" exec "$here/node_modules/.bin/cognito-local" \
    > "server-$1.log" 2>&1) &
  pid[cognito-local]=$!
  "$loadgen" wait --url "$cl_url"
}

echo "== starting the servers (cognigate :$cg_port, moto :$moto_port, cognito-local :$cl_port)"
start_cognigate 0
if ! curl -s -f -X POST "$cg_url" -H 'X-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools' \
  -H 'Content-Type: application/x-amz-json-1.1' -d '{"MaxResults":10}' > /dev/null; then
  echo "cognigate does not answer Cognito's wire protocol on POST / (ListUserPools failed)" >&2
  exit 1
fi
"$loadgen" create-user --url "$cg_url" --pool-id "$cg_pool" --username "$bench_user" --password "$bench_password"
start_moto
ids=$("$loadgen" create-pool --url "$moto_url")
read -r moto_pool moto_client <<< "$ids"
"$loadgen" create-user --url "$moto_url" --pool-id "$moto_pool" --username "$bench_user" --password "$bench_password"
start_cognito_local 0
ids=$("$loadgen" create-pool --url "$cl_url")
read -r cl_pool cl_client <<< "$ids"
"$loadgen" create-user --url "$cl_url" --pool-id "$cl_pool" --username "$bench_user" --password "$bench_password"

seed() { # seed FROM TO
  echo "== seeding users $1..$2"
  stop cognigate
  "$loadgen" seed-cognigate --store-url "$cg_store" --pool-id "$cg_pool" --from "$1" --to "$2" \
    --server cognigate --log "$seed_log"
  start_cognigate "$2"
  # cognito-local rewrites its whole pool file on every write, and concurrent writes (the sign-ins of the
  # benchmark) can leave it corrupt on disk (a shorter write over a longer one). One write on its own, after
  # every earlier one has finished, leaves a whole file to seed from.
  "$loadgen" call --url "$cl_url" --operation AdminSetUserPassword > /dev/null \
    --body "{\"UserPoolId\": \"$cl_pool\", \"Username\": \"$bench_user\", \"Password\": \"$bench_password\", \"Permanent\": true}"
  stop cognito-local
  "$loadgen" seed-cognito-local --file "$cl_dir/.cognito/db/$cl_pool.json" --from "$1" --to "$2" \
    --server cognito-local --log "$seed_log"
  start_cognito_local "$2"
  "$loadgen" seed-api --url "$moto_url" --pool-id "$moto_pool" --from "$1" --to "$2" \
    --concurrency "$seed_concurrency" --server moto --log "$seed_log"
}

bench() { # bench PHASE USERS OPS...
  local phase=$1 users=$2
  shift 2
  echo "== benchmark at $users users (load average $(cut -d" " -f1-3 /proc/loadavg))"
  "$loadgen" bench --phase "$phase" --users "$users" --out "$run/$phase.json" \
    --username "$bench_user" --password "$bench_password" \
    --concurrency "$concurrency" --warmup-secs "$warmup" --duration-secs "$duration" \
    --server "name=cognigate,url=$cg_url,pool=$cg_pool,client=$cg_client,pid=${pid[cognigate]}" \
    --server "name=moto,url=$moto_url,pool=$moto_pool,client=$moto_client,pid=${pid[moto]}" \
    --server "name=cognito-local,url=$cl_url,pool=$cl_pool,client=$cl_client,pid=${pid[cognito-local]}" \
    --op "$@"
}

seed 0 "$users_small"
# shellcheck disable=SC2086
bench small "$users_small" $ops_small
seed "$users_small" "$users_large"
# shellcheck disable=SC2086
bench large "$users_large" $ops_large

cl_version=$(node -p "require('$here/node_modules/cognito-local/package.json').version")
revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain 2>/dev/null | head -1)" ]; then revision="$revision (with uncommitted changes)"; fi
if [ "${SKIP_BUILD:-0}" = "1" ]; then
  revision="binary $cognigate built $(date -u -r "$cognigate" '+%Y-%m-%d %H:%M UTC') (not rebuilt; repo at $revision)"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
elapsed=$(( $(date +%s) - started_at ))
mkdir -p "$work"
echo
"$loadgen" report --results "$run/small.json" "$run/large.json" --seed-log "$seed_log" --out "$work/results.md" \
  --note "cognigate $revision (release build, SQLite store, configured customer pool: email usernames, argon2id $(grep -m1 '^argon2' cognigate.toml | sed 's/^argon2 = //')); moto $moto_version (moto_server, Python $(.venv/bin/python -c 'import platform; print(platform.python_version())')); cognito-local $cl_version (Node $(node --version))." \
  --note "Peers' pools without UsernameAttributes (username = email, their fastest lookups); seeded users: email + email_verified, no sign-in; the benchmark user signs in for the token operations." \
  --note "Machine: $(nproc) CPUs ($cpu); the three servers and the generator ($LOADGEN_THREADS runtime thread) share them. RSS is VmRSS from /proc/<pid>/status at the end of each phase (cognigate and cognito-local were restarted after seeding each phase; moto was not)." \
  --note "Run: QUICK=${QUICK:-0}, USERS_SMALL=$users_small, USERS_LARGE=$users_large, CONCURRENCY=$concurrency, WARMUP=$warmup s, DURATION=$duration s; whole run (build included) ${elapsed} s."
echo
echo "(also written to $work/results.md)"
