//! Cognito's access-token and ID-token claim sets, field for field, so the embedded engine mints tokens
//! that clients, API Gateway and aws-jwt-verify cannot tell from Cognito's. Claims added by a
//! pre-token-generation step (role, tier, team, permissions, `custom:*`) go in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The scope Cognito puts in access tokens issued by its own sign-in APIs.
pub const COGNITO_ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The `token_use` claim: which kind of token this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    /// An access token: authorizes API calls; carries `client_id`, no `aud`.
    Access,
    /// An ID token: describes the user to the client; carries `aud`.
    Id,
}

impl TokenUse {
    /// `"access"` or `"id"`, as in the claim.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Id => "id",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "access" => Some(Self::Access),
            "id" => Some(Self::Id),
            _ => None,
        }
    }
}

/// A Cognito access token's claims, in Cognito's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user's immutable id (a UUID in Cognito).
    pub sub: String,
    /// Group names; omitted from the token when empty.
    #[serde(rename = "cognito:groups", default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The pool's issuer URL.
    pub iss: String,
    /// The access-token format version (2 since Cognito's 2023 tokens).
    pub version: u32,
    /// The app client the token was issued to.
    pub client_id: String,
    /// The id of the authentication event (refresh-token family) this token descends from; revocation
    /// of a refresh token revokes every token with its `origin_jti`.
    pub origin_jti: String,
    /// The id of the authentication event.
    pub event_id: String,
    /// Always [`TokenUse::Access`].
    pub token_use: TokenUse,
    /// Space-separated OAuth scopes.
    pub scope: String,
    /// When the user authenticated (Unix seconds).
    pub auth_time: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// This token's unique id.
    pub jti: String,
    /// The user name.
    pub username: String,
    /// Claims added by pre-token-generation (role, tier, team, permissions…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Cognito ID token's claims, in Cognito's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdClaims {
    /// The user's immutable id.
    pub sub: String,
    /// Group names; omitted from the token when empty.
    #[serde(rename = "cognito:groups", default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Whether `email` is verified; absent when the user has no email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// The pool's issuer URL.
    pub iss: String,
    /// The user name.
    #[serde(rename = "cognito:username")]
    pub username: String,
    /// See [`AccessClaims::origin_jti`].
    pub origin_jti: String,
    /// The app client the token was issued to.
    pub aud: String,
    /// The id of the authentication event.
    pub event_id: String,
    /// Always [`TokenUse::Id`].
    pub token_use: TokenUse,
    /// When the user authenticated (Unix seconds).
    pub auth_time: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// This token's unique id.
    pub jti: String,
    /// The user's email; absent when the user has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Other attributes (`custom:*`, `phone_number`, …) and pre-token-generation claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A fresh random id (UUID v4) for `jti`, `origin_jti` and `event_id`, as Cognito uses.
pub fn new_token_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> AccessClaims {
        AccessClaims {
            sub: "s".into(),
            groups: vec![],
            iss: "https://i".into(),
            version: 2,
            client_id: "c".into(),
            origin_jti: "o".into(),
            event_id: "e".into(),
            token_use: TokenUse::Access,
            scope: COGNITO_ADMIN_SCOPE.into(),
            auth_time: 1,
            exp: 3,
            iat: 2,
            jti: "j".into(),
            username: "u".into(),
            extra: Map::new(),
        }
    }

    #[test]
    fn access_claims_serialise_in_cognito_order_without_empty_groups() {
        let mut claims = access();
        claims.extra.insert("role".into(), "manager".into());
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"sub":"s","iss":"https://i","version":2,"client_id":"c","origin_jti":"o","event_id":"e","token_use":"access","scope":"aws.cognito.signin.user.admin","auth_time":1,"exp":3,"iat":2,"jti":"j","username":"u","role":"manager"}"#
        );
        claims.groups = vec!["admins".into()];
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["cognito:groups"], serde_json::json!(["admins"]));
        let back: AccessClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back, claims);
    }

    #[test]
    fn id_claims_round_trip_with_custom_attributes() {
        let mut extra = Map::new();
        extra.insert("custom:tier".into(), "premium".into());
        let claims = IdClaims {
            sub: "s".into(),
            groups: vec!["g".into()],
            email_verified: Some(true),
            iss: "https://i".into(),
            username: "u".into(),
            origin_jti: "o".into(),
            aud: "c".into(),
            event_id: "e".into(),
            token_use: TokenUse::Id,
            auth_time: 1,
            exp: 3,
            iat: 2,
            jti: "j".into(),
            email: Some("u@example.com".into()),
            extra,
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["cognito:username"], "u");
        assert_eq!(json["custom:tier"], "premium");
        assert_eq!(json["token_use"], "id");
        let back: IdClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back, claims);
    }

    #[test]
    fn token_ids_are_uuids() {
        let id = new_token_id();
        assert_eq!(id.len(), 36);
        assert_ne!(id, new_token_id());
        assert_eq!(TokenUse::parse("access"), Some(TokenUse::Access));
        assert_eq!(TokenUse::parse("Access"), None);
        assert_eq!(TokenUse::Id.as_str(), "id");
    }
}
