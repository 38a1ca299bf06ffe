//! What the provider needs to know to reach a pool, and how the SDK client is built from it: region,
//! credentials (with the emulator fallback), endpoint override, retries and timeouts live here so that the
//! operations in `provider.rs` never think about transport.

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cognitoidentityprovider::Client;

/// At most this many attempts per operation (the first try and one retry).
pub(crate) const MAX_ATTEMPTS: u32 = 2;
/// Time allowed to open a connection to the endpoint.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a whole operation, retries included.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);

/// The placeholder credentials used against an endpoint override when the chain finds none.
const PLACEHOLDER_KEY: &str = "cognigate-placeholder";
const PLACEHOLDER_SOURCE: &str = "cognigate-endpoint-placeholder";

/// Where one pool lives and which app client the provider acts as.
#[derive(Clone, PartialEq, Eq)]
pub struct CognitoSettings {
    /// The AWS region of the pool (`eu-west-1`).
    pub region: String,
    /// The pool id (`eu-west-1_AbCdEf123`).
    pub user_pool_id: String,
    /// The app client the self-service operations run as.
    pub client_id: String,
    /// The app client's secret, when it has one: `SECRET_HASH` is then sent wherever Cognito requires it.
    pub client_secret: Option<String>,
    /// An endpoint to use instead of Cognito's regional one (`http://127.0.0.1:9229`).
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for CognitoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoSettings")
            .field("region", &self.region)
            .field("user_pool_id", &self.user_pool_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Loads the shared AWS configuration for `settings`: the standard chain, the region, and with an endpoint
/// override the chain followed by placeholder credentials.
pub(crate) async fn load_sdk_config(settings: &CognitoSettings) -> SdkConfig {
    let region = Region::new(settings.region.clone());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = &settings.endpoint {
        let standard = DefaultCredentialsChain::builder().region(region).build().await;
        loader = loader.endpoint_url(endpoint).credentials_provider(or_placeholder(standard));
    }
    loader.load().await
}

/// The SDK client for `settings` over `sdk`, with the provider's region, endpoint, retry and timeout policy
/// applied whatever `sdk` says about them.
pub(crate) fn build_client(settings: &CognitoSettings, sdk: &SdkConfig) -> Client {
    let mut builder = aws_sdk_cognitoidentityprovider::config::Builder::from(sdk)
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// `standard`, or the placeholder credentials when it finds none. The chain moves on only when a provider
/// found nothing; a provider that failed (a broken profile, a refused role) is still reported, so a
/// misconfiguration is not papered over.
fn or_placeholder(standard: impl ProvideCredentials + 'static) -> CredentialsProviderChain {
    CredentialsProviderChain::first_try("standard chain", standard)
        .or_else(PLACEHOLDER_SOURCE, placeholder_credentials())
}

fn placeholder_credentials() -> Credentials {
    Credentials::new(PLACEHOLDER_KEY, PLACEHOLDER_KEY, None, None, PLACEHOLDER_SOURCE)
}

fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).operation_timeout(OPERATION_TIMEOUT).build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails by panicking")]

    use super::*;

    fn settings() -> CognitoSettings {
        CognitoSettings {
            region: "eu-west-1".to_owned(),
            user_pool_id: "eu-west-1_Test".to_owned(),
            client_id: "client".to_owned(),
            client_secret: Some("very-secret".to_owned()),
            endpoint: Some("http://127.0.0.1:9".to_owned()),
        }
    }

    #[test]
    fn debug_never_shows_the_client_secret() {
        let shown = format!("{:?}", settings());
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn the_client_carries_the_policy() {
        let sdk = SdkConfig::builder().build();
        let client = build_client(&settings(), &sdk);
        let config = client.config();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(MAX_ATTEMPTS));
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
    }

    #[derive(Debug)]
    struct Fails(bool);

    impl ProvideCredentials for Fails {
        fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            use aws_credential_types::provider::error::CredentialsError;
            let error = if self.0 {
                CredentialsError::not_loaded("nothing here")
            } else {
                CredentialsError::provider_error("the profile is broken")
            };
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(error))
        }
    }

    #[tokio::test]
    async fn no_credentials_at_all_means_the_placeholder() {
        let credentials = or_placeholder(Fails(true)).provide_credentials().await.unwrap();
        assert_eq!(credentials.access_key_id(), PLACEHOLDER_KEY);
    }

    #[tokio::test]
    async fn a_failing_credential_source_is_not_papered_over() {
        let error = or_placeholder(Fails(false)).provide_credentials().await.unwrap_err();
        assert!(aws_smithy_types::error::display::DisplayErrorContext(&error).to_string().contains("broken"));
    }

    #[tokio::test]
    async fn connecting_applies_the_endpoint_override() {
        // Builds the chain without asking it for credentials: no network.
        let sdk = load_sdk_config(&settings()).await;
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:9"));
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }
}
