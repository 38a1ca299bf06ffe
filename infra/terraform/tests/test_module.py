"""The cognito module's interface, read from its source: the variables, outputs, naming and resources the
brief (issue 7) names, so that a renamed variable or a dropped validation fails here even on a machine
without Terraform."""

from __future__ import annotations

import re

import pytest

from conftest import MODULE

ABSENT = object()
UNCHECKED = object()

# Every variable the brief names, with its Terraform type and default (ABSENT: required, no default).
BRIEF_VARIABLES = {
    "environment": ("string", ABSENT),
    "project_name": ("string", "cognigate"),
    "user_pool_name": ("string", None),
    "app_client_name": ("string", None),
    "enable_mfa": ("bool", None),
    "password_minimum_length": ("number", 12),
    "token_validity_access": ("number", 1),
    "token_validity_refresh": ("number", 30),
    "generate_client_secret": ("bool", True),
    "enable_username_case_sensitivity": ("bool", False),
    "enable_identity_pool": ("bool", False),
    "custom_domain_name": ("string", None),
    "certificate_arn": ("string", None),
    "enable_hosted_ui": ("bool", False),
    "authenticated_role_name": ("string", None),
    "unauthenticated_role_name": ("string", None),
}

# What this project adds to the brief: the pool, MFA mode, deletion protection, groups, triggers, attributes.
PROJECT_VARIABLES = {
    "pool": ("string", ABSENT),
    "mfa_configuration": ("string", "OPTIONAL"),
    "mfa_methods": ("${list(string)}", ["SOFTWARE_TOKEN_MFA"]),
    "deletion_protection": ("bool", None),
    "user_pool_tier": ("string", "ESSENTIALS"),
    "advanced_security_mode": ("string", "OFF"),
    "self_sign_up_enabled": ("bool", False),
    "token_validity_minutes": (None, None),
    "groups": (None, []),
    "lambda_triggers": (None, {}),
    "custom_attributes": (None, UNCHECKED),
    "standard_attributes": (None, [{"name": "email", "required": True}]),
    "domain_prefix": ("string", None),
    "callback_urls": ("${list(string)}", []),
    "explicit_auth_flows": ("${list(string)}", ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]),
    "refresh_token_rotation": ("bool", True),
    "refresh_token_rotation_grace_seconds": ("number", 10),
}

# Variables whose values can be wrong in ways Terraform's type system does not catch.
MUST_VALIDATE = {
    "environment", "project_name", "pool", "user_pool_name", "app_client_name", "user_pool_tier",
    "advanced_security_mode", "deletion_protection", "mfa_configuration", "mfa_methods", "sms_role_arn",
    "password_minimum_length", "temporary_password_validity_days", "token_validity_access", "token_validity_id",
    "token_validity_refresh", "token_validity_minutes", "explicit_auth_flows", "refresh_token_rotation_grace_seconds",
    "standard_attributes",
    "custom_attributes", "groups", "lambda_triggers", "domain_prefix", "custom_domain_name", "certificate_arn",
    "enable_hosted_ui", "callback_urls", "logout_urls", "oauth_scopes", "allow_unauthenticated_identities",
    "authenticated_role_name", "unauthenticated_role_name", "authenticated_role_policy_json",
    "unauthenticated_role_policy_json", "ses_email_identity_arn", "from_email_address",
}

BRIEF_OUTPUTS = {
    "user_pool_id", "user_pool_arn", "app_client_id", "app_client_secret", "user_pool_endpoint", "user_pool_domain",
    "identity_pool_id", "authenticated_role_arn", "unauthenticated_role_arn", "custom_domain_url", "hosted_ui_url",
}


@pytest.mark.parametrize("name", sorted(BRIEF_VARIABLES))
def test_brief_variable_has_its_type_and_default(module, name):
    assert name in module.variables, f"variable {name} (named by the brief) is missing"
    variable = module.variables[name]
    expected_type, expected_default = BRIEF_VARIABLES[name]
    assert variable.get("type") == expected_type
    if expected_default is ABSENT:
        assert "default" not in variable, f"{name} must be required"
    else:
        assert variable.get("default", ABSENT) == expected_default


@pytest.mark.parametrize("name", sorted(PROJECT_VARIABLES))
def test_project_variable_exists_with_its_default(module, name):
    assert name in module.variables
    variable = module.variables[name]
    expected_type, expected_default = PROJECT_VARIABLES[name]
    if expected_type is not None:
        assert variable.get("type") == expected_type
    if expected_default is ABSENT:
        assert "default" not in variable
    elif expected_default is not UNCHECKED:
        assert variable.get("default", ABSENT) == expected_default


def test_every_variable_is_described(module):
    undescribed = [name for name, variable in module.variables.items() if len(variable.get("description", "")) < 20]
    assert not undescribed, f"variables without a real description: {undescribed}"


@pytest.mark.parametrize("name", sorted(MUST_VALIDATE))
def test_variable_is_validated_with_a_message_that_names_it(module, name):
    validations = module.variables[name].get("validation", [])
    assert validations, f"{name} has no validation block"
    for validation in validations:
        assert "condition" in validation
        message = validation.get("error_message", "")
        assert message.endswith("."), f"{name}: error messages are sentences: {message!r}"
        assert name in message, f"{name}: the error message must name the variable: {message!r}"


def test_environment_accepts_exactly_dev_staging_prod(module):
    (validation,) = module.variables["environment"]["validation"]
    assert re.findall(r'\\?"(\w+)\\?"', validation["condition"]) == ["dev", "staging", "prod"]


def test_mfa_modes_use_cognito_names(module):
    (validation,) = module.variables["mfa_configuration"]["validation"]
    assert re.findall(r'\\?"(\w+)\\?"', validation["condition"]) == ["OPTIONAL", "ON"]
    assert module.locals["mfa_enabled"] == '${coalesce(var.enable_mfa, var.environment != "dev")}', (
        "enable_mfa = null must mean: on outside dev"
    )


ADMIN_ONLY_ATTRIBUTES = ("role", "base_type", "tier", "team", "onboarding")


def test_cognigate_admin_attributes_are_required_and_admin_only(module):
    default = module.variables["custom_attributes"]["default"]
    by_name = {attribute["name"]: attribute for attribute in default}
    for name in ADMIN_ONLY_ATTRIBUTES:
        assert by_name[name].get("admin_only") is True, f"custom:{name} must not be writable by app clients"
    conditions = " ".join(validation["condition"] for validation in module.variables["custom_attributes"]["validation"])
    assert "attribute.admin_only" in conditions
    for name in ADMIN_ONLY_ATTRIBUTES:
        assert f'"{name}"' in conditions, f"the validation must require custom:{name}"


def test_client_writes_every_attribute_but_the_admin_only_ones(module):
    """Immutable attributes stay writable: Cognito sets them at sign-up only, through a client allowed to."""
    write_attributes = module.locals["write_attributes"]
    assert "admin_only" in write_attributes, "admin-only attributes must be filtered out"
    assert "mutable" not in write_attributes, "immutable attributes must stay writable (sign-up sets them)"


def test_naming_convention(module):
    assert module.locals["name_prefix"] == "${var.environment}-${var.project_name}-cognito-${var.pool}"
    expected_suffix = {
        "user_pool_name": "-user-pool",
        "app_client_name": "-app-client",
        "authenticated_role_name": "-authenticated-role",
        "unauthenticated_role_name": "-unauthenticated-role",
    }
    for local, suffix in expected_suffix.items():
        assert f'${{local.name_prefix}}{suffix}' in module.locals[local], local
        assert f"var.{local}" in module.locals[local], f"{local} must be overridable through var.{local}"
    assert module.resources[("aws_cognito_user_pool", "this")]["name"] == "${local.user_pool_name}"
    assert module.resources[("aws_cognito_user_pool_client", "this")]["name"] == "${local.app_client_name}"
    assert module.resources[("aws_iam_role", "authenticated")]["name"] == "${local.authenticated_role_name}"
    assert module.resources[("aws_iam_role", "unauthenticated")]["name"] == "${local.unauthenticated_role_name}"
    assert module.resources[("aws_cognito_identity_pool", "this")]["identity_pool_name"] == "${local.identity_pool_name}"


def test_brief_resources_exist(module):
    for address in [
        ("aws_cognito_user_pool", "this"),
        ("aws_cognito_user_pool_client", "this"),
        ("aws_cognito_user_pool_domain", "this"),
        ("aws_cognito_user_group", "this"),
        ("aws_cognito_identity_pool", "this"),
        ("aws_cognito_identity_pool_roles_attachment", "this"),
        ("aws_iam_role", "authenticated"),
        ("aws_iam_role", "unauthenticated"),
        ("aws_iam_role_policy", "authenticated"),
        ("aws_lambda_permission", "trigger"),
    ]:
        assert address in module.resources, f"{address[0]}.{address[1]} is missing"


def test_optional_resources_are_gated(module):
    assert module.resources[("aws_cognito_identity_pool", "this")]["count"] == "${var.enable_identity_pool ? 1 : 0}"
    assert module.resources[("aws_iam_role", "unauthenticated")]["count"] == "${var.allow_unauthenticated_identities ? 1 : 0}"
    assert module.resources[("aws_cognito_user_pool_domain", "this")]["count"] == "${local.domain != null ? 1 : 0}"


def test_groups_come_from_the_variable_with_precedence(module):
    group = module.resources[("aws_cognito_user_group", "this")]
    assert group["for_each"] == "${{for group in var.groups : group.name => group}}"
    assert group["precedence"] == "${each.value.precedence}"
    assert group["description"] == "${each.value.description}"
    assert group["user_pool_id"] == "${aws_cognito_user_pool.this.id}"


def test_user_pool_security_settings(module):
    pool = module.resources[("aws_cognito_user_pool", "this")]
    assert pool["deletion_protection"] == '${local.deletion_protection ? "ACTIVE" : "INACTIVE"}'
    assert pool["mfa_configuration"] == "${local.mfa_configuration}"
    assert pool["username_attributes"] == ["email"] and pool["auto_verified_attributes"] == ["email"]
    (policy,) = pool["password_policy"]
    assert policy["minimum_length"] == "${var.password_minimum_length}"
    dynamic = {label: body for block in pool["dynamic"] for label, body in block.items()}
    assert dynamic["software_token_mfa_configuration"]["for_each"] == "${local.totp_enabled ? [true] : []}"
    (lambda_config,) = dynamic["lambda_config"]["content"]
    nested = {label: body for block in lambda_config["dynamic"] for label, body in block.items()}
    (pre_token,) = nested["pre_token_generation_config"]["content"]
    assert pre_token["lambda_version"] == "V2_0"


def test_client_records_lifetimes_in_minutes(module):
    client = module.resources[("aws_cognito_user_pool_client", "this")]
    (units,) = client["token_validity_units"]
    assert units == {"access_token": "minutes", "id_token": "minutes", "refresh_token": "minutes"}
    assert client["access_token_validity"] == "${local.token_minutes.access}"
    assert client["refresh_token_validity"] == "${local.token_minutes.refresh}"
    assert client["generate_secret"] == "${var.generate_client_secret}"
    assert client["prevent_user_existence_errors"] == "ENABLED"
    assert client["enable_token_revocation"] is True
    minutes = module.locals["token_minutes"]
    assert "var.token_validity_access * 60" in minutes and "var.token_validity_refresh * 1440" in minutes


def test_client_rotates_refresh_tokens_as_the_variables_say(module):
    """Rotation is Cognito's RefreshTokenRotation block, present exactly when asked for, and REFRESH_TOKEN_AUTH
    (which Cognito refuses on a rotating client) is in the client's flows exactly when it is absent."""
    client = module.resources[("aws_cognito_user_pool_client", "this")]
    dynamic = {label: body for block in client.get("dynamic", []) for label, body in block.items()}
    rotation = dynamic["refresh_token_rotation"]
    assert rotation["for_each"] == "${var.refresh_token_rotation ? [true] : []}"
    (content,) = rotation["content"]
    assert content == {
        "feature": "ENABLED",
        "retry_grace_period_seconds": "${var.refresh_token_rotation_grace_seconds}",
    }
    assert client["explicit_auth_flows"] == "${local.explicit_auth_flows}"
    flows = module.locals["explicit_auth_flows"]
    assert flows.startswith("${var.refresh_token_rotation ? var.explicit_auth_flows : ")
    assert '"ALLOW_REFRESH_TOKEN_AUTH"' in flows
    conditions = " ".join(v["condition"] for v in module.variables["explicit_auth_flows"]["validation"])
    assert "var.refresh_token_rotation" in conditions, "a listed REFRESH_TOKEN_AUTH must be refused on a rotating client"


@pytest.mark.parametrize("name", sorted(BRIEF_OUTPUTS | {"cognigate_serve_environment", "cognigate_serve_secret_environment"}))
def test_output_exists_and_is_described(module, name):
    assert name in module.outputs, f"output {name} is missing"
    assert len(module.outputs[name].get("description", "")) >= 20


def test_secrets_only_leave_through_sensitive_outputs(module):
    for name, output in module.outputs.items():
        if "aws_cognito_user_pool_client.this.client_secret" in str(output["value"]):
            assert output.get("sensitive") is True, f"output {name} exposes the client secret without sensitive = true"
    assert module.outputs["app_client_secret"].get("sensitive") is True
    assert module.outputs["cognigate_serve_environment"].get("sensitive") is not True


def test_serve_environment_names_cognigate_settings(module):
    serve = module.outputs["cognigate_serve_environment"]["value"]
    for key in ["PROVIDER", "COGNITO__REGION", "COGNITO__USER_POOL_ID", "COGNITO__CLIENT_ID", "COGNITO__CLIENT_SECRET"]:
        assert f"${{local.serve_prefix}}{key}" in serve, key
    assert module.locals["serve_prefix"] == "COGNIGATE_POOLS__${upper(var.pool)}__"
    assert module.locals["client_secret_env_var"] == "COGNIGATE_SECRET_${upper(var.pool)}_CLIENT"


def test_provider_constraint_accepts_the_local_mirror(module):
    (block,) = [block for block in module.terraform if "required_providers" in block]
    (providers,) = block["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["aws"]["version"] == ">= 5.83, < 7.0"
    assert block["required_version"] == ">= 1.9"


def test_module_has_its_files():
    for name in ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"]:
        assert (MODULE / name).is_file(), name
    readme = (MODULE / "README.md").read_text(encoding="utf-8")
    module = __import__("conftest").Config(MODULE)
    undocumented = [name for name in list(module.variables) + list(module.outputs) if f"`{name}`" not in readme]
    assert not undocumented, f"README.md does not document: {undocumented}"
