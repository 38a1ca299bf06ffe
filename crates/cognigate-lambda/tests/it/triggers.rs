//! Each Cognito trigger with its event JSON: PreSignUp accepting, refusing and auto-confirming;
//! PostConfirmation against the embedded engine (through the same provider interface as Cognito) and a
//! real SQLite store; PreTokenGeneration V2's claims in both tokens; PostAuthentication's audit event in
//! the store and on the log.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cognigate_config::{Config, Environment, PoolKind};
use cognigate_domain::access::AccessModel;
use cognigate_domain::onboarding::OnboardingState;
use cognigate_lambda::TriggerError;
use cognigate_lambda::triggers::{StoreAccess, TriggerParts, TriggerState, handle};
use cognigate_provider::IdentityProvider;
use cognigate_service::auth::default_role;
use cognigate_service::ports::{AuditOutcome, AuditQuery, AuditStore, MirrorStore};
use cognigate_store::SqlStore;
use serde_json::{Value, json};

use crate::*;

fn state(config: Config, environment: Environment, parts: TriggerParts) -> TriggerState {
    TriggerState::new(config, environment, parts).unwrap()
}

fn no_parts() -> TriggerParts {
    TriggerParts { providers: Vec::new(), store: StoreAccess::Off }
}

/// The embedded engine with the shipped dev configuration, on a fresh SQLite file.
pub struct Engine {
    pub _dir: tempfile::TempDir,
    pub runtime: cognigate::runtime::Runtime,
}

impl Engine {
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().display().to_string();
        let store_url = format!("sqlite://{data_dir}/cognigate.db");
        let mut all = vec![
            ("COGNIGATE_SERVICE__DATA_DIR", data_dir.as_str()),
            ("COGNIGATE_STORE__URL", store_url.as_str()),
        ];
        all.extend_from_slice(vars);
        let config =
            cognigate_config::load_from_str(SHIPPED, "cognigate.toml", Environment::Dev, all.iter().copied())
                .unwrap();
        let runtime = cognigate::runtime::start(&config, Environment::Dev).await.unwrap();
        Self { _dir: dir, runtime }
    }

    pub fn provider(&self, pool: PoolKind) -> Arc<dyn IdentityProvider> {
        self.runtime
            .providers
            .iter()
            .find(|(kind, _, _)| *kind == pool)
            .map(|(_, provider, _)| provider.clone())
            .unwrap()
    }

    pub fn parts(&self) -> TriggerParts {
        TriggerParts {
            providers: PoolKind::ALL.into_iter().map(|pool| (pool, self.provider(pool))).collect(),
            store: StoreAccess::Ready(self.runtime.store.clone()),
        }
    }

    /// Removes one of the role groups the runtime created (as the deployment does), to see a refusal.
    pub async fn delete_group(&self, pool: PoolKind, name: &str) {
        let pool_id = self.runtime.pools.iter().find(|p| p.kind == pool).unwrap().pool_id.clone();
        self.runtime.engine.delete_group(&pool_id, name).await.unwrap();
    }
}

// ----- PreSignUp -----

#[tokio::test]
async fn pre_sign_up_accepts_a_plain_customer_and_confirms_nothing() {
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, no_parts());
    let event = event("pre-sign-up");
    let answer = handle(event.clone(), &state, None).await.unwrap();
    assert_eq!(
        answer["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );
    assert_eq!(
        answer["request"],
        event["request"]
            .clone()
            .as_object()
            .map(|request| {
                let mut request = request.clone();
                request.insert("validationData".into(), json!({}));
                Value::Object(request)
            })
            .unwrap(),
        "the request is handed back as it came (null maps as empty ones)"
    );
    assert_eq!(answer["userPoolId"], CUSTOMER_POOL_ID);
    assert_eq!(answer["triggerSource"], "PreSignUp_SignUp");
}

#[tokio::test]
async fn pre_sign_up_auto_confirms_only_where_configured() {
    let on = config(Environment::Dev, None, &[("COGNIGATE_POOLS__CUSTOMER__AUTO_CONFIRM", "true")]);
    let state = state(on, Environment::Dev, no_parts());
    let answer = handle(event("pre-sign-up"), &state, None).await.unwrap();
    assert_eq!(answer["response"]["autoConfirmUser"], true);
    assert_eq!(answer["response"]["autoVerifyEmail"], true);
    assert_eq!(answer["response"]["autoVerifyPhone"], false);
    // An administrator's invitation is never auto-confirmed by the trigger.
    let mut invite = event("pre-sign-up");
    invite["triggerSource"] = json!("PreSignUp_AdminCreateUser");
    let answer = handle(invite, &state, None).await.unwrap();
    assert_eq!(answer["response"]["autoConfirmUser"], false);
}

#[tokio::test]
async fn pre_sign_up_refuses_with_a_message_cognito_shows() {
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, no_parts());
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut event = event("pre-sign-up");
        edit(&mut event);
        event
    };
    for (event, words) in [
        (refused(&|e| e["request"]["userAttributes"]["custom:role"] = json!("super_admin")), "custom:role"),
        (refused(&|e| e["request"]["userAttributes"]["custom:tier"] = json!("premium")), "custom:tier"),
        (
            refused(&|e| e["request"]["userAttributes"]["custom:display_name"] = json!("<b>")),
            "custom:display_name",
        ),
        (
            refused(&|e| {
                e["userPoolId"] = json!(STAFF_POOL_ID);
            }),
            "invitation only",
        ),
    ] {
        match handle(event, &state, None).await {
            Err(TriggerError::Refused(message)) => assert!(message.contains(words), "{message}"),
            other => panic!("expected a refusal naming {words}, got {other:?}"),
        }
    }
    let mut invite = event("pre-sign-up");
    invite["triggerSource"] = json!("PreSignUp_AdminCreateUser");
    invite["userPoolId"] = json!(STAFF_POOL_ID);
    invite["request"]["userAttributes"] = json!({
        "email": "mia@example.com", "given_name": "Mia", "family_name": "Berg",
        "custom:role": "manager", "custom:team": "north"
    });
    assert!(handle(invite.clone(), &state, None).await.is_ok(), "an administrator may set role and team");
    invite["request"]["userAttributes"]["custom:role"] = json!("emperor");
    assert!(matches!(handle(invite, &state, None).await, Err(TriggerError::Refused(_))));
}

#[tokio::test]
async fn events_of_unknown_pools_or_triggers_fail() {
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, no_parts());
    let mut foreign = event("pre-sign-up");
    foreign["userPoolId"] = json!("eu-west-1_Elsewhere");
    assert!(
        matches!(handle(foreign, &state, None).await, Err(TriggerError::UnknownPool(id)) if id == "eu-west-1_Elsewhere")
    );
    let mut custom_message = event("pre-sign-up");
    custom_message["triggerSource"] = json!("CustomMessage_SignUp");
    assert!(matches!(handle(custom_message, &state, None).await, Err(TriggerError::UnsupportedTrigger(_))));
    assert!(matches!(
        handle(json!({"request": {}}), &state, None).await,
        Err(TriggerError::Malformed { .. })
    ));
    let mut broken = event("pre-sign-up");
    broken.as_object_mut().unwrap().remove("callerContext");
    assert!(matches!(
        handle(broken, &state, None).await,
        Err(TriggerError::Malformed { trigger: "PreSignUp", .. })
    ));
}

// ----- PostConfirmation -----

#[tokio::test]
async fn post_confirmation_sets_the_base_type_joins_the_default_group_and_writes_the_mirror() {
    let engine = Engine::start(&[]).await;
    let customers = engine.provider(PoolKind::Customer);
    let email = "ann@example.com";
    let outcome = customers
        .sign_up(email, "Correct-Horse-1", &[("email".to_owned(), email.to_owned())].into())
        .await
        .unwrap();
    let sub = outcome.user_sub;
    customers.admin_confirm_sign_up(&sub).await.unwrap();
    let record = customers.admin_get_user(&sub).await.unwrap();
    // The embedded engine ran the same hook at confirmation; undo it, so what follows is the Lambda's work.
    customers.admin_remove_user_from_group(&record.username, "individual").await.unwrap();
    customers
        .admin_update_user_attributes(
            &record.username,
            &[("custom:base_type".to_owned(), String::new())].into(),
        )
        .await
        .unwrap();
    engine.runtime.store.delete_mirror(PoolKind::Customer, &sub).await.unwrap();

    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, engine.parts());
    let text = serde_json::to_string(&event("post-confirmation"))
        .unwrap()
        .replace("<username>", &record.username)
        .replace("<sub>", &sub)
        .replace("<email>", email);
    let event: Value = serde_json::from_str(&text).unwrap();
    let answer = handle(event.clone(), &state, Some("req-1")).await.unwrap();
    assert_eq!(answer["response"], json!({}));
    assert_eq!(answer["request"]["userAttributes"], event["request"]["userAttributes"]);

    let groups = customers.admin_list_groups_for_user(&record.username).await.unwrap();
    assert_eq!(groups, vec![default_role(PoolKind::Customer).to_owned()]);
    let record = customers.admin_get_user(&sub).await.unwrap();
    assert_eq!(record.attribute("custom:base_type"), Some("individual"));
    let row = engine.runtime.store.get_mirror(PoolKind::Customer, &sub).await.unwrap().expect("a mirror row");
    assert_eq!(row.onboarding, OnboardingState::Active);
    assert_eq!(
        (row.role.as_str(), row.status.as_str(), row.email.as_str()),
        ("individual", "CONFIRMED", email)
    );

    // A confirmed password reset is not a new account: nothing changes.
    customers.admin_remove_user_from_group(&record.username, "individual").await.unwrap();
    let mut reset = serde_json::from_str::<Value>(&text).unwrap();
    reset["triggerSource"] = json!("PostConfirmation_ConfirmForgotPassword");
    handle(reset, &state, None).await.unwrap();
    assert!(customers.admin_list_groups_for_user(&record.username).await.unwrap().is_empty());
}

#[tokio::test]
async fn post_confirmation_keeps_a_chosen_base_type_and_the_registered_row() {
    let engine = Engine::start(&[]).await;
    let customers = engine.provider(PoolKind::Customer);
    let email = "dealer@example.com";
    let sub = customers
        .sign_up(email, "Correct-Horse-1", &[("email".to_owned(), email.to_owned())].into())
        .await
        .unwrap()
        .user_sub;
    customers
        .admin_update_user_attributes(&sub, &[("custom:base_type".to_owned(), "dealer".to_owned())].into())
        .await
        .unwrap();
    customers.admin_confirm_sign_up(&sub).await.unwrap();
    let record = customers.admin_get_user(&sub).await.unwrap();
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, engine.parts());
    let mut event = event("post-confirmation");
    event["userName"] = json!(record.username);
    event["request"]["userAttributes"] = json!({
        "sub": sub, "email": email, "email_verified": "true", "custom:base_type": "dealer"
    });
    handle(event, &state, None).await.unwrap();
    let record = customers.admin_get_user(&sub).await.unwrap();
    assert_eq!(record.attribute("custom:base_type"), Some("dealer"), "a chosen base type is kept");
    let row = engine.runtime.store.get_mirror(PoolKind::Customer, &sub).await.unwrap().unwrap();
    assert_eq!((row.role.as_str(), row.onboarding), ("dealer", OnboardingState::PendingApproval));
}

#[tokio::test]
async fn post_confirmation_fails_loudly_when_the_group_cannot_be_joined() {
    let engine = Engine::start(&[]).await;
    // The default group is missing: the identity provider refuses, and so does the hook, the engine's own
    // at confirmation as much as the Lambda's.
    engine.delete_group(PoolKind::Customer, "individual").await;
    let customers = engine.provider(PoolKind::Customer);
    let email = "nogroup@example.com";
    let sub = customers
        .sign_up(email, "Correct-Horse-1", &[("email".to_owned(), email.to_owned())].into())
        .await
        .unwrap()
        .user_sub;
    assert!(customers.admin_confirm_sign_up(&sub).await.is_err(), "the engine's PostConfirmation refuses");
    let record = customers.admin_get_user(&sub).await.unwrap();
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, engine.parts());
    let mut event = event("post-confirmation");
    event["userName"] = json!(record.username);
    event["request"]["userAttributes"] = json!({"sub": sub, "email": email});
    assert!(matches!(handle(event, &state, None).await, Err(TriggerError::Provider(_))));
    let bare = TriggerState::new(config(Environment::Dev, None, &[]), Environment::Dev, no_parts()).unwrap();
    let mut event = crate::event("post-confirmation");
    event["request"]["userAttributes"]["sub"] = json!("some-sub");
    assert!(matches!(handle(event, &bare, None).await, Err(TriggerError::Misconfigured(_))));
}

#[test]
fn the_default_group_is_the_one_the_infrastructure_declares() {
    let environments: Vec<(Environment, Config)> = Environment::ALL
        .into_iter()
        .map(|env| (env, cognigate_config::load_from_str(SHIPPED, "cognigate.toml", env, []).unwrap()))
        .collect();
    let infra: Value = serde_json::from_str(&cognigate_export::infra_json(&environments).unwrap()).unwrap();
    for env in ["dev", "staging", "prod"] {
        for pool in PoolKind::ALL {
            assert_eq!(
                infra["environments"][env]["pools"][pool.as_str()]["defaultGroup"],
                default_role(pool),
                "{env} {pool}"
            );
        }
    }
}

// ----- PreTokenGeneration -----

#[tokio::test]
async fn pre_token_generation_puts_the_same_claims_in_both_tokens_and_keeps_the_groups() {
    let config = config(Environment::Dev, None, &[]);
    let model = AccessModel::from_config(&config);
    let state = state(config, Environment::Dev, no_parts());
    let answer = handle(event("pre-token-generation-v2"), &state, None).await.unwrap();
    let details = &answer["response"]["claimsAndScopeOverrideDetails"];
    let permissions: Vec<String> =
        model.permissions_of(PoolKind::Customer, "dealer", &["premium".to_owned()]).into_iter().collect();
    let expected = json!({"onboarding": "active", "role": "dealer", "tier": "premium", "team": "north", "permissions": permissions});
    assert_eq!(details["accessTokenGeneration"]["claimsToAddOrOverride"], expected);
    assert_eq!(details["idTokenGeneration"]["claimsToAddOrOverride"], expected);
    assert_eq!(details["accessTokenGeneration"]["claimsToSuppress"], json!([]));
    assert_eq!(details["accessTokenGeneration"]["scopesToSuppress"], json!([]));
    assert_eq!(details["groupOverrideDetails"]["groupsToOverride"], json!(["dealer", "premium"]));
    assert!(
        permissions.contains(&"premium_analytics".to_owned())
            && permissions.contains(&"dealer_leads".to_owned())
    );
}

#[tokio::test]
async fn pre_token_generation_ignores_forged_roles_and_refuses_version_one() {
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, no_parts());
    let mut forged = event("pre-token-generation-v2");
    forged["request"]["userAttributes"]["custom:base_type"] = json!("super_admin");
    forged["request"]["groupConfiguration"]["groupsToOverride"] = json!([]);
    let answer = handle(forged, &state, None).await.unwrap();
    let claims = &answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(claims.get("role"), None, "an unknown role is no role");
    assert_eq!(claims.get("tier"), None, "no tier without a base type");
    assert_eq!(claims["permissions"], json!([]));
    let mut staff = event("pre-token-generation-v2");
    staff["userPoolId"] = json!(STAFF_POOL_ID);
    staff["request"]["userAttributes"] =
        json!({"sub": "s", "custom:role": "admin", "custom:onboarding": "active"});
    staff["request"]["groupConfiguration"]["groupsToOverride"] = json!(["team_member"]);
    let answer = handle(staff, &state, None).await.unwrap();
    let claims =
        &answer["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(claims["role"], "admin", "the administrator-written role wins over groups");
    // F3 of the 2026-12-07 audit: a pending dealer carried dealer permissions. No state that keeps
    // permissions off lets any through, and no recorded state at all means none either.
    for onboarding in [None, Some("pending_approval"), Some("rejected")] {
        let mut pending = event("pre-token-generation-v2");
        match onboarding {
            Some(value) => pending["request"]["userAttributes"]["custom:onboarding"] = json!(value),
            None => {
                pending["request"]["userAttributes"].as_object_mut().unwrap().remove("custom:onboarding");
            }
        }
        let answer = handle(pending, &state, None).await.unwrap();
        let claims = &answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"];
        assert_eq!(claims["permissions"], json!([]), "{onboarding:?}");
        assert_eq!(claims.get("role"), None, "{onboarding:?}");
        assert_eq!(claims.get("onboarding").and_then(Value::as_str), onboarding, "the token says the state");
    }
    let mut v1 = event("pre-token-generation-v2");
    v1["version"] = json!("1");
    assert!(
        matches!(handle(v1, &state, None).await, Err(TriggerError::Misconfigured(message)) if message.contains("V2_0"))
    );
}

// ----- PostAuthentication -----

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn post_authentication_stores_and_logs_one_audit_event() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(SqlStore::open(&format!("sqlite://{}/audit.db", dir.path().display())).await.unwrap());
    let parts = TriggerParts { providers: Vec::new(), store: StoreAccess::Ready(store.clone()) };
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, parts);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().json().with_writer(move || writer.clone()).finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let event = event("post-authentication");
    let answer = handle(event.clone(), &state, Some("req-42")).await.unwrap();
    drop(guard);
    assert_eq!(answer, event, "PostAuthentication answers the event unchanged");

    let stored = store
        .query_audit(&AuditQuery { pool: Some(PoolKind::Staff), limit: 10, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let audit = &stored[0];
    assert_eq!(audit.action, "auth.authenticated");
    assert_eq!(audit.outcome, AuditOutcome::Success);
    assert_eq!(audit.actor.as_deref(), Some("7b3e9d21-5a6c-4f8e-b1d2-3c4e5f6a7b8c"));
    assert_eq!(audit.actor_role.as_deref(), Some("manager"));
    assert_eq!(audit.detail.as_deref(), Some("new device"));
    assert_eq!(audit.request_id.as_deref(), Some("req-42"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["target"] == "audit")
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    let fields = &lines[0]["fields"];
    assert_eq!(fields["action"], "auth.authenticated");
    assert_eq!(fields["event_id"], audit.id.as_str());
    assert_eq!(fields["actor_role"], "manager");
    assert_eq!(fields["request_id"], "req-42");
}

#[tokio::test]
async fn post_authentication_without_a_store_still_logs_and_succeeds() {
    let state = state(config(Environment::Dev, None, &[]), Environment::Dev, no_parts());
    let event = event("post-authentication");
    assert_eq!(handle(event.clone(), &state, None).await.unwrap(), event);
    // A configured store that cannot be reached costs a bounded wait, then the sign-in goes on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://cognigate@{}/cognigate", closed.local_addr().unwrap());
    drop(closed);
    let parts = TriggerParts { providers: Vec::new(), store: StoreAccess::Connect(url) };
    let unreachable =
        TriggerState::new(config(Environment::Dev, None, &[]), Environment::Dev, parts).unwrap();
    for _ in 0..2 {
        assert_eq!(handle(event.clone(), &unreachable, None).await.unwrap(), event);
    }
    // The store of a deployment is PostgreSQL; an SQLite URL means no shared store on Lambda.
    let sqlite = config(Environment::Dev, None, &[]);
    assert!(matches!(StoreAccess::from_config(&sqlite), StoreAccess::Off));
    let prod = cognigate_config::load_from_str(SHIPPED, "cognigate.toml", Environment::Prod, []).unwrap();
    assert!(
        matches!(StoreAccess::from_config(&prod), StoreAccess::Connect(url) if url.starts_with("postgres://"))
    );
}
