//! The service's one error type: a stable code, a message safe to show, and for rate limits and lockouts
//! how long to wait. Transport layers map it once (`cognigate-http`).

use cognigate_domain::errors::ErrorCode;
use cognigate_provider::ProviderError;

use crate::ports::PortError;

/// A failed service call, ready to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    pub code: ErrorCode,
    /// Safe to show: never a password, code, token or internal detail.
    pub message: String,
    /// Seconds to wait before trying again (`RATE_LIMITED`, `LOCKED`).
    pub retry_after: Option<u64>,
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// The one answer to wrong credentials, unknown users and unacceptable tokens.
    pub fn auth_failed() -> Self {
        Self::new(ErrorCode::AuthFailed, "Incorrect email or password.")
    }

    pub fn invalid_token() -> Self {
        Self::new(ErrorCode::AuthFailed, "The access token is missing, invalid, expired or revoked.")
    }

    pub fn locked(retry_after: u64) -> Self {
        Self {
            code: ErrorCode::Locked,
            message: "Too many failed attempts; try again later.".to_owned(),
            retry_after: Some(retry_after.max(1)),
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: "Too many requests; slow down.".to_owned(),
            retry_after: Some(retry_after.max(1)),
        }
    }

    /// A failure on our side: the detail goes to the log, the caller sees a fixed message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorCode::Internal, "Something went wrong on our side; it has been logged.")
    }
}

impl From<PortError> for ServiceError {
    fn from(error: PortError) -> Self {
        Self::internal(error)
    }
}

impl From<ProviderError> for ServiceError {
    fn from(error: ProviderError) -> Self {
        match error.code {
            // Unknown user, wrong password, disabled user: one answer.
            ErrorCode::AuthFailed => Self::auth_failed(),
            ErrorCode::Internal => Self::internal(format!("{}: {}", error.exception, error.message)),
            ErrorCode::ProviderUnavailable => {
                tracing::error!(exception = %error.exception, error = %error.message, "identity provider unavailable");
                Self::new(
                    ErrorCode::ProviderUnavailable,
                    "The identity provider is unavailable; try again shortly.",
                )
            }
            ErrorCode::Locked => Self::locked(60),
            ErrorCode::RateLimited => Self::rate_limited(1),
            // Policy and validation messages explain what to fix and name no user.
            ErrorCode::PasswordPolicy | ErrorCode::Validation => Self::new(error.code, error.message),
            code => Self::new(code, fixed_message(code)),
        }
    }
}

/// The wording of codes whose provider message might name a user.
fn fixed_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MfaRequired => "A second factor is required.",
        ErrorCode::CodeMismatch => "The code is wrong.",
        ErrorCode::CodeExpired => "The code has expired or was already used; ask for a new one.",
        ErrorCode::UserExists => "An account with this email already exists.",
        ErrorCode::NotConfirmed => "The account's email is not confirmed yet.",
        ErrorCode::PasswordResetRequired => "The password must be reset before signing in.",
        ErrorCode::Forbidden => "This is not allowed.",
        ErrorCode::NotFound => "Not found.",
        ErrorCode::Conflict => "The request conflicts with the current state.",
        ErrorCode::MfaNotSetUp => "No authenticator app is set up for this account.",
        ErrorCode::DeliveryFailed => "The code could not be delivered.",
        _ => "The request failed.",
    }
}
