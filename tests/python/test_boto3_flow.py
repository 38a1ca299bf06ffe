"""An ordinary boto3 program against cognigate: nothing but `endpoint_url` differs from talking to AWS.

Each test makes its own user (and, where it changes pool settings, its own pool), so the tests do not depend
on each other or on their order.
"""

from __future__ import annotations

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    assert_error,
    confirmed_user,
    create_client,
    create_pool,
    fresh_totp,
    password_login,
    refresh,
    tokens,
    totp_code,
    unique,
    unique_email,
    verify_token,
    wrong_code,
)


@pytest.fixture(scope="module")
def app(idp, cognigate):
    """One pool and client in the shape a typical application creates them."""
    pool_id = idp.create_user_pool(
        PoolName=unique("flow"),
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    return {"pool_id": pool_id, "client_id": client["ClientId"], "issuer": cognigate.issuer(pool_id)}


def attributes(user: dict, key: str = "UserAttributes") -> dict:
    return {a["Name"]: a["Value"] for a in user[key]}


def check_tokens(result: dict, app: dict, with_refresh: bool = True) -> tuple[dict, dict]:
    """Verifies the access and ID tokens of an AuthenticationResult with PyJWT; returns their claims."""
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] > 0
    if with_refresh:
        assert result["RefreshToken"]
    access = verify_token(result["AccessToken"], app["issuer"], "access", app["client_id"])
    ident = verify_token(result["IdToken"], app["issuer"], "id", app["client_id"])
    assert access["sub"] == ident["sub"]
    return access, ident


def test_pool_and_client_are_described_and_listed(idp, app):
    pool = idp.describe_user_pool(UserPoolId=app["pool_id"])["UserPool"]
    assert pool["Id"] == app["pool_id"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 10
    assert policy["RequireUppercase"] and policy["RequireLowercase"]
    assert policy["RequireNumbers"] and policy["RequireSymbols"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]

    client = idp.describe_user_pool_client(UserPoolId=app["pool_id"], ClientId=app["client_id"])["UserPoolClient"]
    assert client["ClientId"] == app["client_id"]
    assert client["ClientName"] == "web"
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    ]

    pool_ids = [
        p["Id"]
        for page in idp.get_paginator("list_user_pools").paginate(MaxResults=10)
        for p in page["UserPools"]
    ]
    assert app["pool_id"] in pool_ids
    clients = idp.list_user_pool_clients(UserPoolId=app["pool_id"], MaxResults=10)["UserPoolClients"]
    assert [c["ClientId"] for c in clients] == [app["client_id"]]

    assert_error("ResourceNotFoundException", idp.describe_user_pool, UserPoolId="local_NoSuchPool")


def test_sign_up_confirm_sign_in_and_refresh(idp, cognigate, app):
    email = unique_email("signup")
    signed_up = idp.sign_up(
        ClientId=app["client_id"],
        Username=email,
        Password=STRONG_PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert signed_up["CodeDeliveryDetails"]["AttributeName"] == "email"
    sub = signed_up["UserSub"]

    assert_error("UserNotConfirmedException", password_login, idp, app["client_id"], email, STRONG_PASSWORD)

    code = cognigate.code(email, "sign_up_code")
    assert_error(
        "CodeMismatchException",
        idp.confirm_sign_up,
        ClientId=app["client_id"],
        Username=email,
        ConfirmationCode=wrong_code(code),
    )
    idp.confirm_sign_up(ClientId=app["client_id"], Username=email, ConfirmationCode=code)

    result = tokens(idp, app["client_id"], email, STRONG_PASSWORD)
    access, ident = check_tokens(result, app)
    assert access["sub"] == sub
    assert ident["email"] == email
    assert ident["email_verified"] is True

    refreshed = refresh(idp, app["client_id"], result["RefreshToken"])["AuthenticationResult"]
    new_access, new_ident = check_tokens(refreshed, app, with_refresh=False)
    assert new_access["sub"] == sub
    assert new_access["jti"] != access["jti"]
    # A refresh continues the same sign-in: same origin_jti and auth_time, as Cognito does.
    assert new_access["origin_jti"] == access["origin_jti"]
    assert new_access["auth_time"] == access["auth_time"]
    assert new_ident["auth_time"] == ident["auth_time"]

    me = idp.get_user(AccessToken=refreshed["AccessToken"])
    assert attributes(me)["email"] == email
    assert attributes(me)["email_verified"] == "true"
    assert attributes(me)["sub"] == sub


def test_an_email_username_pool_generates_each_username(idp, app):
    """With UsernameAttributes=[email], users sign in with their email, but Cognito generates the username
    (the sub): AdminGetUser, ListUsers, the access token's `username` and the ID token's `cognito:username`
    all show it, never the email."""
    email = unique_email("generated")
    sub = idp.sign_up(
        ClientId=app["client_id"],
        Username=email,
        Password=STRONG_PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )["UserSub"]
    idp.admin_confirm_sign_up(UserPoolId=app["pool_id"], Username=email)

    assert idp.admin_get_user(UserPoolId=app["pool_id"], Username=email)["Username"] == sub
    listed = idp.list_users(UserPoolId=app["pool_id"], Filter=f'email = "{email}"')["Users"]
    assert [u["Username"] for u in listed] == [sub]
    access, ident = check_tokens(tokens(idp, app["client_id"], email, STRONG_PASSWORD), app)
    assert access["username"] == sub
    assert ident["cognito:username"] == sub
    assert ident["email"] == email


def test_totp_mfa_enrolment_and_sign_in(idp, cognigate):
    pool_id = create_pool(idp)
    client_id = create_client(idp, pool_id)["ClientId"]
    app = {"pool_id": pool_id, "client_id": client_id, "issuer": cognigate.issuer(pool_id)}
    config = idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"]["Enabled"] is True
    assert idp.get_user_pool_mfa_config(UserPoolId=pool_id)["MfaConfiguration"] == "OPTIONAL"

    email = confirmed_user(idp, pool_id, unique_email("totp"))
    access_token = tokens(idp, client_id, email, STRONG_PASSWORD)["AccessToken"]

    secret = idp.associate_software_token(AccessToken=access_token)["SecretCode"]
    totp = pyotp.TOTP(secret)
    code, step = totp_code(totp)
    assert_error(
        "EnableSoftwareTokenMFAException",
        idp.verify_software_token,
        AccessToken=access_token,
        UserCode=wrong_code(code),
    )
    verified = idp.verify_software_token(AccessToken=access_token, UserCode=code, FriendlyDeviceName="phone")
    assert verified["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(
        AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    me = idp.get_user(AccessToken=access_token)
    assert me["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert me["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in challenge
    # The code that enrolled the device has been used: TOTP codes are single-use.
    assert_error(
        "CodeMismatchException",
        idp.respond_to_auth_challenge,
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": code},
    )

    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    fresh, _ = fresh_totp(totp, step)
    answer = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": fresh},
    )
    access, _ = check_tokens(answer["AuthenticationResult"], app)
    assert access["username"]


def test_mfa_setup_when_the_pool_requires_mfa(idp, cognigate):
    """MfaConfiguration ON: a user without a second factor is made to enrol one (MFA_SETUP) before any
    tokens, through AssociateSoftwareToken and VerifySoftwareToken with the challenge's Session."""
    pool_id = create_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client_id = create_client(idp, pool_id)["ClientId"]
    app = {"pool_id": pool_id, "client_id": client_id, "issuer": cognigate.issuer(pool_id)}
    email = confirmed_user(idp, pool_id, unique_email("enrol"))

    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in challenge
    # Answering before enrolling gets no tokens.
    with pytest.raises(ClientError) as premature:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="MFA_SETUP", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": email},
        )
    assert premature.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert premature.value.response["Error"]["Code"] in {"InvalidParameterException", "NotAuthorizedException"}

    associated = idp.associate_software_token(Session=challenge["Session"])
    totp = pyotp.TOTP(associated["SecretCode"])
    code, _ = totp_code(totp)
    verified = idp.verify_software_token(Session=associated["Session"], UserCode=code)
    assert verified["Status"] == "SUCCESS"
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
        ChallengeResponses={"USERNAME": email},
    )
    check_tokens(done["AuthenticationResult"], app)
    # From now on, a sign-in asks for the code.
    assert password_login(idp, client_id, email, STRONG_PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_a_mistyped_code_during_mfa_setup_can_be_typed_again(idp):
    """A wrong code in VerifySoftwareToken is an EnableSoftwareTokenMFAException; the user types the code
    again with the same Session (what Amplify's set-up screen does) instead of signing in from scratch."""
    pool_id = create_pool(idp)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client_id = create_client(idp, pool_id)["ClientId"]
    email = confirmed_user(idp, pool_id, unique_email("retype"))
    challenge = password_login(idp, client_id, email, STRONG_PASSWORD)
    assert challenge["ChallengeName"] == "MFA_SETUP"
    associated = idp.associate_software_token(Session=challenge["Session"])
    code, _ = totp_code(pyotp.TOTP(associated["SecretCode"]))
    assert_error("EnableSoftwareTokenMFAException", idp.verify_software_token,
                 Session=associated["Session"], UserCode=wrong_code(code))
    verified = idp.verify_software_token(Session=associated["Session"], UserCode=code)
    assert verified["Status"] == "SUCCESS"


def test_forgot_password_with_the_emailed_code(idp, cognigate, app):
    email = confirmed_user(idp, app["pool_id"], unique_email("forgot"))
    sent = idp.forgot_password(ClientId=app["client_id"], Username=email)
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = cognigate.code(email, "forgot_password_code")

    idp.confirm_forgot_password(
        ClientId=app["client_id"], Username=email, ConfirmationCode=code, Password=OTHER_STRONG_PASSWORD
    )
    assert_error("NotAuthorizedException", password_login, idp, app["client_id"], email, STRONG_PASSWORD)
    check_tokens(tokens(idp, app["client_id"], email, OTHER_STRONG_PASSWORD), app)
    # The code is spent: Cognito answers as for an expired code.
    assert_error(
        "ExpiredCodeException",
        idp.confirm_forgot_password,
        ClientId=app["client_id"],
        Username=email,
        ConfirmationCode=code,
        Password=STRONG_PASSWORD,
    )


def test_admin_create_user_then_new_password_required(idp, cognigate, app):
    email = unique_email("invited")
    created = idp.admin_create_user(
        UserPoolId=app["pool_id"],
        Username=email,
        TemporaryPassword="Temporary-Pass-1",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert created["Enabled"] is True
    assert attributes(created, "Attributes")["email"] == email
    assert cognigate.outbox(email), "AdminCreateUser sends an invitation"

    challenge = password_login(idp, app["client_id"], email, "Temporary-Pass-1")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answer = idp.respond_to_auth_challenge(
        ClientId=app["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": STRONG_PASSWORD},
    )
    check_tokens(answer["AuthenticationResult"], app)
    assert idp.admin_get_user(UserPoolId=app["pool_id"], Username=email)["UserStatus"] == "CONFIRMED"
    check_tokens(tokens(idp, app["client_id"], email, STRONG_PASSWORD), app)
    assert_error("NotAuthorizedException", password_login, idp, app["client_id"], email, "Temporary-Pass-1")


def test_admin_user_management(idp, cognigate, app):
    pool_id, client_id = app["pool_id"], app["client_id"]
    email = confirmed_user(idp, pool_id, unique_email("admin"))

    user = idp.admin_get_user(UserPoolId=pool_id, Username=email)
    assert user["UserStatus"] == "CONFIRMED"
    assert user["Enabled"] is True
    assert attributes(user)["email"] == email

    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username=email, UserAttributes=[{"Name": "name", "Value": "Ada Lovelace"}]
    )
    assert attributes(idp.admin_get_user(UserPoolId=pool_id, Username=email))["name"] == "Ada Lovelace"

    first = tokens(idp, client_id, email, STRONG_PASSWORD)
    assert check_tokens(first, app)[1]["name"] == "Ada Lovelace"  # the ID token carries the attributes
    idp.admin_disable_user(UserPoolId=pool_id, Username=email)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=email)["Enabled"] is False
    assert_error("NotAuthorizedException", password_login, idp, client_id, email, STRONG_PASSWORD)
    assert_error("NotAuthorizedException", refresh, idp, client_id, first["RefreshToken"])
    idp.admin_enable_user(UserPoolId=pool_id, Username=email)
    second = tokens(idp, client_id, email, STRONG_PASSWORD)

    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username=email)
    assert_error("NotAuthorizedException", refresh, idp, client_id, second["RefreshToken"])
    assert_error("NotAuthorizedException", idp.get_user, AccessToken=second["AccessToken"])

    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=OTHER_STRONG_PASSWORD, Permanent=True)
    assert_error("NotAuthorizedException", password_login, idp, client_id, email, STRONG_PASSWORD)
    tokens(idp, client_id, email, OTHER_STRONG_PASSWORD)

    idp.admin_delete_user(UserPoolId=pool_id, Username=email)
    assert_error("UserNotFoundException", idp.admin_get_user, UserPoolId=pool_id, Username=email)
    assert_error("NotAuthorizedException", password_login, idp, client_id, email, OTHER_STRONG_PASSWORD)


def test_admin_reset_user_password_sends_the_user_through_a_reset(idp, cognigate, app):
    pool_id, client_id = app["pool_id"], app["client_id"]
    email = confirmed_user(idp, pool_id, unique_email("adminreset"))
    issued = tokens(idp, client_id, email, STRONG_PASSWORD)

    idp.admin_reset_user_password(UserPoolId=pool_id, Username=email)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=email)["UserStatus"] == "RESET_REQUIRED"
    code = cognigate.code(email, "forgot_password_code")
    assert_error("NotAuthorizedException", refresh, idp, client_id, issued["RefreshToken"])
    # The API reference: "If a user tries to sign in after the API is called, Amazon Cognito responds with a
    # PasswordResetRequiredException error" (the user exists, so PreventUserExistenceErrors does not apply).
    assert_error("PasswordResetRequiredException", password_login, idp, client_id, email, STRONG_PASSWORD)

    idp.confirm_forgot_password(
        ClientId=client_id, Username=email, ConfirmationCode=code, Password=OTHER_STRONG_PASSWORD
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username=email)["UserStatus"] == "CONFIRMED"
    tokens(idp, client_id, email, OTHER_STRONG_PASSWORD)


def test_groups_and_the_groups_claim(idp, app):
    pool_id, client_id = app["pool_id"], app["client_id"]
    group = unique("staff")
    created = idp.create_group(UserPoolId=pool_id, GroupName=group, Description="The staff", Precedence=1)["Group"]
    assert created["GroupName"] == group
    assert created["Precedence"] == 1
    assert group in [g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id, Limit=60)["Groups"]]
    assert_error("GroupExistsException", idp.create_group, UserPoolId=pool_id, GroupName=group)

    email = confirmed_user(idp, pool_id, unique_email("grouped"))
    before, _ = check_tokens(tokens(idp, client_id, email, STRONG_PASSWORD), app)
    assert "cognito:groups" not in before

    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    listed = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"]
    assert [g["GroupName"] for g in listed] == [group]
    members = idp.list_users_in_group(UserPoolId=pool_id, GroupName=group)["Users"]
    assert [attributes(u, "Attributes")["email"] for u in members] == [email]

    access, ident = check_tokens(tokens(idp, client_id, email, STRONG_PASSWORD), app)
    assert access["cognito:groups"] == [group]
    assert ident["cognito:groups"] == [group]


def test_list_users_with_filter_and_pagination(idp, cognigate):
    pool_id = create_pool(idp)
    prefix = unique("page")
    emails = sorted(confirmed_user(idp, pool_id, f"{prefix}-{i}@example.com") for i in range(3))
    confirmed_user(idp, pool_id, unique_email("someone-else"))

    page = idp.list_users(UserPoolId=pool_id, Filter=f'email ^= "{prefix}"', Limit=2)
    assert len(page["Users"]) == 2
    assert page.get("PaginationToken")
    rest = idp.list_users(
        UserPoolId=pool_id, Filter=f'email ^= "{prefix}"', Limit=2, PaginationToken=page["PaginationToken"]
    )
    assert len(rest["Users"]) == 1
    assert not rest.get("PaginationToken")
    found = sorted(attributes(u, "Attributes")["email"] for u in page["Users"] + rest["Users"])
    assert found == emails

    exact = idp.list_users(UserPoolId=pool_id, Filter=f'email = "{emails[1]}"')["Users"]
    assert [attributes(u, "Attributes")["email"] for u in exact] == [emails[1]]
    assert idp.list_users(UserPoolId=pool_id, Filter='email = "nobody@example.com"')["Users"] == []
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 4


def test_the_configured_customer_pool_printed_at_start_up(idp, cognigate):
    pool = cognigate.pools["customer"]
    assert pool.issuer == cognigate.issuer(pool.pool_id)
    app = {"pool_id": pool.pool_id, "client_id": pool.client_id, "issuer": pool.issuer}
    email = unique_email("customer")
    idp.sign_up(
        ClientId=pool.client_id,
        Username=email,
        Password=STRONG_PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    idp.confirm_sign_up(ClientId=pool.client_id, Username=email, ConfirmationCode=cognigate.code(email))
    access, ident = check_tokens(tokens(idp, pool.client_id, email, STRONG_PASSWORD), app)
    assert ident["email"] == email
    assert idp.admin_get_user(UserPoolId=pool.pool_id, Username=email)["UserStatus"] == "CONFIRMED"


def front_door_client_id(idp, pool) -> str:
    """The id of cognigate's own app client of a configured pool: of the pool's two clients, the one that is
    not the public dev client printed at start-up."""
    clients = idp.list_user_pool_clients(UserPoolId=pool.pool_id, MaxResults=60)["UserPoolClients"]
    ids = {c["ClientId"] for c in clients}
    assert len(ids) == 2 and pool.client_id in ids, clients
    (own,) = ids - {pool.client_id}
    return own


@pytest.mark.parametrize("kind", ["customer", "staff"])
def test_cognigate_own_client_of_a_configured_pool_is_not_served_over_the_wire(idp, cognigate, kind):
    """The auth API reaches a configured pool through a client of its own (with its rate limits, lockout,
    onboarding and audit in front). The wire refuses any request naming that client, carrying a token issued
    to it or one of its challenge sessions; the printed dev client keeps working."""
    pool = cognigate.pools[kind]
    own = front_door_client_id(idp, pool)
    email = confirmed_user(idp, pool.pool_id, unique_email(f"frontdoor-{kind}"))

    assert_error("NotAuthorizedException", password_login, idp, own, email, STRONG_PASSWORD)
    assert_error("NotAuthorizedException", idp.admin_initiate_auth, UserPoolId=pool.pool_id, ClientId=own,
                 AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": STRONG_PASSWORD})
    assert_error("NotAuthorizedException", idp.describe_user_pool_client, UserPoolId=pool.pool_id, ClientId=own)
    assert_error("NotAuthorizedException", idp.forgot_password, ClientId=own, Username=email)
    assert_error("NotAuthorizedException", idp.sign_up, ClientId=own, Username=unique_email("frontdoor"),
                 Password=STRONG_PASSWORD)
    assert not [m for m in cognigate.outbox(email) if m["kind"] == "forgot_password_code"]

    # The printed client is served, for the same user and password.
    described = idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id)["UserPoolClient"]
    assert "ClientSecret" not in described
    signed_in = password_login(idp, pool.client_id, email, STRONG_PASSWORD)
    assert signed_in.get("AuthenticationResult") or signed_in.get("ChallengeName") == "MFA_SETUP", signed_in

    # What the auth API hands out for its own client is no good on the wire either.
    answer = requests.post(f"{cognigate.url}/auth/{kind}/login", json={"email": email, "password": STRONG_PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    if kind == "customer":
        issued = answer.json()
        access = verify_token(issued["accessToken"], pool.issuer, "access", own)
        assert access["username"]
        assert_error("NotAuthorizedException", idp.get_user, AccessToken=issued["accessToken"])
        assert_error("NotAuthorizedException", idp.global_sign_out, AccessToken=issued["accessToken"])
        assert_error("NotAuthorizedException", refresh, idp, own, issued["refreshToken"])
        assert_error("NotAuthorizedException", refresh, idp, pool.client_id, issued["refreshToken"])
        # The sign-in was not ended by the refused calls: the auth API still knows the token.
        me = requests.get(f"{cognigate.url}/auth/{kind}/me",
                          headers={"Authorization": f"Bearer {issued['accessToken']}"}, timeout=30)
        assert me.status_code == 200, me.text
    else:  # the staff pool requires MFA: the auth API answers with an enrolment session
        challenge = answer.json()
        assert challenge["challenge"] == "MFA_SETUP", challenge
        assert_error("NotAuthorizedException", idp.associate_software_token, Session=challenge["session"])
        assert_error("NotAuthorizedException", idp.respond_to_auth_challenge, ClientId=pool.client_id,
                     ChallengeName="MFA_SETUP", Session=challenge["session"], ChallengeResponses={"USERNAME": email})
