//! The scenarios every store must pass.

use std::collections::{BTreeMap, BTreeSet};

use cognigate_engine::model::*;
use cognigate_engine::store::{Store, StoreError};

pub fn pool(id: &str) -> UserPool {
    UserPool {
        id: id.to_owned(),
        name: format!("{id} pool"),
        password_policy: PasswordPolicy {
            minimum_length: 8,
            require_lowercase: true,
            require_uppercase: false,
            require_numbers: false,
            require_symbols: false,
        },
        mfa: MfaConfiguration::Optional,
        software_token_mfa: true,
        sms_mfa: false,
        auto_verified_attributes: vec!["email".into()],
        username_attributes: vec!["email".into()],
        custom_attributes: BTreeMap::new(),
        admin_create_only: false,
        lockout: LockoutPolicy { max_failures: 5, window_secs: 900, duration_secs: 1800 },
        temporary_password_validity_days: 7,
        created_ms: 1,
        updated_ms: 1,
    }
}

fn client(id: &str, pool_id: &str) -> AppClient {
    AppClient {
        id: id.to_owned(),
        pool_id: pool_id.to_owned(),
        name: "web".into(),
        secret_sealed: None,
        explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into(), "ALLOW_REFRESH_TOKEN_AUTH".into()],
        access_token_validity_secs: 3600,
        id_token_validity_secs: 3600,
        refresh_token_validity_secs: 86_400,
        prevent_user_existence_errors: true,
        read_attributes: vec![],
        write_attributes: vec![],
        enable_token_revocation: true,
        refresh_token_rotation: false,
        rotation_grace_secs: 0,
        front_door: true,
        created_ms: 1,
        updated_ms: 1,
    }
}

fn user(pool_id: &str, sub: &str, email: &str) -> User {
    User {
        pool_id: pool_id.to_owned(),
        sub: sub.to_owned(),
        username: email.to_owned(),
        sign_in_alias: None,
        attributes: BTreeMap::from([
            ("email".to_owned(), email.to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ]),
        status: UserStatus::Confirmed,
        enabled: true,
        password_hash: Some("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA".into()),
        temporary_password_expires_ms: None,
        pending_email: None,
        mfa: UserMfa::default(),
        tokens_valid_after_ms: 0,
        created_ms: 10,
        updated_ms: 10,
    }
}

pub async fn run_all(store: &dyn Store) {
    pools_and_clients(store).await;
    users_are_unique_by_case_insensitive_username(store).await;
    list_users_pages_and_filters(store).await;
    groups(store).await;
    codes_sessions_and_lockout(store).await;
    refresh_tokens(store).await;
    keys_and_outbox(store).await;
    deleting_a_user_removes_what_hangs_off_it(store).await;
    deleting_a_pool_removes_everything_in_it(store).await;
    seed_for_reopen(store).await;
}

async fn pools_and_clients(store: &dyn Store) {
    store.put_pool(&pool("local_pools")).await.unwrap();
    let mut changed = pool("local_pools");
    changed.name = "renamed".into();
    store.put_pool(&changed).await.unwrap();
    assert_eq!(store.get_pool("local_pools").await.unwrap().unwrap().name, "renamed");
    assert!(store.get_pool("local_none").await.unwrap().is_none());
    assert!(store.list_pools().await.unwrap().iter().any(|p| p.id == "local_pools"));
    store.put_client(&client("client1", "local_pools")).await.unwrap();
    store.put_client(&client("client2", "local_pools")).await.unwrap();
    assert_eq!(store.get_client("client1").await.unwrap().unwrap(), client("client1", "local_pools"));
    assert_eq!(store.list_clients("local_pools").await.unwrap().len(), 2);
    store.delete_client("client2").await.unwrap();
    assert!(store.get_client("client2").await.unwrap().is_none());
}

async fn users_are_unique_by_case_insensitive_username(store: &dyn Store) {
    store.put_pool(&pool("local_users")).await.unwrap();
    let alice = user("local_users", "sub-alice", "Alice@Example.com");
    store.insert_user(&alice).await.unwrap();
    let twin = user("local_users", "sub-twin", "alice@example.COM");
    assert!(matches!(store.insert_user(&twin).await, Err(StoreError::Conflict(_))));
    // The same username in another pool is another user.
    store.put_pool(&pool("local_other")).await.unwrap();
    store.insert_user(&user("local_other", "sub-alice-2", "alice@example.com")).await.unwrap();

    let found = store.find_user("local_users", "ALICE@example.com").await.unwrap().unwrap();
    assert_eq!(found, alice);
    assert_eq!(store.get_user("local_users", "sub-alice").await.unwrap().unwrap(), alice);
    assert!(store.find_user("local_users", "bob@example.com").await.unwrap().is_none());

    let mut updated = alice.clone();
    updated.attributes.insert("custom:company_name".into(), "Acme".into());
    updated.enabled = false;
    store.update_user(&updated).await.unwrap();
    let by_company =
        store.find_users_by_attribute("local_users", "custom:company_name", "Acme").await.unwrap();
    assert_eq!(by_company, vec![updated.clone()]);
    let by_email = store.find_users_by_attribute("local_users", "email", "alice@EXAMPLE.com").await.unwrap();
    assert_eq!(by_email.len(), 1, "email compares case-insensitively");

    let missing = user("local_users", "sub-ghost", "ghost@example.com");
    assert!(matches!(store.update_user(&missing).await, Err(StoreError::NotFound(_))));
}

async fn list_users_pages_and_filters(store: &dyn Store) {
    store.put_pool(&pool("local_list")).await.unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..25 {
        let name =
            if i % 2 == 0 { format!("anna{i:02}@example.com") } else { format!("bert{i:02}@example.com") };
        let mut u = user("local_list", &format!("sub-{i:02}"), &name);
        if i == 3 {
            u.status = UserStatus::Unconfirmed;
        }
        store.insert_user(&u).await.unwrap();
        expected.insert(u.sub.clone());
    }
    let mut seen = BTreeSet::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list_users("local_list", None, 10, after.as_deref()).await.unwrap();
        pages += 1;
        for u in &page.users {
            assert!(seen.insert(u.sub.clone()), "{} listed twice", u.sub);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, expected));

    let prefix = UserFilter { attribute: "email".into(), value: "ANNA".into(), prefix: true };
    let page = store.list_users("local_list", Some(&prefix), 60, None).await.unwrap();
    assert_eq!(page.users.len(), 13);
    assert!(page.users.iter().all(|u| u.username.starts_with("anna")));
    let exact = UserFilter { attribute: "email".into(), value: "bert05@example.com".into(), prefix: false };
    let page = store.list_users("local_list", Some(&exact), 60, None).await.unwrap();
    assert_eq!(page.users.iter().map(|u| u.sub.as_str()).collect::<Vec<_>>(), ["sub-05"]);
    let status =
        UserFilter { attribute: "cognito:user_status".into(), value: "UNCONFIRMED".into(), prefix: false };
    assert_eq!(store.list_users("local_list", Some(&status), 60, None).await.unwrap().users.len(), 1);
    let by_username = UserFilter { attribute: "username".into(), value: "bert".into(), prefix: true };
    let page = store.list_users("local_list", Some(&by_username), 5, None).await.unwrap();
    assert_eq!(page.users.len(), 5);
    let rest = store.list_users("local_list", Some(&by_username), 50, page.next.as_deref()).await.unwrap();
    assert_eq!(rest.users.len(), 7);
    assert!(rest.next.is_none());
}

async fn groups(store: &dyn Store) {
    store.put_pool(&pool("local_groups")).await.unwrap();
    let member = user("local_groups", "sub-m", "m@example.com");
    store.insert_user(&member).await.unwrap();
    for name in ["admin", "manager"] {
        store
            .put_group(&Group {
                pool_id: "local_groups".into(),
                name: name.into(),
                description: Some(format!("{name}s")),
                precedence: Some(1),
                created_ms: 1,
                updated_ms: 1,
            })
            .await
            .unwrap();
    }
    store.add_user_to_group("local_groups", "admin", "sub-m").await.unwrap();
    store.add_user_to_group("local_groups", "admin", "sub-m").await.unwrap();
    store.add_user_to_group("local_groups", "manager", "sub-m").await.unwrap();
    let names: Vec<String> =
        store.groups_of_user("local_groups", "sub-m").await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["admin", "manager"]);
    assert_eq!(store.users_in_group("local_groups", "admin").await.unwrap(), vec![member]);
    store.remove_user_from_group("local_groups", "manager", "sub-m").await.unwrap();
    store.delete_group("local_groups", "admin").await.unwrap();
    assert!(store.groups_of_user("local_groups", "sub-m").await.unwrap().is_empty());
    assert_eq!(store.list_groups("local_groups").await.unwrap().len(), 1);
    assert!(store.get_group("local_groups", "admin").await.unwrap().is_none());
}

async fn codes_sessions_and_lockout(store: &dyn Store) {
    let code = CodeRecord {
        pool_id: "local_users".into(),
        sub: "sub-alice".into(),
        purpose: CodePurpose::SignUp,
        code_hash: "h1".into(),
        expires_ms: 100,
        attempts: 0,
        window_started_ms: 50,
        sent_in_window: 2,
        failures_in_window: 3,
    };
    store.put_code(&code).await.unwrap();
    let replaced = CodeRecord { code_hash: "h2".into(), attempts: 1, ..code.clone() };
    store.put_code(&replaced).await.unwrap();
    assert_eq!(
        store.get_code("local_users", "sub-alice", CodePurpose::SignUp).await.unwrap(),
        Some(replaced)
    );
    assert!(store.get_code("local_users", "sub-alice", CodePurpose::ForgotPassword).await.unwrap().is_none());
    store.delete_code("local_users", "sub-alice", CodePurpose::SignUp).await.unwrap();
    assert!(store.get_code("local_users", "sub-alice", CodePurpose::SignUp).await.unwrap().is_none());

    let session = ChallengeSession {
        id_hash: "session-1".into(),
        pool_id: "local_users".into(),
        client_id: "client1".into(),
        sub: "sub-alice".into(),
        challenge: "SOFTWARE_TOKEN_MFA".into(),
        expires_ms: 1000,
        auth_time_ms: 5,
    };
    store.put_session(&session).await.unwrap();
    assert_eq!(store.get_session("session-1").await.unwrap(), Some(session.clone()), "reading leaves it");
    assert!(store.get_session("session-x").await.unwrap().is_none());
    // Two concurrent takes: exactly one gets the session.
    let (first, second) = tokio::join!(store.take_session("session-1"), store.take_session("session-1"));
    let taken: Vec<ChallengeSession> = [first.unwrap(), second.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec![session]);

    assert_eq!(store.get_lockout("local_users", "sub-alice").await.unwrap(), LockoutRecord::default());
    let record =
        LockoutRecord { failures: 3, window_started_ms: 9, locked_until_ms: Some(99), last_failure_ms: 12 };
    store.put_lockout("local_users", "sub-alice", &record).await.unwrap();
    assert_eq!(store.get_lockout("local_users", "sub-alice").await.unwrap(), record);
}

fn refresh(hash: &str, family: &str, sub: &str) -> RefreshRecord {
    RefreshRecord {
        token_hash: hash.into(),
        pool_id: "local_users".into(),
        client_id: "client1".into(),
        sub: sub.into(),
        family: family.into(),
        auth_time_ms: 1,
        issued_ms: 2,
        expires_ms: 3,
        rotated_ms: None,
        revoked: false,
    }
}

async fn refresh_tokens(store: &dyn Store) {
    store.insert_refresh(&refresh("rt-1", "fam-1", "sub-alice")).await.unwrap();
    store.insert_refresh(&refresh("rt-2", "fam-2", "sub-alice")).await.unwrap();
    store.insert_refresh(&refresh("rt-3", "fam-3", "sub-other")).await.unwrap();
    assert!(matches!(
        store.insert_refresh(&refresh("rt-1", "fam-x", "x")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_refresh("rt-1").await.unwrap(), Some(refresh("rt-1", "fam-1", "sub-alice")));
    let live = |now| async move {
        let records = store.live_refresh("local_users", "sub-alice", now).await.unwrap();
        records.into_iter().map(|r| r.token_hash).collect::<Vec<_>>()
    };
    assert_eq!(live(2).await, ["rt-1", "rt-2"], "both sessions live before they expire");
    assert!(live(3).await.is_empty(), "an expired token is no session");

    // Rotation happens once, even when two callers race.
    let (a, b) = tokio::join!(store.mark_rotated("rt-1", 50), store.mark_rotated("rt-1", 51));
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(), 1);
    assert!(store.get_refresh("rt-1").await.unwrap().unwrap().rotated_ms.is_some());
    assert_eq!(live(2).await, ["rt-2"], "a rotated token is replaced by its successor");

    store.revoke_family("local_users", "fam-1", 1000).await.unwrap();
    assert!(store.get_refresh("rt-1").await.unwrap().unwrap().revoked);
    assert!(store.is_family_revoked("fam-1").await.unwrap());
    assert!(!store.is_family_revoked("fam-2").await.unwrap());
    assert_eq!(
        store.live_revoked_families(999).await.unwrap(),
        [("fam-1".to_owned(), 1000)],
        "what a restart must refuse, and until when"
    );
    assert!(store.live_revoked_families(1000).await.unwrap().is_empty(), "nothing once its tokens expired");
    assert!(!store.mark_rotated("rt-1", 60).await.unwrap(), "a revoked token is never rotated");

    let families = store.revoke_user_refresh("local_users", "sub-alice").await.unwrap();
    assert!(families.iter().all(|(family, until)| family != "fam-1" && *until > 0), "{families:?}");
    assert!(store.get_refresh("rt-2").await.unwrap().unwrap().revoked);
    assert!(!store.get_refresh("rt-3").await.unwrap().unwrap().revoked, "other users keep their tokens");
    assert!(live(2).await.is_empty(), "revoked tokens are no sessions");
}

async fn keys_and_outbox(store: &dyn Store) {
    for (kid, created) in [("k2", 20), ("k1", 10)] {
        store
            .put_key(&StoredKey {
                pool_id: "local_users".into(),
                kid: kid.into(),
                private_sealed: vec![1, 2, 3],
                public_jwk: "{}".into(),
                created_ms: created,
                retired_ms: None,
            })
            .await
            .unwrap();
    }
    let kids: Vec<String> =
        store.list_keys("local_users").await.unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, ["k1", "k2"], "oldest first");

    for (id, to, at) in
        [("m1", "Alice@Example.com", 1), ("m2", "bob@example.com", 2), ("m3", "alice@example.com", 3)]
    {
        store
            .push_outbox(&OutboxMessage {
                id: id.into(),
                pool_id: "local_users".into(),
                channel: "email".into(),
                recipient: to.into(),
                kind: "sign_up_code".into(),
                subject: "Your code".into(),
                body: "123456".into(),
                created_ms: at,
                sealed: true,
            })
            .await
            .unwrap();
    }
    let alice: Vec<String> =
        store.list_outbox(Some("ALICE@example.com"), 10).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(alice, ["m3", "m1"], "newest first, recipient compared case-insensitively");
    assert_eq!(store.list_outbox(None, 2).await.unwrap().len(), 2);
}

async fn deleting_a_user_removes_what_hangs_off_it(store: &dyn Store) {
    store.put_pool(&pool("local_delete")).await.unwrap();
    store.insert_user(&user("local_delete", "sub-d", "d@example.com")).await.unwrap();
    store
        .put_group(&Group {
            pool_id: "local_delete".into(),
            name: "g".into(),
            description: None,
            precedence: None,
            created_ms: 1,
            updated_ms: 1,
        })
        .await
        .unwrap();
    store.add_user_to_group("local_delete", "g", "sub-d").await.unwrap();
    store
        .insert_refresh(&RefreshRecord {
            pool_id: "local_delete".into(),
            ..refresh("rt-d", "fam-d", "sub-d")
        })
        .await
        .unwrap();
    store.delete_user("local_delete", "sub-d").await.unwrap();
    assert!(store.get_user("local_delete", "sub-d").await.unwrap().is_none());
    assert!(store.users_in_group("local_delete", "g").await.unwrap().is_empty());
    assert!(store.get_refresh("rt-d").await.unwrap().is_none());
    assert!(
        store.find_users_by_attribute("local_delete", "email", "d@example.com").await.unwrap().is_empty()
    );
    // The username is free again.
    store.insert_user(&user("local_delete", "sub-d2", "D@example.com")).await.unwrap();
}

async fn deleting_a_pool_removes_everything_in_it(store: &dyn Store) {
    store.delete_pool("local_delete").await.unwrap();
    assert!(store.get_pool("local_delete").await.unwrap().is_none());
    assert!(store.find_user("local_delete", "d@example.com").await.unwrap().is_none());
    assert!(store.list_groups("local_delete").await.unwrap().is_empty());
    // Other pools are untouched.
    assert!(store.find_user("local_users", "alice@example.com").await.unwrap().is_some());
}

async fn seed_for_reopen(store: &dyn Store) {
    store.put_pool(&pool("local_durable")).await.unwrap();
    store.insert_user(&user("local_durable", "sub-durable", "durable@example.com")).await.unwrap();
}

pub async fn survives_reopen(store: &dyn Store) {
    assert!(store.get_pool("local_durable").await.unwrap().is_some());
    assert!(store.find_user("local_durable", "durable@example.com").await.unwrap().is_some());
}
