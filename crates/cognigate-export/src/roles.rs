//! `roles.json` and `policies.yaml`: the access model for tools, in two shapes people asked for.
//!
//! roles.json is the model itself (vocabulary, roles with direct and effective permissions, tiers, admin
//! operations). policies.yaml states the effective rules: what each role may do, the hand-written rules,
//! and the protected routes. Neither is read back by cognigate; both are regenerated from the configuration.

use std::collections::BTreeMap;

use cognigate_config::{Config, PoolKind, RouteConfig};
use cognigate_domain::access::{PoolAccess, roles_in_display_order};
use cognigate_domain::authz::AdminAction;
use cognigate_policy::Authorizer;
use cognigate_policy::catalogue::{Rule, rules};
use serde::Serialize;

use crate::ExportError;

const GENERATED: &str =
    "Generated from cognigate.toml by `cognigate export`. Do not edit: edit the configuration.";

#[derive(Serialize)]
struct RolesDocument<'a> {
    #[serde(rename = "$comment")]
    comment: &'static str,
    service: &'a str,
    pools: BTreeMap<PoolKind, &'a PoolAccess>,
    admin_actions: Vec<AdminActionEntry>,
}

#[derive(Serialize)]
struct AdminActionEntry {
    id: &'static str,
    permission: &'static str,
    mutates: bool,
    description: &'static str,
}

fn admin_actions() -> Vec<AdminActionEntry> {
    AdminAction::ALL
        .into_iter()
        .map(|action| AdminActionEntry {
            id: action.id(),
            permission: action.permission(),
            mutates: action.mutates(),
            description: action.description(),
        })
        .collect()
}

pub fn roles_json(config: &Config, authorizer: &Authorizer) -> Result<String, ExportError> {
    let model = authorizer.model();
    let document = RolesDocument {
        comment: GENERATED,
        service: config.service_name(),
        pools: PoolKind::ALL.into_iter().map(|pool| (pool, model.pool(pool))).collect(),
        admin_actions: admin_actions(),
    };
    serde_json::to_string_pretty(&document)
        .map(|text| text + "\n")
        .map_err(|error| ExportError::Serialize { what: "roles.json", message: error.to_string() })
}

#[derive(Serialize)]
struct PoliciesDocument<'a> {
    version: u32,
    cedar_namespace: &'static str,
    pools: BTreeMap<PoolKind, PoolPolicies>,
    admin_actions: Vec<AdminActionEntry>,
    rules: Vec<Rule>,
    routes: &'a [RouteConfig],
}

#[derive(Serialize)]
struct PoolPolicies {
    roles: Vec<RolePolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tiers: Vec<TierPolicy>,
}

#[derive(Serialize)]
struct RolePolicy {
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rank: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    team_scoped: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    inherits: Vec<String>,
    allow: Vec<String>,
}

#[derive(Serialize)]
struct TierPolicy {
    tier: String,
    applies_to: Vec<String>,
    adds: Vec<String>,
}

pub fn policies_yaml(config: &Config, authorizer: &Authorizer) -> Result<String, ExportError> {
    let model = authorizer.model();
    let pools = PoolKind::ALL
        .into_iter()
        .map(|pool| {
            let access = model.pool(pool);
            let roles = roles_in_display_order(access)
                .into_iter()
                .map(|role| RolePolicy {
                    role: role.name.clone(),
                    rank: role.rank,
                    team_scoped: role.team_scoped,
                    inherits: role.inherits.clone(),
                    allow: role.effective.iter().cloned().collect(),
                })
                .collect();
            let tiers = access
                .tiers
                .values()
                .map(|tier| TierPolicy {
                    tier: tier.name.clone(),
                    applies_to: tier.applies_to.clone(),
                    adds: tier.permissions.clone(),
                })
                .collect();
            (pool, PoolPolicies { roles, tiers })
        })
        .collect();
    let document = PoliciesDocument {
        version: 1,
        cedar_namespace: cognigate_policy::NAMESPACE,
        pools,
        admin_actions: admin_actions(),
        rules: rules(cognigate_policy::RULES),
        routes: &config.routes,
    };
    serde_norway::to_string(&document)
        .map(|text| format!("# {GENERATED}\n{text}"))
        .map_err(|error| ExportError::Serialize { what: "policies.yaml", message: error.to_string() })
}
