//! [`CognitoProvider`]: each method of the interface as the Cognito operation that does it, with
//! `SECRET_HASH` added where Cognito requires it and every failure classified by `errors.rs`. The behaviour
//! it must match is the `local` provider's (`cognigate_provider::LocalProvider`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::http::HttpResponse;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, DeliveryMediumType, FeatureType, MessageActionType, UserPoolClientType,
    VerifySoftwareTokenResponseType,
};
use cognigate_provider::{
    Attributes, AuthStep, ChallengeAnswer, ClientSecret, CodeDelivery, Enrolment, GroupRecord,
    IdentityProvider, MfaSetting, PoolSummary, ProviderError, ProviderInfo, ProviderResult, SessionSummary,
    SignUpOutcome, Tokens, TotpSecret, UserPage, UserRecord,
};

use crate::convert;
use crate::errors::{incomplete, provider_error};
use crate::settings::{CognitoSettings, build_client, load_sdk_config};

/// The admin operations addressed by pool and username that answer nothing: one shape, written once.
macro_rules! pool_user_call {
    ($provider:ident . $operation:ident ( $username:expr )) => {
        $provider
            .client
            .$operation()
            .user_pool_id($provider.pool())
            .username($username)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| $provider.error(e))
    };
}

/// One pool and app client on AWS Cognito, or on a Cognito-compatible endpoint, as an [`IdentityProvider`].
#[derive(Clone)]
pub struct CognitoProvider {
    client: Client,
    info: ProviderInfo,
    client_secret: ClientSecret,
    /// Whether the app client rotates refresh tokens, as DescribeUserPoolClient last said and when. Cognito
    /// refuses REFRESH_TOKEN_AUTH for such a client and answers only GetTokensFromRefreshToken, which in
    /// turn is missing from older Cognito-compatible servers: the client's own setting decides, read again
    /// every [`ROTATION_RECHECK`] so turning rotation on needs no restart.
    rotates_refresh: Arc<std::sync::Mutex<Option<(bool, std::time::Instant)>>>,
}

impl std::fmt::Debug for CognitoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoProvider")
            .field("info", &self.info)
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

impl CognitoProvider {
    /// A provider over the standard AWS credential chain (with placeholder credentials against an endpoint
    /// override when the chain has none; see the crate documentation). Nothing is sent yet: call
    /// [`IdentityProvider::check`] to prove the pool is reachable.
    pub async fn connect(settings: CognitoSettings) -> Self {
        let sdk = load_sdk_config(&settings).await;
        Self::with_sdk_config(settings, &sdk)
    }

    /// A provider over an AWS configuration the caller built (static credentials in tests, say). The
    /// settings' region and endpoint, and the provider's retry and timeout policy, apply over `sdk`'s.
    pub fn with_sdk_config(settings: CognitoSettings, sdk: &SdkConfig) -> Self {
        let client = build_client(&settings, sdk);
        let info = ProviderInfo {
            kind: "cognito",
            pool_id: settings.user_pool_id,
            client_id: settings.client_id,
            region: settings.region,
            endpoint: settings.endpoint,
        };
        Self {
            client,
            info,
            client_secret: ClientSecret::new(settings.client_secret),
            rotates_refresh: Arc::default(),
        }
    }

    fn pool(&self) -> &str {
        &self.info.pool_id
    }

    fn app_client(&self) -> &str {
        &self.info.client_id
    }

    fn secret_hash(&self, username: &str) -> Option<String> {
        self.client_secret.hash_for(username, self.app_client())
    }

    fn with_secret(
        &self,
        username: &str,
        mut parameters: HashMap<String, String>,
    ) -> HashMap<String, String> {
        self.client_secret.add_to(username, self.app_client(), &mut parameters);
        parameters
    }

    fn error<E>(&self, error: SdkError<E, HttpResponse>) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        provider_error(&self.info, error)
    }

    async fn describe_app_client(&self) -> ProviderResult<Option<UserPoolClientType>> {
        let output = self
            .client
            .describe_user_pool_client()
            .user_pool_id(self.pool())
            .client_id(self.app_client())
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(output.user_pool_client)
    }

    async fn rotates_refresh(&self) -> ProviderResult<bool> {
        let known = self.rotates_refresh.lock().ok().and_then(|known| *known);
        if let Some((rotates, learnt)) = known
            && learnt.elapsed() < ROTATION_RECHECK
        {
            return Ok(rotates);
        }
        let rotates = rotation_enabled(self.describe_app_client().await?.as_ref());
        self.note_rotation(rotates);
        Ok(rotates)
    }

    fn note_rotation(&self, rotates: bool) {
        if let Ok(mut known) = self.rotates_refresh.lock() {
            *known = Some((rotates, std::time::Instant::now()));
        }
    }

    fn step(
        &self,
        result: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
        challenge: Option<&ChallengeNameType>,
        session: Option<&str>,
        parameters: Option<&HashMap<String, String>>,
    ) -> ProviderResult<AuthStep> {
        convert::auth_step(result, challenge, session, parameters)
            .ok_or_else(|| incomplete(&self.info, "tokens or a challenge with its session"))
    }
}

/// How long the app client's refresh-token rotation setting is trusted before it is read again.
const ROTATION_RECHECK: std::time::Duration = std::time::Duration::from_secs(300);

fn rotation_enabled(client: Option<&UserPoolClientType>) -> bool {
    client
        .and_then(UserPoolClientType::refresh_token_rotation)
        .is_some_and(|rotation| *rotation.feature() == FeatureType::Enabled)
}

/// Stops a listing whose server hands back the token it was given, instead of looping forever.
fn next_page(previous: Option<&str>, next: Option<&str>) -> Option<String> {
    match next {
        Some(next) if !next.is_empty() && Some(next) != previous => Some(next.to_owned()),
        _ => None,
    }
}

#[async_trait]
impl IdentityProvider for CognitoProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn check(&self) -> ProviderResult<PoolSummary> {
        let pool = self
            .client
            .describe_user_pool()
            .user_pool_id(self.pool())
            .send()
            .await
            .map_err(|e| self.error(e))?;
        let pool = pool.user_pool().ok_or_else(|| incomplete(&self.info, "the user pool"))?;
        let app_client = self.describe_app_client().await?;
        self.note_rotation(rotation_enabled(app_client.as_ref()));
        Ok(convert::pool_summary(pool, self.pool()))
    }

    async fn sign_up(
        &self,
        username: &str,
        password: &str,
        attributes: &Attributes,
    ) -> ProviderResult<SignUpOutcome> {
        let output = self
            .client
            .sign_up()
            .client_id(self.app_client())
            .set_secret_hash(self.secret_hash(username))
            .username(username)
            .password(password)
            .set_user_attributes(Some(convert::attribute_list(attributes)?))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(SignUpOutcome {
            user_sub: output.user_sub().to_owned(),
            confirmed: output.user_confirmed(),
            delivery: output.code_delivery_details().map(|details| convert::delivery(Some(details))),
        })
    }

    async fn confirm_sign_up(&self, username: &str, code: &str) -> ProviderResult<()> {
        self.client
            .confirm_sign_up()
            .client_id(self.app_client())
            .set_secret_hash(self.secret_hash(username))
            .username(username)
            .confirmation_code(code)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn resend_confirmation_code(&self, username: &str) -> ProviderResult<CodeDelivery> {
        let output = self
            .client
            .resend_confirmation_code()
            .client_id(self.app_client())
            .set_secret_hash(self.secret_hash(username))
            .username(username)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(convert::delivery(output.code_delivery_details()))
    }

    async fn sign_in(&self, username: &str, password: &str) -> ProviderResult<AuthStep> {
        let parameters = self.with_secret(
            username,
            HashMap::from([
                ("USERNAME".to_owned(), username.to_owned()),
                ("PASSWORD".to_owned(), password.to_owned()),
            ]),
        );
        let output = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(self.app_client())
            .set_auth_parameters(Some(parameters))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        self.step(
            output.authentication_result(),
            output.challenge_name(),
            output.session(),
            output.challenge_parameters(),
        )
    }

    async fn respond_to_challenge(
        &self,
        username: &str,
        session: &str,
        answer: &ChallengeAnswer,
    ) -> ProviderResult<AuthStep> {
        let mut responses: BTreeMap<String, String> = answer.responses();
        responses.insert("USERNAME".to_owned(), username.to_owned());
        let responses = self.with_secret(username, convert::responses(responses));
        let output = self
            .client
            .respond_to_auth_challenge()
            .client_id(self.app_client())
            .challenge_name(ChallengeNameType::from(answer.challenge_name()))
            .session(session)
            .set_challenge_responses(Some(responses))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        self.step(
            output.authentication_result(),
            output.challenge_name(),
            output.session(),
            output.challenge_parameters(),
        )
    }

    async fn refresh(&self, refresh_token: &str, username: &str) -> ProviderResult<Tokens> {
        if self.rotates_refresh().await? {
            let output = self
                .client
                .get_tokens_from_refresh_token()
                .client_id(self.app_client())
                .set_client_secret(self.client_secret.value().map(str::to_owned))
                .refresh_token(refresh_token)
                .send()
                .await
                .map_err(|e| self.error(e))?;
            return output
                .authentication_result()
                .and_then(convert::tokens)
                .ok_or_else(|| incomplete(&self.info, "tokens"));
        }
        let parameters = self
            .with_secret(username, HashMap::from([("REFRESH_TOKEN".to_owned(), refresh_token.to_owned())]));
        let output = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .client_id(self.app_client())
            .set_auth_parameters(Some(parameters))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        match output.authentication_result().and_then(convert::tokens) {
            Some(tokens) => Ok(tokens),
            None => Err(match output.challenge_name() {
                Some(challenge) => ProviderError::from_exception(
                    "InternalErrorException",
                    format!("unexpected challenge {} on refresh", challenge.as_str()),
                ),
                None => incomplete(&self.info, "tokens"),
            }),
        }
    }

    async fn forgot_password(&self, username: &str) -> ProviderResult<CodeDelivery> {
        let output = self
            .client
            .forgot_password()
            .client_id(self.app_client())
            .set_secret_hash(self.secret_hash(username))
            .username(username)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(convert::delivery(output.code_delivery_details()))
    }

    async fn confirm_forgot_password(
        &self,
        username: &str,
        code: &str,
        password: &str,
    ) -> ProviderResult<()> {
        self.client
            .confirm_forgot_password()
            .client_id(self.app_client())
            .set_secret_hash(self.secret_hash(username))
            .username(username)
            .confirmation_code(code)
            .password(password)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn change_password(
        &self,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> ProviderResult<()> {
        self.client
            .change_password()
            .access_token(access_token)
            .previous_password(previous)
            .proposed_password(proposed)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn get_user(&self, access_token: &str) -> ProviderResult<UserRecord> {
        let output =
            self.client.get_user().access_token(access_token).send().await.map_err(|e| self.error(e))?;
        Ok(convert::user_from_self(&output))
    }

    async fn update_user_attributes(
        &self,
        access_token: &str,
        attributes: &Attributes,
    ) -> ProviderResult<()> {
        self.client
            .update_user_attributes()
            .access_token(access_token)
            .set_user_attributes(Some(convert::attribute_list(attributes)?))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn global_sign_out(&self, access_token: &str) -> ProviderResult<()> {
        self.client.global_sign_out().access_token(access_token).send().await.map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn revoke_token(&self, refresh_token: &str) -> ProviderResult<()> {
        self.client
            .revoke_token()
            .token(refresh_token)
            .client_id(self.app_client())
            .set_client_secret(self.client_secret.value().map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn associate_software_token(&self, who: &Enrolment) -> ProviderResult<TotpSecret> {
        let request = match who {
            Enrolment::AccessToken(token) => self.client.associate_software_token().access_token(token),
            Enrolment::Session(session) => self.client.associate_software_token().session(session),
        };
        let output = request.send().await.map_err(|e| self.error(e))?;
        let secret = output.secret_code().ok_or_else(|| incomplete(&self.info, "a secret code"))?;
        Ok(TotpSecret { secret_base32: secret.to_owned(), session: output.session().map(str::to_owned) })
    }

    async fn verify_software_token(&self, who: &Enrolment, code: &str) -> ProviderResult<Option<String>> {
        let request = match who {
            Enrolment::AccessToken(token) => self.client.verify_software_token().access_token(token),
            Enrolment::Session(session) => self.client.verify_software_token().session(session),
        };
        let output = request.user_code(code).send().await.map_err(|e| self.error(e))?;
        if output.status() == Some(&VerifySoftwareTokenResponseType::Error) {
            return Err(ProviderError::from_exception(
                "EnableSoftwareTokenMFAException",
                "the code did not verify the authenticator",
            ));
        }
        Ok(output.session().map(str::to_owned))
    }

    async fn set_mfa_preference(&self, access_token: &str, totp: MfaSetting) -> ProviderResult<()> {
        self.client
            .set_user_mfa_preference()
            .access_token(access_token)
            .software_token_mfa_settings(convert::totp_settings(totp))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn admin_create_user(
        &self,
        username: &str,
        attributes: &Attributes,
        temporary_password: Option<&str>,
        suppress_message: bool,
    ) -> ProviderResult<UserRecord> {
        let mut request = self
            .client
            .admin_create_user()
            .user_pool_id(self.pool())
            .username(username)
            .set_user_attributes(Some(convert::attribute_list(attributes)?))
            .set_temporary_password(temporary_password.map(str::to_owned));
        if suppress_message {
            request = request.message_action(MessageActionType::Suppress);
        } else {
            // Cognito sends the invitation by SMS unless told otherwise; send it wherever the user can get it.
            if attributes.contains_key("email") {
                request = request.desired_delivery_mediums(DeliveryMediumType::Email);
            }
            if attributes.contains_key("phone_number") {
                request = request.desired_delivery_mediums(DeliveryMediumType::Sms);
            }
        }
        let output = request.send().await.map_err(|e| self.error(e))?;
        match output.user() {
            Some(user) => Ok(convert::user_from_listing(user)),
            None => self.admin_get_user(username).await,
        }
    }

    async fn admin_get_user(&self, username: &str) -> ProviderResult<UserRecord> {
        let output = self
            .client
            .admin_get_user()
            .user_pool_id(self.pool())
            .username(username)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(convert::user_from_admin(&output))
    }

    async fn admin_delete_user(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_delete_user(username))
    }

    async fn admin_disable_user(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_disable_user(username))
    }

    async fn admin_enable_user(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_enable_user(username))
    }

    async fn admin_confirm_sign_up(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_confirm_sign_up(username))
    }

    async fn admin_reset_user_password(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_reset_user_password(username))
    }

    async fn admin_set_user_password(
        &self,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> ProviderResult<()> {
        self.client
            .admin_set_user_password()
            .user_pool_id(self.pool())
            .username(username)
            .password(password)
            .permanent(permanent)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn admin_update_user_attributes(
        &self,
        username: &str,
        attributes: &Attributes,
    ) -> ProviderResult<()> {
        self.client
            .admin_update_user_attributes()
            .user_pool_id(self.pool())
            .username(username)
            .set_user_attributes(Some(convert::attribute_list(attributes)?))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn admin_user_global_sign_out(&self, username: &str) -> ProviderResult<()> {
        pool_user_call!(self.admin_user_global_sign_out(username))
    }

    /// Cognito lists no sessions (only remembered devices, with device tracking on).
    async fn admin_list_sessions(&self, _username: &str) -> ProviderResult<Option<Vec<SessionSummary>>> {
        Ok(None)
    }

    async fn admin_set_mfa_preference(&self, username: &str, totp: MfaSetting) -> ProviderResult<()> {
        self.client
            .admin_set_user_mfa_preference()
            .user_pool_id(self.pool())
            .username(username)
            .software_token_mfa_settings(convert::totp_settings(totp))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn create_group(
        &self,
        name: &str,
        description: Option<&str>,
        precedence: Option<i32>,
    ) -> ProviderResult<()> {
        self.client
            .create_group()
            .user_pool_id(self.pool())
            .group_name(name)
            .set_description(description.map(str::to_owned))
            .set_precedence(precedence)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupRecord>> {
        let mut groups = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_groups()
                .user_pool_id(self.pool())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(e))?;
            groups.extend(output.groups().iter().map(convert::group));
            token = next_page(token.as_deref(), output.next_token());
            if token.is_none() {
                return Ok(groups);
            }
        }
    }

    async fn admin_add_user_to_group(&self, username: &str, group: &str) -> ProviderResult<()> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(self.pool())
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn admin_remove_user_from_group(&self, username: &str, group: &str) -> ProviderResult<()> {
        self.client
            .admin_remove_user_from_group()
            .user_pool_id(self.pool())
            .username(username)
            .group_name(group)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    async fn admin_list_groups_for_user(&self, username: &str) -> ProviderResult<Vec<String>> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .admin_list_groups_for_user()
                .user_pool_id(self.pool())
                .username(username)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(e))?;
            names.extend(output.groups().iter().filter_map(|group| group.group_name()).map(str::to_owned));
            token = next_page(token.as_deref(), output.next_token());
            if token.is_none() {
                return Ok(names);
            }
        }
    }

    async fn list_users_in_group(&self, group: &str) -> ProviderResult<Vec<UserRecord>> {
        let mut users = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_users_in_group()
                .user_pool_id(self.pool())
                .group_name(group)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| self.error(e))?;
            users.extend(output.users().iter().map(convert::user_from_listing));
            token = next_page(token.as_deref(), output.next_token());
            if token.is_none() {
                return Ok(users);
            }
        }
    }

    async fn list_users(
        &self,
        filter: Option<&str>,
        limit: Option<i32>,
        pagination_token: Option<&str>,
    ) -> ProviderResult<UserPage> {
        let output = self
            .client
            .list_users()
            .user_pool_id(self.pool())
            .set_filter(filter.map(str::to_owned))
            .set_limit(limit)
            .set_pagination_token(pagination_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(UserPage {
            users: output.users().iter().map(convert::user_from_listing).collect(),
            next: output.pagination_token().filter(|token| !token.is_empty()).map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails by panicking")]

    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
    use cognigate_provider::ErrorCode;

    use super::*;

    fn settings(secret: Option<&str>) -> CognitoSettings {
        CognitoSettings {
            region: "eu-west-1".to_owned(),
            user_pool_id: "eu-west-1_Test".to_owned(),
            client_id: "client".to_owned(),
            client_secret: secret.map(str::to_owned),
            // Nothing listens on the discard port; no test here lets a request get that far.
            endpoint: Some("http://127.0.0.1:9".to_owned()),
        }
    }

    #[derive(Debug)]
    struct NoCredentials;

    impl ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("nothing configured")))
        }
    }

    #[test]
    fn info_and_debug() {
        let provider =
            CognitoProvider::with_sdk_config(settings(Some("s3cr3t")), &SdkConfig::builder().build());
        let info = provider.info();
        assert_eq!(info.kind, "cognito");
        assert_eq!(info.pool_id, "eu-west-1_Test");
        assert_eq!(info.client_id, "client");
        assert_eq!(info.region, "eu-west-1");
        assert_eq!(info.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        let shown = format!("{provider:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn secret_hash_only_with_a_secret() {
        let sdk = SdkConfig::builder().build();
        let without = CognitoProvider::with_sdk_config(settings(None), &sdk);
        assert_eq!(without.secret_hash("alice"), None);
        assert_eq!(without.with_secret("alice", HashMap::new()).len(), 0);
        let with = CognitoProvider::with_sdk_config(settings(Some("s3cr3t")), &sdk);
        let expected = cognigate_provider::secret_hash(b"s3cr3t", "alice", "client");
        assert_eq!(with.secret_hash("alice").as_deref(), Some(expected.as_str()));
        assert_eq!(with.with_secret("alice", HashMap::new()).get("SECRET_HASH"), Some(&expected));
    }

    #[test]
    fn listings_stop_on_an_empty_or_repeated_token() {
        assert_eq!(next_page(None, None), None);
        assert_eq!(next_page(None, Some("")), None);
        assert_eq!(next_page(Some("a"), Some("a")), None);
        assert_eq!(next_page(Some("a"), Some("b")).as_deref(), Some("b"));
        assert_eq!(next_page(None, Some("a")).as_deref(), Some("a"));
    }

    #[tokio::test]
    async fn a_request_without_credentials_is_unavailable_before_anything_is_sent() {
        let sdk =
            SdkConfig::builder().credentials_provider(SharedCredentialsProvider::new(NoCredentials)).build();
        let provider = CognitoProvider::with_sdk_config(settings(None), &sdk);
        let error = provider.admin_get_user("alice").await.unwrap_err();
        assert_eq!(error.code, ErrorCode::ProviderUnavailable, "{error}");
        assert!(
            error
                .message
                .starts_with("no usable AWS credentials for the Cognito endpoint http://127.0.0.1:9"),
            "{}",
            error.message
        );
    }
}
