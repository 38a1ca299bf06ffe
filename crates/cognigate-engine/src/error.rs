//! Errors with Cognito's names. The wire protocol (`{"__type": "<Name>Exception"}`) and the product's stable
//! error codes are both mapped from these, once.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    NotAuthorized(String),
    #[error("User does not exist.")]
    UserNotFound,
    #[error("{0}")]
    UsernameExists(String),
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    #[error("Password does not conform to policy: {0}")]
    InvalidPassword(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    #[error("Attempt limit exceeded, please try after some time.")]
    LimitExceeded,
    #[error("Password attempts exceeded")]
    TooManyFailedAttempts,
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    GroupExists(String),
    #[error("{0}")]
    AliasExists(String),
    #[error("{0}")]
    InvalidUserPoolConfiguration(String),
    #[error("{0}")]
    SoftwareTokenMfaNotFound(String),
    #[error("Code mismatch and fail enable Software Token MFA")]
    EnableSoftwareTokenMfa,
    #[error("{0}")]
    UnsupportedUserState(String),
    #[error("Unable to deliver the message: {0}")]
    CodeDeliveryFailure(String),
    /// Password hashing is saturated: answered at once rather than queued without bound.
    #[error("Too many requests; try again shortly.")]
    TooManyRequests,
    #[error("Internal error")]
    Internal(String),
}

impl EngineError {
    /// Cognito's exception name, e.g. `NotAuthorizedException`.
    pub fn cognito_type(&self) -> &'static str {
        match self {
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::UserNotFound => "UserNotFoundException",
            Self::UsernameExists(_) => "UsernameExistsException",
            Self::CodeMismatch => "CodeMismatchException",
            Self::ExpiredCode => "ExpiredCodeException",
            Self::InvalidPassword(_) => "InvalidPasswordException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::UserNotConfirmed => "UserNotConfirmedException",
            Self::PasswordResetRequired => "PasswordResetRequiredException",
            Self::LimitExceeded => "LimitExceededException",
            Self::TooManyFailedAttempts => "TooManyFailedAttemptsException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::GroupExists(_) => "GroupExistsException",
            Self::AliasExists(_) => "AliasExistsException",
            Self::InvalidUserPoolConfiguration(_) => "InvalidUserPoolConfigurationException",
            Self::SoftwareTokenMfaNotFound(_) => "SoftwareTokenMFANotFoundException",
            Self::EnableSoftwareTokenMfa => "EnableSoftwareTokenMFAException",
            Self::UnsupportedUserState(_) => "UnsupportedUserStateException",
            Self::CodeDeliveryFailure(_) => "CodeDeliveryFailureException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::Internal(_) => "InternalErrorException",
        }
    }

    /// The generic answer for bad credentials, also used to hide whether a user exists.
    pub fn bad_credentials() -> Self {
        Self::NotAuthorized("Incorrect username or password.".to_owned())
    }
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        Self::Internal(error.to_string())
    }
}
