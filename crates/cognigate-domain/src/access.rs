//! Roles, tiers and permissions, resolved once from the configuration.
//!
//! The configuration lists each role's direct permissions and the roles it inherits from; people reason about
//! effective permissions. This module computes them, and the permissions matrix the docs and exports show.
//! Cedar evaluates the same structure (roles as entity groups), so the matrix here and Cedar's decisions must
//! agree; the policy crate's decision corpus checks that they do.

use std::collections::{BTreeMap, BTreeSet};

use cognigate_config::{Config, PoolKind, RoleScope};
use serde::Serialize;

/// A role with its inheritance resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub rationale: String,
    pub inherits: Vec<String>,
    /// Permissions granted to this role directly.
    pub direct: Vec<String>,
    /// Direct permissions plus everything inherited.
    pub effective: BTreeSet<String>,
    /// Staff only: seniority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Staff only: actions on people reach only the role's own team.
    pub team_scoped: bool,
}

/// A customer tier laid over base types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub name: String,
    pub description: String,
    pub rationale: String,
    pub applies_to: Vec<String>,
    pub permissions: Vec<String>,
}

/// One pool's vocabulary, roles and tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolAccess {
    pub pool: PoolKind,
    /// Permission name → description, in name order.
    pub permissions: BTreeMap<String, String>,
    pub roles: BTreeMap<String, Role>,
    pub tiers: BTreeMap<String, Tier>,
}

/// The whole access model: both pools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessModel {
    pub customer: PoolAccess,
    pub staff: PoolAccess,
}

/// A column of the permissions matrix: a role, or a customer base type with tiers laid over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub pool: PoolKind,
    pub role: String,
    pub tiers: Vec<String>,
}

impl Subject {
    /// `dealer`, `premium dealer`, `admin`.
    pub fn label(&self) -> String {
        let mut words = self.tiers.clone();
        words.push(self.role.clone());
        words.join(" ")
    }
}

/// Which permission each subject of a pool holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub pool: PoolKind,
    pub subjects: Vec<Subject>,
    /// One row per permission: (permission, one bool per subject).
    pub rows: Vec<(String, Vec<bool>)>,
}

impl AccessModel {
    /// Resolves the model. The configuration is assumed validated (no unknown names, no cycles); the
    /// resolution is still total, so an unvalidated configuration cannot make it loop or panic.
    pub fn from_config(config: &Config) -> Self {
        Self {
            customer: resolve_pool(config, PoolKind::Customer),
            staff: resolve_pool(config, PoolKind::Staff),
        }
    }

    pub fn pool(&self, pool: PoolKind) -> &PoolAccess {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }

    /// The effective permissions of a role with tiers laid over it. Tiers that do not apply to the role
    /// add nothing; unknown names add nothing.
    pub fn permissions_of(&self, pool: PoolKind, role: &str, tiers: &[String]) -> BTreeSet<String> {
        let access = self.pool(pool);
        let mut permissions = access.roles.get(role).map(|r| r.effective.clone()).unwrap_or_default();
        for tier in tiers.iter().filter_map(|name| access.tiers.get(name)) {
            if tier.applies_to.iter().any(|base| base == role) {
                permissions.extend(tier.permissions.iter().cloned());
            }
        }
        permissions
    }

    /// The matrix subjects of a pool: every role, and for customers every base type with each tier that
    /// applies to it.
    pub fn subjects(&self, pool: PoolKind) -> Vec<Subject> {
        let access = self.pool(pool);
        let mut subjects = Vec::new();
        for role in roles_in_display_order(access) {
            subjects.push(Subject { pool, role: role.name.clone(), tiers: Vec::new() });
        }
        for tier in access.tiers.values() {
            for role in roles_in_display_order(access) {
                if tier.applies_to.contains(&role.name) {
                    subjects.push(Subject { pool, role: role.name.clone(), tiers: vec![tier.name.clone()] });
                }
            }
        }
        subjects
    }

    pub fn matrix(&self, pool: PoolKind) -> Matrix {
        let subjects = self.subjects(pool);
        let granted: Vec<BTreeSet<String>> =
            subjects.iter().map(|s| self.permissions_of(pool, &s.role, &s.tiers)).collect();
        let rows = self
            .pool(pool)
            .permissions
            .keys()
            .map(|permission| {
                (permission.clone(), granted.iter().map(|set| set.contains(permission)).collect())
            })
            .collect();
        Matrix { pool, subjects, rows }
    }

    /// A staff role's rank, if the role exists.
    pub fn staff_rank(&self, role: &str) -> Option<i64> {
        self.staff.roles.get(role).and_then(|r| r.rank)
    }
}

/// Staff roles from the most senior down; customer base types from the one with fewest permissions up
/// (individual before dealer), so a table reads from the base of the inheritance outwards.
pub fn roles_in_display_order(access: &PoolAccess) -> Vec<&Role> {
    let mut roles: Vec<&Role> = access.roles.values().collect();
    roles.sort_by(|a, b| {
        b.rank
            .cmp(&a.rank)
            .then_with(|| a.effective.len().cmp(&b.effective.len()))
            .then_with(|| a.name.cmp(&b.name))
    });
    roles
}

/// A Cognito group of a pool: one per role and per tier, so `cognito:groups` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolGroup {
    pub name: String,
    pub description: String,
    /// Cognito's precedence: lower wins.
    pub precedence: u32,
}

/// The pool's groups, most senior first with precedence 10, 20, ... (lower wins in Cognito), and the group
/// a new account joins: the least privileged role. The infrastructure creates these on AWS; the embedded
/// engine creates the same in its pools.
///
/// Staff roles are ordered by rank. Customer tiers come before the base types (a tier is laid on top of a
/// base type), and base types from the richest down.
pub fn pool_groups(model: &AccessModel, kind: PoolKind) -> (Vec<PoolGroup>, String) {
    let access = model.pool(kind);
    let mut ordered: Vec<(String, String)> = Vec::new();
    let mut tiers: Vec<_> = access.tiers.values().collect();
    tiers.sort_by(|a, b| b.permissions.len().cmp(&a.permissions.len()).then_with(|| a.name.cmp(&b.name)));
    ordered.extend(tiers.into_iter().map(|tier| (tier.name.clone(), tier.description.clone())));
    // Display order runs staff from the most senior down, customer base types from the poorest up.
    let mut roles = roles_in_display_order(access);
    if kind == PoolKind::Customer {
        roles.reverse();
    }
    let default_group = roles.last().map(|role| role.name.clone()).unwrap_or_default();
    ordered.extend(roles.into_iter().map(|role| (role.name.clone(), role.description.clone())));
    let groups = ordered
        .into_iter()
        .zip((1u32..).map(|position| position.saturating_mul(10)))
        .map(|((name, description), precedence)| PoolGroup { name, description, precedence })
        .collect();
    (groups, default_group)
}

fn resolve_pool(config: &Config, pool: PoolKind) -> PoolAccess {
    let declared = config.roles.get(pool);
    let roles = declared
        .iter()
        .map(|(name, role)| {
            let mut effective = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut pending = vec![name.as_str()];
            while let Some(current) = pending.pop() {
                if !seen.insert(current) {
                    continue;
                }
                if let Some(found) = declared.get(current) {
                    effective.extend(found.permissions.iter().cloned());
                    pending.extend(found.inherits.iter().map(String::as_str));
                }
            }
            let resolved = Role {
                name: name.clone(),
                description: role.description.clone(),
                rationale: role.rationale.clone(),
                inherits: role.inherits.clone(),
                direct: role.permissions.clone(),
                effective,
                rank: role.rank,
                team_scoped: role.scope == Some(RoleScope::Team),
            };
            (name.clone(), resolved)
        })
        .collect();
    let tiers = match pool {
        PoolKind::Customer => config
            .tiers
            .customer
            .iter()
            .map(|(name, tier)| {
                let resolved = Tier {
                    name: name.clone(),
                    description: tier.description.clone(),
                    rationale: tier.rationale.clone(),
                    applies_to: tier.applies_to.clone(),
                    permissions: tier.permissions.clone(),
                };
                (name.clone(), resolved)
            })
            .collect(),
        PoolKind::Staff => BTreeMap::new(),
    };
    PoolAccess { pool, permissions: config.permissions.get(pool).clone(), roles, tiers }
}
