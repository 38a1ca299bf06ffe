use cognigate_engine::MessageAction;
use cognigate_engine::api::{Attribute, SignUpRequest};
use cognigate_engine::model::UserStatus;

use crate::fixture::{Fixture, PASSWORD, kind, other_code};

fn request(f: &Fixture, email: &str, password: &str) -> SignUpRequest {
    SignUpRequest {
        client_id: f.client_id.clone(),
        secret_hash: None,
        username: email.into(),
        password: password.into(),
        user_attributes: vec![],
    }
}

#[tokio::test]
async fn sign_up_sends_a_code_and_confirmation_uses_it_once() {
    let f = Fixture::new().await;
    let sub = f.sign_up("ann@example.com").await;
    assert!(uuid::Uuid::parse_str(&sub).is_ok(), "sub is a UUID");
    let user = f.engine.admin_get_user(&f.pool_id, "ANN@example.com").await.unwrap();
    assert_eq!(user.user_status, "UNCONFIRMED");
    let code = f.code_for("ann@example.com").await;
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "ann@example.com", &other_code(&code)).await),
        "CodeMismatchException"
    );
    f.engine.confirm_sign_up(&f.client_id, None, "ann@example.com", &code).await.unwrap();
    let user = f.engine.admin_get_user(&f.pool_id, "ann@example.com").await.unwrap();
    assert_eq!(user.user_status, "CONFIRMED");
    assert!(user.attributes.iter().any(|a| a.name == "email_verified" && a.value == "true"));
    // Used once: a second confirmation is refused.
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "ann@example.com", &code).await),
        "NotAuthorizedException"
    );
}

#[tokio::test]
async fn codes_expire_and_allow_few_attempts() {
    let f = Fixture::new().await;
    f.sign_up("exp@example.com").await;
    let code = f.code_for("exp@example.com").await;
    f.clock.advance_secs(24 * 3600 + 1);
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "exp@example.com", &code).await),
        "ExpiredCodeException"
    );

    f.engine.resend_confirmation_code(&f.client_id, None, "exp@example.com").await.unwrap();
    let fresh = f.code_for("exp@example.com").await;
    let wrong = &other_code(&fresh);
    for _ in 0..4 {
        assert_eq!(
            kind(f.engine.confirm_sign_up(&f.client_id, None, "exp@example.com", wrong).await),
            "CodeMismatchException"
        );
    }
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "exp@example.com", wrong).await),
        "LimitExceededException"
    );
    // The code is void after too many attempts, even the right one.
    assert_ne!(kind(f.engine.confirm_sign_up(&f.client_id, None, "exp@example.com", &fresh).await), "");
}

#[tokio::test]
async fn sign_up_enforces_the_policy_uniqueness_and_attributes() {
    let f = Fixture::new().await;
    assert_eq!(
        kind(f.engine.sign_up(request(&f, "p@example.com", "short")).await),
        "InvalidPasswordException"
    );
    f.sign_up("dup@example.com").await;
    assert_eq!(
        kind(f.engine.sign_up(request(&f, "DUP@example.com", PASSWORD)).await),
        "UsernameExistsException"
    );
    assert_eq!(
        kind(f.engine.sign_up(request(&f, "not-an-email", PASSWORD)).await),
        "InvalidParameterException"
    );
    let mut with_role = request(&f, "role@example.com", PASSWORD);
    with_role.user_attributes = vec![Attribute { name: "custom:role".into(), value: "super_admin".into() }];
    assert_eq!(kind(f.engine.sign_up(with_role).await), "NotAuthorizedException");
    let mut unknown = request(&f, "unknown@example.com", PASSWORD);
    unknown.user_attributes = vec![Attribute { name: "custom:shoe_size".into(), value: "42".into() }];
    assert_eq!(kind(f.engine.sign_up(unknown).await), "InvalidParameterException");
    // Nothing was created by the refused attempts.
    let (users, _) = f.engine.list_users(&f.pool_id, None, None, None).await.unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn admin_create_user_invites_with_a_temporary_password() {
    let f = Fixture::new().await;
    let user = f
        .engine
        .admin_create_user(
            &f.pool_id,
            "staff@example.com",
            &[Attribute { name: "given_name".into(), value: "Sam".into() }],
            None,
            MessageAction::Send,
        )
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::ForceChangePassword);
    let invitation = f.engine.outbox(Some("staff@example.com"), 1).await.unwrap().remove(0);
    assert_eq!(invitation.kind, "invitation");
    assert!(invitation.body.contains("Temporary password: "));
    assert_eq!(
        kind(
            f.engine
                .admin_create_user(&f.pool_id, "Staff@example.com", &[], None, MessageAction::Suppress)
                .await
        ),
        "UsernameExistsException"
    );
    assert_eq!(
        kind(
            f.engine
                .admin_create_user(&f.pool_id, "weak@example.com", &[], Some("weak"), MessageAction::Suppress)
                .await
        ),
        "InvalidPasswordException"
    );
}

#[tokio::test]
async fn admin_operations_and_list_users() {
    let f = Fixture::new().await;
    for i in 0..7 {
        f.confirmed_user(&format!("user{i}@example.com")).await;
    }
    f.confirmed_user("zed@example.com").await;
    let (page, next) = f.engine.list_users(&f.pool_id, None, Some(5), None).await.unwrap();
    assert_eq!(page.len(), 5);
    let (rest, end) = f.engine.list_users(&f.pool_id, None, Some(5), next.as_deref()).await.unwrap();
    assert_eq!((rest.len(), end), (3, None));
    let (users, _) = f.engine.list_users(&f.pool_id, Some("email ^= \"user\""), None, None).await.unwrap();
    assert_eq!(users.len(), 7);
    let (users, _) =
        f.engine.list_users(&f.pool_id, Some("email = \"zed@example.com\""), None, None).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        kind(f.engine.list_users(&f.pool_id, Some("email ~ zed"), None, None).await),
        "InvalidParameterException"
    );

    f.engine
        .admin_update_user_attributes(
            &f.pool_id,
            "zed@example.com",
            &[Attribute { name: "custom:tier".into(), value: "premium".into() }],
        )
        .await
        .unwrap();
    let zed = f.engine.admin_get_user(&f.pool_id, "zed@example.com").await.unwrap();
    assert!(zed.attributes.iter().any(|a| a.name == "custom:tier" && a.value == "premium"));
    f.engine.admin_delete_user(&f.pool_id, "zed@example.com").await.unwrap();
    assert_eq!(kind(f.engine.admin_get_user(&f.pool_id, "zed@example.com").await), "UserNotFoundException");
    assert_eq!(
        kind(f.engine.admin_get_user("local_nope", "x@example.com").await),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn groups_reach_tokens() {
    let f = Fixture::new().await;
    f.confirmed_user("g@example.com").await;
    f.engine.create_group(&f.pool_id, "dealer", Some("Dealers"), Some(10)).await.unwrap();
    assert_eq!(kind(f.engine.create_group(&f.pool_id, "dealer", None, None).await), "GroupExistsException");
    f.engine.admin_add_user_to_group(&f.pool_id, "g@example.com", "dealer").await.unwrap();
    assert_eq!(
        kind(f.engine.admin_add_user_to_group(&f.pool_id, "g@example.com", "nope").await),
        "ResourceNotFoundException"
    );
    let groups = f.engine.admin_list_groups_for_user(&f.pool_id, "g@example.com").await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(f.engine.list_users_in_group(&f.pool_id, "dealer").await.unwrap().len(), 1);
    let tokens = f.tokens("g@example.com").await;
    assert_eq!(crate::fixture::claims(&tokens.access_token)["cognito:groups"], serde_json::json!(["dealer"]));
    f.engine.admin_remove_user_from_group(&f.pool_id, "g@example.com", "dealer").await.unwrap();
    let tokens = f.tokens("g@example.com").await;
    assert!(crate::fixture::claims(&tokens.access_token).get("cognito:groups").is_none());
}
