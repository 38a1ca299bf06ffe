//! Generates the Cedar schema and the matrix policies from the access model.
//!
//! Roles and tiers are entity groups: a dealer is `in CustomerRole::"dealer"`, and `CustomerRole::"dealer"`
//! is `in CustomerRole::"individual"` because dealers inherit from individuals. One `permit` per role or tier
//! then lists only that role's direct permissions, and Cedar's `in` does the inheritance, exactly as the
//! configuration reads. Permissions are actions; each belongs to its pool's action group, and the admin
//! operations belong to the permission that governs them.

use std::fmt::Write as _;

use cognigate_domain::PoolKind;
use cognigate_domain::access::AccessModel;
use cognigate_domain::authz::AdminAction;

/// The action group every customer permission belongs to.
pub const CUSTOMER_POOL_GROUP: &str = "customer_pool";
/// The action group every staff permission (and admin operation) belongs to.
pub const STAFF_POOL_GROUP: &str = "staff_pool";
/// The action group of every admin operation that changes something.
pub const MUTATING_GROUP: &str = "mutating";
/// The action group of every admin operation on people or teams (as opposed to audit and status).
pub const PEOPLE_GROUP: &str = "people";

/// Quotes a string as a Cedar string literal.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Each requestable action with the groups it belongs to, directly (first) and transitively (second).
///
/// The schema declares the direct groups; requests carry the action entity with every group already listed,
/// so a decision never has to load or walk the whole action hierarchy.
pub fn action_groups(model: &AccessModel) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut actions = Vec::new();
    for pool in PoolKind::ALL {
        let group = match pool {
            PoolKind::Customer => CUSTOMER_POOL_GROUP,
            PoolKind::Staff => STAFF_POOL_GROUP,
        };
        for permission in model.pool(pool).permissions.keys() {
            actions.push((permission.clone(), vec![group.to_owned()], vec![group.to_owned()]));
        }
    }
    for action in AdminAction::ALL {
        let mut direct = vec![action.permission().to_owned()];
        if action.mutates() {
            direct.push(MUTATING_GROUP.to_owned());
        }
        if action.is_about_people() {
            direct.push(PEOPLE_GROUP.to_owned());
        }
        let mut all = direct.clone();
        all.push(STAFF_POOL_GROUP.to_owned());
        actions.push((action.id().to_owned(), direct, all));
    }
    actions
}

/// The Cedar schema, in Cedar's schema syntax.
pub fn schema(model: &AccessModel) -> String {
    let mut out = String::new();
    out.push_str("// Generated from cognigate.toml by cognigate. Do not edit: edit the configuration.\n");
    out.push_str("namespace Cognigate {\n");
    out.push_str("  // The application as a whole: routes, pages, features.\n  entity Application;\n");
    out.push_str("  // A staff team.\n  entity Team;\n");
    out.push_str("  // Customer base types; a base type is in the base types it inherits from.\n");
    out.push_str("  entity CustomerRole in [CustomerRole];\n");
    out.push_str("  // Customer tiers (premium), laid over a base type.\n  entity CustomerTier;\n");
    out.push_str("  // Staff roles; a role is in the roles it inherits from.\n");
    out.push_str("  entity StaffRole in [StaffRole];\n");
    out.push_str("  entity Customer in [CustomerRole, CustomerTier] = {\n");
    out.push_str("    \"base\": String,\n    \"active\": Bool,\n    \"team\"?: Team,\n  };\n");
    out.push_str("  entity Staff in [StaffRole, Team] = {\n");
    out.push_str("    \"role\": String,\n    \"rank\": Long,\n    \"team_scoped\": Bool,\n");
    out.push_str("    \"active\": Bool,\n    \"team\"?: Team,\n  };\n");
    out.push_str("  type RequestContext = {\n");
    out.push_str("    // The rank of the role granted by user.change_role or user.invite.\n");
    out.push_str("    \"granted_rank\"?: Long,\n");
    out.push_str("    // How many active super_admins exist, for the actions that could remove one.\n");
    out.push_str("    \"active_super_admins\"?: Long,\n");
    out.push_str(
        "    // Whether user.set_password sets a permanent password (rather than a temporary one).\n",
    );
    out.push_str("    \"permanent_password\"?: Bool,\n  };\n\n");
    out.push_str("  // Action groups.\n");
    let _ = writeln!(
        out,
        "  action {}, {}, {}, {};",
        quote(CUSTOMER_POOL_GROUP),
        quote(STAFF_POOL_GROUP),
        quote(MUTATING_GROUP),
        quote(PEOPLE_GROUP)
    );
    let applies = "appliesTo {\n    principal: [Customer, Staff],\n    resource: [Application, Customer, Staff, Team],\n    context: RequestContext\n  }";
    let descriptions: std::collections::BTreeMap<&str, &str> = PoolKind::ALL
        .into_iter()
        .flat_map(|pool| {
            model.pool(pool).permissions.iter().map(|(name, text)| (name.as_str(), text.as_str()))
        })
        .chain(AdminAction::ALL.into_iter().map(|action| (action.id(), action.description())))
        .collect();
    out.push_str(
        "\n  // Permissions of both pools, then the admin operations in the permission that governs each.\n",
    );
    for (action, direct, _) in action_groups(model) {
        let groups: Vec<String> = direct.iter().map(|group| quote(group)).collect();
        let _ = writeln!(out, "  // {}", descriptions.get(action.as_str()).copied().unwrap_or_default());
        let _ = writeln!(out, "  action {} in [{}] {applies};", quote(&action), groups.join(", "));
    }
    out.push_str("}\n");
    out
}

/// The matrix policies: one `permit` per role and tier, listing its direct permissions.
pub fn matrix_policies(model: &AccessModel) -> String {
    let mut out = String::new();
    out.push_str("// Generated from cognigate.toml by cognigate. Do not edit: edit the configuration.\n");
    out.push_str(
        "// One permit per role or tier with its direct permissions; inheritance is the role hierarchy.\n",
    );
    for pool in PoolKind::ALL {
        let access = model.pool(pool);
        let role_type = match pool {
            PoolKind::Customer => "CustomerRole",
            PoolKind::Staff => "StaffRole",
        };
        for role in access.roles.values().filter(|role| !role.direct.is_empty()) {
            permit(
                &mut out,
                &format!("matrix.{pool}.{}", role.name),
                role_type,
                &role.name,
                &role.description,
                &role.direct,
            );
        }
        for tier in access.tiers.values() {
            let id = format!("matrix.{pool}.tier.{}", tier.name);
            permit(&mut out, &id, "CustomerTier", &tier.name, &tier.description, &tier.permissions);
        }
    }
    out
}

fn permit(
    out: &mut String,
    id: &str,
    entity_type: &str,
    name: &str,
    description: &str,
    permissions: &[String],
) {
    let actions: Vec<String> =
        permissions.iter().map(|p| format!("Cognigate::Action::{}", quote(p))).collect();
    let _ = writeln!(out, "\n// {name}: {description}");
    let _ = writeln!(out, "@id({})", quote(id));
    let _ = writeln!(
        out,
        "permit (\n  principal in Cognigate::{entity_type}::{},\n  action in [{}],\n  resource\n);",
        quote(name),
        actions.join(", ")
    );
}

/// The complete policy set as text: the generated matrix, then the hand-written rules.
pub fn policy_set_text(model: &AccessModel) -> String {
    format!("{}\n{}", matrix_policies(model), crate::RULES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_reserves_every_action_group_name() {
        for group in [CUSTOMER_POOL_GROUP, STAFF_POOL_GROUP, MUTATING_GROUP, PEOPLE_GROUP] {
            assert!(cognigate_config::RESERVED_PERMISSION_NAMES.contains(&group), "{group}");
        }
    }

    #[test]
    fn quoting_escapes_what_cedar_would_read() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
