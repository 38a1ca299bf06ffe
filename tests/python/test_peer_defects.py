"""The security defects found in the peers (shared/notes/emulators.md, section 1 "The verified defects that
matter most" and the security rows of Appendix A), each probed over the wire with boto3. cognigate must
answer as real Cognito does (per AWS's API reference and developer guide); cognito-local or moto fail each
of these probes (emulators.md, Appendix A).

Each test makes its own users; tests that change pool or client settings make their own pool or client.
"""

from __future__ import annotations

import base64
import json
import time

import jwt
import pyotp
import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import (
    STRONG_PASSWORD,
    assert_error,
    confirmed_user,
    create_client,
    create_pool,
    error_of,
    fresh_totp,
    password_login,
    refresh,
    running_cognigate,
    secret_hash,
    tokens,
    totp_code,
    unique_email,
    verify_token,
    wrong_code,
)

HIJACK_PASSWORD = "Hijacked-Pass-77!"

# A Session value of the length and alphabet real ones have, that the server never issued.
MADE_UP_SESSION = base64.b64encode(b"made-up session that no server ever issued " * 6).decode()


@pytest.fixture(scope="module")
def app(idp, cognigate):
    """A pool with the strict test policy and a client with PreventUserExistenceErrors ENABLED."""
    pool_id = create_pool(idp)
    client_id = create_client(idp, pool_id)["ClientId"]
    return {"pool_id": pool_id, "client_id": client_id, "issuer": cognigate.issuer(pool_id)}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def attacker_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def assert_password_unchanged(idp, app, username: str, password: str, not_password: str) -> None:
    tokens(idp, app["client_id"], username, password)
    assert_error("NotAuthorizedException", password_login, idp, app["client_id"], username, not_password)


# ----- defect 1: account takeover through NEW_PASSWORD_REQUIRED (cognito-local) -----


def test_new_password_required_with_a_made_up_session_cannot_take_over_a_confirmed_user(idp, app):
    victim = confirmed_user(idp, app["pool_id"], unique_email("victim"))

    assert_error(
        "NotAuthorizedException",
        idp.respond_to_auth_challenge,
        ClientId=app["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=MADE_UP_SESSION,
        ChallengeResponses={"USERNAME": victim, "NEW_PASSWORD": HIJACK_PASSWORD},
    )
    assert_error(
        "NotAuthorizedException",
        idp.admin_respond_to_auth_challenge,
        UserPoolId=app["pool_id"],
        ClientId=app["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=MADE_UP_SESSION,
        ChallengeResponses={"USERNAME": victim, "NEW_PASSWORD": HIJACK_PASSWORD},
    )

    # A genuine session, but the attacker's own (a FORCE_CHANGE_PASSWORD user), aimed at the victim.
    attacker = unique_email("attacker")
    idp.admin_create_user(
        UserPoolId=app["pool_id"],
        Username=attacker,
        TemporaryPassword="Temporary-Pass-1!",
        UserAttributes=[{"Name": "email", "Value": attacker}],
        MessageAction="SUPPRESS",
    )
    challenge = password_login(idp, app["client_id"], attacker, "Temporary-Pass-1!")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert_error(
        "NotAuthorizedException",
        idp.respond_to_auth_challenge,
        ClientId=app["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": victim, "NEW_PASSWORD": HIJACK_PASSWORD},
    )

    assert idp.admin_get_user(UserPoolId=app["pool_id"], Username=victim)["UserStatus"] == "CONFIRMED"
    assert_password_unchanged(idp, app, victim, STRONG_PASSWORD, HIJACK_PASSWORD)


def test_a_challenge_session_is_single_use_and_bound_to_its_client(idp, app):
    """LocalStack accepted a re-submitted NEW_PASSWORD_REQUIRED answer; a session must work once, for the
    client it was issued to."""
    email = unique_email("session")
    idp.admin_create_user(
        UserPoolId=app["pool_id"],
        Username=email,
        TemporaryPassword="Temporary-Pass-1!",
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    other_client = create_client(idp, app["pool_id"])["ClientId"]
    challenge = password_login(idp, app["client_id"], email, "Temporary-Pass-1!")
    answer = {
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": challenge["Session"],
        "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": STRONG_PASSWORD},
    }
    assert_error("NotAuthorizedException", idp.respond_to_auth_challenge, ClientId=other_client, **answer)

    challenge = password_login(idp, app["client_id"], email, "Temporary-Pass-1!")
    answer["Session"] = challenge["Session"]
    assert idp.respond_to_auth_challenge(ClientId=app["client_id"], **answer)["AuthenticationResult"]
    replay = dict(answer, ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": HIJACK_PASSWORD})
    assert_error("NotAuthorizedException", idp.respond_to_auth_challenge, ClientId=app["client_id"], **replay)
    assert_password_unchanged(idp, app, email, STRONG_PASSWORD, HIJACK_PASSWORD)


def test_a_force_change_password_user_with_a_wrong_password_gets_no_challenge(idp, app):
    email = unique_email("fcp")
    idp.admin_create_user(
        UserPoolId=app["pool_id"],
        Username=email,
        TemporaryPassword="Temporary-Pass-1!",
        UserAttributes=[{"Name": "email", "Value": email}],
        MessageAction="SUPPRESS",
    )
    assert_error("NotAuthorizedException", password_login, idp, app["client_id"], email, "Not-The-Temp-Pass-1!")


# ----- defect 2: access tokens must be verified (cognito-local decoded them without checking) -----


def test_get_user_refuses_a_token_re_signed_with_an_attacker_key(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("forged"))
    genuine = tokens(idp, app["client_id"], email, STRONG_PASSWORD)["AccessToken"]
    assert idp.get_user(AccessToken=genuine)["Username"]  # the genuine token works

    header, claims = unverified(genuine)
    forged = jwt.encode(claims, attacker_key(), algorithm="RS256", headers={"kid": header["kid"]})
    assert unverified(forged)[1] == claims  # same kid, same claims: only the signature differs
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=forged)
    assert_error(
        "NotAuthorizedException",
        idp.update_user_attributes,
        AccessToken=forged,
        UserAttributes=[{"Name": "name", "Value": "Mallory"}],
    )
    assert_error("NotAuthorizedException", idp.global_sign_out, AccessToken=forged)
    # An ID token is not an access token, even though it is genuine.
    id_token = tokens(idp, app["client_id"], email, STRONG_PASSWORD)["IdToken"]
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=id_token)

    # Unsigned ("alg": "none") and a genuine signature over altered claims.
    unsigned = f"{b64url(json.dumps({'alg': 'none', 'kid': header['kid']}).encode())}.{genuine.split('.')[1]}."
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=unsigned)
    head, _, signature = genuine.split(".")
    altered = dict(claims, exp=claims["exp"] + 86400)
    tampered = f"{head}.{b64url(json.dumps(altered).encode())}.{signature}"
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=tampered)


def test_get_user_refuses_an_expired_forged_token(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("expired"))
    genuine = tokens(idp, app["client_id"], email, STRONG_PASSWORD)["AccessToken"]
    header, claims = unverified(genuine)
    now = int(time.time())
    expired = dict(claims, iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    forged = jwt.encode(expired, attacker_key(), algorithm="RS256", headers={"kid": header["kid"]})
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=forged)
    assert_error("NotAuthorizedException", idp.change_password,
                 AccessToken=forged, PreviousPassword=STRONG_PASSWORD, ProposedPassword=HIJACK_PASSWORD)
    assert_password_unchanged(idp, app, email, STRONG_PASSWORD, HIJACK_PASSWORD)


# ----- defect 3: every code is checked (moto accepted any) -----


def test_confirm_sign_up_with_a_wrong_code_is_refused(idp, cognigate, app):
    email = unique_email("unconfirmed")
    idp.sign_up(ClientId=app["client_id"], Username=email, Password=STRONG_PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    code = cognigate.code(email, "sign_up_code")
    assert_error("CodeMismatchException", idp.confirm_sign_up,
                 ClientId=app["client_id"], Username=email, ConfirmationCode=wrong_code(code))
    assert_error("CodeMismatchException", idp.confirm_sign_up,
                 ClientId=app["client_id"], Username=email, ConfirmationCode="moto-confirmation-code:" + code)
    assert idp.admin_get_user(UserPoolId=app["pool_id"], Username=email)["UserStatus"] == "UNCONFIRMED"
    assert_error("UserNotConfirmedException", password_login, idp, app["client_id"], email, STRONG_PASSWORD)


def test_confirm_forgot_password_with_a_wrong_code_does_not_reset_the_password(idp, cognigate, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("reset"))
    idp.forgot_password(ClientId=app["client_id"], Username=email)
    code = cognigate.code(email, "forgot_password_code")
    assert_error("CodeMismatchException", idp.confirm_forgot_password,
                 ClientId=app["client_id"], Username=email, ConfirmationCode=wrong_code(code),
                 Password=HIJACK_PASSWORD)
    assert_password_unchanged(idp, app, email, STRONG_PASSWORD, HIJACK_PASSWORD)


def test_guessing_a_reset_code_is_limited_and_does_not_lock_the_owner_out(idp, cognigate, app):
    """A 6-digit code cannot be brute-forced: after a few wrong guesses Cognito answers
    LimitExceededException and the code is dead. Failed guesses by a stranger must not lock the owner out of
    signing in with the password."""
    email = confirmed_user(idp, app["pool_id"], unique_email("guess"))
    idp.forgot_password(ClientId=app["client_id"], Username=email)
    code = cognigate.code(email, "forgot_password_code")
    guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 11)]
    errors = []
    for guess in guesses:
        with pytest.raises(ClientError) as refused:
            idp.confirm_forgot_password(ClientId=app["client_id"], Username=email, ConfirmationCode=guess,
                                        Password=HIJACK_PASSWORD)
        errors.append(error_of(refused)[0])
        if errors[-1] != "CodeMismatchException":
            break
    assert errors[-1] == "LimitExceededException", errors
    with pytest.raises(ClientError) as late:
        idp.confirm_forgot_password(ClientId=app["client_id"], Username=email, ConfirmationCode=code,
                                    Password=HIJACK_PASSWORD)
    assert error_of(late)[0] in {"LimitExceededException", "ExpiredCodeException", "CodeMismatchException"}
    assert_password_unchanged(idp, app, email, STRONG_PASSWORD, HIJACK_PASSWORD)


def test_totp_wrong_code_and_a_made_up_mfa_session_are_refused(idp, cognigate):
    pool_id = create_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    client_id = create_client(idp, pool_id)["ClientId"]
    app = {"pool_id": pool_id, "client_id": client_id, "issuer": cognigate.issuer(pool_id)}
    email = confirmed_user(idp, pool_id, unique_email("mfa"))
    access_token = tokens(idp, client_id, email, STRONG_PASSWORD)["AccessToken"]

    totp = pyotp.TOTP(idp.associate_software_token(AccessToken=access_token)["SecretCode"])
    assert len(totp.secret) >= 16
    code, step = totp_code(totp)
    assert_error("EnableSoftwareTokenMFAException", idp.verify_software_token,
                 AccessToken=access_token, UserCode=wrong_code(code))
    assert idp.verify_software_token(AccessToken=access_token, UserCode=code)["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=access_token,
                                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    answer = {"ClientId": client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA"}
    assert_error("CodeMismatchException", idp.respond_to_auth_challenge, **answer, Session=challenge["Session"],
                 ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": wrong_code(code)})

    fresh, _ = fresh_totp(totp, step)  # a valid, unused code: only the session is wrong below
    assert_error("NotAuthorizedException", idp.respond_to_auth_challenge, **answer, Session=MADE_UP_SESSION,
                 ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": fresh})
    done = idp.respond_to_auth_challenge(**answer, Session=challenge["Session"],
                                         ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": fresh})
    verify_token(done["AuthenticationResult"]["AccessToken"], app["issuer"], "access", client_id)


def test_sms_mfa_wrong_code_and_a_made_up_session_are_refused(idp, cognigate):
    pool_id = create_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SmsMfaConfiguration={"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/cognito-sms"}},
        MfaConfiguration="OPTIONAL",
    )
    client_id = create_client(idp, pool_id)["ClientId"]
    email = unique_email("sms")
    phone = "+1555" + str(int(time.time() * 1000))[-7:]
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "phone_number", "Value": phone},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=STRONG_PASSWORD, Permanent=True)
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username=email,
                                      SMSMfaSettings={"Enabled": True, "PreferredMfa": True})

    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "SMS_MFA"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    code = cognigate.code(phone, "sms_mfa_code")
    answer = {"ClientId": client_id, "ChallengeName": "SMS_MFA"}
    assert_error("CodeMismatchException", idp.respond_to_auth_challenge, **answer, Session=challenge["Session"],
                 ChallengeResponses={"USERNAME": email, "SMS_MFA_CODE": wrong_code(code)})
    assert_error("CodeMismatchException", idp.respond_to_auth_challenge, **answer, Session=challenge["Session"],
                 ChallengeResponses={"USERNAME": email, "SMS_MFA_CODE": "999999" if code != "999999" else "999998"})
    assert_error("NotAuthorizedException", idp.respond_to_auth_challenge, **answer, Session=MADE_UP_SESSION,
                 ChallengeResponses={"USERNAME": email, "SMS_MFA_CODE": code})
    done = idp.respond_to_auth_challenge(**answer, Session=challenge["Session"],
                                         ChallengeResponses={"USERNAME": email, "SMS_MFA_CODE": code})
    assert done["AuthenticationResult"]["AccessToken"]


def test_srp_and_custom_auth_never_hand_out_tokens_for_garbage(idp, app):
    """moto answered USER_SRP_AUTH with a challenge whose answer it never checked, and CUSTOM_AUTH with `{}`."""
    email = confirmed_user(idp, app["pool_id"], unique_email("srp"))
    client_id = create_client(
        idp, app["pool_id"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["ClientId"]
    try:
        started = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                                    AuthParameters={"USERNAME": email, "SRP_A": "ab" * 384})
    except ClientError as refused:  # not offered: a Cognito error, never a 500
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert refused.response["Error"]["Code"] == "InvalidParameterException"
    else:
        assert started["ChallengeName"] == "PASSWORD_VERIFIER"
        assert_error(
            "NotAuthorizedException",
            idp.respond_to_auth_challenge,
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            Session=started.get("Session", MADE_UP_SESSION),
            ChallengeResponses={
                "USERNAME": started["ChallengeParameters"]["USER_ID_FOR_SRP"],
                "PASSWORD_CLAIM_SECRET_BLOCK": started["ChallengeParameters"]["SECRET_BLOCK"],
                "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(b"garbage signature").decode(),
                "TIMESTAMP": time.strftime("%a %b %-d %H:%M:%S UTC %Y", time.gmtime()),
            },
        )
    try:
        custom = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": email})
    except ClientError as refused:
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert refused.response["Error"]["Code"] == "InvalidParameterException"
    else:
        assert custom.get("ChallengeName") == "CUSTOM_CHALLENGE" and "AuthenticationResult" not in custom, custom


# ----- defect 4: user existence, SECRET_HASH, ExplicitAuthFlows, refresh-token binding -----


def test_unknown_user_and_wrong_password_are_indistinguishable(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("exists"))
    with pytest.raises(ClientError) as wrong_password:
        password_login(idp, app["client_id"], email, "Wrong-Password-42!")
    with pytest.raises(ClientError) as unknown_user:
        password_login(idp, app["client_id"], unique_email("ghost"), "Wrong-Password-42!")
    assert error_of(wrong_password)[0] == "NotAuthorizedException"
    assert error_of(unknown_user) == error_of(wrong_password)

    ghost = unique_email("ghost")
    sent = idp.forgot_password(ClientId=app["client_id"], Username=ghost)  # no UserNotFoundException
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    resent = idp.resend_confirmation_code(ClientId=app["client_id"], Username=ghost)
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    with pytest.raises(ClientError) as confirm_ghost:
        idp.confirm_sign_up(ClientId=app["client_id"], Username=ghost, ConfirmationCode="123456")
    assert error_of(confirm_ghost)[0] in {"CodeMismatchException", "ExpiredCodeException"}
    with pytest.raises(ClientError) as reset_ghost:
        idp.confirm_forgot_password(ClientId=app["client_id"], Username=ghost, ConfirmationCode="123456",
                                    Password=STRONG_PASSWORD)
    assert error_of(reset_ghost)[0] in {"CodeMismatchException", "ExpiredCodeException"}


def test_a_client_with_a_secret_demands_a_correct_secret_hash(idp, cognigate, app):
    client = create_client(idp, app["pool_id"], GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    assert len(secret) >= 32
    email = unique_email("secret")
    good = secret_hash(secret, email, client_id)
    bad = secret_hash(secret + "x", email, client_id)
    sign_up = {"ClientId": client_id, "Username": email, "Password": STRONG_PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": email}]}

    assert_error("NotAuthorizedException", idp.sign_up, **sign_up)
    assert_error("NotAuthorizedException", idp.sign_up, **sign_up, SecretHash=bad)
    assert_error("UserNotFoundException", idp.admin_get_user, UserPoolId=app["pool_id"], Username=email)
    idp.sign_up(**sign_up, SecretHash=good)

    code = cognigate.code(email, "sign_up_code")
    assert_error("NotAuthorizedException", idp.confirm_sign_up,
                 ClientId=client_id, Username=email, ConfirmationCode=code)
    idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code, SecretHash=good)

    assert_error("NotAuthorizedException", password_login, idp, client_id, email, STRONG_PASSWORD)
    assert_error("NotAuthorizedException", password_login, idp, client_id, email, STRONG_PASSWORD, SECRET_HASH=bad)
    # A hash computed for another user is as wrong as a made-up one.
    other = secret_hash(secret, unique_email("other"), client_id)
    assert_error("NotAuthorizedException", password_login, idp, client_id, email, STRONG_PASSWORD, SECRET_HASH=other)
    result = password_login(idp, client_id, email, STRONG_PASSWORD, SECRET_HASH=good)["AuthenticationResult"]
    verify_token(result["IdToken"], app["issuer"], "id", client_id)
    assert_error("NotAuthorizedException", refresh, idp, client_id, result["RefreshToken"])

    assert_error("NotAuthorizedException", idp.forgot_password, ClientId=client_id, Username=email)


def test_explicit_auth_flows_are_enforced(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("flows"))
    srp_only = create_client(idp, app["pool_id"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    message = assert_error("InvalidParameterException", password_login, idp, srp_only["ClientId"], email,
                           STRONG_PASSWORD)
    assert "USER_PASSWORD_AUTH" in message
    assert_error(
        "InvalidParameterException",
        idp.admin_initiate_auth,
        UserPoolId=app["pool_id"],
        ClientId=srp_only["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": STRONG_PASSWORD},
    )
    no_refresh = create_client(idp, app["pool_id"], ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    issued = tokens(idp, no_refresh["ClientId"], email, STRONG_PASSWORD)
    if "RefreshToken" in issued:
        assert_error("InvalidParameterException", refresh, idp, no_refresh["ClientId"], issued["RefreshToken"])


def test_a_refresh_token_only_works_through_its_own_client(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("bound"))
    other_client = create_client(idp, app["pool_id"])["ClientId"]
    issued = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    assert_error("NotAuthorizedException", refresh, idp, other_client, issued["RefreshToken"])
    # A pool's client cannot use it either.
    other_pool = create_pool(idp)
    assert_error("NotAuthorizedException", refresh, idp, create_client(idp, other_pool)["ClientId"],
                 issued["RefreshToken"])
    again = refresh(idp, app["client_id"], issued["RefreshToken"])["AuthenticationResult"]
    verify_token(again["AccessToken"], app["issuer"], "access", app["client_id"])


# ----- defect 5: disabled users; revocation -----


def test_a_disabled_user_gets_no_tokens(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("disabled"))
    issued = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    idp.admin_disable_user(UserPoolId=app["pool_id"], Username=email)

    message = assert_error("NotAuthorizedException", password_login, idp, app["client_id"], email, STRONG_PASSWORD)
    assert message == "User is disabled."
    assert_error("NotAuthorizedException", idp.admin_initiate_auth, UserPoolId=app["pool_id"],
                 ClientId=app["client_id"], AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                 AuthParameters={"USERNAME": email, "PASSWORD": STRONG_PASSWORD})
    assert_error("NotAuthorizedException", refresh, idp, app["client_id"], issued["RefreshToken"])
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=issued["AccessToken"])


def test_global_sign_out_revokes_every_session(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("signout"))
    first = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    second = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    idp.global_sign_out(AccessToken=second["AccessToken"])
    for issued in (first, second):
        assert_error("NotAuthorizedException", idp.get_user, AccessToken=issued["AccessToken"])
        assert_error("NotAuthorizedException", refresh, idp, app["client_id"], issued["RefreshToken"])
    tokens(idp, app["client_id"], email, STRONG_PASSWORD)  # signing in again works


def test_revoke_token_revokes_the_refresh_token_and_its_access_tokens(idp, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("revoke"))
    revoked = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    kept = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    refreshed = refresh(idp, app["client_id"], revoked["RefreshToken"])["AuthenticationResult"]

    idp.revoke_token(Token=revoked["RefreshToken"], ClientId=app["client_id"])
    assert_error("NotAuthorizedException", refresh, idp, app["client_id"], revoked["RefreshToken"])
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=revoked["AccessToken"])
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=refreshed["AccessToken"])
    # Another sign-in of the same user is untouched.
    assert idp.get_user(AccessToken=kept["AccessToken"])["Username"]
    refresh(idp, app["client_id"], kept["RefreshToken"])


# ----- defect 6: per-pool signing keys -----


def test_every_pool_has_its_own_signing_keys(idp, cognigate, app):
    pools = [app["pool_id"], create_pool(idp), cognigate.pools["customer"].pool_id, cognigate.pools["staff"].pool_id]
    seen_kids, seen_moduli = {}, {}
    for pool_id in pools:
        answer = requests.get(f"{cognigate.issuer(pool_id)}/.well-known/jwks.json", timeout=10)
        assert answer.status_code == 200
        keys = answer.json()["keys"]
        assert keys, pool_id
        for key in keys:
            assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
            assert key["kid"] not in {"dummy", "CognitoLocal", "test-key"}
            assert "d" not in key and "p" not in key, "a private part is published"
            assert key["kid"] not in seen_kids, f"kid {key['kid']} of {pool_id} is also {seen_kids.get(key['kid'])}'s"
            assert key["n"] not in seen_moduli, f"{pool_id} shares a key with {seen_moduli.get(key['n'])}"
            seen_kids[key["kid"]] = pool_id
            seen_moduli[key["n"]] = pool_id

    # A token of one pool does not verify against another pool's keys.
    email = confirmed_user(idp, app["pool_id"], unique_email("keys"))
    token = tokens(idp, app["client_id"], email, STRONG_PASSWORD)["AccessToken"]
    kid = jwt.get_unverified_header(token)["kid"]
    assert seen_kids[kid] == app["pool_id"]
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(f"{cognigate.issuer(pools[1])}/.well-known/jwks.json").get_signing_key_from_jwt(token)


def test_every_installation_generates_its_own_keys(cognigate):
    """cognito-local and moto ship one private key for everybody. Two installations of the same
    cognigate.toml share pool ids (they are stable), but never a signing key."""
    def keys_of(server, pool_id):
        answer = requests.get(f"{server.url}/{pool_id}/.well-known/jwks.json", timeout=10)
        assert answer.status_code == 200
        return {(k["kid"], k["n"]) for k in answer.json()["keys"]}

    with running_cognigate() as other:
        for kind in ("customer", "staff"):
            pool_id = cognigate.pools[kind].pool_id
            mine, theirs = keys_of(cognigate, pool_id), keys_of(other, other.pools[kind].pool_id)
            assert not {kid for kid, _ in mine} & {kid for kid, _ in theirs}, kind
            assert not {n for _, n in mine} & {n for _, n in theirs}, kind


# ----- Appendix A: password policy, token lifetimes, ResendConfirmationCode, protocol errors -----


@pytest.mark.parametrize(
    "weak",
    ["abc", "Sh0rt-Pw!", "no-upper-case-1!", "NO-LOWER-CASE-1!", "No-Digits-Here!", "NoSymbols12345"],
)
def test_sign_up_refuses_a_password_that_breaks_the_policy(idp, app, weak):
    email = unique_email("weak")
    assert_error("InvalidPasswordException", idp.sign_up, ClientId=app["client_id"], Username=email, Password=weak,
                 UserAttributes=[{"Name": "email", "Value": email}])
    assert_error("UserNotFoundException", idp.admin_get_user, UserPoolId=app["pool_id"], Username=email)


def test_weak_passwords_are_refused_on_every_path(idp, cognigate, app):
    pool_id, client_id = app["pool_id"], app["client_id"]
    email = unique_email("weakpaths")
    assert_error("InvalidPasswordException", idp.admin_create_user, UserPoolId=pool_id, Username=email,
                 TemporaryPassword="a", UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")
    idp.admin_create_user(UserPoolId=pool_id, Username=email, TemporaryPassword="Temporary-Pass-1!",
                          UserAttributes=[{"Name": "email", "Value": email},
                                          {"Name": "email_verified", "Value": "true"}],
                          MessageAction="SUPPRESS")

    challenge = password_login(idp, client_id, email, "Temporary-Pass-1!")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert_error("InvalidPasswordException", idp.respond_to_auth_challenge, ClientId=client_id,
                 ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
                 ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": "weak"})
    assert idp.admin_get_user(UserPoolId=pool_id, Username=email)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    challenge = password_login(idp, client_id, email, "Temporary-Pass-1!")
    idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                  Session=challenge["Session"],
                                  ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": STRONG_PASSWORD})

    assert_error("InvalidPasswordException", idp.admin_set_user_password, UserPoolId=pool_id, Username=email,
                 Password="weak", Permanent=True)
    access_token = tokens(idp, client_id, email, STRONG_PASSWORD)["AccessToken"]
    assert_error("InvalidPasswordException", idp.change_password, AccessToken=access_token,
                 PreviousPassword=STRONG_PASSWORD, ProposedPassword="weak")

    idp.forgot_password(ClientId=client_id, Username=email)
    code = cognigate.code(email, "forgot_password_code")
    assert_error("InvalidPasswordException", idp.confirm_forgot_password, ClientId=client_id, Username=email,
                 ConfirmationCode=code, Password="weak")
    assert_password_unchanged(idp, app, email, STRONG_PASSWORD, "weak")


def test_token_lifetimes_come_from_the_client(idp, cognigate, app):
    client = create_client(
        idp,
        app["pool_id"],
        AccessTokenValidity=5,
        IdTokenValidity=5,
        RefreshTokenValidity=60,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
    )
    described = idp.describe_user_pool_client(UserPoolId=app["pool_id"], ClientId=client["ClientId"])
    assert described["UserPoolClient"]["AccessTokenValidity"] == 5
    assert described["UserPoolClient"]["TokenValidityUnits"]["AccessToken"] == "minutes"

    email = confirmed_user(idp, app["pool_id"], unique_email("lifetime"))
    issued = tokens(idp, client["ClientId"], email, STRONG_PASSWORD)
    assert issued["ExpiresIn"] == 300
    access = verify_token(issued["AccessToken"], app["issuer"], "access", client["ClientId"])
    ident = verify_token(issued["IdToken"], app["issuer"], "id", client["ClientId"])
    assert access["exp"] - access["iat"] == 300
    assert ident["exp"] - ident["iat"] == 300


def test_resend_confirmation_code_sends_a_new_code_that_replaces_the_old(idp, cognigate, app):
    email = unique_email("resend")
    idp.sign_up(ClientId=app["client_id"], Username=email, Password=STRONG_PASSWORD,
                UserAttributes=[{"Name": "email", "Value": email}])
    first = cognigate.code(email, "sign_up_code")
    second = first
    for _ in range(3):  # a new random code can, rarely, equal the old one
        sent = idp.resend_confirmation_code(ClientId=app["client_id"], Username=email)
        assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        second = cognigate.code(email, "sign_up_code")
        if second != first:
            break
    assert second != first
    assert len(cognigate.outbox(email)) >= 2

    with pytest.raises(ClientError) as old:
        idp.confirm_sign_up(ClientId=app["client_id"], Username=email, ConfirmationCode=first)
    assert error_of(old)[0] in {"CodeMismatchException", "ExpiredCodeException"}
    idp.confirm_sign_up(ClientId=app["client_id"], Username=email, ConfirmationCode=second)
    tokens(idp, app["client_id"], email, STRONG_PASSWORD)


def wire(cognigate, target: str | None, body: str | bytes, content_type="application/x-amz-json-1.1"):
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    return requests.post(f"{cognigate.url}/", headers=headers, data=body, timeout=10)


@pytest.mark.parametrize(
    "target, body, expected",
    [
        ("AWSCognitoIdentityProviderService.MakeCoffee", "{}", "UnknownOperationException"),
        ("SomeOtherService.SignUp", "{}", "UnknownOperationException"),
        (None, "{}", "UnknownOperationException"),
        ("AWSCognitoIdentityProviderService.SignUp", "{not json", "SerializationException"),
        ("AWSCognitoIdentityProviderService.InitiateAuth", "[1, 2, 3]", "SerializationException"),
        ("AWSCognitoIdentityProviderService.InitiateAuth", b"\xff\xfe\x00garbage", "SerializationException"),
        ("AWSCognitoIdentityProviderService.InitiateAuth", '{"ClientId": 12, "AuthFlow": []}',
         "InvalidParameterException"),
        ("AWSCognitoIdentityProviderService.GetUser", "{}", "InvalidParameterException"),
    ],
)
def test_protocol_errors_are_cognito_errors_never_500(cognigate, target, body, expected):
    answer = wire(cognigate, target, body)
    assert answer.status_code == 400, (answer.status_code, answer.text)
    payload = answer.json()
    assert payload["__type"] == expected, payload
    assert isinstance(payload.get("message"), str) and payload["message"]


def test_an_operation_that_is_not_offered_answers_400(cognigate):
    answer = wire(cognigate, "AWSCognitoIdentityProviderService.DeleteUser", json.dumps({"AccessToken": "x"}))
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.json()["__type"].endswith("Exception")
