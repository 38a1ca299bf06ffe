#!/usr/bin/env bash
# Auth benchmark: cognigate's own auth API (/auth/customer/*) on its embedded engine, under load from one
# generator process on loopback (crates/cognigate-loadgen), with a plain axum hello-world as the peer.
#
#   1. one open-loop mixed load at fixed arrival rates, together: 100 logins/s + 50 refreshes/s + 10
#      registrations/s for 60 s. Each request is sent when it falls due and its latency counts from then, so
#      a stalling server cannot hide its queueing (no coordinated omission). Reported per operation: target
#      and achieved rate, p50/p90/p99/max, errors (any other status or body) with the first few verbatim.
#      Goal: 0 errors, p99 < 250 ms.
#   2. peak closed-loop throughput of GET /auth/customer/me (Bearer access tokens of ~100 signed-in users)
#      and then of the hello-world's GET /, with the same raw HTTP/1.1 keep-alive client (32 connections,
#      2 s warm-up + 10 s); the ratio me/hello. Goal: >= 0.5.
#   3. cognigate's RSS (VmRSS) at the end.
# The tables are printed and written to target/bench-auth/results.md. Figures are measured, never asserted;
# the generator exits non-zero if any request failed (the results are written first).
#
#   bench/auth/run.sh            # 2000 users, 60 s mixed, 2 s + 10 s per peak
#   QUICK=1 bench/auth/run.sh    # smoke run: 200 users, 10 s mixed, 1 s + 3 s per peak
#
# Environment: USERS (2000), DURATION (60 s mixed window), LOGIN_RATE (100), REFRESH_RATE (50),
# REGISTER_RATE (10), SESSIONS (100 signed-in users for refresh tokens and me), PEAK_CONCURRENCY (32),
# PEAK_WARMUP (2 s), PEAK_DURATION (10 s), SEED_CONCURRENCY (4), LOADGEN_THREADS (1: the generator's runtime
# threads), SKIP_BUILD=1, CARGO_TARGET_DIR (honoured).
#
# What runs, on free loopback ports, with throwaway data under target/bench-auth/run/:
# - cognigate: `cognigate serve` (release, dev environment) from the repo root on a fresh SQLite store, every
#   other COGNIGATE_* variable unset; the customer rate limits raised to 100000/s through COGNIGATE_RATE_LIMITS__*
#   so the limiter is not what is measured (checked with `cognigate config show` first).
# - the hello-world: crates/cognigate-loadgen/src/bin/hello.rs (axum 0.8, tokio multi-thread runtime).
# Seeding: USERS confirmed customers (user000000@bench.example ..., one password) through the Cognito wire
# protocol on cognigate's port: AdminCreateUser then AdminSetUserPassword Permanent (loopback admin in dev),
# SEED_CONCURRENCY at a time; a call the server fails (HTTP 5xx) is repeated, and the report says how often.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ "${QUICK:-0}" = "1" ]; then
  users="${USERS:-200}"
  duration="${DURATION:-10}"
  peak_warmup="${PEAK_WARMUP:-1}"
  peak_duration="${PEAK_DURATION:-3}"
else
  users="${USERS:-2000}"
  duration="${DURATION:-60}"
  peak_warmup="${PEAK_WARMUP:-2}"
  peak_duration="${PEAK_DURATION:-10}"
fi
login_rate="${LOGIN_RATE:-100}"
refresh_rate="${REFRESH_RATE:-50}"
register_rate="${REGISTER_RATE:-10}"
sessions="${SESSIONS:-100}"
peak_concurrency="${PEAK_CONCURRENCY:-32}"
seed_concurrency="${SEED_CONCURRENCY:-4}"
export LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
password="Seeded-Passw0rd-1"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$root/target/bench-auth"
run="$work/run"
started_at=$(date +%s)

# Only the variables set below reach cognigate.
for name in $(compgen -e | grep '^COGNIGATE_' || true); do unset "$name"; done

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  echo "== building cognigate, the load generator and the hello-world (release)"
  cargo build --release -p cognigate -p cognigate-loadgen
fi
cognigate="$target_dir/release/cognigate"
loadgen="$target_dir/release/cognigate-loadgen"
hello="$target_dir/release/loadgen-hello"

rm -rf "$run"
rm -f "$work/results.md"
mkdir -p "$run/cognigate"

declare -A pid=()
cleanup() {
  for name in "${!pid[@]}"; do
    kill "${pid[$name]}" 2>/dev/null || true
    wait "${pid[$name]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

# Waits for a server's listening line in its log (up to 60 s); prints the line.
wait_for_line() { # wait_for_line NAME LOG PATTERN
  for _ in $(seq 1 600); do
    if grep -m1 "$3" "$2"; then
      return 0
    fi
    if ! kill -0 "${pid[$1]}" 2>/dev/null; then
      echo "$1 stopped before listening:" >&2
      cat "$2" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$1 did not listen within 60 s:" >&2
  cat "$2" >&2
  exit 1
}

cg_port=$("$loadgen" free-port)
cg_url="http://127.0.0.1:$cg_port"
cg_data="$run/cognigate"
export COGNIGATE_SERVICE__DATA_DIR="$cg_data"
export COGNIGATE_STORE__URL="sqlite://$cg_data/cognigate.db"
export COGNIGATE_SERVICE__LISTEN="127.0.0.1:$cg_port"
export COGNIGATE_SERVICE__PUBLIC_URL="$cg_url"
# The customer pool's limits on the routes the load uses, far above anything this machine can serve.
limit="100000/s"
for route in LOGIN REGISTER REFRESH; do
  export "COGNIGATE_RATE_LIMITS__CUSTOMER__${route}__PER_ADDRESS=$limit"
  export "COGNIGATE_RATE_LIMITS__CUSTOMER__${route}__PER_ACCOUNT=$limit"
done

echo "== checking the rate-limit overrides (cognigate config show)"
"$cognigate" config show > "$run/config.toml"
for route in login register refresh; do
  # The table's lines, up to the blank line that ends it.
  section=$(awk -v head="[rate_limits.customer.$route]" '$0 == head {on = 1; next} on && $0 == "" {exit} on' \
    "$run/config.toml" | tr '\n' ' ')
  for key in per_address per_account; do
    if ! grep -qF "$key = \"$limit\"" <<< "$section"; then
      echo "the override of rate_limits.customer.$route.$key did not apply; config show says: ${section:-nothing}" >&2
      exit 1
    fi
  done
  echo "  rate_limits.customer.$route: $section"
done

echo "== starting cognigate (:$cg_port)"
"$cognigate" serve > "$cg_data/server.log" 2>&1 &
pid[cognigate]=$!
wait_for_line cognigate "$cg_data/server.log" '^cognigate listening on http://' > /dev/null
pool_line=$(grep -m1 '^customer pool: embedded engine' "$cg_data/server.log")
echo "  $pool_line"
cg_pool=$(sed -E 's/.*pool id ([^,]+),.*/\1/' <<< "$pool_line")

hello_port=$("$loadgen" free-port)
echo "== starting the hello-world (:$hello_port)"
"$hello" "$hello_port" > "$run/hello.log" 2>&1 &
pid[hello]=$!
hello_line=$(wait_for_line hello "$run/hello.log" '^hello listening on http://')
hello_url="${hello_line#hello listening on }/"

"$loadgen" auth-probe --url "$cg_url"

echo "== seeding $users confirmed customers through the wire (AdminCreateUser + AdminSetUserPassword)"
seeded=$("$loadgen" auth-seed --url "$cg_url/" --pool-id "$cg_pool" --password "$password" \
  --from 0 --to "$users" --concurrency "$seed_concurrency" --server cognigate)
seeded="${seeded//$'\n'/; }"
echo "  $seeded"

revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain 2>/dev/null | head -1)" ]; then revision="$revision (with uncommitted changes)"; fi
if [ "${SKIP_BUILD:-0}" = "1" ]; then
  revision="binary $cognigate built $(date -u -r "$cognigate" '+%Y-%m-%d %H:%M UTC') (not rebuilt; repo at $revision)"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
mkdir -p "$work"
echo "== benchmark (load average $(cut -d" " -f1-3 /proc/loadavg))"
status=0
"$loadgen" auth-bench --url "$cg_url" --hello-url "$hello_url" --users "$users" --password "$password" \
  --sessions "$sessions" --login-rate "$login_rate" --refresh-rate "$refresh_rate" \
  --register-rate "$register_rate" --duration-secs "$duration" --run-id "$started_at" \
  --peak-concurrency "$peak_concurrency" --peak-warmup-secs "$peak_warmup" --peak-duration-secs "$peak_duration" \
  --cognigate-pid "${pid[cognigate]}" --hello-pid "${pid[hello]}" \
  --json "$run/results.json" --out "$work/results.md" \
  --note "cognigate $revision (release build, \`cognigate serve\`, dev environment, SQLite store, customer pool on the embedded engine: email usernames, argon2id $(grep -m1 '^argon2' cognigate.toml | sed 's/^argon2 = //')); customer rate limits for login, register and refresh raised to $limit (per address and per account)." \
  --note "Seeding: $seeded. Registrations use load-$started_at-<n>@example.com and stay unconfirmed." \
  --note "Peer: axum hello-world (crates/cognigate-loadgen/src/bin/hello.rs), tokio multi-thread runtime. Both peaks use the generator's raw HTTP/1.1 client; the mixed load uses reqwest." \
  --note "Machine: $(nproc) CPUs ($cpu); cognigate, the hello-world and the generator ($LOADGEN_THREADS runtime thread(s)) share them; load average before the benchmark $(cut -d" " -f1-3 /proc/loadavg). 'Other CPU' is what every other process used meanwhile over the wall time: a build or another benchmark running at the same time shows there and makes the figure suspect." \
  --note "Run: QUICK=${QUICK:-0}, USERS=$users, DURATION=$duration s, rates $login_rate/$refresh_rate/$register_rate per s, SESSIONS=$sessions, PEAK_CONCURRENCY=$peak_concurrency, PEAK_WARMUP=$peak_warmup s, PEAK_DURATION=$peak_duration s." \
  || status=$?
elapsed=$(( $(date +%s) - started_at ))
if [ -f "$work/results.md" ]; then
  printf '\nWhole run (build included): %s s.\n' "$elapsed" | tee -a "$work/results.md"
fi
echo
echo "(also written to $work/results.md; logs under $run)"
exit "$status"
