#!/usr/bin/env bash
# Token verification: cognigate-token's Verifier against aws-jwt-verify (npm, Node) on the same 1,000
# RS256 Cognito access tokens, in one run. Prints tokens/s for aws-jwt-verify, for our verifier on
# first-seen tokens (empty token cache: decode, parse, RSA verification) and on repeated tokens (token cache
# + revocation check), and the ratios (goals: first-seen >= 1.5x, repeated >= 20x). Both sides run on one
# thread, in alternating rounds (Node, then Rust) so that load from other processes hits both alike; the
# report gives medians over the rounds, per wall-clock second and per CPU second (the latter does not move
# when other processes take the CPU away). Figures are measured, never asserted.
#
#   bench/verify/run.sh [ROUNDS] [N]     # ROUNDS (default 5), N verifications per round per mode (200000)
#
# Honours CARGO_TARGET_DIR. Needs node >= 18 and npm: installs the pinned aws-jwt-verify from
# package-lock.json into bench/verify/node_modules on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-5}"
n="${2:-200000}"
fixtures="$(mktemp -d)"
trap 'rm -rf "$fixtures"' EXIT

if [ ! -d "$here/node_modules/aws-jwt-verify" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

cd "$root"
echo "== building (bench profile = release)"
cargo bench -p cognigate-token --bench verify --no-run
bench() { cargo bench -q -p cognigate-token --bench verify -- "$@"; }
echo "== fixtures"
bench gen "$fixtures"
for i in $(seq 1 "$rounds"); do
  echo "== round $i/$rounds"
  node "$here/verify.mjs" --fixtures "$fixtures" --n "$n" --trials 1 --out "$fixtures/node-$i.json"
  bench run "$fixtures" --n "$n" --out "$fixtures/rust-$i.json"
done
bench report "$fixtures" --rounds "$rounds"
