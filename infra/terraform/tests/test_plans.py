"""What Terraform really plans for each environment (scripts/terraform-tests builds the plans with a mocked
AWS account), compared with infra/cognigate.json: the environments differ exactly as the file says."""

from __future__ import annotations

import pytest

from conftest import ENVIRONMENTS, POOLS

TRIGGERS = {"pre_sign_up", "post_confirmation", "pre_token_generation", "post_authentication"}


def resources(plan: dict, pool: str) -> dict[tuple[str, object], dict]:
    """The planned resources of one pool's module instance, by (type, index)."""
    (child,) = [
        module for module in plan["planned_values"]["root_module"]["child_modules"]
        if module["address"] == f'module.pool["{pool}"]'
    ]
    return {(resource["type"], resource.get("index")): resource["values"] for resource in child["resources"]}


def cases():
    return [pytest.param(env, pool, id=f"{env}-{pool}") for env in ENVIRONMENTS for pool in POOLS]


@pytest.mark.parametrize(("env", "pool"), cases())
def test_user_pool_matches_the_shared_file(plans, shared, env, pool):
    expected = shared["environments"][env]["pools"][pool]
    user_pool = resources(plans[env], pool)[("aws_cognito_user_pool", None)]

    assert user_pool["name"] == f"{env}-{shared['service']}-cognito-{pool}-user-pool"
    assert user_pool["mfa_configuration"] == expected["mfa"]
    totp = expected["mfa"] != "OFF" and "SOFTWARE_TOKEN_MFA" in expected["mfaMethods"]
    assert [block["enabled"] for block in user_pool["software_token_mfa_configuration"]] == ([True] if totp else [])
    (password,) = user_pool["password_policy"]
    assert password == {
        "minimum_length": expected["password"]["minLength"],
        "require_lowercase": expected["password"]["requireLowercase"],
        "require_uppercase": expected["password"]["requireUppercase"],
        "require_numbers": expected["password"]["requireDigits"],
        "require_symbols": expected["password"]["requireSymbols"],
        "temporary_password_validity_days": expected["password"]["temporaryPasswordValidityDays"],
        **{key: value for key, value in password.items() if key == "password_history_size"},
    }
    (admin_create,) = user_pool["admin_create_user_config"]
    assert admin_create["allow_admin_create_user_only"] is (not expected["selfSignUp"])
    assert user_pool["deletion_protection"] == ("ACTIVE" if env == "prod" else "INACTIVE")
    assert user_pool["tags"]["Environment"] == env and user_pool["tags"]["Pool"] == pool


@pytest.mark.parametrize(("env", "pool"), cases())
def test_attributes_match_the_shared_file(plans, shared, env, pool):
    expected = shared["environments"][env]["pools"][pool]
    planned = resources(plans[env], pool)
    schema = {attribute["name"]: attribute for attribute in planned[("aws_cognito_user_pool", None)]["schema"]}
    for attribute in expected["standardAttributes"]:
        assert schema[attribute["name"]]["required"] is attribute["required"]
        assert schema[attribute["name"]]["mutable"] is attribute["mutable"]
    for attribute in expected["customAttributes"]:
        planned_attribute = schema[attribute["name"]]
        assert planned_attribute["attribute_data_type"] == attribute["type"]
        assert planned_attribute["mutable"] is attribute["mutable"]
        if attribute["type"] == "String":
            (constraints,) = planned_attribute["string_attribute_constraints"]
            assert constraints["min_length"] == str(attribute.get("minLength", 0))
            assert constraints["max_length"] == str(attribute.get("maxLength", 2048))
    assert len(schema) == len(expected["standardAttributes"]) + len(expected["customAttributes"])

    client = planned[("aws_cognito_user_pool_client", None)]
    writable = {attribute for attribute in client["write_attributes"] if attribute.startswith("custom:")}
    assert writable == {f"custom:{a['name']}" for a in expected["customAttributes"] if not a["adminOnly"]}
    assert {f"custom:{a['name']}" for a in expected["customAttributes"]} <= set(client["read_attributes"])


@pytest.mark.parametrize(("env", "pool"), cases())
def test_onboarding_state_is_declared_and_not_writable_by_the_client(plans, env, pool):
    planned = resources(plans[env], pool)
    schema = {attribute["name"]: attribute for attribute in planned[("aws_cognito_user_pool", None)]["schema"]}
    onboarding = schema["onboarding"]
    assert onboarding["attribute_data_type"] == "String" and onboarding["mutable"] is True
    assert onboarding["string_attribute_constraints"] == [{"min_length": "0", "max_length": "64"}]
    client = planned[("aws_cognito_user_pool_client", None)]
    assert "custom:onboarding" not in client["write_attributes"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_customer_business_attributes_are_immutable_and_set_at_sign_up(plans, env):
    planned = resources(plans[env], "customer")
    schema = {attribute["name"]: attribute for attribute in planned[("aws_cognito_user_pool", None)]["schema"]}
    client = planned[("aws_cognito_user_pool_client", None)]
    for name in ("company_name", "vat_number"):
        assert schema[name]["mutable"] is False, f"custom:{name} is immutable"
        assert f"custom:{name}" in client["write_attributes"], f"custom:{name} must be writable at sign-up"


@pytest.mark.parametrize(("env", "pool"), cases())
def test_client_lifetimes_match_the_shared_file(plans, shared, env, pool):
    tokens = shared["environments"][env]["pools"][pool]["tokens"]
    client = resources(plans[env], pool)[("aws_cognito_user_pool_client", None)]
    assert client["name"] == f"{env}-{shared['service']}-cognito-{pool}-app-client"
    assert (client["access_token_validity"], client["id_token_validity"], client["refresh_token_validity"]) == (
        tokens["accessMinutes"], tokens["idMinutes"], tokens["refreshMinutes"],
    )
    assert client["token_validity_units"] == [{"access_token": "minutes", "id_token": "minutes", "refresh_token": "minutes"}]


@pytest.mark.parametrize(("env", "pool"), cases())
def test_client_refresh_token_rotation_matches_the_shared_file(plans, shared, env, pool):
    tokens = shared["environments"][env]["pools"][pool]["tokens"]
    client = resources(plans[env], pool)[("aws_cognito_user_pool_client", None)]
    if tokens["rotateRefresh"]:
        assert client["refresh_token_rotation"] == [
            {"feature": "ENABLED", "retry_grace_period_seconds": tokens["rotationGraceSeconds"]},
        ]
        # Cognito refuses REFRESH_TOKEN_AUTH on a rotating client; cognigate refreshes with GetTokensFromRefreshToken.
        assert "ALLOW_REFRESH_TOKEN_AUTH" not in client["explicit_auth_flows"]
    else:
        assert client["refresh_token_rotation"] == []
        assert "ALLOW_REFRESH_TOKEN_AUTH" in client["explicit_auth_flows"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["explicit_auth_flows"], "cognigate signs in with USER_PASSWORD_AUTH"


@pytest.mark.parametrize(("env", "pool"), cases())
def test_groups_match_the_shared_file(plans, shared, env, pool):
    expected = shared["environments"][env]["pools"][pool]["groups"]
    planned = resources(plans[env], pool)
    groups = {index: values for (kind, index), values in planned.items() if kind == "aws_cognito_user_group"}
    assert {name: (group["precedence"], group["description"]) for name, group in groups.items()} == {
        group["name"]: (group["precedence"], group["description"]) for group in expected
    }


@pytest.mark.parametrize(("env", "pool"), cases())
def test_triggers_are_wired_with_invoke_permissions(plans, env, pool):
    arn = plans[env]["variables"]["triggers_lambda_arn"]["value"]
    planned = resources(plans[env], pool)
    (lambda_config,) = planned[("aws_cognito_user_pool", None)]["lambda_config"]
    assert lambda_config["pre_sign_up"] == lambda_config["post_confirmation"] == lambda_config["post_authentication"] == arn
    assert lambda_config["pre_token_generation_config"] == [{"lambda_arn": arn, "lambda_version": "V2_0"}]
    permissions = {index: values for (kind, index), values in planned.items() if kind == "aws_lambda_permission"}
    assert set(permissions) == TRIGGERS
    assert all(p["principal"] == "cognito-idp.amazonaws.com" and p["function_name"] == arn for p in permissions.values())


def test_environments_differ_as_the_file_says(plans, shared):
    """Across environments, a planned setting changes exactly when the file changes it."""

    def planned_settings(env, pool):
        planned = resources(plans[env], pool)
        user_pool, client = planned[("aws_cognito_user_pool", None)], planned[("aws_cognito_user_pool_client", None)]
        return (
            user_pool["mfa_configuration"],
            user_pool["password_policy"][0]["minimum_length"],
            (client["access_token_validity"], client["id_token_validity"], client["refresh_token_validity"]),
            [(r["feature"], r["retry_grace_period_seconds"]) for r in client["refresh_token_rotation"]],
        )

    def file_settings(env, pool):
        expected = shared["environments"][env]["pools"][pool]
        tokens = expected["tokens"]
        return (
            expected["mfa"],
            expected["password"]["minLength"],
            (tokens["accessMinutes"], tokens["idMinutes"], tokens["refreshMinutes"]),
            [("ENABLED", tokens["rotationGraceSeconds"])] if tokens["rotateRefresh"] else [],
        )

    for pool in POOLS:
        for first, second in [("dev", "staging"), ("staging", "prod"), ("dev", "prod")]:
            file_differs = file_settings(first, pool) != file_settings(second, pool)
            plan_differs = planned_settings(first, pool) != planned_settings(second, pool)
            assert file_differs == plan_differs, f"{pool}: {first} vs {second}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_secret_output_is_sensitive(plans, env):
    change = plans[env]["output_changes"]["cognigate_serve_environment"]
    assert change["after_sensitive"] is False
    secret = plans[env]["output_changes"]["cognigate_serve_secret_environment"]
    assert secret["after_sensitive"] is True


def test_optional_parts_appear_only_where_asked(plans, shared):
    """scripts/terraform-tests asks prod for a customer hosted UI and identity pool, and nothing else."""
    customer = resources(plans["prod"], "customer")
    assert customer[("aws_cognito_user_pool_domain", 0)]["domain"] == "marketplace-shop-prod"
    client = customer[("aws_cognito_user_pool_client", None)]
    assert client["allowed_oauth_flows_user_pool_client"] is True and client["allowed_oauth_flows"] == ["code"]
    assert client["callback_urls"] == ["https://shop.example.com/auth/callback"]
    identity_pool = customer[("aws_cognito_identity_pool", 0)]
    assert identity_pool["identity_pool_name"] == f"prod_{shared['service'].replace('-', '_')}_cognito_customer_identity_pool"
    assert identity_pool["allow_unauthenticated_identities"] is False
    assert customer[("aws_iam_role", 0)]["name"] == f"prod-{shared['service']}-cognito-customer-authenticated-role"

    optional = {"aws_cognito_user_pool_domain", "aws_cognito_identity_pool", "aws_iam_role"}
    for env, pool in [("prod", "staff"), ("dev", "customer"), ("dev", "staff"), ("staging", "customer")]:
        kinds = {kind for kind, _ in resources(plans[env], pool)}
        assert not kinds & optional, f"{env} {pool} plans {kinds & optional} without being asked"
