//! The wire protocol without a socket: shapes, error types and the admin guard.

use super::*;

fn caller(loopback: bool, host: &str) -> Caller<'static> {
    Caller {
        loopback,
        host_is_loopback: is_loopback_host(host),
        request: SignedRequest { method: "POST", path: "/", query: "", headers: &[], body: b"{}" },
    }
}

#[test]
fn admin_operations_need_a_signature_or_a_loopback_caller_naming_a_loopback_host() {
    let open = WireAccess { admin_keys: Vec::new(), loopback_admin: true, guarded_pools: Default::default() };
    assert!(open.admin_check("ListUsers", &caller(true, "127.0.0.1:8080"), 0).is_ok());
    assert!(open.admin_check("ListUsers", &caller(true, "localhost"), 0).is_ok());
    assert!(open.admin_check("ListUsers", &caller(true, "[::1]:9000"), 0).is_ok());
    assert!(open.admin_check("ListUsers", &caller(false, "127.0.0.1:8080"), 0).is_err(), "not on loopback");
    // DNS rebinding: a page on attacker.example resolved to 127.0.0.1 still names its own host.
    assert!(open.admin_check("ListUsers", &caller(true, "attacker.example:8080"), 0).is_err());
    assert!(open.admin_check("ListUsers", &caller(true, "127.0.0.1.attacker.example"), 0).is_err());
    let outside_dev = WireAccess::default();
    assert!(
        outside_dev.admin_check("ListUsers", &caller(true, "127.0.0.1"), 0).is_err(),
        "loopback alone is not enough"
    );
    let keyed = WireAccess {
        admin_keys: vec![AccessKey { id: "AKIDEXAMPLE0000001".into(), secret: "s".to_owned().into() }],
        loopback_admin: true,
        ..WireAccess::default()
    };
    let (error_type, _) = keyed.admin_check("ListUsers", &caller(true, "127.0.0.1"), 0).unwrap_err();
    assert_eq!(
        error_type, "MissingAuthenticationTokenException",
        "with keys, loopback needs a signature too"
    );
    assert!(is_admin("AdminGetUser") && is_admin("ListUsers") && is_admin("CreateUserPool"));
    assert!(!is_admin("InitiateAuth") && !is_admin("GetUser") && !is_admin("SignUp"));
}

#[test]
fn bad_bodies_are_serialization_or_parameter_errors() {
    let not_json = input::<PoolRef>(b"{not json").unwrap_err();
    assert!(matches!(not_json, WireError::Protocol("SerializationException", _)));
    let array = input::<PoolRef>(b"[1]").unwrap_err();
    assert!(matches!(array, WireError::Protocol("SerializationException", _)));
    let missing = input::<PoolRef>(b"{}").unwrap_err();
    match missing {
        WireError::Engine(EngineError::InvalidParameter(message)) => assert!(message.contains("UserPoolId")),
        other => panic!("{other:?}"),
    }
    let wrong_type = input::<PoolRef>(br#"{"UserPoolId": 5}"#).unwrap_err();
    assert!(matches!(wrong_type, WireError::Engine(EngineError::InvalidParameter(_))));
}

#[test]
fn pagination_walks_every_item_once() {
    let items: Vec<String> = (0..7).map(|i| format!("item{i}")).collect();
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = paginate(items.clone(), Clone::clone, 3, token.as_deref()).unwrap();
        seen.extend(page);
        match next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, items);
    assert!(paginate(items, Clone::clone, 0, None).is_err());
}

#[test]
fn client_lifetimes_follow_cognito_units_and_defaults() {
    let request: shapes::ClientInput = input(
        br#"{"UserPoolId":"p","ClientName":"web","AccessTokenValidity":5,"IdTokenValidity":1,
             "TokenValidityUnits":{"AccessToken":"minutes"},"ExplicitAuthFlows":["ADMIN_NO_SRP_AUTH"]}"#,
    )
    .unwrap();
    let client = request.into_new_client(None).unwrap();
    assert_eq!(client.access_token_validity_secs, 300);
    assert_eq!(client.id_token_validity_secs, 3600, "IdTokenValidity defaults to hours");
    assert_eq!(client.refresh_token_validity_secs, 30 * 86_400);
    assert_eq!(client.explicit_auth_flows, ["ALLOW_ADMIN_USER_PASSWORD_AUTH"]);
    assert!(client.prevent_user_existence_errors);
    let defaults: shapes::ClientInput = input(br#"{"UserPoolId":"p","ClientName":"web"}"#).unwrap();
    assert_eq!(
        defaults.into_new_client(None).unwrap().explicit_auth_flows,
        ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
    );
}

#[test]
fn schema_constraints_accept_cognito_strings() {
    let request: shapes::CreateUserPoolInput = input(
        br#"{"PoolName":"p","Schema":[
            {"Name":"email","Required":true},
            {"Name":"tier","AttributeDataType":"String","StringAttributeConstraints":{"MinLength":"1","MaxLength":"16"}},
            {"Name":"seats","AttributeDataType":"Number","NumberAttributeConstraints":{"MinValue":"0","MaxValue":100}}]}"#,
    )
    .unwrap();
    let pool = request.into_new_pool(None).unwrap();
    assert_eq!(pool.custom_attributes.len(), 2);
    assert_eq!(pool.custom_attributes["tier"].max_length, Some(16));
    assert_eq!(pool.custom_attributes["seats"].max, Some(100));
}
