"""Who may administer over the wire (security audit F2 and F13): with `engine.wire.admin_access_keys`
configured, an administrative operation (Admin*, pools, clients, groups, ListUsers) needs a real AWS SigV4
signature made with the key's secret, as IAM demands on AWS; the key id alone authorizes nothing. With no
keys, `cognigate dev` lets loopback callers administer, but only when they name a loopback host, so a
DNS-rebinding page (whose requests name its own domain) cannot.

The signed requests come from boto3 and botocore's own signer (botocore.auth.SigV4Auth), as an AWS script
makes them; every refusal is checked by its exact AWS error type.
"""

from __future__ import annotations

import datetime
import json
import secrets
from unittest import mock

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import (
    PASSWORD_POLICY,
    assert_error,
    client_for,
    running_cognigate,
    unique,
    unique_email,
)

KEY_ID = "AKIDTESTWIRE0000001"
# Another well-formed key id (16 to 128 letters and digits) that is not configured.
UNKNOWN_KEY_ID = "AKIDTESTWIRE0000002"
SECRET_ENV = "COGNIGATE_SECRET_WIRE"
REGION = "us-east-1"
SERVICE = "cognito-idp"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"
# How far X-Amz-Date may be from the server's clock: AWS's 15 minutes.
MAX_SKEW = datetime.timedelta(minutes=15)

# Only one attempt per call: a refusal must come from the first answer, not from a retry.
NO_RETRIES = Config(retries={"mode": "legacy", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def wire_secret() -> str:
    return secrets.token_urlsafe(30)


@pytest.fixture(scope="module")
def keyed(wire_secret):
    """A `cognigate dev` of its own with one wire admin access key, its secret given through the
    environment as a secret reference."""
    extra_env = {
        "COGNIGATE_ENGINE__WIRE__ADMIN_ACCESS_KEYS": f'[{{ id = "{KEY_ID}", secret = {{ env = "{SECRET_ENV}" }} }}]',
        SECRET_ENV: wire_secret,
    }
    with running_cognigate(extra_env) as server:
        yield server


def signed_client(url: str, key_id: str, secret: str):
    """boto3, configured with an access key, as any AWS script is."""
    return client_for(url, access_key_id=key_id, secret_access_key=secret, config=NO_RETRIES)


def wire_request(url: str, operation: str, body: dict, headers: dict | None = None) -> AWSRequest:
    """An unsigned wire request (`POST /`), as botocore builds one before signing it."""
    return AWSRequest(
        method="POST",
        url=f"{url}/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation, **(headers or {})},
    )


def sign(request: AWSRequest, key_id: str, secret: str) -> AWSRequest:
    """Signs `request` in place with botocore's SigV4 signer (which adds X-Amz-Date and Authorization)."""
    SigV4Auth(Credentials(key_id, secret), SERVICE, REGION).add_auth(request)
    return request


def send(request: AWSRequest, body: bytes | None = None) -> requests.Response:
    """Sends `request` as it is (or with another body), with `requests`."""
    return requests.post(
        request.url,
        headers=dict(request.headers.items()),
        data=request.body if body is None else body,
        timeout=30,
    )


def error_type(answer: requests.Response) -> str:
    """The AWS error type of a refused wire answer (which must be an HTTP 400 with a message)."""
    assert answer.status_code == 400, (answer.status_code, answer.text)
    payload = answer.json()
    assert payload.get("message"), payload
    assert answer.headers.get("x-amzn-ErrorType") == payload["__type"], (answer.headers, payload)
    return payload["__type"]


def clock_shifted_by(delta: datetime.timedelta):
    """Makes botocore's signer believe the time is now + delta (it reads the time through this function)."""
    import botocore.auth

    real = botocore.auth.get_current_datetime
    return mock.patch("botocore.auth.get_current_datetime", lambda *args, **kwargs: real(*args, **kwargs) + delta)


LIST_POOLS = {"MaxResults": 60}


# ----- a server with one configured access key -----


def test_the_start_up_says_that_admin_operations_need_a_signature(keyed):
    assert any("admin operations signed (SigV4) with a configured access key only" in line
               for line in keyed.startup_lines), keyed.startup_lines


def test_requests_signed_with_the_configured_key_are_accepted(keyed, wire_secret):
    idp = signed_client(keyed.url, KEY_ID, wire_secret)
    pool_ids = [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]]
    assert keyed.pools["customer"].pool_id in pool_ids
    assert keyed.pools["staff"].pool_id in pool_ids

    pool_id = idp.create_user_pool(
        PoolName=unique("signed"),
        Policies={"PasswordPolicy": dict(PASSWORD_POLICY)},
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    email = unique_email("signed")
    created = idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert idp.admin_get_user(UserPoolId=pool_id, Username=email)["Username"] == created["Username"]

    # botocore's signer used directly, sent with `requests`: the same signature, the same answer.
    answer = send(sign(wire_request(keyed.url, "ListUserPools", LIST_POOLS), KEY_ID, wire_secret))
    assert answer.status_code == 200, answer.text
    assert pool_id in [p["Id"] for p in answer.json()["UserPools"]]


def test_a_wrong_secret_is_refused(keyed, wire_secret):
    idp = signed_client(keyed.url, KEY_ID, wire_secret + "x")
    assert_error("InvalidSignatureException", idp.list_user_pools, MaxResults=10)
    email = unique_email("wrongsecret")
    assert_error("InvalidSignatureException", idp.admin_create_user,
                 UserPoolId=keyed.pools["customer"].pool_id, Username=email,
                 UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")
    assert_error("UserNotFoundException", signed_client(keyed.url, KEY_ID, wire_secret).admin_get_user,
                 UserPoolId=keyed.pools["customer"].pool_id, Username=email)


def test_an_unknown_key_id_is_refused(keyed, wire_secret):
    # The right secret under a key id that is not configured, and the ordinary test credentials.
    assert_error("UnrecognizedClientException", signed_client(keyed.url, UNKNOWN_KEY_ID, wire_secret).list_user_pools,
                 MaxResults=10)
    assert_error("UnrecognizedClientException", client_for(keyed.url, config=NO_RETRIES).list_user_pools,
                 MaxResults=10)


def test_the_key_id_without_a_signature_is_refused(keyed, wire_secret):
    """The key id is printed in logs and SDK output: naming it proves nothing."""
    scope = f"{KEY_ID}/{datetime.datetime.now(datetime.timezone.utc):%Y%m%d}/{REGION}/{SERVICE}/aws4_request"
    for authorization in (f"Credential={KEY_ID}", f"Credential={scope}", f"AWS4-HMAC-SHA256 Credential={scope}"):
        request = wire_request(keyed.url, "ListUserPools", LIST_POOLS, {"Authorization": authorization})
        assert error_type(send(request)) == "IncompleteSignatureException", authorization

    # A complete header and a fresh X-Amz-Date, but a made-up signature.
    signed = sign(wire_request(keyed.url, "ListUserPools", LIST_POOLS), KEY_ID, wire_secret)
    signature = signed.headers["Authorization"].rsplit("Signature=", 1)[1]
    forged = signed.headers["Authorization"].replace(signature, "0" * 64)
    del signed.headers["Authorization"]
    signed.headers["Authorization"] = forged
    assert error_type(send(signed)) == "InvalidSignatureException"


def test_a_body_changed_after_signing_is_refused(keyed, wire_secret):
    """The signature covers the body: one request, signed by boto3, then its body altered on the way
    out (botocore's before-send hook runs after signing)."""
    idp = signed_client(keyed.url, KEY_ID, wire_secret)
    pool_id = keyed.pools["customer"].pool_id
    meant, sent = unique_email("meant"), unique_email("sneak")
    assert len(meant) == len(sent)

    def tamper(request, **_):
        assert meant.encode() in request.body
        request.body = request.body.replace(meant.encode(), sent.encode())  # the same length

    idp.meta.events.register("before-send.cognito-idp.AdminCreateUser", tamper)
    assert_error("InvalidSignatureException", idp.admin_create_user, UserPoolId=pool_id, Username=meant,
                 UserAttributes=[{"Name": "email", "Value": meant}], MessageAction="SUPPRESS")
    idp.meta.events.unregister("before-send.cognito-idp.AdminCreateUser", tamper)
    for email in (meant, sent):
        assert_error("UserNotFoundException", idp.admin_get_user, UserPoolId=pool_id, Username=email)

    # The same with botocore's signer and `requests`: a body other than the signed one.
    request = sign(wire_request(keyed.url, "ListUserPools", LIST_POOLS), KEY_ID, wire_secret)
    assert send(request).status_code == 200
    assert error_type(send(request, body=json.dumps({"MaxResults": 11}).encode())) == "InvalidSignatureException"


def test_a_signature_outside_fifteen_minutes_of_now_is_refused(keyed, wire_secret):
    idp = signed_client(keyed.url, KEY_ID, wire_secret)
    with clock_shifted_by(-MAX_SKEW + datetime.timedelta(minutes=1)):  # 14 minutes old: within AWS's window
        assert idp.list_user_pools(MaxResults=10)["UserPools"]
    with clock_shifted_by(-MAX_SKEW - datetime.timedelta(minutes=1)):  # 16 minutes old
        assert_error("InvalidSignatureException", idp.list_user_pools, MaxResults=10)
    with clock_shifted_by(MAX_SKEW + datetime.timedelta(minutes=1)):  # 16 minutes ahead
        assert_error("InvalidSignatureException", idp.list_user_pools, MaxResults=10)

    # botocore's signer directly: the signed X-Amz-Date is 16 minutes old, and says so.
    sixteen_minutes_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    with clock_shifted_by(-datetime.timedelta(minutes=16)):
        request = sign(wire_request(keyed.url, "ListUserPools", LIST_POOLS), KEY_ID, wire_secret)
    signed_at = datetime.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert abs(signed_at.replace(tzinfo=datetime.timezone.utc) - sixteen_minutes_ago) < datetime.timedelta(seconds=5)
    assert error_type(send(request)) == "InvalidSignatureException"


def test_an_unsigned_loopback_request_is_refused_when_keys_are_configured(keyed):
    host = keyed.url.removeprefix("http://")
    for named in (host, "localhost"):
        request = wire_request(keyed.url, "ListUserPools", LIST_POOLS, {"Host": named})
        assert error_type(send(request)) == "MissingAuthenticationTokenException", named
    email = unique_email("unsigned")
    create = wire_request(keyed.url, "AdminCreateUser", {
        "UserPoolId": keyed.pools["customer"].pool_id, "Username": email,
        "UserAttributes": [{"Name": "email", "Value": email}], "MessageAction": "SUPPRESS",
    })
    assert error_type(send(create)) == "MissingAuthenticationTokenException"


def test_client_operations_still_need_no_signature(keyed):
    """As on AWS, SignUp, InitiateAuth and the other client-side operations are unsigned."""
    pool = keyed.pools["customer"]
    email = unique_email("public")
    answer = send(wire_request(keyed.url, "SignUp", {
        "ClientId": pool.client_id, "Username": email, "Password": "Correct-Horse-9-Battery",
        "UserAttributes": [{"Name": "email", "Value": email}],
    }))
    assert answer.status_code == 200, answer.text
    assert answer.json()["UserConfirmed"] is False


# ----- the session's dev server, with no key configured -----


def test_without_keys_an_unsigned_loopback_caller_naming_a_loopback_host_may_administer(cognigate):
    assert any("admin operations from loopback callers naming a loopback host" in line
               for line in cognigate.startup_lines), cognigate.startup_lines
    port = cognigate.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}"):
        answer = send(wire_request(cognigate.url, "ListUserPools", LIST_POOLS, {"Host": host}))
        assert answer.status_code == 200, (host, answer.text)
        assert answer.json()["UserPools"], host


def test_without_keys_a_loopback_caller_naming_another_host_is_refused(cognigate):
    """DNS rebinding: a web page served from attacker.example, its name re-pointed at 127.0.0.1, reaches the
    server over loopback, but its requests name attacker.example."""
    port = cognigate.url.rsplit(":", 1)[1]
    for host in ("attacker.example", f"attacker.example:{port}", f"localhost.attacker.example:{port}"):
        answer = send(wire_request(cognigate.url, "ListUserPools", LIST_POOLS, {"Host": host}))
        assert error_type(answer) == "NotAuthorizedException", host
    email = unique_email("rebound")
    create = wire_request(cognigate.url, "AdminCreateUser", {
        "UserPoolId": cognigate.pools["customer"].pool_id, "Username": email,
        "UserAttributes": [{"Name": "email", "Value": email}], "MessageAction": "SUPPRESS",
    }, {"Host": "attacker.example"})
    assert error_type(send(create)) == "NotAuthorizedException"
    assert_error("UserNotFoundException", client_for(cognigate.url).admin_get_user,
                 UserPoolId=cognigate.pools["customer"].pool_id, Username=email)
