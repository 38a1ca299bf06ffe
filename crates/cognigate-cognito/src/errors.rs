//! The one place where an SDK failure becomes a [`ProviderError`], so every operation classifies failures the
//! same way:
//!
//! - Cognito answered with an exception → [`ProviderError::from_exception`] with its name and message
//!   (exceptions that mean "your AWS credentials are not good here" map to `PROVIDER_UNAVAILABLE` there, and
//!   get the region and endpoint added to the message).
//! - The request never got an answer (connection refused, DNS, timeout) or could not be signed (no
//!   credentials) → [`ProviderError::unavailable`], naming the endpoint and region.
//! - An answer came back that the SDK could not make sense of → `InternalErrorException`.
//!
//! Messages never contain request values: the SDK's error chains describe transport and credential
//! failures, and Cognito's own messages never echo passwords, codes or tokens.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_cognitoidentityprovider::config::http::HttpResponse;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use cognigate_provider::{ErrorCode, ProviderError, ProviderInfo};

/// Used when Cognito's answer names no exception.
const INTERNAL: &str = "InternalErrorException";

/// Classifies `error` from an operation against the pool `info` describes.
pub(crate) fn provider_error<E>(info: &ProviderInfo, error: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mapped = match &error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service = context.err();
            match service.code() {
                Some(code) => {
                    let message = service.message().unwrap_or(code);
                    let mapped = ProviderError::from_exception(code, message);
                    if mapped.code == ErrorCode::ProviderUnavailable {
                        ProviderError {
                            message: format!("{} refused our AWS credentials: {message}", target(info)),
                            ..mapped
                        }
                    } else {
                        mapped
                    }
                }
                None => ProviderError::from_exception(
                    INTERNAL,
                    format!("{} answered HTTP {status} without naming an exception", target(info)),
                ),
            }
        }
        SdkError::ResponseError(context) => ProviderError::from_exception(
            INTERNAL,
            format!(
                "{} sent an answer that could not be read (HTTP {})",
                target(info),
                context.raw().status()
            ),
        ),
        SdkError::TimeoutError(_) => {
            ProviderError::unavailable(format!("{} did not answer in time ({})", target(info), chain(&error)))
        }
        SdkError::DispatchFailure(_) if mentions_credentials(&error) => ProviderError::unavailable(format!(
            "no usable AWS credentials for {} ({})",
            target(info),
            chain(&error)
        )),
        SdkError::DispatchFailure(_) => {
            ProviderError::unavailable(format!("cannot reach {} ({})", target(info), chain(&error)))
        }
        // A request the SDK could not even build is ours to fix, not the caller's.
        _ => ProviderError::from_exception(
            INTERNAL,
            format!("could not build a request for {} ({})", target(info), chain(&error)),
        ),
    };
    if mapped.code == ErrorCode::ProviderUnavailable {
        tracing::warn!(exception = %mapped.exception, message = %mapped.message, "cognito unavailable");
    } else if mapped.code == ErrorCode::Internal {
        tracing::error!(exception = %mapped.exception, message = %mapped.message, "cognito failed");
    } else {
        tracing::debug!(exception = %mapped.exception, "cognito refused the request");
    }
    mapped
}

/// An answer that is well-formed but lacks what the operation promises (no tokens and no challenge, say).
pub(crate) fn incomplete(info: &ProviderInfo, what: &str) -> ProviderError {
    let error = ProviderError::from_exception(INTERNAL, format!("{} answered without {what}", target(info)));
    tracing::error!(message = %error.message, "cognito answer incomplete");
    error
}

/// "Cognito in region eu-west-1", or with an override "the Cognito endpoint http://… (region eu-west-1)".
fn target(info: &ProviderInfo) -> String {
    match &info.endpoint {
        Some(endpoint) => format!("the Cognito endpoint {endpoint} (region {})", info.region),
        None => format!("Cognito in region {}", info.region),
    }
}

/// The causes of `error` on one line (`io error: tcp connect error: Connection refused`), without the SDK's
/// own wrapper ("dispatch failure"), which the caller's wording already says.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = error.source();
    while let Some(cause) = current {
        let text = cause.to_string();
        // Some layers repeat their source's text in their own; say it once.
        if !text.is_empty() && !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    if parts.is_empty() { error.to_string() } else { parts.join(": ") }
}

/// Whether the failure came from resolving credentials rather than from the network.
fn mentions_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<CredentialsError>() {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails by panicking")]

    use aws_sdk_cognitoidentityprovider::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
    use aws_sdk_cognitoidentityprovider::types::error::NotAuthorizedException;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn info(endpoint: Option<&str>) -> ProviderInfo {
        ProviderInfo {
            kind: "cognito",
            pool_id: "eu-west-1_Test".to_owned(),
            client_id: "client".to_owned(),
            region: "eu-west-1".to_owned(),
            endpoint: endpoint.map(str::to_owned),
        }
    }

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::empty())
    }

    fn generic(code: Option<&str>, message: Option<&str>) -> InitiateAuthError {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        if let Some(message) = message {
            meta = meta.message(message);
        }
        InitiateAuthError::generic(meta.build())
    }

    #[test]
    fn a_modelled_exception_keeps_its_name_and_message() {
        let exception = NotAuthorizedException::builder()
            .message("Incorrect username or password.")
            .meta(
                ErrorMetadata::builder()
                    .code("NotAuthorizedException")
                    .message("Incorrect username or password.")
                    .build(),
            )
            .build();
        let error =
            SdkError::service_error(InitiateAuthError::NotAuthorizedException(exception), response(400));
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::AuthFailed);
        assert_eq!(mapped.exception, "NotAuthorizedException");
        assert_eq!(mapped.message, "Incorrect username or password.");
    }

    #[test]
    fn an_unmodelled_exception_is_mapped_by_name() {
        let error = SdkError::service_error(
            generic(Some("TooManyRequestsException"), Some("Rate exceeded")),
            response(400),
        );
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::RateLimited);
        assert_eq!(mapped.exception, "TooManyRequestsException");
        assert_eq!(mapped.message, "Rate exceeded");
    }

    #[test]
    fn an_exception_without_a_message_is_described_by_its_name() {
        let error = SdkError::service_error(generic(Some("CodeMismatchException"), None), response(400));
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::CodeMismatch);
        assert_eq!(mapped.message, "CodeMismatchException");
    }

    #[test]
    fn refused_aws_credentials_are_unavailable_and_say_where() {
        let error = SdkError::service_error(
            generic(
                Some("UnrecognizedClientException"),
                Some("The security token included in the request is invalid."),
            ),
            response(400),
        );
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::ProviderUnavailable);
        assert_eq!(mapped.exception, "UnrecognizedClientException");
        assert!(mapped.message.contains("region eu-west-1"), "{}", mapped.message);
        assert!(mapped.message.contains("security token"), "{}", mapped.message);
    }

    #[test]
    fn an_answer_naming_no_exception_is_internal() {
        let error = SdkError::service_error(generic(None, None), response(500));
        let mapped = provider_error(&info(Some("http://127.0.0.1:5055")), error);
        assert_eq!(mapped.code, ErrorCode::Internal);
        assert_eq!(mapped.exception, "InternalErrorException");
        assert!(mapped.message.contains("HTTP 500"), "{}", mapped.message);
        assert!(mapped.message.contains("http://127.0.0.1:5055"), "{}", mapped.message);
    }

    #[test]
    fn an_unreadable_answer_is_internal() {
        let error: SdkError<InitiateAuthError, HttpResponse> =
            SdkError::response_error("expected a JSON object", response(200));
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::Internal);
        assert_eq!(mapped.exception, "InternalErrorException");
        assert!(mapped.message.contains("could not be read"), "{}", mapped.message);
    }

    #[test]
    fn a_connection_failure_is_unavailable_and_names_the_endpoint() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error: SdkError<InitiateAuthError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let mapped = provider_error(&info(Some("http://127.0.0.1:9")), error);
        assert_eq!(mapped.code, ErrorCode::ProviderUnavailable);
        assert_eq!(mapped.exception, "");
        assert!(mapped.message.starts_with("cannot reach the Cognito endpoint http://127.0.0.1:9"));
        assert!(mapped.message.contains("connection refused"), "{}", mapped.message);
    }

    #[test]
    fn the_cause_chain_reads_as_one_line() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error: SdkError<InitiateAuthError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        assert_eq!(chain(&error), "io error: Connection refused");
        let timeout: SdkError<InitiateAuthError, HttpResponse> = SdkError::timeout_error("timed out");
        assert_eq!(chain(&timeout), "timed out");
    }

    #[test]
    fn a_timeout_is_unavailable() {
        let error: SdkError<InitiateAuthError, HttpResponse> = SdkError::timeout_error("operation timed out");
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::ProviderUnavailable);
        assert!(mapped.message.contains("did not answer in time"), "{}", mapped.message);
        assert!(mapped.message.contains("Cognito in region eu-west-1"), "{}", mapped.message);
    }

    #[test]
    fn missing_credentials_are_unavailable_and_say_so() {
        let credentials = CredentialsError::not_loaded("no providers in chain provided credentials");
        let error: SdkError<InitiateAuthError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(credentials), None));
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::ProviderUnavailable);
        assert!(mapped.message.starts_with("no usable AWS credentials for Cognito in region eu-west-1"));
    }

    #[test]
    fn a_request_that_cannot_be_built_is_internal() {
        let error: SdkError<InitiateAuthError, HttpResponse> =
            SdkError::construction_failure("missing field `ClientId`");
        let mapped = provider_error(&info(None), error);
        assert_eq!(mapped.code, ErrorCode::Internal);
        assert!(mapped.message.contains("could not build a request"), "{}", mapped.message);
    }

    #[test]
    fn an_incomplete_answer_is_internal() {
        let mapped = incomplete(&info(None), "tokens or a challenge");
        assert_eq!(mapped.code, ErrorCode::Internal);
        assert_eq!(mapped.message, "Cognito in region eu-west-1 answered without tokens or a challenge");
    }
}
