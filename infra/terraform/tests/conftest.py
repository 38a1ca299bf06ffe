"""Shared loading for the Terraform source tests.

python-hcl2 (v8) keeps HCL's quoting: block labels and string literals arrive as '"name"', expressions as
'${...}', and blocks carry bookkeeping keys. The helpers here turn a directory of .tf files into plain
dictionaries (labels and literals unquoted, bookkeeping dropped) so that the tests read like the HCL they check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import hcl2
import pytest

TERRAFORM = Path(__file__).resolve().parent.parent
REPO = TERRAFORM.parent.parent
MODULE = TERRAFORM / "modules" / "cognito"
ENVIRONMENTS = ("dev", "staging", "prod")
POOLS = ("customer", "staff")
SHARED_FILE = REPO / "infra" / "cognigate.json"

BOOKKEEPING = {"__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"}


def unquote(value):
    """'"text"' → 'text'; expressions ('${...}') and non-strings are returned unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    return value


def clean(value):
    """Unquotes every key and string literal and drops python-hcl2's bookkeeping keys, recursively."""
    if isinstance(value, dict):
        return {unquote(key): clean(item) for key, item in value.items() if key not in BOOKKEEPING}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return unquote(value)


class Config:
    """The blocks of one Terraform directory (every *.tf file in it), keyed by their labels."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.locals: dict[str, object] = {}
        self.resources: dict[tuple[str, str], dict] = {}
        self.modules: dict[str, dict] = {}
        self.terraform: list[dict] = []
        self.providers: dict[str, dict] = {}
        files = sorted(directory.glob("*.tf"))
        if not files:
            raise FileNotFoundError(f"no .tf files in {directory}")
        for path in files:
            with path.open(encoding="utf-8") as handle:
                parsed = clean(hcl2.load(handle))
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)
            for block in parsed.get("locals", []):
                self.locals.update(block)
            for block in parsed.get("resource", []):
                for resource_type, named in block.items():
                    for name, body in named.items():
                        self.resources[(resource_type, name)] = body
            for block in parsed.get("module", []):
                self.modules.update(block)
            for block in parsed.get("provider", []):
                self.providers.update(block)
            self.terraform.extend(parsed.get("terraform", []))


@pytest.fixture(scope="session")
def module() -> Config:
    return Config(MODULE)


@pytest.fixture(scope="session")
def environments() -> dict[str, Config]:
    return {name: Config(TERRAFORM / "environments" / name) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def shared() -> dict:
    if not SHARED_FILE.exists():
        pytest.fail(f"{SHARED_FILE.relative_to(REPO)} is missing: run `cognigate infra` to generate it")
    return json.loads(SHARED_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def plans() -> dict[str, dict]:
    """`terraform show -json` of each environment's plan, when scripts/terraform-tests could build them."""
    directory = os.environ.get("COGNIGATE_TF_PLANS")
    if not directory:
        pytest.skip("no Terraform plans: terraform or its provider mirror is missing (see the SKIP line above)")
    found = {}
    for name in ENVIRONMENTS:
        path = Path(directory) / f"{name}.json"
        if not path.exists():
            pytest.fail(f"COGNIGATE_TF_PLANS is set but {path} is missing")
        found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found
