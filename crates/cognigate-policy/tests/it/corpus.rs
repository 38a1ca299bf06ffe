use cognigate_config::{Config, Environment, PoolKind};
use cognigate_domain::authz::{
    Action, AdminAction, CustomerIdentity, Decision, Principal, RequestContext, Resource, StaffIdentity,
};
use cognigate_policy::Authorizer;
use serde::Deserialize;

pub fn shipped_config() -> Config {
    let source = include_str!("../../../../cognigate.toml");
    cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []).unwrap()
}

fn principal_for(pool: PoolKind, role: &str, tiers: &[String]) -> Principal {
    match pool {
        PoolKind::Customer => Principal::Customer(CustomerIdentity {
            id: format!("customer-{role}"),
            base: role.to_owned(),
            tiers: tiers.to_vec(),
            team: None,
            active: true,
        }),
        PoolKind::Staff => Principal::Staff(StaffIdentity {
            id: format!("staff-{role}"),
            role: role.to_owned(),
            team: Some("alpha".to_owned()),
            active: true,
        }),
    }
}

/// Every (subject × permission) cell of both pools' matrices, and every permission of the other pool.
#[test]
fn every_matrix_cell_is_decided_as_the_matrix_says() {
    let config = shipped_config();
    let authorizer = Authorizer::from_config(&config).unwrap();
    let model = authorizer.model().clone();
    let mut checked = 0;
    let mut allowed = 0;
    for pool in PoolKind::ALL {
        let matrix = model.matrix(pool);
        for (column, subject) in matrix.subjects.iter().enumerate() {
            let principal = principal_for(pool, &subject.role, &subject.tiers);
            for (permission, cells) in &matrix.rows {
                let expected = cells[column];
                let decision = authorizer.authorize(
                    &principal,
                    &Action::Permission(permission.clone()),
                    &Resource::Application,
                    &RequestContext::default(),
                );
                assert_eq!(
                    decision.allowed,
                    expected,
                    "{} / {permission}: expected {}, got {decision:?}",
                    subject.label(),
                    if expected { "allow" } else { "deny" }
                );
                assert!(decision.errors.is_empty(), "{decision:?}");
                if expected {
                    allowed += 1;
                    assert!(decision.policies.iter().all(|id| id.starts_with("matrix.")), "{decision:?}");
                } else {
                    assert!(decision.policies.is_empty(), "a default deny names no policy: {decision:?}");
                }
                checked += 1;
            }
            // Every permission of the other pool is refused by the pool rule.
            let other = PoolKind::ALL.into_iter().find(|p| *p != pool).unwrap();
            for permission in model.pool(other).permissions.keys() {
                let decision = authorizer.authorize(
                    &principal,
                    &Action::Permission(permission.clone()),
                    &Resource::Application,
                    &RequestContext::default(),
                );
                assert!(!decision.allowed, "{} / {permission} of the {other} pool", subject.label());
                let rule = format!("pool.{pool}_never_{other}");
                assert_eq!(decision.policies, vec![rule], "{decision:?}");
                checked += 1;
            }
        }
    }
    // 10 customer permissions × 4 subjects + 9 staff × 4 roles, plus the cross-pool cells.
    assert_eq!(checked, 10 * 4 + 9 * 4 + 9 * 4 + 10 * 4);
    assert!(allowed > 0 && allowed < checked);
}

/// Each admin operation, for each staff role, on a target the other rules allow: the answer is exactly
/// whether the role holds the governing permission. Customers are refused every one.
#[test]
fn every_admin_operation_follows_its_governing_permission() {
    let config = shipped_config();
    let authorizer = Authorizer::from_config(&config).unwrap();
    let model = authorizer.model().clone();
    let member = StaffIdentity {
        id: "member".into(),
        role: "team_member".into(),
        team: Some("alpha".into()),
        active: true,
    };
    let customer = CustomerIdentity {
        id: "buyer".into(),
        base: "individual".into(),
        tiers: vec![],
        team: None,
        active: true,
    };
    let context = RequestContext {
        granted_role: Some("team_member".into()),
        active_super_admins: Some(2),
        ..RequestContext::default()
    };
    for role in model.staff.roles.values() {
        let principal = principal_for(PoolKind::Staff, &role.name, &[]);
        for action in AdminAction::ALL {
            let resource = match action {
                AdminAction::ReadAudit | AdminAction::ExportAudit | AdminAction::ReadStatus => {
                    Resource::Application
                }
                AdminAction::ManageTeam | AdminAction::InviteStaff => Resource::Team { name: "alpha".into() },
                AdminAction::ChangeTier | AdminAction::CreateUser if !role.team_scoped => {
                    Resource::Customer(customer.clone())
                }
                _ => Resource::Staff(member.clone()),
            };
            let decision = authorizer.authorize(&principal, &Action::Admin(action), &resource, &context);
            let expected = role.effective.contains(action.permission());
            assert_eq!(decision.allowed, expected, "{} / {}: {decision:?}", role.name, action.id());
        }
    }
    for subject in model.subjects(PoolKind::Customer) {
        let principal = principal_for(PoolKind::Customer, &subject.role, &subject.tiers);
        for action in AdminAction::ALL {
            let decision =
                authorizer.authorize(&principal, &Action::Admin(action), &Resource::Application, &context);
            assert!(!decision.allowed, "{} / {}", subject.label(), action.id());
            assert!(decision.policies.contains(&"pool.customer_never_staff".to_owned()), "{decision:?}");
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: Principal,
    action: Action,
    resource: Resource,
    #[serde(default)]
    context: RequestContext,
    expect: Expect,
    #[serde(default)]
    because: Vec<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
struct Cases {
    case: Vec<Case>,
}

fn check(case: &Case, decision: &Decision) -> Result<(), String> {
    if decision.allowed != (case.expect == Expect::Allow) {
        return Err(format!("expected {:?}", case.expect));
    }
    if let Some(fragment) = &case.error {
        if !decision.errors.iter().any(|error| error.contains(fragment)) {
            return Err(format!("expected an error containing {fragment:?}"));
        }
    } else if !decision.errors.is_empty() {
        return Err("unexpected errors".to_owned());
    }
    if case.because.is_empty()
        && case.error.is_none()
        && case.expect == Expect::Deny
        && !decision.policies.is_empty()
    {
        return Err("expected a default deny (no policy)".to_owned());
    }
    for id in &case.because {
        if !decision.policies.contains(id) {
            return Err(format!("expected policy {id} among the reasons"));
        }
    }
    Ok(())
}

#[test]
fn hand_written_cases_for_the_non_matrix_rules() {
    let cases: Cases = toml::from_str(include_str!("../cases/rules.toml")).unwrap();
    let authorizer = Authorizer::from_config(&shipped_config()).unwrap();
    let failures: Vec<String> = cases
        .case
        .iter()
        .filter_map(|case| {
            let decision = authorizer.authorize(&case.principal, &case.action, &case.resource, &case.context);
            check(case, &decision).err().map(|why| format!("{}: {why}; got {decision:?}", case.name))
        })
        .collect();
    assert!(cases.case.len() >= 40, "the corpus shrank to {}", cases.case.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.case.len(),
        failures.join("\n")
    );
}

/// Every hand-written rule is exercised by at least one case that it decides.
#[test]
fn every_rule_has_a_case() {
    let cases: Cases = toml::from_str(include_str!("../cases/rules.toml")).unwrap();
    let authorizer = Authorizer::from_config(&shipped_config()).unwrap();
    let covered: std::collections::BTreeSet<&str> =
        cases.case.iter().flat_map(|case| case.because.iter().map(String::as_str)).collect();
    for id in authorizer.policy_ids().iter().filter(|id| !id.starts_with("matrix.")) {
        assert!(covered.contains(id.as_str()), "no hand-written case names the rule {id}");
    }
}
