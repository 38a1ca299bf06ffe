// Baseline for the token-verification benchmark: aws-jwt-verify's CognitoJwtVerifier on the fixtures the
// Rust bench writes (crates/cognigate-token/benches/verify.rs `gen`). The JWKS is loaded with cacheJwks
// (no network), then verifySync runs over the 1,000 tokens, cycling, on the main thread.
//
// aws-jwt-verify has no verified-token cache: a repeated token costs the same as a first-seen one, so
// one figure serves as the baseline for both of our modes. Throughput is reported per wall-clock second
// and per CPU second of the process (process.cpuUsage, GC threads included).
//
// Usage: node verify.mjs --fixtures <dir> [--n 200000] [--trials 1] [--warmup 20000] [--out <file.json>]

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CognitoJwtVerifier } from "aws-jwt-verify";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const fixtures = flag("--fixtures", null);
if (!fixtures) {
  console.error("usage: node verify.mjs --fixtures <dir> [--n N] [--trials T] [--out file]");
  process.exit(2);
}
const n = Number(flag("--n", "200000"));
const trials = Number(flag("--trials", "1"));
const warmup = Number(flag("--warmup", "20000"));
const out = flag("--out", null);

const read = (name) => JSON.parse(readFileSync(join(fixtures, name), "utf8"));
const meta = read("meta.json");
const jwks = read("jwks.json");
const tokens = read("tokens.json");
const version = JSON.parse(
  readFileSync(new URL("./node_modules/aws-jwt-verify/package.json", import.meta.url), "utf8"),
).version;

const verifier = CognitoJwtVerifier.create({
  userPoolId: meta.userPoolId,
  tokenUse: "access",
  clientId: meta.clientId,
});
verifier.cacheJwks(jwks);

// Correctness first: every token verifies, a tampered one does not.
for (const token of tokens) verifier.verifySync(token);
const [body, signature] = [tokens[0].slice(0, tokens[0].lastIndexOf(".")), tokens[0].slice(tokens[0].lastIndexOf(".") + 1)];
const tampered = `${body}.${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`;
let rejected = false;
try {
  verifier.verifySync(tampered);
} catch {
  rejected = true;
}
if (!rejected) throw new Error("tampered token accepted");

const count = tokens.length;
for (let i = 0; i < warmup; i++) verifier.verifySync(tokens[i % count]);

const wall = [];
const cpu = [];
for (let t = 0; t < trials; t++) {
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) verifier.verifySync(tokens[i % count]);
  const ns = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpuStart); // microseconds, all threads of the process (GC included)
  wall.push(n / (ns / 1e9));
  cpu.push(n / ((used.user + used.system) / 1e6));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const result = {
  tokens_per_s: median(wall),
  tokens_per_cpu_s: median(cpu),
  ns_per_token: 1e9 / median(wall),
  trials: wall,
  n,
  node: process.version,
  aws_jwt_verify: version,
};
console.log(
  `aws-jwt-verify ${version} verifySync (Node ${process.version}): ${result.tokens_per_s.toFixed(0)} tokens/s ` +
    `(${result.ns_per_token.toFixed(0)} ns/token), ${result.tokens_per_cpu_s.toFixed(0)} per CPU s; ` +
    `median of ${trials} x ${n}`,
);
if (out) writeFileSync(out, JSON.stringify(result, null, 2));
