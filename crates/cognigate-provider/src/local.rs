//! The `local` provider: the embedded engine, called in-process.
//!
//! It behaves as an app client of its pool, exactly like the `cognito` provider does over the wire: it
//! computes SECRET_HASH when the client has a secret and goes through the same client-side operations, so
//! the engine enforces the same rules (allowed flows, user-existence hiding) whichever way it is reached.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cognigate_engine::api::{
    Attribute, AuthResponse, AuthenticationResult, CodeDeliveryDetails, SignUpRequest,
};
use cognigate_engine::{Engine, EngineError, MessageAction, MfaPreference};

use crate::*;

/// The embedded engine as an [`IdentityProvider`] for one pool and app client.
#[derive(Debug, Clone)]
pub struct LocalProvider {
    engine: Arc<Engine>,
    info: ProviderInfo,
    secret: ClientSecret,
}

impl LocalProvider {
    pub fn new(engine: Arc<Engine>, pool_id: &str, client_id: &str, client_secret: Option<String>) -> Self {
        let info = ProviderInfo {
            kind: "local",
            pool_id: pool_id.to_owned(),
            client_id: client_id.to_owned(),
            region: pool_id.split('_').next().unwrap_or("local").to_owned(),
            endpoint: None,
        };
        Self { engine, info, secret: ClientSecret::new(client_secret) }
    }

    fn pool(&self) -> &str {
        &self.info.pool_id
    }

    fn client(&self) -> &str {
        &self.info.client_id
    }

    fn secret_hash(&self, username: &str) -> Option<String> {
        self.secret.hash_for(username, self.client())
    }

    fn with_secret(
        &self,
        username: &str,
        mut parameters: BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        self.secret.add_to(username, self.client(), &mut parameters);
        parameters
    }
}

fn error(error: EngineError) -> ProviderError {
    if let EngineError::Internal(detail) = &error {
        tracing::error!(detail, "embedded engine failed");
        return ProviderError::from_exception(error.cognito_type(), "internal error");
    }
    ProviderError::from_exception(error.cognito_type(), error.to_string())
}

fn attribute_list(attributes: &Attributes) -> Vec<Attribute> {
    attributes.iter().map(|(name, value)| Attribute { name: name.clone(), value: value.clone() }).collect()
}

fn tokens(result: AuthenticationResult) -> Tokens {
    Tokens {
        access_token: result.access_token,
        id_token: result.id_token,
        refresh_token: result.refresh_token,
        expires_in: result.expires_in,
        token_type: result.token_type,
    }
}

fn step(response: AuthResponse) -> ProviderResult<AuthStep> {
    if let Some(result) = response.authentication_result {
        return Ok(AuthStep::SignedIn(tokens(result)));
    }
    match (response.challenge_name, response.session) {
        (Some(name), Some(session)) => {
            Ok(AuthStep::Challenge(Challenge { name, session, parameters: response.challenge_parameters }))
        }
        _ => Err(ProviderError::from_exception("InternalErrorException", "neither tokens nor a challenge")),
    }
}

fn delivery(details: CodeDeliveryDetails) -> CodeDelivery {
    CodeDelivery {
        destination: details.destination,
        medium: details.delivery_medium,
        attribute: details.attribute_name,
    }
}

fn user(description: cognigate_engine::api::UserDescription) -> UserRecord {
    let attributes: Attributes = cognigate_engine::api::attributes_to_map(&description.attributes);
    UserRecord {
        username: description.username,
        sub: attributes.get("sub").cloned().unwrap_or_default(),
        attributes,
        status: description.user_status,
        enabled: description.enabled,
        mfa_methods: description.user_m_f_a_setting_list,
        preferred_mfa: description.preferred_mfa_setting,
        // The engine keeps milliseconds; the interface, like Cognito's SDK timestamps, whole seconds.
        created_at: description.user_create_date as i64,
        modified_at: description.user_last_modified_date as i64,
    }
}

fn preference(setting: MfaSetting) -> Option<MfaPreference> {
    Some(MfaPreference { enabled: setting.enabled, preferred: setting.preferred })
}

#[async_trait]
impl IdentityProvider for LocalProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn check(&self) -> ProviderResult<PoolSummary> {
        let pool = self.engine.describe_user_pool(self.pool()).await.map_err(error)?;
        self.engine.describe_user_pool_client(self.pool(), self.client()).await.map_err(error)?;
        let users = self.engine.count_users(self.pool()).await.map_err(error)?;
        Ok(PoolSummary {
            pool_id: pool.id,
            name: pool.name,
            mfa_configuration: pool.mfa.as_str().to_owned(),
            password_minimum_length: i32::try_from(pool.password_policy.minimum_length).unwrap_or(i32::MAX),
            estimated_users: Some(users),
        })
    }

    async fn sign_up(
        &self,
        username: &str,
        password: &str,
        attributes: &Attributes,
    ) -> ProviderResult<SignUpOutcome> {
        let request = SignUpRequest {
            client_id: self.client().to_owned(),
            secret_hash: self.secret_hash(username),
            username: username.to_owned(),
            password: password.to_owned(),
            user_attributes: attribute_list(attributes),
        };
        let response = self.engine.sign_up(request).await.map_err(error)?;
        Ok(SignUpOutcome {
            user_sub: response.user_sub,
            confirmed: response.user_confirmed,
            delivery: response.code_delivery_details.map(delivery),
        })
    }

    async fn confirm_sign_up(&self, username: &str, code: &str) -> ProviderResult<()> {
        let hash = self.secret_hash(username);
        self.engine.confirm_sign_up(self.client(), hash.as_deref(), username, code).await.map_err(error)
    }

    async fn resend_confirmation_code(&self, username: &str) -> ProviderResult<CodeDelivery> {
        let hash = self.secret_hash(username);
        let details = self
            .engine
            .resend_confirmation_code(self.client(), hash.as_deref(), username)
            .await
            .map_err(error)?;
        Ok(delivery(details))
    }

    async fn sign_in(&self, username: &str, password: &str) -> ProviderResult<AuthStep> {
        let parameters = self.with_secret(
            username,
            BTreeMap::from([
                ("USERNAME".to_owned(), username.to_owned()),
                ("PASSWORD".to_owned(), password.to_owned()),
            ]),
        );
        step(
            self.engine
                .initiate_auth(self.client(), "USER_PASSWORD_AUTH", &parameters)
                .await
                .map_err(error)?,
        )
    }

    async fn respond_to_challenge(
        &self,
        username: &str,
        session: &str,
        answer: &ChallengeAnswer,
    ) -> ProviderResult<AuthStep> {
        let mut responses = answer.responses();
        responses.insert("USERNAME".to_owned(), username.to_owned());
        let responses = self.with_secret(username, responses);
        let response = self
            .engine
            .respond_to_auth_challenge(self.client(), answer.challenge_name(), session, &responses)
            .await
            .map_err(error)?;
        step(response)
    }

    /// GetTokensFromRefreshToken: with the client's rotation on, a new refresh token comes back and the
    /// presented one is retired (a retired one presented again revokes the sign-in); without, the same
    /// as REFRESH_TOKEN_AUTH. The client secret, not a SECRET_HASH, proves the client here.
    async fn refresh(&self, refresh_token: &str, _username: &str) -> ProviderResult<Tokens> {
        let result = self
            .engine
            .get_tokens_from_refresh_token(self.client(), refresh_token, self.secret.value())
            .await
            .map_err(error)?;
        Ok(tokens(result))
    }

    async fn forgot_password(&self, username: &str) -> ProviderResult<CodeDelivery> {
        let hash = self.secret_hash(username);
        let details =
            self.engine.forgot_password(self.client(), hash.as_deref(), username).await.map_err(error)?;
        Ok(delivery(details))
    }

    async fn confirm_forgot_password(
        &self,
        username: &str,
        code: &str,
        password: &str,
    ) -> ProviderResult<()> {
        let hash = self.secret_hash(username);
        self.engine
            .confirm_forgot_password(self.client(), hash.as_deref(), username, code, password)
            .await
            .map_err(error)
    }

    async fn change_password(
        &self,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> ProviderResult<()> {
        self.engine.change_password(access_token, previous, proposed).await.map_err(error)
    }

    async fn get_user(&self, access_token: &str) -> ProviderResult<UserRecord> {
        Ok(user(self.engine.get_user(access_token).await.map_err(error)?))
    }

    async fn update_user_attributes(
        &self,
        access_token: &str,
        attributes: &Attributes,
    ) -> ProviderResult<()> {
        self.engine.update_user_attributes(access_token, &attribute_list(attributes)).await.map_err(error)?;
        Ok(())
    }

    async fn global_sign_out(&self, access_token: &str) -> ProviderResult<()> {
        self.engine.global_sign_out(access_token).await.map_err(error)
    }

    async fn revoke_token(&self, refresh_token: &str) -> ProviderResult<()> {
        self.engine.revoke_token(self.client(), refresh_token, self.secret.value()).await.map_err(error)
    }

    async fn associate_software_token(&self, who: &Enrolment) -> ProviderResult<TotpSecret> {
        let (secret_base32, session) = match who {
            Enrolment::AccessToken(token) => self.engine.associate_software_token(Some(token), None).await,
            Enrolment::Session(session) => self.engine.associate_software_token(None, Some(session)).await,
        }
        .map_err(error)?;
        Ok(TotpSecret { secret_base32, session })
    }

    async fn verify_software_token(&self, who: &Enrolment, code: &str) -> ProviderResult<Option<String>> {
        match who {
            Enrolment::AccessToken(token) => self.engine.verify_software_token(Some(token), None, code).await,
            Enrolment::Session(session) => self.engine.verify_software_token(None, Some(session), code).await,
        }
        .map_err(error)
    }

    async fn set_mfa_preference(&self, access_token: &str, totp: MfaSetting) -> ProviderResult<()> {
        self.engine.set_user_mfa_preference(access_token, preference(totp), None).await.map_err(error)
    }

    async fn admin_create_user(
        &self,
        username: &str,
        attributes: &Attributes,
        temporary_password: Option<&str>,
        suppress_message: bool,
    ) -> ProviderResult<UserRecord> {
        let action = if suppress_message { MessageAction::Suppress } else { MessageAction::Send };
        self.engine
            .admin_create_user(self.pool(), username, &attribute_list(attributes), temporary_password, action)
            .await
            .map_err(error)?;
        self.admin_get_user(username).await
    }

    async fn admin_get_user(&self, username: &str) -> ProviderResult<UserRecord> {
        Ok(user(self.engine.admin_get_user(self.pool(), username).await.map_err(error)?))
    }

    async fn admin_delete_user(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_delete_user(self.pool(), username).await.map_err(error)
    }

    async fn admin_disable_user(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_disable_user(self.pool(), username).await.map_err(error)
    }

    async fn admin_enable_user(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_enable_user(self.pool(), username).await.map_err(error)
    }

    async fn admin_confirm_sign_up(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_confirm_sign_up(self.pool(), username).await.map_err(error)
    }

    async fn admin_reset_user_password(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_reset_user_password(self.pool(), username).await.map_err(error)
    }

    async fn admin_set_user_password(
        &self,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> ProviderResult<()> {
        self.engine.admin_set_user_password(self.pool(), username, password, permanent).await.map_err(error)
    }

    async fn admin_update_user_attributes(
        &self,
        username: &str,
        attributes: &Attributes,
    ) -> ProviderResult<()> {
        self.engine
            .admin_update_user_attributes(self.pool(), username, &attribute_list(attributes))
            .await
            .map_err(error)
    }

    async fn admin_user_global_sign_out(&self, username: &str) -> ProviderResult<()> {
        self.engine.admin_user_global_sign_out(self.pool(), username).await.map_err(error)
    }

    async fn admin_list_sessions(&self, username: &str) -> ProviderResult<Option<Vec<SessionSummary>>> {
        let records = self.engine.admin_list_sessions(self.pool(), username).await.map_err(error)?;
        Ok(Some(
            records
                .into_iter()
                .map(|record| SessionSummary {
                    client_id: record.client_id,
                    signed_in_ms: record.auth_time_ms,
                    refreshed_ms: record.issued_ms,
                    expires_ms: record.expires_ms,
                })
                .collect(),
        ))
    }

    async fn admin_set_mfa_preference(&self, username: &str, totp: MfaSetting) -> ProviderResult<()> {
        self.engine
            .admin_set_user_mfa_preference(self.pool(), username, preference(totp), None)
            .await
            .map_err(error)
    }

    async fn create_group(
        &self,
        name: &str,
        description: Option<&str>,
        precedence: Option<i32>,
    ) -> ProviderResult<()> {
        self.engine
            .create_group(self.pool(), name, description, precedence.map(i64::from))
            .await
            .map_err(error)?;
        Ok(())
    }

    async fn list_groups(&self) -> ProviderResult<Vec<GroupRecord>> {
        let groups = self.engine.list_groups(self.pool()).await.map_err(error)?;
        Ok(groups
            .into_iter()
            .map(|group| GroupRecord {
                name: group.name,
                description: group.description,
                precedence: group.precedence.and_then(|p| i32::try_from(p).ok()),
            })
            .collect())
    }

    async fn admin_add_user_to_group(&self, username: &str, group: &str) -> ProviderResult<()> {
        self.engine.admin_add_user_to_group(self.pool(), username, group).await.map_err(error)
    }

    async fn admin_remove_user_from_group(&self, username: &str, group: &str) -> ProviderResult<()> {
        self.engine.admin_remove_user_from_group(self.pool(), username, group).await.map_err(error)
    }

    async fn admin_list_groups_for_user(&self, username: &str) -> ProviderResult<Vec<String>> {
        let groups = self.engine.admin_list_groups_for_user(self.pool(), username).await.map_err(error)?;
        Ok(groups.into_iter().map(|group| group.name).collect())
    }

    async fn list_users_in_group(&self, group: &str) -> ProviderResult<Vec<UserRecord>> {
        let users = self.engine.list_users_in_group(self.pool(), group).await.map_err(error)?;
        Ok(users.into_iter().map(user).collect())
    }

    async fn list_users(
        &self,
        filter: Option<&str>,
        limit: Option<i32>,
        pagination_token: Option<&str>,
    ) -> ProviderResult<UserPage> {
        let limit = limit.map(|l| u32::try_from(l).unwrap_or(0));
        let (users, next) =
            self.engine.list_users(self.pool(), filter, limit, pagination_token).await.map_err(error)?;
        Ok(UserPage { users: users.into_iter().map(user).collect(), next })
    }
}
