"""Runs checkov on the Terraform code and decides pass or fail from its JSON report.

checkov alone cannot express what this project needs: one check may be accepted for one resource (with a
reason) and still hold everywhere else, a custom policy must be shown to fail on bad input, and an accepted
finding that no longer occurs must be removed rather than linger. So checkov runs with --soft-fail and this
script judges. Runs with the checkov venv's Python (.venv-iac); standard library only.

    checkov_gate.py [--plans DIR]    DIR holds <env>.json from `terraform show -json` (optional)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "infra" / "terraform"
POLICIES = REPO / "infra" / "policies" / "terraform"
FIXTURES = TERRAFORM / "tests" / "fixtures" / "policies"
CHECKOV = Path(sys.executable).parent / "checkov"

CUSTOM_POLICIES = ("CKV2_COGNIGATE_1", "CKV2_COGNIGATE_2", "CKV2_COGNIGATE_3", "CKV2_COGNIGATE_4")

# Built-in checks skipped everywhere, each with its reason. None today: no built-in check fails on this code.
# Add entries as "CKV_...": "why it does not apply", never to silence a finding that should be fixed.
SKIPPED_CHECKS: dict[str, str] = {}

# Findings accepted for one resource of one environment's plan, each with its reason. Everything else that
# fails, fails the run; an entry here that no longer fails also fails the run (delete it).
ACCEPTED_FINDINGS: dict[tuple[str, str, str], str] = {
    (env, "CKV2_COGNIGATE_2", 'module.pool["customer"].aws_cognito_user_pool.this'): (
        "cognigate.toml sets pools.customer.password.min_length = 10 (NIST SP 800-63B allows 8+); customers are "
        "protected by cognigate's lockout and rate limits and optional TOTP. Staff pools must meet 12+."
    )
    for env in ("dev", "staging", "prod")
}

# What each fixture resource must get from each custom policy.
FIXTURE_EXPECTATIONS = {
    "aws_cognito_user_pool.bad_staff_mfa_optional": {"CKV2_COGNIGATE_1": "FAILED"},
    "aws_cognito_user_pool.bad_short_password": {"CKV2_COGNIGATE_2": "FAILED"},
    "aws_cognito_user_pool.bad_prod_unprotected": {"CKV2_COGNIGATE_3": "FAILED"},
    "aws_cognito_user_pool_client.bad_day_long_access_token": {"CKV2_COGNIGATE_4": "FAILED"},
    "aws_cognito_user_pool_client.bad_two_hour_id_token": {"CKV2_COGNIGATE_4": "FAILED"},
    "aws_cognito_user_pool_client.bad_ten_year_refresh_token": {"CKV2_COGNIGATE_4": "FAILED"},
    "aws_cognito_user_pool.good_prod_staff": {},
    "aws_cognito_user_pool.good_dev_customer": {},
    "aws_cognito_user_pool_client.good_minutes": {},
    "aws_cognito_user_pool_client.good_hours_and_days": {},
}
POOL_POLICIES = ("CKV2_COGNIGATE_1", "CKV2_COGNIGATE_2", "CKV2_COGNIGATE_3")
CLIENT_POLICIES = ("CKV2_COGNIGATE_4",)


def run_checkov(arguments: list[str], skip: tuple[str, ...] = ()) -> list[dict]:
    """checkov's results as a flat list of {check_id, result, resource, file_path, name}."""
    command = [
        str(CHECKOV), *arguments, "--skip-download", "--compact", "--soft-fail", "-o", "json",
        "--external-checks-dir", str(POLICIES),
    ]
    skipped = [*SKIPPED_CHECKS, *skip]
    if skipped:
        command += ["--skip-check", ",".join(skipped)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if completed.returncode != 0:
        sys.exit(f"checkov failed to run ({' '.join(command)}):\n{completed.stderr[-4000:]}")
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        sys.exit(f"checkov did not print JSON:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    reports = report if isinstance(report, list) else [report]
    results = []
    for one in reports:
        if "results" not in one:
            continue  # a framework with nothing to scan reports only a summary
        for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in one["results"].get(outcome, []):
                results.append({
                    "check_id": check["check_id"],
                    "result": check["check_result"]["result"],
                    "resource": check["resource"],
                    "file_path": check.get("file_path", ""),
                    "name": check.get("check_name", ""),
                })
    return results


def summary(results: list[dict]) -> str:
    passed = sum(result["result"] == "PASSED" for result in results)
    failed = sum(result["result"] == "FAILED" for result in results)
    return f"{passed} passed, {failed} failed"


def scan_source() -> list[str]:
    """The module and the environments as written, with checkov's built-in checks. The custom policies are
    left out here: the pool settings depend on variables without defaults and on cognigate.json, which checkov
    cannot resolve from source (it would judge unresolved expressions). They are judged where the values are
    concrete: on the fixtures, and on each environment's plan."""
    results = run_checkov(
        ["-d", str(TERRAFORM), "--framework", "terraform", "--skip-path", "tests/fixtures"],
        skip=CUSTOM_POLICIES,
    )
    problems = [
        f"source: {result['check_id']} {result['resource']} ({result['file_path']}): {result['name']}"
        for result in results if result["result"] == "FAILED"
    ]
    print(f"checkov source scan (module + environments): {summary(results)}")
    return problems


def scan_fixtures() -> list[str]:
    """Each custom policy fails on its bad fixture and passes on every other fixture resource."""
    results = run_checkov(["-d", str(FIXTURES), "--framework", "terraform", "--check", ",".join(CUSTOM_POLICIES)])
    got = {(result["resource"], result["check_id"]): result["result"] for result in results}
    problems = []
    for resource, expected_failures in FIXTURE_EXPECTATIONS.items():
        policies = POOL_POLICIES if resource.startswith("aws_cognito_user_pool.") else CLIENT_POLICIES
        for policy in policies:
            expected = expected_failures.get(policy, "PASSED")
            actual = got.get((resource, policy), "NOT EVALUATED")
            if actual != expected:
                problems.append(f"fixture: {policy} on {resource}: expected {expected}, got {actual}")
    unexpected = {resource for resource, _ in got} - set(FIXTURE_EXPECTATIONS)
    problems += [f"fixture: {resource} has no expectation in checkov_gate.py" for resource in sorted(unexpected)]
    for policy in CUSTOM_POLICIES:
        if not any(result == "FAILED" and check == policy for (_, check), result in got.items()):
            problems.append(f"fixture: no bad fixture makes {policy} fail")
    print(f"checkov custom policies on fixtures: {summary(results)} (every failure expected)")
    return problems


def scan_plans(directory: Path) -> list[str]:
    """Each environment's real plan: the values from cognigate.json, resolved by Terraform."""
    files = {env: directory / f"{env}.json" for env in ("dev", "staging", "prod")}
    missing = [str(path) for path in files.values() if not path.exists()]
    if missing:
        return [f"plan: missing {', '.join(missing)}"]
    results = run_checkov(["-f", *map(str, files.values()), "--framework", "terraform_plan"])
    by_env = {env: [r for r in results if Path(r["file_path"]).name == path.name] for env, path in files.items()}
    problems = []
    seen_accepted = set()
    for env, env_results in by_env.items():
        if not any(result["check_id"] in CUSTOM_POLICIES for result in env_results):
            problems.append(f"plan {env}: the custom policies evaluated nothing; is the plan empty?")
        for result in env_results:
            if result["result"] != "FAILED":
                continue
            key = (env, result["check_id"], result["resource"])
            if key in ACCEPTED_FINDINGS:
                seen_accepted.add(key)
            else:
                problems.append(f"plan {env}: {result['check_id']} {result['resource']}: {result['name']}")
        print(f"checkov on the {env} plan: {summary(env_results)}")
    for key in sorted(seen_accepted):
        print(f"  accepted in {key[0]}: {key[1]} {key[2]}")
    for reason in sorted({ACCEPTED_FINDINGS[key] for key in seen_accepted}):
        print(f"  because: {reason}")
    for key in sorted(set(ACCEPTED_FINDINGS) - seen_accepted):
        problems.append(f"plan {key[0]}: accepted finding {key[1]} on {key[2]} no longer occurs: remove it from "
                        "ACCEPTED_FINDINGS in infra/terraform/tests/checkov_gate.py")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=Path, help="directory with dev.json, staging.json, prod.json")
    arguments = parser.parse_args()
    if not CHECKOV.exists():
        sys.exit(f"checkov is not installed next to {sys.executable}")
    for check, reason in SKIPPED_CHECKS.items():
        print(f"skipped everywhere: {check}: {reason}")
    problems = scan_source() + scan_fixtures()
    if arguments.plans:
        problems += scan_plans(arguments.plans)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
