//! The Markdown pages: the permissions matrix, roles, the environment-variable table and the configuration
//! reference, and the helpers every page shares (the auth flows page, `flows.rs`, uses them too).

use std::fmt::Write as _;

use cognigate_config::{Config, Environment, PoolKind, ProviderKind, RESERVED_ENV_VARS, env_var_for_key};
use cognigate_domain::access::roles_in_display_order;
use cognigate_domain::authz::{
    Action, AdminAction, CustomerIdentity, Principal, RequestContext, Resource, StaffIdentity,
};
use cognigate_policy::Authorizer;
use cognigate_policy::catalogue::rules;
use serde::Serialize;

use crate::reference::config_keys;

pub(crate) const GENERATED: &str = "<!-- Generated from cognigate.toml by `cognigate docs`. Do not edit: edit the configuration and regenerate. -->\n\n";

fn cell(allowed: bool) -> &'static str {
    if allowed { "✅" } else { "—" }
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

pub fn docs_index() -> String {
    let mut out = String::from(GENERATED);
    out.push_str("# cognigate documentation\n\n");
    out.push_str("Every page here is generated from `cognigate.toml` by `cognigate docs`; CI fails when they differ.\n\n");
    out.push_str("- [permissions.md](permissions.md): the permissions matrix of both pools, why each role has what it has, the admin operations and the rules that are not a matrix.\n");
    out.push_str("- [roles.md](roles.md): each role and tier, what it inherits and what it ends up with.\n");
    out.push_str("- [environment.md](environment.md): every `COGNIGATE_*` environment variable.\n");
    out.push_str("- [configuration.md](configuration.md): every configuration key, and the settings of each environment.\n");
    out.push_str("- [flows.md](flows.md): the auth flows of each pool as sequence diagrams: registration, sign-in with and without MFA, invitations, TOTP enrolment, refresh, password reset and sign-out everywhere.\n");
    out
}

pub fn permissions_page(authorizer: &Authorizer) -> String {
    let model = authorizer.model();
    let mut out = String::from(GENERATED);
    out.push_str("# Permissions\n\n");
    out.push_str("Two pools, never mixed: a customer never holds a staff permission and a staff member never a customer one. ");
    out.push_str("Each cell below is decided by the Cedar policies generated from `cognigate.toml`; the decision corpus in ");
    out.push_str("`crates/cognigate-policy/tests` checks every cell, allow and deny.\n\n");
    out.push_str("The default matrix is least-privilege: each role gets only what its job needs, and seniority is expressed by ");
    out.push_str("inheritance, so a senior role never silently lacks what a junior one can do.\n");

    for pool in PoolKind::ALL {
        let matrix = model.matrix(pool);
        let access = model.pool(pool);
        let _ = write!(out, "\n## {} pool\n\n| permission | ", capitalize(pool.as_str()));
        let labels: Vec<String> = matrix.subjects.iter().map(|s| format!("`{}`", s.label())).collect();
        let _ = writeln!(out, "{} | meaning |", labels.join(" | "));
        let _ = writeln!(out, "|---|{}---|", "---|".repeat(labels.len()));
        for (permission, cells) in &matrix.rows {
            let marks: Vec<&str> = cells.iter().map(|allowed| cell(*allowed)).collect();
            let meaning = access.permissions.get(permission).map(|d| escape(d)).unwrap_or_default();
            let _ = writeln!(out, "| `{permission}` | {} | {meaning} |", marks.join(" | "));
        }
        out.push_str("\nWhy:\n\n");
        for role in roles_in_display_order(access) {
            let _ = writeln!(out, "- **`{}`** — {}", role.name, escape(&role.rationale));
        }
        for tier in access.tiers.values() {
            let _ = writeln!(
                out,
                "- **`{}`** (tier on {}) — {}",
                tier.name,
                tier.applies_to.join(", "),
                escape(&tier.rationale)
            );
        }
    }

    out.push_str("\n## Admin operations\n\n");
    out.push_str("Each admin operation is governed by one staff permission. Each cell is the policies' own answer for a ");
    out.push_str("target of the lowest staff rank: ✅ anywhere, \"✅ own team\" only inside the role's team, — never. ");
    out.push_str("The rules below still apply to every target (nobody acts above their rank, the last super_admin is protected).\n\n");
    let staff_roles = roles_in_display_order(&model.staff);
    let labels: Vec<String> = staff_roles.iter().map(|r| format!("`{}`", r.name)).collect();
    let _ = writeln!(out, "| operation | permission | {} | what it does |", labels.join(" | "));
    let _ = writeln!(out, "|---|---|{}---|", "---|".repeat(labels.len()));
    for action in AdminAction::ALL {
        let marks: Vec<&str> = staff_roles.iter().map(|role| reach(authorizer, &role.name, action)).collect();
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            action.id(),
            action.permission(),
            marks.join(" | "),
            action.description()
        );
    }

    out.push_str("\n## Rules that are not a matrix\n\n");
    out.push_str("Hand-written Cedar policies in `crates/cognigate-policy/policies/rules.cedar`. They only forbid: they narrow what the matrix grants, never widen it.\n\n");
    out.push_str("| policy | rule |\n|---|---|\n");
    for rule in rules(cognigate_policy::RULES) {
        let _ = writeln!(out, "| `{}` | {} |", rule.id, escape(&rule.description));
    }
    out
}

/// Where a staff role can perform an admin operation, by asking the policies about a target in the role's
/// own team and one in another team.
fn reach(authorizer: &Authorizer, role: &str, action: AdminAction) -> &'static str {
    let model = authorizer.model();
    let lowest = roles_in_display_order(&model.staff).last().map(|r| r.name.clone()).unwrap_or_default();
    let principal = Principal::Staff(StaffIdentity {
        id: "docs-principal".into(),
        role: role.to_owned(),
        team: Some("own".into()),
        active: true,
    });
    let context = RequestContext {
        granted_role: Some(lowest.clone()),
        active_super_admins: Some(2),
        ..RequestContext::default()
    };
    let target = |team: &str| match action {
        AdminAction::ReadAudit
        | AdminAction::ExportAudit
        | AdminAction::ReadStatus
        | AdminAction::CreateUser => Resource::Application,
        AdminAction::ManageTeam | AdminAction::InviteStaff => Resource::Team { name: team.to_owned() },
        AdminAction::ChangeTier => Resource::Customer(CustomerIdentity {
            id: "docs-customer".into(),
            base: model.customer.roles.keys().next().cloned().unwrap_or_default(),
            tiers: Vec::new(),
            team: None,
            active: true,
        }),
        _ => Resource::Staff(StaffIdentity {
            id: "docs-target".into(),
            role: lowest.clone(),
            team: Some(team.to_owned()),
            active: true,
        }),
    };
    let decide = |team: &str| {
        authorizer.authorize(&principal, &Action::Admin(action), &target(team), &context).allowed
    };
    match (decide("own"), decide("other")) {
        (true, true) => "✅",
        (true, false) => "✅ own team",
        _ => "—",
    }
}

pub fn roles_page(authorizer: &Authorizer) -> String {
    let model = authorizer.model();
    let mut out = String::from(GENERATED);
    out.push_str("# Roles and tiers\n");
    for pool in PoolKind::ALL {
        let access = model.pool(pool);
        let _ = writeln!(out, "\n## {} pool\n", capitalize(pool.as_str()));
        for role in roles_in_display_order(access) {
            let _ = writeln!(out, "### `{}`\n\n{}.\n", role.name, role.description);
            if let Some(rank) = role.rank {
                let scope = if role.team_scoped { "its own team" } else { "every team" };
                let _ = writeln!(out, "- rank {rank}; reaches {scope}");
            }
            if !role.inherits.is_empty() {
                let _ = writeln!(out, "- inherits: {}", code_list(&role.inherits));
            }
            let _ = writeln!(out, "- grants directly: {}", code_list(&role.direct));
            let effective: Vec<String> = role.effective.iter().cloned().collect();
            let _ = writeln!(out, "- holds in all: {}", code_list(&effective));
            if !role.rationale.is_empty() {
                let _ = writeln!(out, "- why: {}", role.rationale);
            }
            out.push('\n');
        }
        for tier in access.tiers.values() {
            let _ = writeln!(out, "### tier `{}`\n\n{}.\n", tier.name, tier.description);
            let _ = writeln!(out, "- lays over: {}", code_list(&tier.applies_to));
            let _ = writeln!(out, "- adds: {}", code_list(&tier.permissions));
            if !tier.rationale.is_empty() {
                let _ = writeln!(out, "- why: {}", tier.rationale);
            }
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

pub fn environment_page() -> String {
    let mut out = String::from(GENERATED);
    out.push_str("# Environment variables\n\n");
    out.push_str("Every configuration key can be overridden by an environment variable: `COGNIGATE_` and the dotted key in capitals, ");
    out.push_str("with `__` between segments. Values are read as TOML when they parse as TOML (`5`, `true`, `[\"totp\"]`), otherwise as text. ");
    out.push_str("A variable that names no key is an error, like a misspelt key in the file. ");
    out.push_str("`<NAME>` stands for a name you choose (a role, an attribute...). Arrays of tables (`routes`) are set whole, as TOML.\n\n");
    out.push_str("## Variables that are not configuration keys\n\n| variable | meaning |\n|---|---|\n");
    for (name, meaning) in RESERVED_ENV_VARS {
        let _ = writeln!(out, "| `{name}` | {} |", escape(meaning));
    }
    out.push_str("\n## Configuration overrides\n\n| variable | key | type | meaning |\n|---|---|---|---|\n");
    for key in config_keys().iter().filter(|k| !k.in_array && (!k.section || k.kind.starts_with("list"))) {
        let var = env_var_for_key(&key.key);
        let _ = writeln!(out, "| `{var}` | `{}` | {} | {} |", key.key, key.kind, escape(&key.description));
    }
    out
}

pub fn configuration_page(environments: &[(Environment, Config)]) -> String {
    let mut out = String::from(GENERATED);
    out.push_str("# Configuration reference\n\n");
    out.push_str("`cognigate.toml` is the one source of truth. It is read in layers, the last one winning: the file, then the ");
    out.push_str("`[environments.<env>]` table of the selected environment (`--env` or `COGNIGATE_ENV`: `dev`, `staging`, `prod`; ");
    out.push_str("default `dev`), then `COGNIGATE_*` environment variables ([environment.md](environment.md)). Unknown keys, wrong types ");
    out.push_str("and impossible values are errors that name the key; `cognigate config check` reports them all without starting.\n\n");
    out.push_str("Secrets are never written in the file: a secret is a reference, `{ env = \"VAR\" }`, `{ file = \"/path\" }` or ");
    out.push_str("`{ aws_secrets_manager = \"name\" }`. Durations are written `\"90s\"`, `\"15m\"`, `\"1h\"`, `\"30d\"`.\n");

    if !environments.is_empty() {
        out.push_str("\n## The shipped settings per environment\n\n");
        let names: Vec<String> = environments.iter().map(|(env, _)| format!("`{env}`")).collect();
        let _ = writeln!(out, "| setting | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(names.len()));
        let columns: Vec<Vec<(String, String)>> =
            environments.iter().map(|(_, config)| settings_summary(config)).collect();
        let labels: Vec<String> =
            columns.first().map(|c| c.iter().map(|(label, _)| label.clone()).collect()).unwrap_or_default();
        for (row, label) in labels.iter().enumerate() {
            let values: Vec<String> = columns
                .iter()
                .map(|column| column.get(row).map(|(_, v)| escape(v)).unwrap_or_default())
                .collect();
            let _ = writeln!(out, "| {label} | {} |", values.join(" | "));
        }
    }

    out.push_str("\n## Keys\n");
    let mut current_top = String::new();
    for key in config_keys() {
        let top = key.key.split(['.', '[']).next().unwrap_or_default().to_owned();
        if top != current_top {
            let _ = write!(
                out,
                "\n### `{top}`\n\n| key | type | required | default | meaning |\n|---|---|---|---|---|\n"
            );
            current_top = top;
        }
        let required = if key.required { "yes" } else { "" };
        let default = key.default.as_deref().map(|d| format!("`{}`", escape(d))).unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {} | {required} | {default} | {} |",
            key.key,
            key.kind,
            escape(&key.description)
        );
    }
    out
}

/// The settings that differ between environments, as (label, value) rows.
fn settings_summary(config: &Config) -> Vec<(String, String)> {
    let mut rows = vec![
        ("`service.public_url`".to_owned(), config.service.public_url.clone()),
        ("`store.url`".to_owned(), config.store.url.clone()),
        ("`store.cache_url`".to_owned(), config.store.cache_url.clone().unwrap_or_else(|| "—".to_owned())),
    ];
    for pool in PoolKind::ALL {
        let settings = config.pools.get(pool);
        let provider = match (&settings.cognito, settings.provider) {
            (Some(cognito), ProviderKind::Cognito) => format!("cognito ({})", cognito.user_pool_id),
            _ => "local".to_owned(),
        };
        let tokens = &settings.tokens;
        rows.push((format!("`pools.{pool}.provider`"), provider));
        rows.push((format!("`pools.{pool}.mfa.mode`"), toml_name(&settings.mfa.mode)));
        rows.push((
            format!("`pools.{pool}.tokens` (access / id / refresh)"),
            format!("{} / {} / {}", tokens.access, tokens.id, tokens.refresh),
        ));
        rows.push((format!("`pools.{pool}.password.min_length`"), settings.password.min_length.to_string()));
    }
    rows
}

/// How the configuration file spells a value of one of its enums (`optional`, `admin_only`, `approval`...).
pub(crate) fn toml_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        return "nothing".to_owned();
    }
    items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}
