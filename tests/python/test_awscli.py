"""The AWS CLI (`aws cognito-idp ...` from the venv) against cognigate, with only `--endpoint-url` added."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PASSWORD_POLICY, STRONG_PASSWORD, unique, unique_email, verify_token

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def aws(cognigate, tmp_path_factory):
    """Runs `aws cognito-idp <args>` against cognigate; returns the CompletedProcess."""
    home = tmp_path_factory.mktemp("aws")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COGNIGATE_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(AWS), "cognito-idp", *args, "--endpoint-url", cognigate.url, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def ok(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, f"aws exited {result.returncode}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_cli_creates_a_pool_client_and_user_and_signs_in(aws, cognigate):
    pool = ok(
        aws(
            "create-user-pool",
            "--pool-name", unique("cli"),
            "--policies", json.dumps({"PasswordPolicy": PASSWORD_POLICY}),
            "--username-attributes", "email",
            "--auto-verified-attributes", "email",
        )
    )["UserPool"]
    pool_id = pool["Id"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == PASSWORD_POLICY["MinimumLength"]

    client = ok(
        aws(
            "create-user-pool-client",
            "--user-pool-id", pool_id,
            "--client-name", "cli-admin",
            "--explicit-auth-flows", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
        )
    )["UserPoolClient"]
    client_id = client["ClientId"]
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

    email = unique_email("cli")
    user = ok(
        aws(
            "admin-create-user",
            "--user-pool-id", pool_id,
            "--username", email,
            "--user-attributes", f"Name=email,Value={email}", "Name=email_verified,Value=true",
            "--message-action", "SUPPRESS",
        )
    )["User"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"

    ok(
        aws(
            "admin-set-user-password",
            "--user-pool-id", pool_id,
            "--username", email,
            "--password", STRONG_PASSWORD,
            "--permanent",
        )
    )
    assert ok(aws("admin-get-user", "--user-pool-id", pool_id, "--username", email))["UserStatus"] == "CONFIRMED"

    auth = ok(
        aws(
            "admin-initiate-auth",
            "--user-pool-id", pool_id,
            "--client-id", client_id,
            "--auth-flow", "ADMIN_USER_PASSWORD_AUTH",
            "--auth-parameters", json.dumps({"USERNAME": email, "PASSWORD": STRONG_PASSWORD}),
        )
    )["AuthenticationResult"]
    issuer = cognigate.issuer(pool_id)
    verify_token(auth["AccessToken"], issuer, "access", client_id)
    assert verify_token(auth["IdToken"], issuer, "id", client_id)["email"] == email

    listed = ok(aws("list-users", "--user-pool-id", pool_id, "--filter", f'email = "{email}"'))["Users"]
    assert len(listed) == 1
    assert {a["Name"]: a["Value"] for a in listed[0]["Attributes"]}["email"] == email
    assert ok(aws("list-users", "--user-pool-id", pool_id, "--filter", 'email = "nobody@example.com"'))["Users"] == []


def test_cli_prints_the_cognito_error_name_and_fails(aws, cognigate):
    pool = cognigate.pools["customer"]

    missing = aws("admin-get-user", "--user-pool-id", pool.pool_id, "--username", unique_email("nobody"))
    assert missing.returncode != 0
    assert "An error occurred (UserNotFoundException) when calling the AdminGetUser operation" in missing.stderr

    refused = aws(
        "initiate-auth",
        "--client-id", pool.client_id,
        "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", json.dumps({"USERNAME": unique_email("nobody"), "PASSWORD": STRONG_PASSWORD}),
    )
    assert refused.returncode != 0
    assert "An error occurred (NotAuthorizedException) when calling the InitiateAuth operation" in refused.stderr
    assert refused.stdout.strip() == ""
