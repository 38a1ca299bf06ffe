//! The admin API over real HTTP, with staff signed in through the real staff flows (password, forced MFA
//! setup, TOTP): every operation allowed and refused per role, the escalation rules, the audit trail of
//! each decision, paging and filters, teams, audit export, status — and the console's own guards (CSRF,
//! cookies, headers) without a browser.

use std::collections::BTreeMap;

use cognigate_config::PoolKind;
use cognigate_service::ports::{
    AuditOutcome, AuditQuery, AuditStore as _, MirrorStore as _, Team, TeamStore as _,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{Pool, Stack, call, text, totp};

const STAFF_PASSWORD: &str = "Admin-Tests-Pass-1!";
const CUSTOMER_PASSWORD: &str = "Customer-Pass-1";

/// A staff member's admin API client.
struct Admin {
    http: reqwest::Client,
    url: String,
    token: String,
    sub: String,
}

impl Admin {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, body, _) =
            call(&self.http, method, format!("{}{path}", self.url), Some(&self.token), body).await;
        (status, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
}

async fn teams(stack: &Stack) {
    for name in ["north", "south"] {
        let team = Team { name: name.to_owned(), description: String::new(), created_at: 0 };
        stack.runtime.store.create_team(&team).await.unwrap();
    }
}

/// A staff account with a permanent password, signed in through the forced MFA setup: an active staff
/// member with a real access token.
async fn staff(stack: &Stack, email: &str, role: &str, team: Option<&str>) -> Admin {
    let mut attributes = BTreeMap::from([("custom:role".to_owned(), role.to_owned())]);
    if let Some(team) = team {
        attributes.insert("custom:team".to_owned(), team.to_owned());
    }
    stack.api.staff.provision(email, &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    let pool = Pool::new(&stack.url, "staff");
    let (status, body) = pool.login(email, STAFF_PASSWORD).await;
    assert_eq!((status, text(&body, "challenge").as_str()), (200, "MFA_SETUP"), "{body}");
    let (_, setup) = pool.post("totp/setup", json!({ "session": body["session"] })).await;
    let verify =
        json!({ "email": email, "session": setup["session"], "code": totp(&text(&setup, "secret"), 0) });
    let (status, body) = pool.post("totp/verify", verify).await;
    assert_eq!(status, 200, "{body}");
    Admin {
        http: reqwest::Client::new(),
        url: stack.url.clone(),
        token: text(&body, "accessToken"),
        sub: body["user"]["sub"].as_str().unwrap().to_owned(),
    }
}

/// A customer account (base type, team, premium, approved) straight into the pool; its `sub`.
async fn customer(stack: &Stack, email: &str, base: &str, team: Option<&str>, approved: bool) -> String {
    let mut attributes = BTreeMap::from([("custom:base_type".to_owned(), base.to_owned())]);
    if let Some(team) = team {
        attributes.insert("custom:team".to_owned(), team.to_owned());
    }
    let user =
        stack.api.customer.provision(email, &attributes, Some(CUSTOMER_PASSWORD), approved).await.unwrap();
    user.sub
}

/// A staff account that never signs in (a target); its `sub`.
async fn staff_target(stack: &Stack, email: &str, role: &str, team: Option<&str>) -> String {
    let mut attributes = BTreeMap::from([("custom:role".to_owned(), role.to_owned())]);
    if let Some(team) = team {
        attributes.insert("custom:team".to_owned(), team.to_owned());
    }
    stack.api.staff.provision(email, &attributes, Some(STAFF_PASSWORD), true).await.unwrap().sub
}

async fn audit_outcomes(stack: &Stack, action: &str, target: &str) -> Vec<AuditOutcome> {
    let query = AuditQuery {
        action: Some(action.to_owned()),
        target: Some(target.to_owned()),
        limit: 100,
        ..AuditQuery::default()
    };
    stack.runtime.store.query_audit(&query).await.unwrap().into_iter().map(|e| e.outcome).collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// A team_member of team north.
    NorthMember,
    /// A dealer of team north waiting for approval.
    NorthDealer,
    /// A dealer of team south waiting for approval.
    SouthDealer,
    /// An individual customer in no team.
    Individual,
}

/// One operation on one account: the request, and the audit action it writes.
struct Operation {
    name: &'static str,
    audit: &'static str,
    method: Method,
    suffix: &'static str,
    body: Option<Value>,
    applies: fn(Target) -> bool,
}

fn operations() -> Vec<Operation> {
    let any = |_: Target| true;
    let customers = |t: Target| t != Target::NorthMember;
    let pending = |t: Target| matches!(t, Target::NorthDealer | Target::SouthDealer);
    let staff_only = |t: Target| t == Target::NorthMember;
    let op =
        |name, audit, method, suffix, body, applies| Operation { name, audit, method, suffix, body, applies };
    vec![
        op("read", "", Method::GET, "", None, any),
        op("sign out", "admin.user.sign_out", Method::POST, "/sign-out", None, any),
        op("reset password", "admin.user.reset_password", Method::POST, "/reset-password", None, any),
        op("reset MFA", "admin.user.reset_mfa", Method::POST, "/reset-mfa", None, customers),
        op(
            "set password",
            "admin.user.set_password",
            Method::PUT,
            "/password",
            Some(json!({ "password": "Set-By-Admin-Pass-9!", "permanent": false })),
            any,
        ),
        op(
            "move to team north",
            "admin.team.manage",
            Method::PUT,
            "/team",
            Some(json!({ "team": "north" })),
            any,
        ),
        op(
            "make premium",
            "admin.user.change_tier",
            Method::PUT,
            "/tier",
            Some(json!({ "premium": true })),
            customers,
        ),
        op("enable", "admin.user.enable", Method::POST, "/enable", None, any),
        op(
            "make manager",
            "admin.user.change_role",
            Method::PUT,
            "/role",
            Some(json!({ "role": "manager" })),
            staff_only,
        ),
        op(
            "make individual",
            "admin.user.change_role",
            Method::PUT,
            "/role",
            Some(json!({ "role": "individual" })),
            customers,
        ),
        op("approve", "admin.user.approve", Method::POST, "/approve", None, pending),
        op("reject", "admin.user.reject", Method::POST, "/reject", None, pending),
        op("disable", "admin.user.disable", Method::POST, "/disable", None, any),
        op("delete", "admin.user.delete", Method::DELETE, "", None, any),
    ]
}

/// What each role may do, by rule: super_admin and admin everything (tiers need tier_management, which
/// both have); a manager only to accounts of their own team and never tiers; a team_member nothing.
fn expected(role: &str, operation: &Operation, target: Target) -> bool {
    match role {
        "super_admin" | "admin" => true,
        "manager" => {
            let own_team = matches!(target, Target::NorthMember | Target::NorthDealer);
            own_team && operation.audit != "admin.user.change_tier"
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_allowed_or_refused_per_role_and_audited() {
    let stack = Stack::start(&[]).await;
    teams(&stack).await;
    let actors = [
        ("super_admin", staff(&stack, "root@example.com", "super_admin", None).await),
        ("admin", staff(&stack, "admin@example.com", "admin", None).await),
        ("manager", staff(&stack, "manager@example.com", "manager", Some("north")).await),
        ("team_member", staff(&stack, "member@example.com", "team_member", Some("north")).await),
    ];
    let mut n = 0;
    for (role, actor) in &actors {
        for operation in operations() {
            for target in [Target::NorthMember, Target::NorthDealer, Target::SouthDealer, Target::Individual]
            {
                if !(operation.applies)(target) {
                    continue;
                }
                n += 1;
                let email = format!("t{n}@example.com");
                let (pool, sub) = match target {
                    Target::NorthMember => {
                        ("staff", staff_target(&stack, &email, "team_member", Some("north")).await)
                    }
                    Target::NorthDealer => {
                        ("customer", customer(&stack, &email, "dealer", Some("north"), false).await)
                    }
                    Target::SouthDealer => {
                        ("customer", customer(&stack, &email, "dealer", Some("south"), false).await)
                    }
                    Target::Individual => {
                        ("customer", customer(&stack, &email, "individual", None, true).await)
                    }
                };
                let kind = if pool == "staff" { PoolKind::Staff } else { PoolKind::Customer };
                let before = stack.runtime.store.get_mirror(kind, &sub).await.unwrap().unwrap();
                let path = format!("/admin/users/{pool}/{sub}{}", operation.suffix);
                let (status, body) =
                    actor.call(operation.method.clone(), &path, operation.body.clone()).await;
                let allowed = expected(role, &operation, target);
                let context = format!("{role} → {} on {target:?}: {status} {body}", operation.name);
                if allowed {
                    assert!((200..300).contains(&status), "allowed, {context}");
                } else {
                    assert_eq!(
                        (status, body["code"].as_str()),
                        (403, Some("FORBIDDEN")),
                        "refused, {context}"
                    );
                    let after = stack.runtime.store.get_mirror(kind, &sub).await.unwrap();
                    assert_eq!(after.as_ref(), Some(&before), "a refusal changes nothing, {context}");
                }
                if !operation.audit.is_empty() {
                    let outcome = if allowed { AuditOutcome::Success } else { AuditOutcome::Denied };
                    assert_eq!(
                        audit_outcomes(&stack, operation.audit, &sub).await,
                        [outcome],
                        "audit, {context}"
                    );
                }
            }
        }
    }
    // The audit events name who acted and with what role.
    let events = stack
        .runtime
        .store
        .query_audit(&AuditQuery { action: Some("admin.".to_owned()), limit: 1000, ..AuditQuery::default() })
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.actor.is_some() && e.actor_role.is_some()));
    assert!(
        events
            .iter()
            .any(|e| e.actor_role.as_deref() == Some("team_member") && e.outcome == AuditOutcome::Denied)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_creation_and_role_changes_follow_rank_and_team() {
    let stack = Stack::start(&[]).await;
    teams(&stack).await;
    let root = staff(&stack, "root@example.com", "super_admin", None).await;
    let admin = staff(&stack, "admin@example.com", "admin", None).await;
    let manager = staff(&stack, "manager@example.com", "manager", Some("north")).await;
    let member = staff(&stack, "member@example.com", "team_member", Some("north")).await;

    // Inviting: nobody grants above their own rank; a manager only into their own team.
    let invite =
        |email: &str, role: &str, team: Option<&str>| json!({ "email": email, "role": role, "team": team });
    let cases = [
        (&admin, invite("new-root@example.com", "super_admin", None), 403),
        (&admin, invite("new-admin@example.com", "admin", None), 201),
        (&manager, invite("new-north@example.com", "team_member", Some("north")), 201),
        (&manager, invite("new-south@example.com", "team_member", Some("south")), 403),
        (&manager, invite("new-admin2@example.com", "admin", Some("north")), 403),
        (&member, invite("new-m@example.com", "team_member", Some("north")), 403),
        (&root, invite("new-root2@example.com", "super_admin", None), 201),
        (&root, invite("nowhere@example.com", "team_member", Some("atlantis")), 400),
        (&root, invite("not-an-email", "team_member", None), 400),
        (&root, invite("bad-role@example.com", "emperor", None), 400),
    ];
    for (actor, body, want) in cases {
        let (status, answer) = actor.call(Method::POST, "/admin/users/staff", Some(body.clone())).await;
        assert_eq!(status, want, "{body} → {answer}");
    }
    let denied = audit_outcomes(&stack, "admin.user.invite", "new-root@example.com").await;
    assert_eq!(denied, [AuditOutcome::Denied]);

    // Creating customers: a manager within their team only; premium needs tier_management.
    let new_customer = |email: &str, team: Option<&str>, premium: bool| json!({ "email": email, "baseType": "dealer", "team": team, "premium": premium });
    let cases = [
        (&manager, new_customer("c-north@example.com", Some("north"), false), 201),
        (&manager, new_customer("c-south@example.com", Some("south"), false), 403),
        (&manager, new_customer("c-premium@example.com", Some("north"), true), 403),
        (&admin, new_customer("c-premium2@example.com", None, true), 201),
        (&member, new_customer("c-member@example.com", Some("north"), false), 403),
    ];
    for (actor, body, want) in cases {
        let (status, answer) = actor.call(Method::POST, "/admin/users/customer", Some(body.clone())).await;
        assert_eq!(status, want, "{body} → {answer}");
    }
    let created = stack
        .runtime
        .store
        .find_mirror_by_email(PoolKind::Customer, "c-premium2@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(created.premium && created.approved, "created by staff: approved, and premium as asked");
    assert_eq!(created.status, "FORCE_CHANGE_PASSWORD", "an invitation with a temporary password");

    // Role changes.
    let north_member = staff_target(&stack, "nm@example.com", "team_member", Some("north")).await;
    let south_member = staff_target(&stack, "sm@example.com", "team_member", Some("south")).await;
    let other_root = staff(&stack, "root2@example.com", "super_admin", None).await.sub;
    let role = |role: &str| Some(json!({ "role": role }));
    let staff_path = |sub: &str, what: &str| format!("/admin/users/staff/{sub}/{what}");
    let (status, _) = admin.call(Method::PUT, &staff_path(&north_member, "role"), role("super_admin")).await;
    assert_eq!(status, 403, "an admin never makes a super_admin");
    let (status, _) = admin.call(Method::PUT, &staff_path(&north_member, "role"), role("admin")).await;
    assert_eq!(status, 200, "an admin may grant their own rank");
    let (status, _) = admin.call(Method::POST, &staff_path(&other_root, "disable"), None).await;
    assert_eq!(status, 403, "an admin never touches a super_admin");
    let (status, _) = manager.call(Method::PUT, &staff_path(&south_member, "role"), role("manager")).await;
    assert_eq!(status, 403, "a manager never edits another team");
    let (status, _) =
        manager.call(Method::PUT, &staff_path(&south_member, "team"), Some(json!({ "team": "north" }))).await;
    assert_eq!(status, 403, "a manager cannot pull someone from another team");
    let (status, _) = admin.call(Method::PUT, &staff_path(&admin.sub, "role"), role("super_admin")).await;
    assert_eq!(status, 403, "nobody promotes themselves");
    let (status, body) = root.call(Method::PUT, &staff_path(&north_member, "role"), role("pharaoh")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("VALIDATION")));
    // A lost authenticator: reset, the next sign-in enrols a new one (staff MFA stays required).
    let (status, body) = root.call(Method::POST, &staff_path(&north_member, "reset-mfa"), None).await;
    assert_eq!(status, 200, "{body}");
    let member_row = stack.runtime.store.get_mirror(PoolKind::Staff, &north_member).await.unwrap().unwrap();
    assert_eq!(member_row.role, "admin");
    for (target, outcome) in [(&north_member, AuditOutcome::Denied), (&south_member, AuditOutcome::Denied)] {
        assert!(audit_outcomes(&stack, "admin.user.change_role", target).await.contains(&outcome));
    }

    // The last active super_admin: with two, one may be disabled; then the last one cannot be removed by
    // anyone, themselves included.
    let (status, _) = root.call(Method::POST, &staff_path(&other_root, "disable"), None).await;
    assert_eq!(status, 200, "with two active super_admins, one may go");
    let new_root = stack
        .runtime
        .store
        .find_mirror_by_email(PoolKind::Staff, "new-root2@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new_root.onboarding.as_str(), "pending_mfa", "an invited super_admin is not active until MFA");
    for (method, what, body) in
        [(Method::POST, "disable", None), (Method::DELETE, "", None), (Method::PUT, "role", role("admin"))]
    {
        let path = if what.is_empty() {
            format!("/admin/users/staff/{}", root.sub)
        } else {
            staff_path(&root.sub, what)
        };
        let (status, answer) = root.call(method, &path, body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "the last super_admin stays: {what}"
        );
    }
    assert_eq!(audit_outcomes(&stack, "admin.user.disable", &root.sub).await, [AuditOutcome::Denied]);
    assert_eq!(audit_outcomes(&stack, "admin.user.delete", &root.sub).await, [AuditOutcome::Denied]);
    let root_row = stack.runtime.store.get_mirror(PoolKind::Staff, &root.sub).await.unwrap().unwrap();
    assert!(root_row.enabled && root_row.role == "super_admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_paged_and_filtered_and_managers_see_their_team_only() {
    let stack = Stack::start(&[]).await;
    teams(&stack).await;
    let admin = staff(&stack, "admin@example.com", "admin", None).await;
    let manager = staff(&stack, "manager@example.com", "manager", Some("north")).await;
    let mut north = Vec::new();
    for i in 0..5 {
        north.push(customer(&stack, &format!("page-{i}@example.com"), "dealer", Some("north"), false).await);
    }
    let south = customer(&stack, "south-dealer@example.com", "dealer", Some("south"), false).await;
    let plain = customer(&stack, "plain@example.com", "individual", None, true).await;
    let premium = customer(&stack, "rich@example.com", "individual", None, true).await;
    admin
        .call(Method::PUT, &format!("/admin/users/customer/{premium}/tier"), Some(json!({ "premium": true })))
        .await;
    admin.call(Method::POST, &format!("/admin/users/customer/{plain}/disable"), None).await;

    // Pages of 2 over the north dealers: every one exactly once, then no `next`.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) =
            admin.get(&format!("/admin/users?pool=customer&team=north&limit=2&after={after}")).await;
        assert_eq!(status, 200, "{page}");
        let users = page["users"].as_array().unwrap();
        assert!(users.len() <= 2);
        seen.extend(users.iter().map(|u| text(u, "sub")));
        match page["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    let mut expected = north.clone();
    expected.sort();
    assert_eq!(seen, expected, "sub order, no gaps, no repeats");

    let subs = |page: &Value| -> Vec<String> {
        page["users"].as_array().unwrap().iter().map(|u| text(u, "sub")).collect()
    };
    let (_, page) = admin.get("/admin/users?tier=premium").await;
    assert_eq!(subs(&page), std::slice::from_ref(&premium));
    let (_, page) = admin.get("/admin/users?status=disabled").await;
    assert_eq!(subs(&page), std::slice::from_ref(&plain));
    let (_, page) = admin.get("/admin/users?pool=customer&onboarding=pending_approval&email=south").await;
    assert_eq!(subs(&page), std::slice::from_ref(&south));
    let (_, page) = admin.get("/admin/users?pool=staff&role=manager").await;
    assert_eq!(subs(&page), std::slice::from_ref(&manager.sub));
    let (_, page) = admin.get("/admin/users?email=PAGE-").await;
    assert_eq!(subs(&page).len(), 5, "email prefixes ignore case");
    for bad in ["pool=martians", "tier=gold", "status=sleepy", "onboarding=limbo", "limit=many"] {
        let (status, body) = admin.get(&format!("/admin/users?{bad}")).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("VALIDATION")), "{bad}: {body}");
    }

    // A manager sees their own team and nothing else, whatever they ask for.
    let (_, page) = manager.get("/admin/users?limit=200").await;
    let visible = subs(&page);
    assert!(north.iter().all(|s| visible.contains(s)));
    assert!(!visible.contains(&south) && !visible.contains(&plain) && !visible.contains(&admin.sub));
    let (_, page) = manager.get("/admin/users?team=south").await;
    assert!(subs(&page).is_empty());
    let (status, _) = manager.get(&format!("/admin/users/customer/{south}")).await;
    assert_eq!(status, 403);
    let (status, detail) = manager.get(&format!("/admin/users/customer/{}", north[0])).await;
    assert_eq!(status, 200);
    let allowed: Vec<&str> =
        detail["allowedActions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(allowed.contains(&"user.approve") && !allowed.contains(&"user.change_tier"), "{allowed:?}");
    assert_eq!(detail["attributes"]["custom:team"], "north");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_teams_audit_and_status() {
    let stack = Stack::start(&[]).await;
    teams(&stack).await;
    let root = staff(&stack, "root@example.com", "super_admin", None).await;
    let admin = staff(&stack, "admin@example.com", "admin", None).await;
    let member = staff(&stack, "member@example.com", "team_member", Some("north")).await;

    // Only staff access tokens.
    let http = reqwest::Client::new();
    let (status, _, headers) =
        call(&http, Method::GET, format!("{}/admin/users", stack.url), None, None).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer");
    customer(&stack, "cust@example.com", "individual", None, true).await;
    let (_, body) = Pool::new(&stack.url, "customer").login("cust@example.com", CUSTOMER_PASSWORD).await;
    let customer_token = text(&body, "accessToken");
    let (status, _, _) =
        call(&http, Method::GET, format!("{}/admin/users", stack.url), Some(&customer_token), None).await;
    assert_eq!(status, 401, "a customer token is not a staff token");
    let id_token = Admin {
        http: http.clone(),
        url: stack.url.clone(),
        token: text(&body, "idToken"),
        sub: String::new(),
    };
    assert_eq!(id_token.get("/admin/users").await.0, 401);
    assert_eq!(member.get("/admin/users").await.0, 403, "a team_member manages nobody");

    // The detail lists the customer's signed-in session; signing them out everywhere ends it.
    let cust = stack
        .runtime
        .store
        .find_mirror_by_email(PoolKind::Customer, "cust@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, detail) = admin.get(&format!("/admin/users/customer/{}", cust.sub)).await;
    assert_eq!(detail["sessions"].as_array().map(Vec::len), Some(1), "{detail}");
    assert!(
        detail["sessions"][0]["expiresAt"].as_i64().unwrap()
            > detail["sessions"][0]["signedInAt"].as_i64().unwrap()
    );
    let (status, _) =
        admin.call(Method::POST, &format!("/admin/users/customer/{}/sign-out", cust.sub), None).await;
    assert_eq!(status, 200);
    let (_, detail) = admin.get(&format!("/admin/users/customer/{}", cust.sub)).await;
    assert_eq!(detail["sessions"].as_array().map(Vec::len), Some(0), "{detail}");

    let (status, body) =
        admin.call(Method::POST, &format!("/admin/users/staff/{}/promote", member.sub), None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("VALIDATION")), "an unknown operation: {body}");

    // Teams.
    let (status, _) = admin
        .call(Method::POST, "/admin/teams", Some(json!({ "name": "east", "description": "East" })))
        .await;
    assert_eq!(status, 201);
    let (status, body) = admin.call(Method::POST, "/admin/teams", Some(json!({ "name": "east" }))).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")));
    let (status, _) = admin.call(Method::POST, "/admin/teams", Some(json!({ "name": "East Side" }))).await;
    assert_eq!(status, 400);
    let (status, _) = member.call(Method::POST, "/admin/teams", Some(json!({ "name": "west" }))).await;
    assert_eq!(status, 403);
    let (_, teams) = admin.get("/admin/teams").await;
    let names: Vec<&str> = teams.as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["east", "north", "south"]);
    let north = &teams.as_array().unwrap()[1];
    assert_eq!(north["members"][0]["email"], "member@example.com");

    // The audit log: filtered, paged, exported as NDJSON; refused to those without audit_log_view.
    let (status, page) = admin.get("/admin/audit?action=admin.team.manage&limit=2").await;
    assert_eq!(status, 200, "{page}");
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(page["next"].is_string());
    let (_, older) = admin
        .get(&format!("/admin/audit?action=admin.team.manage&limit=2&before={}", text(&page, "next")))
        .await;
    assert_eq!(older["events"].as_array().unwrap().len(), 2, "4 team events in all");
    let (_, denied) = admin.get("/admin/audit?outcome=denied").await;
    assert!(denied["events"].as_array().unwrap().iter().all(|e| e["outcome"] == "denied"));
    let (_, by_actor) = admin.get(&format!("/admin/audit?actor={}", member.sub)).await;
    assert!(!by_actor["events"].as_array().unwrap().is_empty());
    let response = http
        .get(format!("{}/admin/audit/export?action=admin.", stack.url))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text_body = response.text().await.unwrap();
    let lines: Vec<Value> = text_body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 4 && lines.iter().all(|e| e["action"].as_str().unwrap().starts_with("admin.")));
    assert!(!text_body.contains(STAFF_PASSWORD) && !text_body.contains(CUSTOMER_PASSWORD));
    assert_eq!(member.get("/admin/audit").await.0, 403);
    assert_eq!(member.get("/admin/audit/export").await.0, 403);
    let (_, events) = admin.get("/admin/audit?action=admin.audit.export&outcome=success").await;
    assert_eq!(events["events"][0]["actor"].as_str(), Some(admin.sub.as_str()), "exports are audited");

    // Status needs system_config: super_admin only.
    assert_eq!(admin.get("/admin/status").await.0, 403);
    let (status, report) = root.get("/admin/status").await;
    assert_eq!(status, 200, "{report}");
    let pools = report["pools"].as_array().unwrap();
    assert_eq!(pools[1]["pool"], "staff");
    assert_eq!(pools[1]["provider"], "local");
    assert!(pools[1]["mfa"].as_str().unwrap().starts_with("required"));
    assert_eq!(pools[1]["accessTokenLifetime"], "15m");
    assert!(pools[0]["mirrorTotal"].as_u64().unwrap() >= 1);
    let (status, tested) = root.call(Method::POST, "/admin/status/test", None).await;
    assert_eq!(status, 200, "{tested}");
    for check in tested["pools"].as_array().unwrap() {
        assert_eq!(check["ok"], true, "{check}");
        assert_eq!(check["drift"]["created"].as_array().unwrap().len(), 0, "{check}");
    }

    // The whole admin API is in the OpenAPI document.
    let (_, document, _) = call(&http, Method::GET, format!("{}/openapi.json", stack.url), None, None).await;
    for path in [
        "/admin/users",
        "/admin/users/{pool}/{sub}",
        "/admin/users/{pool}/{sub}/{command}",
        "/admin/teams",
        "/admin/audit/export",
        "/admin/status/test",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_guards_its_sessions_and_forms() {
    let stack = Stack::start(&[]).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = http.get(format!("{}{path}", stack.url));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    // Signed-out pages send to the sign-in form.
    let response = get("/console/users", None).await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/login");
    // The form: a session cookie that scripts cannot read and other sites cannot send, and headers that
    // forbid scripts and framing.
    let response = get("/console/login", None).await.unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console")
    );
    assert!(!cookie.contains("Secure"), "served over plain HTTP in this test");
    let csp = response.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let session = cookie.split(';').next().unwrap().to_owned();
    let html = response.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // A sign-in without the form's token is refused before any password is checked.
    customer(&stack, "someone@example.com", "individual", None, true).await;
    staff_target(&stack, "staffer@example.com", "admin", None).await;
    for token in ["", "forged"] {
        let response = http
            .post(format!("{}/console/login", stack.url))
            .header("cookie", &session)
            .form(&[("csrf", token), ("email", "staffer@example.com"), ("password", STAFF_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/console/login");
    }
    let attempts = stack
        .runtime
        .store
        .query_audit(&AuditQuery {
            action: Some("auth.login".to_owned()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(attempts.is_empty(), "no sign-in was attempted without a valid CSRF token");

    // With the token: the password step leads to the MFA setup, in the same session.
    let response = http
        .post(format!("{}/console/login", stack.url))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str()), ("email", "staffer@example.com"), ("password", STAFF_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/login/mfa-setup");
    let page = get("/console/login/mfa-setup", Some(&session)).await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"totp-secret\""), "{page}");
    // A customer's credentials never open the console.
    let response = http
        .post(format!("{}/console/login", stack.url))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str()), ("email", "someone@example.com"), ("password", CUSTOMER_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/login");
    // A made-up session cookie is worth nothing.
    let response = get("/console/users", Some("cognigate_console=made-up")).await.unwrap();
    assert_eq!(response.status(), 303);
}
