"""The dev, staging and prod environments, read from their source and from infra/cognigate.json.

The environments must take every pool setting from the generated shared file, never a typed copy, and every
path they read must exist in the file for both pools of every environment: a renamed key in the generator
fails here with the path, not at `terraform plan` time on someone's laptop."""

from __future__ import annotations

import re

import pytest

from conftest import ENVIRONMENTS, MODULE, POOLS

# How each module argument is fed in every environment. Pool settings come from the shared file (each.value);
# the rest are deployment choices (local.deployment) or operator inputs (var.*).
EXPECTED_ARGUMENTS = {
    "source": "../../modules/cognito",
    "for_each": "${local.pools}",
    "environment": "${local.environment}",
    "project_name": "${local.cognigate.service}",
    "pool": "${each.key}",
    "self_sign_up_enabled": "${each.value.selfSignUp}",
    "enable_mfa": '${each.value.mfa != "OFF"}',
    "mfa_configuration": '${each.value.mfa == "ON" ? "ON" : "OPTIONAL"}',
    "mfa_methods": "${each.value.mfaMethods}",
    "password_minimum_length": "${each.value.password.minLength}",
    "password_require_lowercase": "${each.value.password.requireLowercase}",
    "password_require_uppercase": "${each.value.password.requireUppercase}",
    "password_require_numbers": "${each.value.password.requireDigits}",
    "password_require_symbols": "${each.value.password.requireSymbols}",
    "temporary_password_validity_days": "${each.value.password.temporaryPasswordValidityDays}",
    "token_validity_minutes": {
        "access": "${each.value.tokens.accessMinutes}",
        "id": "${each.value.tokens.idMinutes}",
        "refresh": "${each.value.tokens.refreshMinutes}",
    },
    "refresh_token_rotation": "${each.value.tokens.rotateRefresh}",
    "refresh_token_rotation_grace_seconds": "${each.value.tokens.rotationGraceSeconds}",
}

# Paths inside a pool of cognigate.json that the for-expressions read from each list item.
ITEM_PATHS = {
    "standardAttributes": {"name", "required", "mutable"},
    "customAttributes": {"name", "type", "mutable", "adminOnly"},
    "groups": {"name", "description", "precedence"},
}


def each_value_paths(expression) -> set[str]:
    """Every each.value.<path> an argument reads (dots between keys)."""
    text = str(expression)
    return set(re.findall(r"each\.value\.([A-Za-z_][\w.]*)", text))


def resolve(pool: dict, path: str):
    value = pool
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(path)
        value = value[key]
    return value


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_environment_reads_the_shared_file(environments, name):
    env = environments[name]
    assert env.locals["environment"] == name
    assert env.locals["cognigate"] == '${jsondecode(file("${path.module}/../../../cognigate.json"))}'
    assert env.locals["pools"] == "${local.cognigate.environments[local.environment].pools}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_environment_instantiates_the_module_once_per_pool(environments, name):
    env = environments[name]
    assert list(env.modules) == ["pool"], "one module block, instantiated for each pool of the shared file"
    arguments = env.modules["pool"]
    for argument, expression in EXPECTED_ARGUMENTS.items():
        assert arguments.get(argument) == expression, f"{name}: {argument}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_environment_passes_only_module_variables_and_every_required_one(environments, module, name):
    arguments = set(environments[name].modules["pool"]) - {"source", "for_each"}
    unknown = arguments - set(module.variables)
    assert not unknown, f"{name} passes arguments the module does not have: {unknown}"
    required = {variable for variable, body in module.variables.items() if "default" not in body}
    assert required <= arguments, f"{name} misses required module variables: {required - arguments}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_no_pool_setting_is_typed_in_an_environment(environments, name):
    """Pool settings are references into the shared file; literals appear only among deployment choices."""
    arguments = environments[name].modules["pool"]
    for argument, expression in arguments.items():
        if argument in {"source"}:
            continue
        text = str(expression)
        assert "${" in text, f"{name}: {argument} = {text!r} is typed, not read"
        assert not re.search(r"=\s*\d", text.replace("==", "")), f"{name}: {argument} holds a literal number"


def test_environments_differ_only_in_their_name_and_deployment_choices():
    """The three files are one template: a fix in one that is missing in another fails here."""
    texts = {}
    for name in ENVIRONMENTS:
        path = MODULE.parent.parent / "environments" / name / "main.tf"
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^# The \w+ environment:.*$", "", text)
        text = re.sub(r"\[environments\.\w+\]", "[environments.ENV]", text)
        text = re.sub(r'environment = "\w+"', 'environment = "ENV"', text)
        text = re.sub(r"(?s)# Deployment choices.*?\n  deployment = \{.*?\n  \}\n", "DEPLOYMENT\n", text)
        texts[name] = text
    assert texts["dev"] == texts["staging"] == texts["prod"]


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_deployment_choices_cover_both_pools(environments, name):
    deployment = environments[name].locals["deployment"]
    assert set(deployment) == set(POOLS)
    staff = deployment["staff"]
    if name != "dev":
        assert staff["user_pool_tier"] == "PLUS" and staff["advanced_security_mode"] == "ENFORCED", (
            "staff pools outside dev run with threat protection enforced"
        )


# ---------------------------------------------------------------------------------------------------------
# The shared file as the environments read it
# ---------------------------------------------------------------------------------------------------------

POOL_KEYS = {
    "displayName", "selfSignUp", "autoConfirm", "mfa", "mfaMethods", "password", "tokens", "standardAttributes",
    "customAttributes", "groups", "defaultGroup",
}


def test_shared_file_has_the_agreed_shape(shared):
    assert list(shared)[:3] == ["generatedBy", "service", "environments"]
    assert shared["generatedBy"].startswith("cognigate infra")
    assert set(shared["environments"]) == set(ENVIRONMENTS)
    for name, environment in shared["environments"].items():
        assert {"pools", "routes", "throttling"} <= set(environment), name
        assert set(environment["pools"]) == set(POOLS), name
        for pool_name, pool in environment["pools"].items():
            missing = POOL_KEYS - set(pool) - {"defaultGroup"}
            assert not missing, f"{name}.{pool_name} lacks {missing}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
@pytest.mark.parametrize("pool_name", POOLS)
def test_every_path_the_environment_reads_exists(environments, shared, name, pool_name):
    pool = shared["environments"][name]["pools"][pool_name]
    arguments = environments[name].modules["pool"]
    for argument, expression in arguments.items():
        for path in each_value_paths(expression):
            try:
                resolve(pool, path)
            except KeyError:
                pytest.fail(f"{name}: {argument} reads each.value.{path}, which {pool_name} does not have")
    for list_key, fields in ITEM_PATHS.items():
        for item in pool[list_key]:
            assert fields <= set(item), f"{name}.{pool_name}.{list_key}: {item} lacks {fields - set(item)}"


@pytest.mark.parametrize("name", ENVIRONMENTS)
@pytest.mark.parametrize("pool_name", POOLS)
def test_shared_values_pass_the_module_rules(shared, name, pool_name):
    """The module would refuse these at plan time; say so here, with the file's path, instead."""
    where = f"{name}.pools.{pool_name}"
    pool = shared["environments"][name]["pools"][pool_name]
    assert pool["mfa"] in {"OFF", "OPTIONAL", "ON"}, where
    assert pool["mfaMethods"] and set(pool["mfaMethods"]) <= {"SOFTWARE_TOKEN_MFA", "SMS_MFA"}, where
    assert "SMS_MFA" not in pool["mfaMethods"], f"{where}: SMS needs an SNS role the environments do not pass yet"
    password = pool["password"]
    assert isinstance(password["minLength"], int) and 8 <= password["minLength"] <= 99, where
    assert 1 <= password["temporaryPasswordValidityDays"] <= 365, where
    tokens = pool["tokens"]
    for key in ("accessMinutes", "idMinutes"):
        assert isinstance(tokens[key], int) and 5 <= tokens[key] <= 1440, f"{where}.tokens.{key}"
    assert isinstance(tokens["refreshMinutes"], int) and 60 <= tokens["refreshMinutes"] <= 5256000, where
    assert tokens["refreshMinutes"] > max(tokens["accessMinutes"], tokens["idMinutes"]), where
    assert isinstance(tokens["rotateRefresh"], bool), f"{where}.tokens.rotateRefresh"
    grace = tokens["rotationGraceSeconds"]
    assert isinstance(grace, int) and not isinstance(grace, bool) and 0 <= grace <= 60, f"{where}.tokens.rotationGraceSeconds"
    names = [attribute["name"] for attribute in pool["standardAttributes"]]
    assert "email" in names and len(set(names)) == len(names), where
    assert any(a["name"] == "email" and a["required"] for a in pool["standardAttributes"]), where
    custom = {attribute["name"]: attribute for attribute in pool["customAttributes"]}
    assert len(custom) == len(pool["customAttributes"]) <= 50, where
    for admin in ("role", "base_type", "tier", "team", "onboarding"):
        assert custom[admin]["adminOnly"] is True and custom[admin]["type"] == "String", f"{where}: {admin}"
    for attribute in custom.values():
        assert re.fullmatch(r"[A-Za-z0-9_]{1,20}", attribute["name"]), where
        assert attribute["type"] in {"String", "Number"}, where
    groups = [group["name"] for group in pool["groups"]]
    assert groups and len(set(groups)) == len(groups), where
    assert all(isinstance(group["precedence"], int) and group["precedence"] >= 0 for group in pool["groups"]), where


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_staff_is_stricter_than_customers(shared, name):
    """cognigate's promise for staff, as the file states it for each environment."""
    pools = shared["environments"][name]["pools"]
    staff, customer = pools["staff"], pools["customer"]
    assert staff["mfa"] == "ON"
    assert staff["selfSignUp"] is False
    assert staff["password"]["minLength"] >= customer["password"]["minLength"]
    assert staff["tokens"]["refreshMinutes"] < customer["tokens"]["refreshMinutes"]


def test_module_readme_explains_the_serve_handover():
    readme = (MODULE / "README.md").read_text(encoding="utf-8")
    assert "cognigate_serve_environment" in readme and "COGNIGATE_POOLS__" in readme

