//! Conversions between the SDK's shapes and the provider interface's, kept apart from the calls so that they
//! can be tested without a server. Absent optional fields get the value Cognito documents as the default.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::error::BuildError;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use aws_sdk_cognitoidentityprovider::operation::get_user::GetUserOutput;
use aws_sdk_cognitoidentityprovider::primitives::DateTime;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthenticationResultType, ChallengeNameType, CodeDeliveryDetailsType, GroupType,
    SoftwareTokenMfaSettingsType, UserPoolType, UserStatusType, UserType,
};
use cognigate_provider::{
    Attributes, AuthStep, Challenge, CodeDelivery, GroupRecord, MfaSetting, PoolSummary, ProviderError,
    Tokens, UserRecord,
};

/// Cognito's minimum password length when a pool's policy does not say.
const DEFAULT_MINIMUM_LENGTH: i32 = 8;

/// Attributes as the SDK sends them.
pub(crate) fn attribute_list(attributes: &Attributes) -> Result<Vec<AttributeType>, ProviderError> {
    attributes
        .iter()
        .map(|(name, value)| AttributeType::builder().name(name).value(value).build().map_err(invalid))
        .collect()
}

fn invalid(error: BuildError) -> ProviderError {
    ProviderError::from_exception("InvalidParameterException", error.to_string())
}

/// Attributes as the interface holds them. An attribute without a value is an empty string.
pub(crate) fn attribute_map(attributes: &[AttributeType]) -> Attributes {
    attributes
        .iter()
        .map(|attribute| (attribute.name().to_owned(), attribute.value().unwrap_or_default().to_owned()))
        .collect()
}

/// Tokens from an authentication result; `None` when it lacks the access token.
pub(crate) fn tokens(result: &AuthenticationResultType) -> Option<Tokens> {
    Some(Tokens {
        access_token: result.access_token()?.to_owned(),
        id_token: result.id_token().unwrap_or_default().to_owned(),
        refresh_token: result.refresh_token().map(str::to_owned),
        expires_in: i64::from(result.expires_in()),
        token_type: result.token_type().unwrap_or("Bearer").to_owned(),
    })
}

/// Where an authentication stands after InitiateAuth or RespondToAuthChallenge; `None` when the answer has
/// neither usable tokens nor a challenge with its session.
pub(crate) fn auth_step(
    result: Option<&AuthenticationResultType>,
    challenge: Option<&ChallengeNameType>,
    session: Option<&str>,
    parameters: Option<&std::collections::HashMap<String, String>>,
) -> Option<AuthStep> {
    if let Some(result) = result {
        return tokens(result).map(AuthStep::SignedIn);
    }
    Some(AuthStep::Challenge(Challenge {
        name: challenge?.as_str().to_owned(),
        session: session?.to_owned(),
        parameters: parameters
            .map(|parameters| parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }))
}

/// Where a code went; every part may be missing from an emulator's answer.
pub(crate) fn delivery(details: Option<&CodeDeliveryDetailsType>) -> CodeDelivery {
    CodeDelivery {
        destination: details.and_then(CodeDeliveryDetailsType::destination).unwrap_or_default().to_owned(),
        medium: details
            .and_then(CodeDeliveryDetailsType::delivery_medium)
            .map(|medium| medium.as_str().to_owned())
            .unwrap_or_default(),
        attribute: details.and_then(CodeDeliveryDetailsType::attribute_name).unwrap_or_default().to_owned(),
    }
}

/// The fields every user description shares, whichever operation answered it.
struct UserParts<'a> {
    username: &'a str,
    attributes: &'a [AttributeType],
    status: Option<&'a UserStatusType>,
    enabled: bool,
    created: Option<&'a DateTime>,
    modified: Option<&'a DateTime>,
    mfa_methods: &'a [String],
    preferred_mfa: Option<&'a str>,
}

fn user(parts: UserParts<'_>) -> UserRecord {
    let attributes = attribute_map(parts.attributes);
    UserRecord {
        username: parts.username.to_owned(),
        sub: attributes.get("sub").cloned().unwrap_or_default(),
        attributes,
        status: parts.status.map(|status| status.as_str().to_owned()).unwrap_or_else(|| "UNKNOWN".to_owned()),
        enabled: parts.enabled,
        mfa_methods: parts.mfa_methods.to_vec(),
        // Emulators answer "" for "none".
        preferred_mfa: parts.preferred_mfa.filter(|method| !method.is_empty()).map(str::to_owned),
        created_at: parts.created.map(DateTime::secs).unwrap_or_default(),
        modified_at: parts.modified.map(DateTime::secs).unwrap_or_default(),
    }
}

/// A user from ListUsers, ListUsersInGroup or AdminCreateUser. Those answers carry no MFA settings.
pub(crate) fn user_from_listing(listed: &UserType) -> UserRecord {
    user(UserParts {
        username: listed.username().unwrap_or_default(),
        attributes: listed.attributes(),
        status: listed.user_status(),
        enabled: listed.enabled(),
        created: listed.user_create_date(),
        modified: listed.user_last_modified_date(),
        mfa_methods: &[],
        preferred_mfa: None,
    })
}

/// A user from AdminGetUser: the complete description.
pub(crate) fn user_from_admin(output: &AdminGetUserOutput) -> UserRecord {
    user(UserParts {
        username: output.username(),
        attributes: output.user_attributes(),
        status: output.user_status(),
        enabled: output.enabled(),
        created: output.user_create_date(),
        modified: output.user_last_modified_date(),
        mfa_methods: output.user_mfa_setting_list(),
        preferred_mfa: output.preferred_mfa_setting(),
    })
}

/// A user from GetUser: the attributes the app client may read and the MFA settings. GetUser does not
/// report status, enabled flag or dates; whoever holds a working access token is an enabled, confirmed
/// user, and the dates are unknown (0).
pub(crate) fn user_from_self(output: &GetUserOutput) -> UserRecord {
    user(UserParts {
        username: output.username(),
        attributes: output.user_attributes(),
        status: Some(&UserStatusType::Confirmed),
        enabled: true,
        created: None,
        modified: None,
        mfa_methods: output.user_mfa_setting_list(),
        preferred_mfa: output.preferred_mfa_setting(),
    })
}

pub(crate) fn group(group: &GroupType) -> GroupRecord {
    GroupRecord {
        name: group.group_name().unwrap_or_default().to_owned(),
        description: group.description().filter(|text| !text.is_empty()).map(str::to_owned),
        precedence: group.precedence(),
    }
}

pub(crate) fn totp_settings(setting: MfaSetting) -> SoftwareTokenMfaSettingsType {
    SoftwareTokenMfaSettingsType::builder().enabled(setting.enabled).preferred_mfa(setting.preferred).build()
}

/// The pool's settings from DescribeUserPool.
pub(crate) fn pool_summary(pool: &UserPoolType, fallback_id: &str) -> PoolSummary {
    PoolSummary {
        pool_id: pool.id().unwrap_or(fallback_id).to_owned(),
        name: pool.name().unwrap_or_default().to_owned(),
        mfa_configuration: pool.mfa_configuration().map(|mfa| mfa.as_str()).unwrap_or("OFF").to_owned(),
        password_minimum_length: pool
            .policies()
            .and_then(|policies| policies.password_policy())
            .and_then(|policy| policy.minimum_length())
            .unwrap_or(DEFAULT_MINIMUM_LENGTH),
        estimated_users: Some(i64::from(pool.estimated_number_of_users())),
    }
}

/// Challenge responses in the map shape the SDK takes.
pub(crate) fn responses(responses: BTreeMap<String, String>) -> std::collections::HashMap<String, String> {
    responses.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails by panicking")]

    use std::collections::HashMap;

    use aws_sdk_cognitoidentityprovider::types::{
        DeliveryMediumType, PasswordPolicyType, UserPoolMfaType, UserPoolPolicyType,
    };
    use cognigate_provider::ErrorCode;

    use super::*;

    fn attribute(name: &str, value: &str) -> AttributeType {
        AttributeType::builder().name(name).value(value).build().unwrap()
    }

    #[test]
    fn attributes_go_both_ways() {
        let attributes = Attributes::from([
            ("email".to_owned(), "a@example.com".to_owned()),
            ("custom:team".to_owned(), "blue".to_owned()),
        ]);
        let list = attribute_list(&attributes).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(attribute_map(&list), attributes);
    }

    #[test]
    fn an_attribute_without_a_value_is_empty() {
        let bare = AttributeType::builder().name("nickname").build().unwrap();
        assert_eq!(attribute_map(&[bare]).get("nickname").map(String::as_str), Some(""));
    }

    #[test]
    fn an_unnamed_attribute_is_a_validation_error() {
        let error = invalid(AttributeType::builder().value("x").build().unwrap_err());
        assert_eq!(error.code, ErrorCode::Validation);
    }

    #[test]
    fn tokens_from_an_authentication_result() {
        let result = AuthenticationResultType::builder()
            .access_token("access")
            .id_token("id")
            .refresh_token("refresh")
            .expires_in(3600)
            .token_type("Bearer")
            .build();
        let step = auth_step(Some(&result), None, None, None).unwrap();
        let AuthStep::SignedIn(tokens) = step else { unreachable!("signed in") };
        assert_eq!(tokens.access_token, "access");
        assert_eq!(tokens.id_token, "id");
        assert_eq!(tokens.refresh_token.as_deref(), Some("refresh"));
        assert_eq!(tokens.expires_in, 3600);
        assert_eq!(tokens.token_type, "Bearer");
    }

    #[test]
    fn a_refresh_result_has_no_refresh_token_and_defaults_the_type() {
        let result = AuthenticationResultType::builder().access_token("access").expires_in(60).build();
        let tokens = tokens(&result).unwrap();
        assert_eq!(tokens.refresh_token, None);
        assert_eq!(tokens.id_token, "");
        assert_eq!(tokens.token_type, "Bearer");
    }

    #[test]
    fn a_result_without_an_access_token_is_no_step() {
        let result = AuthenticationResultType::builder().id_token("id").build();
        assert_eq!(auth_step(Some(&result), None, None, None), None);
    }

    #[test]
    fn a_challenge_with_its_session_and_parameters() {
        let parameters = HashMap::from([("USER_ID_FOR_SRP".to_owned(), "alice".to_owned())]);
        let step =
            auth_step(None, Some(&ChallengeNameType::SoftwareTokenMfa), Some("session"), Some(&parameters))
                .unwrap();
        let AuthStep::Challenge(challenge) = step else { unreachable!("a challenge") };
        assert_eq!(challenge.name, "SOFTWARE_TOKEN_MFA");
        assert_eq!(challenge.session, "session");
        assert_eq!(challenge.parameters.get("USER_ID_FOR_SRP").map(String::as_str), Some("alice"));
    }

    #[test]
    fn a_challenge_without_a_session_or_nothing_at_all_is_no_step() {
        assert_eq!(auth_step(None, Some(&ChallengeNameType::NewPasswordRequired), None, None), None);
        assert_eq!(auth_step(None, None, Some("session"), None), None);
        assert_eq!(auth_step(None, None, None, None), None);
    }

    #[test]
    fn an_unknown_challenge_keeps_its_name() {
        let name = ChallengeNameType::from("SOMETHING_NEW");
        let step = auth_step(None, Some(&name), Some("s"), None).unwrap();
        let AuthStep::Challenge(challenge) = step else { unreachable!("a challenge") };
        assert_eq!(challenge.name, "SOMETHING_NEW");
        assert!(challenge.parameters.is_empty());
    }

    #[test]
    fn code_delivery_details() {
        let details = CodeDeliveryDetailsType::builder()
            .destination("a***@e***")
            .delivery_medium(DeliveryMediumType::Email)
            .attribute_name("email")
            .build();
        let delivery = delivery(Some(&details));
        assert_eq!(delivery.destination, "a***@e***");
        assert_eq!(delivery.medium, "EMAIL");
        assert_eq!(delivery.attribute, "email");
        let nothing = super::delivery(None);
        assert_eq!(
            (nothing.destination.as_str(), nothing.medium.as_str(), nothing.attribute.as_str()),
            ("", "", "")
        );
    }

    #[test]
    fn a_listed_user() {
        let listed = UserType::builder()
            .username("alice")
            .attributes(attribute("sub", "1234-abcd"))
            .attributes(attribute("email", "alice@example.com"))
            .user_status(UserStatusType::ForceChangePassword)
            .enabled(true)
            .user_create_date(DateTime::from_secs(1_700_000_000))
            .user_last_modified_date(DateTime::from_millis(1_700_000_100_900))
            .build();
        let record = user_from_listing(&listed);
        assert_eq!(record.username, "alice");
        assert_eq!(record.sub, "1234-abcd");
        assert_eq!(record.attribute("email"), Some("alice@example.com"));
        assert_eq!(record.status, "FORCE_CHANGE_PASSWORD");
        assert!(record.enabled);
        assert_eq!(record.created_at, 1_700_000_000);
        assert_eq!(record.modified_at, 1_700_000_100);
        assert!(record.mfa_methods.is_empty());
        assert_eq!(record.preferred_mfa, None);
    }

    #[test]
    fn a_user_from_admin_get_user() {
        let output = AdminGetUserOutput::builder()
            .username("bob")
            .user_attributes(attribute("sub", "5678"))
            .user_status(UserStatusType::Confirmed)
            .enabled(false)
            .user_create_date(DateTime::from_secs(10))
            .user_last_modified_date(DateTime::from_secs(20))
            .user_mfa_setting_list("SOFTWARE_TOKEN_MFA")
            .preferred_mfa_setting("SOFTWARE_TOKEN_MFA")
            .build()
            .unwrap();
        let record = user_from_admin(&output);
        assert_eq!(record.username, "bob");
        assert_eq!(record.sub, "5678");
        assert_eq!(record.status, "CONFIRMED");
        assert!(!record.enabled);
        assert_eq!((record.created_at, record.modified_at), (10, 20));
        assert_eq!(record.mfa_methods, vec!["SOFTWARE_TOKEN_MFA".to_owned()]);
        assert_eq!(record.preferred_mfa.as_deref(), Some("SOFTWARE_TOKEN_MFA"));
    }

    #[test]
    fn a_user_from_get_user_is_enabled_and_confirmed() {
        let output = GetUserOutput::builder()
            .username("carol")
            .user_attributes(attribute("sub", "9"))
            .user_attributes(attribute("email", "carol@example.com"))
            .build()
            .unwrap();
        let record = user_from_self(&output);
        assert_eq!(record.username, "carol");
        assert_eq!(record.sub, "9");
        assert_eq!(record.status, "CONFIRMED");
        assert!(record.enabled);
        assert_eq!(record.created_at, 0);
    }

    #[test]
    fn an_empty_preferred_mfa_is_none() {
        let output = GetUserOutput::builder()
            .username("erin")
            .user_attributes(attribute("sub", "1"))
            .preferred_mfa_setting("")
            .build()
            .unwrap();
        assert_eq!(user_from_self(&output).preferred_mfa, None);
    }

    #[test]
    fn a_user_without_sub_or_status() {
        let record = user_from_listing(&UserType::builder().username("dave").build());
        assert_eq!(record.sub, "");
        assert_eq!(record.status, "UNKNOWN");
    }

    #[test]
    fn groups() {
        let listed = GroupType::builder().group_name("admins").description("Admins").precedence(1).build();
        assert_eq!(
            group(&listed),
            GroupRecord {
                name: "admins".to_owned(),
                description: Some("Admins".to_owned()),
                precedence: Some(1)
            }
        );
        let bare = GroupType::builder().group_name("readers").description("").build();
        assert_eq!(group(&bare).precedence, None);
        assert_eq!(group(&bare).description, None);
    }

    #[test]
    fn totp_preference() {
        let settings = totp_settings(MfaSetting { enabled: true, preferred: false });
        assert!(settings.enabled());
        assert!(!settings.preferred_mfa());
    }

    #[test]
    fn pool_summary_with_and_without_a_policy() {
        let pool = UserPoolType::builder()
            .id("eu-west-1_Abc")
            .name("customers")
            .mfa_configuration(UserPoolMfaType::Optional)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(PasswordPolicyType::builder().minimum_length(12).build())
                    .build(),
            )
            .estimated_number_of_users(42)
            .build();
        let summary = pool_summary(&pool, "ignored");
        assert_eq!(summary.pool_id, "eu-west-1_Abc");
        assert_eq!(summary.name, "customers");
        assert_eq!(summary.mfa_configuration, "OPTIONAL");
        assert_eq!(summary.password_minimum_length, 12);
        assert_eq!(summary.estimated_users, Some(42));

        let bare = pool_summary(&UserPoolType::builder().build(), "eu-west-1_Fallback");
        assert_eq!(bare.pool_id, "eu-west-1_Fallback");
        assert_eq!(bare.mfa_configuration, "OFF");
        assert_eq!(bare.password_minimum_length, DEFAULT_MINIMUM_LENGTH);
    }

    #[test]
    fn challenge_responses_keep_every_entry() {
        let map = BTreeMap::from([
            ("USERNAME".to_owned(), "alice".to_owned()),
            ("SOFTWARE_TOKEN_MFA_CODE".to_owned(), "123456".to_owned()),
        ]);
        let converted = responses(map);
        assert_eq!(converted.len(), 2);
        assert_eq!(converted.get("USERNAME").map(String::as_str), Some("alice"));
    }
}
