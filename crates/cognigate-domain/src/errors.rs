//! The product's stable error codes. Clients branch on these, so they never change meaning; every failure
//! from an identity provider (the embedded engine or AWS Cognito, which share Cognito's exception names) is
//! mapped to one of them here, once.

use serde::{Deserialize, Serialize};

/// A machine-readable error code, stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Wrong credentials, an unknown user (indistinguishable on purpose), or a token that is not accepted.
    AuthFailed,
    /// A second factor is needed to finish signing in.
    MfaRequired,
    /// A verification or MFA code is wrong.
    CodeMismatch,
    /// A code has expired or was already used; ask for a new one.
    CodeExpired,
    /// The password does not meet the pool's policy.
    PasswordPolicy,
    /// An account with this username or email already exists.
    UserExists,
    /// The account has not confirmed its email yet.
    NotConfirmed,
    /// The password must be reset before signing in.
    PasswordResetRequired,
    /// Too many failed attempts: the account is locked for a while.
    Locked,
    /// Too many requests: slow down.
    RateLimited,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The request is malformed or a value is out of range.
    Validation,
    /// The user, group or pool does not exist (only where revealing it is safe).
    NotFound,
    /// The request conflicts with the current state (e.g. the group already exists).
    Conflict,
    /// TOTP is not set up for this user.
    MfaNotSetUp,
    /// A code or invitation could not be delivered.
    DeliveryFailed,
    /// The identity provider cannot be reached or refuses our credentials.
    ProviderUnavailable,
    /// Something failed on our side; details are in the server log, never in the answer.
    Internal,
}

impl ErrorCode {
    pub const ALL: [Self; 18] = [
        Self::AuthFailed,
        Self::MfaRequired,
        Self::CodeMismatch,
        Self::CodeExpired,
        Self::PasswordPolicy,
        Self::UserExists,
        Self::NotConfirmed,
        Self::PasswordResetRequired,
        Self::Locked,
        Self::RateLimited,
        Self::Forbidden,
        Self::Validation,
        Self::NotFound,
        Self::Conflict,
        Self::MfaNotSetUp,
        Self::DeliveryFailed,
        Self::ProviderUnavailable,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthFailed => "AUTH_FAILED",
            Self::MfaRequired => "MFA_REQUIRED",
            Self::CodeMismatch => "CODE_MISMATCH",
            Self::CodeExpired => "CODE_EXPIRED",
            Self::PasswordPolicy => "PASSWORD_POLICY",
            Self::UserExists => "USER_EXISTS",
            Self::NotConfirmed => "NOT_CONFIRMED",
            Self::PasswordResetRequired => "PASSWORD_RESET_REQUIRED",
            Self::Locked => "LOCKED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Forbidden => "FORBIDDEN",
            Self::Validation => "VALIDATION",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::MfaNotSetUp => "MFA_NOT_SET_UP",
            Self::DeliveryFailed => "DELIVERY_FAILED",
            Self::ProviderUnavailable => "PROVIDER_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status an API answers this code with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::AuthFailed => 401,
            Self::MfaRequired => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::UserExists | Self::Conflict => 409,
            Self::Locked | Self::RateLimited => 429,
            Self::ProviderUnavailable => 503,
            Self::DeliveryFailed | Self::Internal => 500,
            Self::CodeMismatch
            | Self::CodeExpired
            | Self::PasswordPolicy
            | Self::NotConfirmed
            | Self::PasswordResetRequired
            | Self::Validation
            | Self::MfaNotSetUp => 400,
        }
    }

    /// The code for one of Cognito's exception names (`NotAuthorizedException`, ...). The embedded engine and
    /// AWS Cognito use the same names, so this is the single mapping for both providers. Names this product
    /// does not know are `Internal`: they are logged with their original name by the caller.
    pub fn from_cognito_exception(name: &str) -> Self {
        // The SDKs sometimes prefix the name with a namespace (`aws.cognito#...`) or suffix a URL after `:`.
        let name = name.rsplit('#').next().unwrap_or(name);
        let name = name.split(':').next().unwrap_or(name);
        match name {
            "NotAuthorizedException" | "UserNotFoundException" => Self::AuthFailed,
            "UsernameExistsException" | "AliasExistsException" => Self::UserExists,
            "CodeMismatchException" | "EnableSoftwareTokenMFAException" => Self::CodeMismatch,
            "ExpiredCodeException" => Self::CodeExpired,
            "InvalidPasswordException" | "PasswordHistoryPolicyViolationException" => Self::PasswordPolicy,
            "UserNotConfirmedException" => Self::NotConfirmed,
            "PasswordResetRequiredException" => Self::PasswordResetRequired,
            "TooManyFailedAttemptsException" => Self::Locked,
            "LimitExceededException" | "TooManyRequestsException" => Self::RateLimited,
            "ForbiddenException" => Self::Forbidden,
            "InvalidParameterException"
            | "InvalidUserPoolConfigurationException"
            | "UnsupportedUserStateException"
            | "UserLambdaValidationException"
            | "MFAMethodNotFoundException"
            | "InvalidEmailRoleAccessPolicyException"
            | "SerializationException"
            | "UnknownOperationException"
            | "ValidationException" => Self::Validation,
            "ResourceNotFoundException" => Self::NotFound,
            "GroupExistsException" | "ConcurrentModificationException" => Self::Conflict,
            "SoftwareTokenMFANotFoundException" => Self::MfaNotSetUp,
            "CodeDeliveryFailureException" | "InvalidSmsRoleAccessPolicyException" => Self::DeliveryFailed,
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "AccessDeniedException"
            | "MissingAuthenticationTokenException"
            | "IncompleteSignature"
            | "ServiceUnavailable"
            | "ServiceUnavailableException" => Self::ProviderUnavailable,
            _ => Self::Internal,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_screaming_snake_case_and_serialize_as_such() {
        for code in ErrorCode::ALL {
            let json = serde_json_like(code);
            assert_eq!(json, code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
    }

    fn serde_json_like(code: ErrorCode) -> String {
        // serde's own rename, checked without a JSON dependency in this pure crate.
        format!("{code:?}").chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            out
        })
    }

    #[test]
    fn user_existence_is_never_revealed_by_the_code() {
        assert_eq!(
            ErrorCode::from_cognito_exception("UserNotFoundException"),
            ErrorCode::from_cognito_exception("NotAuthorizedException")
        );
    }

    #[test]
    fn namespaced_and_unknown_names() {
        assert_eq!(
            ErrorCode::from_cognito_exception("com.amazonaws.cognito#CodeMismatchException"),
            ErrorCode::CodeMismatch
        );
        assert_eq!(
            ErrorCode::from_cognito_exception("InvalidParameterException:http://internal.amazon.com/"),
            ErrorCode::Validation
        );
        assert_eq!(ErrorCode::from_cognito_exception("SomethingNew"), ErrorCode::Internal);
        assert_eq!(ErrorCode::from_cognito_exception("TooManyFailedAttemptsException"), ErrorCode::Locked);
    }

    #[test]
    fn every_code_has_a_client_or_server_status() {
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
    }
}
