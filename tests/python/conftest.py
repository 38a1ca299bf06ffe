"""Starts one real `cognigate dev` for the whole session and hands the tests what they need to talk to it.

The server is `target/debug/cognigate` (scripts/python-tests builds it first), run from the repository root so
it reads `cognigate.toml`, on a free loopback port, with its state in a temporary directory and none of the
caller's COGNIGATE_* variables. Its issuer is the served URL, so tokens can be checked against the JWKS it
serves. Codes the engine "emails" are read back with `cognigate outbox --json`.

Helpers that several test files share live here too (`from conftest import ...`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "target" / "debug" / "cognigate"

# A password that satisfies every policy the tests create (and both configured pools).
STRONG_PASSWORD = "Correct-Horse-9-Battery"
OTHER_STRONG_PASSWORD = "Stapled-Tiger-7-Orbit"

# The policy the tests' own pools use: 10+ characters with upper, lower, digit and symbol.
PASSWORD_POLICY = {
    "MinimumLength": 10,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}

POOL_LINE = re.compile(
    r"^(?P<kind>\w+) pool: embedded engine, pool id (?P<pool_id>\S+), client id (?P<client_id>[^,\s]+), "
    r"issuer (?P<issuer>[^,\s]+)"
)


@dataclass
class ConfiguredPool:
    """A pool of cognigate.toml as the server printed it at start-up."""

    kind: str
    pool_id: str
    client_id: str
    issuer: str


@dataclass
class Cognigate:
    url: str
    data_dir: Path
    env: dict
    pools: dict = field(default_factory=dict)
    startup_lines: list = field(default_factory=list)

    def issuer(self, pool_id: str) -> str:
        return f"{self.url}/{pool_id}"

    def outbox(self, to: str, limit: int = 10) -> list:
        """The messages to `to`, newest first, as `cognigate outbox --json` prints them."""
        run = subprocess.run(
            [str(BINARY), "outbox", "--json", "--to", to, "--limit", str(limit)],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, f"cognigate outbox failed: {run.stderr}"
        messages = json.loads(run.stdout)
        assert isinstance(messages, list), run.stdout
        return messages

    def code(self, to: str, kind: str | None = None) -> str:
        """The 6-digit code of the newest message to `to` (of that kind, when given)."""
        for message in self.outbox(to, limit=20):
            if kind is None or message["kind"] == kind:
                return code_in(message["body"])
        raise AssertionError(f"no {kind or ''} message to {to} in the outbox: {self.outbox(to, limit=20)}")


def code_in(body: str) -> str:
    """The code of a message: its last 6-digit number. The first may be part of a pool's name
    ("Your pool-8f123456ab sign-in code is 042817"), which made a test fail now and then."""
    found = re.findall(r"(?<!\d)(\d{6})(?!\d)", body)
    assert found, f"no 6-digit code in {body!r}"
    return found[-1]


def wrong_code(code: str) -> str:
    """A 6-digit code that is certainly not `code`."""
    return "000000" if code != "000000" else "111111"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir: Path, stderr_path: Path, extra_env: dict | None = None):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNIGATE_")}
    env.update(
        {
            # `cognigate outbox` (Cognigate.outbox) opens the sealed outbox with this data directory's key.
            "COGNIGATE_SERVICE__DATA_DIR": str(data_dir),
            "COGNIGATE_STORE__URL": f"sqlite://{data_dir}/cognigate.db",
            "COGNIGATE_SERVICE__PUBLIC_URL": url,
            "NO_COLOR": "1",
        }
    )
    env.update(extra_env or {})
    stderr = open(stderr_path, "ab")
    process = subprocess.Popen(
        [str(BINARY), "dev", "--no-seed", "--listen", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    stderr.close()
    lines: list[str] = []
    listening = threading.Event()

    def read():
        # Keeps draining stdout for the life of the process, so the pipe never fills.
        for line in process.stdout:
            line = line.rstrip("\n")
            if not listening.is_set():
                lines.append(line)
                if line.startswith("cognigate listening on "):
                    listening.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not listening.is_set() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process, url, env, lines, listening.is_set()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_cognigate(extra_env: dict | None = None):
    """A `cognigate dev` of its own (fresh data directory, free port) for the duration of the block.

    `extra_env` adds environment variables (configuration overrides such as
    COGNIGATE_ENGINE__WIRE__ADMIN_ACCESS_KEYS, or the secrets they refer to); they are also in the
    returned server's `env`."""
    assert BINARY.exists(), f"{BINARY} is missing: build it with `cargo build -p cognigate` (scripts/python-tests does)"
    data_dir = Path(tempfile.mkdtemp(prefix="cognigate-pytest-"))
    stderr_path = data_dir / "server.stderr"
    process = None
    try:
        for _ in range(3):  # the free port can be taken between the probe and the bind: try another
            process, url, env, lines, ok = _start(data_dir, stderr_path, extra_env)
            if ok:
                break
            _stop(process)
        else:
            tail = stderr_path.read_text(errors="replace")[-4000:]
            pytest.fail(f"cognigate dev did not start listening: stdout {lines}, stderr tail:\n{tail}")
        server = Cognigate(url=url, data_dir=data_dir, env=env, startup_lines=list(lines))
        for line in lines:
            found = POOL_LINE.match(line)
            if found:
                server.pools[found["kind"]] = ConfiguredPool(**found.groupdict())
        assert {"customer", "staff"} <= set(server.pools), f"pools not printed at start-up: {lines}"
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def cognigate():
    """The cognigate every test talks to, started once for the session."""
    with running_cognigate() as server:
        yield server


def client_for(
    url: str,
    service: str = "cognito-idp",
    access_key_id: str = "testing",
    secret_access_key: str = "testing",
    config=None,
):
    """A boto3 client as any AWS script makes one, with only the endpoint changed. The default credentials
    sign requests with a key no server knows, which a dev server without wire keys does not check
    (loopback administration); a server with `engine.wire.admin_access_keys` needs one of its keys."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


@pytest.fixture(scope="session")
def idp(cognigate):
    return client_for(cognigate.url)


# ----- helpers shared by the test files -----


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def error_of(excinfo) -> tuple[str, str]:
    """(Cognito error name, message) of a botocore ClientError caught by pytest.raises."""
    error = excinfo.value
    assert isinstance(error, ClientError), repr(error)
    return error.response["Error"]["Code"], error.response["Error"].get("Message", "")


def assert_error(expected: str, call, *args, **kwargs) -> str:
    """Runs a boto3 call that must fail with Cognito error `expected`; returns the message."""
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    code, message = error_of(excinfo)
    assert code == expected, f"expected {expected}, got {code}: {message}"
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 400, f"{expected} came with HTTP {status}"
    return message


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def create_pool(idp, **overrides) -> str:
    """A new pool with email usernames, auto-verified email and the strict test policy; returns its id."""
    params = {
        "PoolName": unique("pool"),
        "Policies": {"PasswordPolicy": dict(PASSWORD_POLICY)},
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
    }
    params.update(overrides)
    return idp.create_user_pool(**params)["UserPool"]["Id"]


ALL_TEST_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]


def create_client(idp, pool_id: str, **overrides) -> dict:
    """A new app client (password, refresh and admin flows; existence errors hidden); returns UserPoolClient."""
    params = {
        "UserPoolId": pool_id,
        "ClientName": unique("client"),
        "ExplicitAuthFlows": list(ALL_TEST_FLOWS),
        "PreventUserExistenceErrors": "ENABLED",
    }
    params.update(overrides)
    return idp.create_user_pool_client(**params)["UserPoolClient"]


def confirmed_user(idp, pool_id: str, email: str | None = None, password: str = STRONG_PASSWORD) -> str:
    """A CONFIRMED user with a permanent password, made through the admin API; returns the username."""
    email = email or unique_email()
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    return email


def password_login(idp, client_id: str, username: str, password: str, **extra) -> dict:
    return idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **extra},
    )


def tokens(idp, client_id: str, username: str, password: str) -> dict:
    """The AuthenticationResult of a password sign-in that must succeed without a challenge."""
    answer = password_login(idp, client_id, username, password)
    assert "ChallengeName" not in answer, answer.get("ChallengeName")
    return answer["AuthenticationResult"]


def refresh(idp, client_id: str, refresh_token: str) -> dict:
    return idp.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
    )


_jwks_clients: dict = {}


def verify_token(token: str, issuer: str, token_use: str, client_id: str) -> dict:
    """Checks a token as a resource server would: RS256 signature against the pool's JWKS, issuer, expiry,
    token_use and the client (aud for ID tokens, client_id for access tokens). Returns the claims."""
    if issuer not in _jwks_clients:
        _jwks_clients[issuer] = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=False)
    key = _jwks_clients[issuer].get_signing_key_from_jwt(token)
    if token_use == "id":
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id, issuer=issuer)
    else:
        claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, options={"verify_aud": False})
        assert claims["client_id"] == client_id, claims
    assert claims["token_use"] == token_use, claims
    assert claims["exp"] > time.time(), claims
    return claims


def totp_code(totp) -> tuple[str, int]:
    """The current TOTP code and its 30-s step, read at one instant."""
    now = time.time()
    return totp.at(now), int(now) // 30


def fresh_totp(totp, used_step: int) -> tuple[str, int]:
    """A TOTP code of a later 30-s step than `used_step` (codes are single-use), waiting for that step when
    needed (at most 30 s). Never a code of a future step."""
    while int(time.time()) // 30 <= used_step:
        time.sleep(0.2)
    return totp_code(totp)
