//! The service's ports on both backends: the user mirror, the audit log, the webhook ledger, the teams,
//! the revocations and the recovery codes, and a database made by the previous version (the engine's
//! migration only) migrating forward.

use cognigate_config::PoolKind;
use cognigate_domain::onboarding::OnboardingState;
use cognigate_engine::store::Store;
use cognigate_service::ports::{
    AuditEvent, AuditOutcome, AuditQuery, AuditStore, MirrorQuery, MirrorStore, MirrorUser, PortError,
    RecoveryCodeStore, RevocationStore, Revoked, StoredRevocation, Team, TeamStore, WebhookLedger,
};
use cognigate_store::SqlStore;

use crate::PostgresDatabase;

#[tokio::test]
async fn service_ports_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_all(&format!("sqlite://{}/service.db", dir.path().display())).await;
}

#[tokio::test]
async fn service_ports_on_postgres() {
    let Some(database) = PostgresDatabase::create_linguistic("the service ports run").await else { return };
    run_all(&database.url).await;
    database.drop_database().await;
}

#[tokio::test]
async fn previous_version_migrates_forward_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    migrates_forward(&format!("{url}?mode=rwc"), &url, "sqlite").await;
}

#[tokio::test]
async fn previous_version_migrates_forward_on_postgres() {
    let Some(database) = PostgresDatabase::create("the migration-forward check").await else { return };
    migrates_forward(&database.url, &database.url, "postgres").await;
    database.drop_database().await;
}

async fn run_all(url: &str) {
    mirror_put_get_replace_delete(&fresh(url).await).await;
    mirror_find_by_email(&fresh(url).await).await;
    mirror_list_filters(&fresh(url).await).await;
    mirror_email_prefix_is_literal(&fresh(url).await).await;
    mirror_paging(&fresh(url).await).await;
    mirror_counts(&fresh(url).await).await;
    audit_append_and_query(&fresh(url).await).await;
    webhook_ledger(&fresh(url).await).await;
    teams(&fresh(url).await).await;
    revocations(&fresh(url).await).await;
    recovery_codes(&fresh(url).await).await;
}

/// The store at `url` with the service's tables emptied, so each scenario starts from nothing.
async fn fresh(url: &str) -> SqlStore {
    let store = SqlStore::open(url).await.unwrap();
    let raw = sqlx::AnyPool::connect(url).await.unwrap();
    for table in
        ["mirror_users", "audit_events", "webhook_events", "teams", "token_revocations", "recovery_codes"]
    {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&raw).await.unwrap();
    }
    raw.close().await;
    store
}

fn mirror(pool: PoolKind, sub: &str, email: &str) -> MirrorUser {
    MirrorUser {
        sub: sub.to_owned(),
        pool,
        username: sub.to_owned(),
        email: email.to_owned(),
        role: "customer".to_owned(),
        premium: false,
        team: None,
        onboarding: OnboardingState::Active,
        approved: true,
        mfa_enabled: false,
        subscribed: false,
        requested_tiers: Vec::new(),
        status: "CONFIRMED".to_owned(),
        enabled: true,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
        last_login_at: None,
        mfa_setup_started: None,
    }
}

async fn subs(store: &SqlStore, query: MirrorQuery) -> Vec<String> {
    store.list_mirror(&query).await.unwrap().into_iter().map(|user| user.sub).collect()
}

async fn mirror_put_get_replace_delete(store: &SqlStore) {
    let alice = mirror(PoolKind::Customer, "sub-a", "alice@example.com");
    store.put_mirror(&alice).await.unwrap();
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-a").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.get_mirror(PoolKind::Staff, "sub-a").await.unwrap(), None, "pools are apart");
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-none").await.unwrap(), None);

    // Putting the same (pool, sub) replaces the row, columns and record alike.
    let changed = MirrorUser {
        email: "alice.new@example.com".into(),
        role: "dealer".into(),
        premium: true,
        onboarding: OnboardingState::PendingSubscription,
        approved: false,
        mfa_enabled: true,
        subscribed: true,
        requested_tiers: vec!["premium".into()],
        status: "FORCE_CHANGE_PASSWORD".into(),
        enabled: false,
        updated_at: 1_800_000_000_000,
        last_login_at: Some(1_799_000_000_000),
        ..alice.clone()
    };
    store.put_mirror(&changed).await.unwrap();
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-a").await.unwrap(), Some(changed.clone()));
    assert_eq!(store.list_mirror(&MirrorQuery::default()).await.unwrap(), vec![changed.clone()]);
    assert_eq!(store.find_mirror_by_email(PoolKind::Customer, "alice@example.com").await.unwrap(), None);
    let query = MirrorQuery { role: Some("dealer".into()), enabled: Some(false), ..MirrorQuery::default() };
    assert_eq!(subs(store, query).await, ["sub-a"], "the filter columns follow the replacement");

    // The same sub in the other pool is another row.
    let mut staff = mirror(PoolKind::Staff, "sub-a", "alice@example.com");
    staff.team = Some("ops".into());
    store.put_mirror(&staff).await.unwrap();
    assert_eq!(store.get_mirror(PoolKind::Staff, "sub-a").await.unwrap(), Some(staff.clone()));

    assert!(store.delete_mirror(PoolKind::Customer, "sub-a").await.unwrap());
    assert!(!store.delete_mirror(PoolKind::Customer, "sub-a").await.unwrap(), "nothing left to delete");
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-a").await.unwrap(), None);
    assert_eq!(store.get_mirror(PoolKind::Staff, "sub-a").await.unwrap(), Some(staff));
}

async fn mirror_find_by_email(store: &SqlStore) {
    let bob = mirror(PoolKind::Customer, "sub-bob", "bob@example.com");
    store.put_mirror(&bob).await.unwrap();
    let staff_bob = mirror(PoolKind::Staff, "sub-staff-bob", "bob@example.com");
    store.put_mirror(&staff_bob).await.unwrap();
    let found = store.find_mirror_by_email(PoolKind::Customer, "bob@example.com").await.unwrap();
    assert_eq!(found, Some(bob.clone()));
    let found = store.find_mirror_by_email(PoolKind::Staff, "bob@example.com").await.unwrap();
    assert_eq!(found, Some(staff_bob), "the same email in the other pool is another user");
    assert_eq!(store.find_mirror_by_email(PoolKind::Customer, "carol@example.com").await.unwrap(), None);
    // Callers lowercase; the store compares lowercased too, so a stray capital neither hides a user nor
    // slips past the uniqueness of emails.
    let found = store.find_mirror_by_email(PoolKind::Customer, "Bob@Example.COM").await.unwrap();
    assert_eq!(found, Some(bob.clone()));

    // Another sub of the same pool cannot take the email, in any case.
    for email in ["bob@example.com", "BOB@example.com"] {
        let twin = mirror(PoolKind::Customer, "sub-twin", email);
        match store.put_mirror(&twin).await {
            Err(PortError::Backend(message)) => assert!(message.contains("email"), "{message}"),
            other => panic!("a second user with {email} was accepted: {other:?}"),
        }
    }
    let mut moved = mirror(PoolKind::Customer, "sub-carol", "carol@example.com");
    store.put_mirror(&moved).await.unwrap();
    moved.email = "bob@example.com".into();
    assert!(store.put_mirror(&moved).await.is_err(), "an update cannot take a used email either");
    assert_eq!(
        store.get_mirror(PoolKind::Customer, "sub-carol").await.unwrap().unwrap().email,
        "carol@example.com"
    );
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-twin").await.unwrap(), None);

    // A user may keep its own email across a replace, and a deleted user's email is free again.
    store.put_mirror(&MirrorUser { role: "dealer".into(), ..bob.clone() }).await.unwrap();
    assert!(store.delete_mirror(PoolKind::Customer, "sub-bob").await.unwrap());
    store.put_mirror(&mirror(PoolKind::Customer, "sub-twin", "bob@example.com")).await.unwrap();
    let found = store.find_mirror_by_email(PoolKind::Customer, "bob@example.com").await.unwrap().unwrap();
    assert_eq!(found.sub, "sub-twin");
}

async fn mirror_list_filters(store: &SqlStore) {
    use OnboardingState::*;
    let rows = [
        (PoolKind::Customer, "c01", "anna@example.com", "dealer", None, Active, true, true),
        (PoolKind::Customer, "c02", "bert@example.com", "customer", None, PendingApproval, false, true),
        (PoolKind::Customer, "c03", "anna.b@example.com", "dealer", None, PendingSubscription, false, false),
        (PoolKind::Customer, "c04", "carl@example.com", "customer", None, Active, true, true),
        (PoolKind::Staff, "s01", "anna@example.com", "admin", Some("ops"), Active, false, true),
        (PoolKind::Staff, "s02", "dora@example.com", "support", Some("ops"), PendingMfa, false, true),
        (PoolKind::Staff, "s03", "emil@example.com", "support", Some("sales"), Active, false, false),
    ];
    // Inserted out of order: listing sorts.
    for (pool, sub, email, role, team, onboarding, premium, enabled) in rows.into_iter().rev() {
        let user = MirrorUser {
            role: role.into(),
            team: team.map(str::to_owned),
            onboarding,
            premium,
            enabled,
            ..mirror(pool, sub, email)
        };
        store.put_mirror(&user).await.unwrap();
    }
    let q = MirrorQuery::default;
    assert_eq!(subs(store, q()).await, ["c01", "c02", "c03", "c04", "s01", "s02", "s03"]);
    assert_eq!(store.list_mirror(&q()).await.unwrap()[0].team, None);
    assert_eq!(
        subs(store, MirrorQuery { pool: Some(PoolKind::Customer), ..q() }).await,
        ["c01", "c02", "c03", "c04"]
    );
    assert_eq!(subs(store, MirrorQuery { pool: Some(PoolKind::Staff), ..q() }).await, ["s01", "s02", "s03"]);

    assert_eq!(subs(store, MirrorQuery { role: Some("dealer".into()), ..q() }).await, ["c01", "c03"]);
    assert_eq!(subs(store, MirrorQuery { role: Some("Dealer".into()), ..q() }).await, Vec::<String>::new());
    let staff_support = MirrorQuery { pool: Some(PoolKind::Staff), role: Some("support".into()), ..q() };
    assert_eq!(subs(store, staff_support).await, ["s02", "s03"]);
    let wrong_pool = MirrorQuery { pool: Some(PoolKind::Customer), role: Some("support".into()), ..q() };
    assert!(subs(store, wrong_pool).await.is_empty());

    assert_eq!(subs(store, MirrorQuery { team: Some("ops".into()), ..q() }).await, ["s01", "s02"]);
    assert_eq!(subs(store, MirrorQuery { team: Some("sales".into()), ..q() }).await, ["s03"]);

    assert_eq!(
        subs(store, MirrorQuery { onboarding: Some(Active), ..q() }).await,
        ["c01", "c04", "s01", "s03"]
    );
    let staff_active = MirrorQuery { pool: Some(PoolKind::Staff), onboarding: Some(Active), ..q() };
    assert_eq!(subs(store, staff_active).await, ["s01", "s03"]);
    assert_eq!(subs(store, MirrorQuery { onboarding: Some(PendingMfa), ..q() }).await, ["s02"]);
    assert!(subs(store, MirrorQuery { onboarding: Some(Rejected), ..q() }).await.is_empty());

    assert_eq!(subs(store, MirrorQuery { premium: Some(true), ..q() }).await, ["c01", "c04"]);
    assert_eq!(
        subs(store, MirrorQuery { premium: Some(false), ..q() }).await,
        ["c02", "c03", "s01", "s02", "s03"]
    );
    assert_eq!(subs(store, MirrorQuery { enabled: Some(false), ..q() }).await, ["c03", "s03"]);
    assert_eq!(
        subs(store, MirrorQuery { enabled: Some(true), ..q() }).await,
        ["c01", "c02", "c04", "s01", "s02"]
    );

    let prefix = |p: &str| MirrorQuery { email_prefix: Some(p.to_owned()), ..q() };
    assert_eq!(subs(store, prefix("anna")).await, ["c01", "c03", "s01"]);
    assert_eq!(subs(store, prefix("ANNA")).await, ["c01", "c03", "s01"], "the prefix is lowercased");
    assert_eq!(subs(store, prefix("anna.")).await, ["c03"]);
    assert_eq!(subs(store, prefix("anna@example.com")).await, ["c01", "s01"], "a whole email is a prefix");
    assert!(subs(store, prefix("zz")).await.is_empty());
    assert_eq!(subs(store, prefix("")).await.len(), 7, "the empty prefix matches everything");
    let customer_anna = MirrorQuery { pool: Some(PoolKind::Customer), ..prefix("anna") };
    assert_eq!(subs(store, customer_anna).await, ["c01", "c03"]);

    // Every filter at once.
    let all = MirrorQuery {
        pool: Some(PoolKind::Customer),
        role: Some("dealer".into()),
        team: None,
        onboarding: Some(Active),
        premium: Some(true),
        enabled: Some(true),
        email_prefix: Some("an".into()),
        after: Some("c00".into()),
        limit: 10,
    };
    assert_eq!(subs(store, all.clone()).await, ["c01"]);
    assert!(subs(store, MirrorQuery { after: Some("c01".into()), ..all.clone() }).await.is_empty());
    assert!(subs(store, MirrorQuery { premium: Some(false), ..all }).await.is_empty());
    let ops_active = MirrorQuery { team: Some("ops".into()), onboarding: Some(Active), ..q() };
    assert_eq!(subs(store, ops_active).await, ["s01"]);
}

/// `%`, `_` and `\` are plain characters in a prefix, and non-ASCII prefixes compare by code point.
async fn mirror_email_prefix_is_literal(store: &SqlStore) {
    let emails = [
        ("p01", "a%b@example.com"),
        ("p02", "axb@example.com"),
        ("p03", "a_b@example.com"),
        ("p04", "ayb@example.com"),
        ("p05", "élodie@example.com"),
        ("p06", "elodie@example.com"),
        ("p07", "日本@example.jp"),
        ("p08", "😀smile@example.com"),
        ("p09", "a\\b@example.com"),
        ("p10", "ÉMILE@example.com"),
        ("p11", "a😀@example.com"),
        ("p12", "a\u{FFFF}@example.com"),
    ];
    for (sub, email) in emails {
        store.put_mirror(&mirror(PoolKind::Customer, sub, email)).await.unwrap();
    }
    let prefix = |p: &str| MirrorQuery {
        pool: Some(PoolKind::Customer),
        email_prefix: Some(p.to_owned()),
        ..MirrorQuery::default()
    };
    assert_eq!(subs(store, prefix("a%")).await, ["p01"]);
    assert_eq!(subs(store, prefix("a_")).await, ["p03"]);
    assert_eq!(subs(store, prefix("a\\")).await, ["p09"]);
    assert!(subs(store, prefix("%")).await.is_empty());
    assert!(subs(store, prefix("_")).await.is_empty());
    assert_eq!(subs(store, prefix("a")).await, ["p01", "p02", "p03", "p04", "p09", "p11", "p12"]);
    assert_eq!(subs(store, prefix("é")).await, ["p05", "p10"], "the stored email is lowercased");
    assert_eq!(subs(store, prefix("ÉL")).await, ["p05"]);
    assert_eq!(subs(store, prefix("e")).await, ["p06"]);
    assert_eq!(subs(store, prefix("日")).await, ["p07"]);
    assert_eq!(subs(store, prefix("日本@example.jp")).await, ["p07"]);
    assert_eq!(subs(store, prefix("😀")).await, ["p08"]);
    assert_eq!(subs(store, prefix("a😀")).await, ["p11"]);
    assert_eq!(subs(store, prefix("a\u{FFFF}")).await, ["p12"]);
    let found = store.find_mirror_by_email(PoolKind::Customer, "émile@example.com").await.unwrap();
    assert_eq!(found.unwrap().sub, "p10");
}

async fn mirror_paging(store: &SqlStore) {
    for i in 0..60 {
        let mut user = mirror(PoolKind::Customer, &format!("sub-{i:02}"), &format!("user{i:02}@example.com"));
        user.role = if i % 2 == 0 { "even" } else { "odd" }.into();
        store.put_mirror(&user).await.unwrap();
    }
    store.put_mirror(&mirror(PoolKind::Staff, "sub-staff", "staff@example.com")).await.unwrap();
    let customers = MirrorQuery { pool: Some(PoolKind::Customer), limit: 25, ..MirrorQuery::default() };

    // Pages of 25 follow each other by `after`, each starting strictly after the previous page's last sub.
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = subs(store, MirrorQuery { after: after.clone(), ..customers.clone() }).await;
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [25, 25, 10]);
    let expected: Vec<String> = (0..60).map(|i| format!("sub-{i:02}")).collect();
    assert_eq!(pages.concat(), expected);
    let page = subs(store, MirrorQuery { after: Some("sub-05".into()), limit: 2, ..customers.clone() }).await;
    assert_eq!(page, ["sub-06", "sub-07"], "strictly after");

    // Paging with a filter, and with a prefix (whose query orders differently).
    for filter in [
        MirrorQuery { role: Some("odd".into()), limit: 7, ..customers.clone() },
        MirrorQuery { email_prefix: Some("user".into()), limit: 7, ..customers.clone() },
        MirrorQuery {
            email_prefix: Some("user".into()),
            role: Some("odd".into()),
            limit: 7,
            ..customers.clone()
        },
    ] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = subs(store, MirrorQuery { after: after.clone(), ..filter.clone() }).await;
            assert!(page.len() <= 7);
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            seen.extend(page);
        }
        let expected: Vec<String> =
            (0..60).filter(|i| filter.role.is_none() || i % 2 == 1).map(|i| format!("sub-{i:02}")).collect();
        assert_eq!(seen, expected, "{filter:?}");
    }

    // Limit 0 means 50; larger limits are capped at 1000.
    assert_eq!(subs(store, MirrorQuery { limit: 0, ..customers.clone() }).await.len(), 50);
    assert_eq!(subs(store, MirrorQuery { limit: 0, ..MirrorQuery::default() }).await.len(), 50);
    assert_eq!(subs(store, MirrorQuery { limit: u32::MAX, ..MirrorQuery::default() }).await.len(), 61);
    for i in 60..1005 {
        let user = mirror(PoolKind::Customer, &format!("sub-{i:04}"), &format!("bulk{i:04}@example.com"));
        store.put_mirror(&user).await.unwrap();
    }
    assert_eq!(subs(store, MirrorQuery { limit: 5000, ..customers }).await.len(), 1000);
}

async fn mirror_counts(store: &SqlStore) {
    use OnboardingState::*;
    assert!(store.count_mirror(PoolKind::Customer).await.unwrap().is_empty());
    let customers = [Active, PendingApproval, Active, Suspended, PendingApproval, Active];
    for (i, state) in customers.into_iter().enumerate() {
        let mut user = mirror(PoolKind::Customer, &format!("c{i}"), &format!("c{i}@example.com"));
        user.onboarding = state;
        store.put_mirror(&user).await.unwrap();
    }
    let mut staff = mirror(PoolKind::Staff, "s0", "s0@example.com");
    staff.onboarding = PendingMfa;
    store.put_mirror(&staff).await.unwrap();

    assert_eq!(
        store.count_mirror(PoolKind::Customer).await.unwrap(),
        [(PendingApproval, 2), (Active, 3), (Suspended, 1)]
    );
    assert_eq!(store.count_mirror(PoolKind::Staff).await.unwrap(), [(PendingMfa, 1)]);

    let mut moved = mirror(PoolKind::Customer, "c0", "c0@example.com");
    moved.onboarding = Rejected;
    store.put_mirror(&moved).await.unwrap();
    assert!(store.delete_mirror(PoolKind::Customer, "c3").await.unwrap());
    assert_eq!(
        store.count_mirror(PoolKind::Customer).await.unwrap(),
        [(PendingApproval, 2), (Active, 2), (Rejected, 1)]
    );
}

fn event(id: &str, at: i64, pool: PoolKind, action: &str, outcome: AuditOutcome) -> AuditEvent {
    AuditEvent {
        id: id.to_owned(),
        at,
        pool,
        action: action.to_owned(),
        outcome,
        actor: None,
        actor_role: None,
        target: None,
        detail: None,
        address: None,
        user_agent: None,
        request_id: None,
    }
}

async fn audit_ids(store: &SqlStore, query: AuditQuery) -> Vec<String> {
    store.query_audit(&query).await.unwrap().into_iter().map(|event| event.id).collect()
}

async fn audit_append_and_query(store: &SqlStore) {
    use AuditOutcome::*;
    use PoolKind::*;
    let with = |mut e: AuditEvent, actor: Option<&str>, target: Option<&str>| {
        e.actor = actor.map(str::to_owned);
        e.target = target.map(str::to_owned);
        e
    };
    let mut failed =
        with(event("id-02", 2000, Customer, "auth.login", Failure), Some("ann@example.com"), None);
    failed.detail = Some("NOT_AUTHORIZED".into());
    failed.address = Some("203.0.113.7".into());
    failed.user_agent = Some("curl/8".into());
    failed.request_id = Some("req-1".into());
    let mut disable =
        with(event("id-03", 2000, Staff, "admin.user.disable", Success), Some("sub-s"), Some("sub-a"));
    disable.actor_role = Some("admin".into());
    let events = [
        with(event("id-01", 1000, Customer, "auth.login", Success), Some("sub-a"), None),
        failed,
        disable,
        with(event("id-04", 3000, Staff, "admin.user.enable", Denied), Some("sub-s2"), Some("sub-a")),
        with(event("id-05", 3000, Staff, "administrator.note", Success), Some("sub-s"), None),
        with(
            event("id-06", 4000, Customer, "auth.register", Success),
            Some("new@example.com"),
            Some("sub-new"),
        ),
        event("id-07", 2000, Customer, "billing.webhook", Success),
        with(event("id-08", 500, Staff, "admin.user", Success), Some("sub-s"), Some("sub-b")),
    ];
    // Appended out of order; the log is read newest first by (at, id).
    for index in [4, 0, 6, 2, 7, 1, 5, 3] {
        store.append_audit(&events[index]).await.unwrap();
    }
    let newest_first = ["id-06", "id-05", "id-04", "id-07", "id-03", "id-02", "id-01", "id-08"];
    let all = store.query_audit(&AuditQuery::default()).await.unwrap();
    let by_id = |id: &str| events.iter().find(|e| e.id == id).unwrap().clone();
    assert_eq!(all, newest_first.map(by_id), "every field comes back");

    assert!(matches!(store.append_audit(&events[0]).await, Err(PortError::Backend(_))), "ids are unique");

    let q = AuditQuery::default;
    assert_eq!(
        audit_ids(store, AuditQuery { pool: Some(Staff), ..q() }).await,
        ["id-05", "id-04", "id-03", "id-08"]
    );
    assert_eq!(
        audit_ids(store, AuditQuery { pool: Some(Customer), ..q() }).await,
        ["id-06", "id-07", "id-02", "id-01"]
    );
    assert_eq!(
        audit_ids(store, AuditQuery { actor: Some("sub-s".into()), ..q() }).await,
        ["id-05", "id-03", "id-08"]
    );
    assert_eq!(
        audit_ids(store, AuditQuery { actor: Some("ann@example.com".into()), ..q() }).await,
        ["id-02"]
    );
    assert_eq!(
        audit_ids(store, AuditQuery { target: Some("sub-a".into()), ..q() }).await,
        ["id-04", "id-03"]
    );
    assert!(audit_ids(store, AuditQuery { target: Some("sub-none".into()), ..q() }).await.is_empty());

    let action = |a: &str| AuditQuery { action: Some(a.to_owned()), ..q() };
    assert_eq!(audit_ids(store, action("auth.login")).await, ["id-02", "id-01"]);
    assert_eq!(audit_ids(store, action("admin.user")).await, ["id-08"], "exact without a trailing dot");
    assert_eq!(audit_ids(store, action("admin.")).await, ["id-04", "id-03", "id-08"], "a prefix with one");
    assert_eq!(audit_ids(store, action("admin.user.")).await, ["id-04", "id-03"]);
    assert_eq!(audit_ids(store, action("auth.")).await, ["id-06", "id-02", "id-01"]);
    assert!(audit_ids(store, action("admin")).await.is_empty());
    assert!(audit_ids(store, action("auth.log")).await.is_empty());
    assert!(audit_ids(store, action("a%.")).await.is_empty());

    assert_eq!(audit_ids(store, AuditQuery { outcome: Some(Denied), ..q() }).await, ["id-04"]);
    assert_eq!(audit_ids(store, AuditQuery { outcome: Some(Failure), ..q() }).await, ["id-02"]);
    assert_eq!(audit_ids(store, AuditQuery { outcome: Some(Success), ..q() }).await.len(), 6);

    assert_eq!(
        audit_ids(store, AuditQuery { from: Some(2000), ..q() }).await,
        ["id-06", "id-05", "id-04", "id-07", "id-03", "id-02"],
        "from is inclusive"
    );
    assert_eq!(
        audit_ids(store, AuditQuery { to: Some(3000), ..q() }).await,
        ["id-07", "id-03", "id-02", "id-01", "id-08"],
        "to is exclusive"
    );
    assert_eq!(
        audit_ids(store, AuditQuery { from: Some(2000), to: Some(3000), ..q() }).await,
        ["id-07", "id-03", "id-02"]
    );
    assert!(audit_ids(store, AuditQuery { from: Some(3000), to: Some(3000), ..q() }).await.is_empty());

    // Keyset: strictly older in (at, id) order, so events sharing an `at` are split by id.
    let before = |at: i64, id: &str| AuditQuery { before: Some((at, id.to_owned())), ..q() };
    assert_eq!(audit_ids(store, before(3000, "id-04")).await, ["id-07", "id-03", "id-02", "id-01", "id-08"]);
    assert_eq!(audit_ids(store, before(2000, "id-03")).await, ["id-02", "id-01", "id-08"]);
    assert_eq!(audit_ids(store, before(2000, "id-07")).await, ["id-03", "id-02", "id-01", "id-08"]);
    assert_eq!(audit_ids(store, before(2000, "id-00")).await, ["id-01", "id-08"]);
    assert!(audit_ids(store, before(500, "id-08")).await.is_empty());

    // Paging through everything two at a time, then through one pool, loses and repeats nothing.
    for (filter, expected) in [
        (q(), newest_first.to_vec()),
        (AuditQuery { pool: Some(Customer), ..q() }, vec!["id-06", "id-07", "id-02", "id-01"]),
        (AuditQuery { action: Some("admin.".into()), from: Some(1000), ..q() }, vec!["id-04", "id-03"]),
    ] {
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .query_audit(&AuditQuery { before: before.clone(), limit: 2, ..filter.clone() })
                .await
                .unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            before = Some((last.at, last.id.clone()));
            seen.extend(page.into_iter().map(|e| e.id));
        }
        assert_eq!(seen, expected, "{filter:?}");
    }

    let combined =
        AuditQuery { pool: Some(Staff), action: Some("admin.".into()), outcome: Some(Success), ..q() };
    assert_eq!(audit_ids(store, combined).await, ["id-03", "id-08"]);
    let everything = AuditQuery {
        pool: Some(Staff),
        actor: Some("sub-s".into()),
        target: Some("sub-a".into()),
        action: Some("admin.user.disable".into()),
        outcome: Some(Success),
        from: Some(2000),
        to: Some(2001),
        before: Some((2000, "id-04".into())),
        limit: 1,
    };
    assert_eq!(audit_ids(store, everything).await, ["id-03"]);
    assert_eq!(audit_ids(store, AuditQuery { limit: 3, ..q() }).await, ["id-06", "id-05", "id-04"]);

    // Limit 0 means 50.
    for i in 0..60 {
        store
            .append_audit(&event(&format!("bulk-{i:02}"), 10_000 + i, Customer, "auth.login", Success))
            .await
            .unwrap();
    }
    assert_eq!(audit_ids(store, q()).await.len(), 50);
    assert_eq!(audit_ids(store, AuditQuery { limit: 100, ..q() }).await.len(), 68);
}

async fn webhook_ledger(store: &SqlStore) {
    assert!(store.record_event("evt_1", 100).await.unwrap(), "first delivery");
    assert!(!store.record_event("evt_1", 200).await.unwrap(), "a redelivery");
    assert!(store.record_event("evt_2", 100).await.unwrap());
    store.forget_event("evt_1").await.unwrap();
    assert!(store.record_event("evt_1", 300).await.unwrap(), "a forgotten event can be processed again");
    assert!(!store.record_event("evt_2", 300).await.unwrap(), "forgetting one event leaves the others");
    store.forget_event("evt_never").await.unwrap();

    // Two concurrent deliveries of the same event: exactly one gets to process it.
    let (a, b) = tokio::join!(store.record_event("evt_3", 1), store.record_event("evt_3", 2));
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|first| **first).count(), 1);
}

async fn teams(store: &SqlStore) {
    let team = |name: &str, at: i64| Team {
        name: name.to_owned(),
        description: format!("{name} team"),
        created_at: at,
    };
    assert!(store.list_teams().await.unwrap().is_empty());
    assert!(store.create_team(&team("west", 2)).await.unwrap());
    assert!(store.create_team(&team("east", 1)).await.unwrap());
    let again = Team { description: "changed".to_owned(), ..team("west", 3) };
    assert!(!store.create_team(&again).await.unwrap(), "a second team with the same name is refused");
    assert_eq!(store.get_team("west").await.unwrap(), Some(team("west", 2)), "the first one is untouched");
    assert_eq!(store.get_team("north").await.unwrap(), None);
    let names: Vec<String> = store.list_teams().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["east", "west"], "by name");
}

/// Revocations are kept until the tokens they cover have expired; a subject's only moves forward.
async fn revocations(store: &SqlStore) {
    let token = |id: &str, pool, expires_ms| StoredRevocation {
        pool,
        what: Revoked::Token(id.to_owned()),
        expires_ms,
    };
    let subject = |sub: &str, before, expires_ms| StoredRevocation {
        pool: PoolKind::Staff,
        what: Revoked::Subject { sub: sub.to_owned(), issued_before: before },
        expires_ms,
    };
    store.record_revocation(&token("fam-1", PoolKind::Customer, 1000)).await.unwrap();
    store.record_revocation(&token("jti-old", PoolKind::Customer, 10)).await.unwrap();
    store.record_revocation(&token("fam-2", PoolKind::Staff, 1000)).await.unwrap();
    store.record_revocation(&subject("s1", 50, 500)).await.unwrap();
    store.record_revocation(&subject("s1", 40, 900)).await.unwrap();
    let customer = store.live_revocations(PoolKind::Customer, 100).await.unwrap();
    assert_eq!(customer, [token("fam-1", PoolKind::Customer, 1000)], "expired rows are not loaded");
    let staff = store.live_revocations(PoolKind::Staff, 100).await.unwrap();
    assert_eq!(staff.len(), 2);
    assert!(staff.contains(&subject("s1", 50, 900)), "the later time and the longer life win: {staff:?}");
    assert!(store.live_revocations(PoolKind::Staff, 950).await.unwrap().iter().all(|r| r.expires_ms > 950));
}

/// Recovery codes: a set replaces the last, a code works once even for racing callers.
async fn recovery_codes(store: &SqlStore) {
    let hashes = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
    store.replace_recovery_codes(PoolKind::Staff, "s1", &hashes(&["a", "b", "c"]), 1).await.unwrap();
    store.replace_recovery_codes(PoolKind::Customer, "s1", &hashes(&["a"]), 1).await.unwrap();
    assert_eq!(store.unused_recovery_codes(PoolKind::Staff, "s1").await.unwrap(), 3);
    let (first, second) = tokio::join!(
        store.use_recovery_code(PoolKind::Staff, "s1", "a", 2),
        store.use_recovery_code(PoolKind::Staff, "s1", "a", 2)
    );
    assert_eq!([first.unwrap(), second.unwrap()].iter().filter(|won| **won).count(), 1);
    assert!(!store.use_recovery_code(PoolKind::Staff, "s1", "zzz", 2).await.unwrap(), "not a code");
    assert!(!store.use_recovery_code(PoolKind::Staff, "s2", "b", 2).await.unwrap(), "another account's");
    assert_eq!(store.unused_recovery_codes(PoolKind::Staff, "s1").await.unwrap(), 2);
    assert_eq!(store.unused_recovery_codes(PoolKind::Customer, "s1").await.unwrap(), 1, "pools apart");
    store.replace_recovery_codes(PoolKind::Staff, "s1", &hashes(&["d"]), 3).await.unwrap();
    assert!(!store.use_recovery_code(PoolKind::Staff, "s1", "b", 4).await.unwrap(), "the old set is gone");
    store.delete_recovery_codes(PoolKind::Staff, "s1").await.unwrap();
    assert_eq!(store.unused_recovery_codes(PoolKind::Staff, "s1").await.unwrap(), 0);
}

/// A database the previous version made (only the engine's migration applied, with data in it) opens with
/// this version: the service's migrations are applied on top and the old data is untouched.
async fn migrates_forward(raw_url: &str, store_url: &str, dialect: &str) {
    sqlx::any::install_default_drivers();
    let old_migrations = tempfile::tempdir().unwrap();
    let engine = format!("{}/migrations/{dialect}/0001_engine.sql", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(engine, old_migrations.path().join("0001_engine.sql")).unwrap();
    let raw = sqlx::AnyPool::connect(raw_url).await.unwrap();
    sqlx::migrate::Migrator::new(old_migrations.path()).await.unwrap().run(&raw).await.unwrap();
    sqlx::query("INSERT INTO pools (id, data) VALUES ($1, $2)")
        .bind("local_old")
        .bind(serde_json::to_string(&crate::suite::pool("local_old")).unwrap())
        .execute(&raw)
        .await
        .unwrap();
    let tables = "SELECT COUNT(*) AS n FROM _sqlx_migrations";
    let applied: i64 = sqlx::Row::get(&sqlx::query(tables).fetch_one(&raw).await.unwrap(), "n");
    assert_eq!(applied, 1);
    raw.close().await;

    let store = SqlStore::open(store_url).await.unwrap();
    assert_eq!(store.get_pool("local_old").await.unwrap(), Some(crate::suite::pool("local_old")));
    let user = mirror(PoolKind::Customer, "sub-1", "one@example.com");
    store.put_mirror(&user).await.unwrap();
    assert_eq!(store.get_mirror(PoolKind::Customer, "sub-1").await.unwrap(), Some(user));
    store
        .append_audit(&event("id-1", 1, PoolKind::Customer, "auth.login", AuditOutcome::Success))
        .await
        .unwrap();
    assert_eq!(store.query_audit(&AuditQuery::default()).await.unwrap().len(), 1);
    assert!(store.record_event("evt_1", 1).await.unwrap());
    let team = Team { name: "north".to_owned(), description: String::new(), created_at: 1 };
    assert!(store.create_team(&team).await.unwrap(), "the teams table came with the forward migration");
    drop(store);

    let raw = sqlx::AnyPool::connect(store_url).await.unwrap();
    let versions: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&raw)
        .await
        .unwrap()
        .iter()
        .map(|row| sqlx::Row::get(row, "version"))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    raw.close().await;
    // And opening again applies nothing twice.
    let store = SqlStore::open(store_url).await.unwrap();
    assert!(!store.record_event("evt_1", 2).await.unwrap());
}
