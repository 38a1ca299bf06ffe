//! Authentication: the password and refresh flows, challenges (new password, TOTP, MFA set-up), TOTP
//! enrolment, and ending sessions (GlobalSignOut, RevokeToken, rotation with reuse detection).

use std::collections::BTreeMap;

use base32::Alphabet;
use totp_rs::{Builder, Totp};

use crate::api::{AuthResponse, AuthenticationResult};
use crate::codes::{hash_opaque, new_opaque};
use crate::engine::Guard;
use crate::model::*;
use crate::ops::users::{Writer, lookup_name};
use crate::password::check_policy;
use crate::{Engine, EngineError};

const TOTP_PURPOSE: &str = "totp-secret";
const SECRET_LEN: usize = 20;

/// One factor's setting in SetUserMFAPreference (Cognito's `SoftwareTokenMfaSettings` / `SMSMfaSettings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MfaPreference {
    pub enabled: bool,
    pub preferred: bool,
}

/// How a call proves it comes from the app client: the SECRET_HASH of the client-side API, or the client
/// secret itself (GetTokensFromRefreshToken, RevokeToken).
#[derive(Debug, Clone, Copy)]
enum ClientProof<'a> {
    SecretHash(Option<&'a str>),
    Secret(Option<&'a str>),
}

/// An MFA set-up call's user, its MFA_SETUP session (when it came with one), and whose lockout applies.
struct MfaSetup {
    user: User,
    session: Option<ChallengeSession>,
    guard: Guard,
}

/// Where authentication was asked from: the client-side API (InitiateAuth) or the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Client,
    Admin,
}

/// Builds the RFC 6238 generator the engine uses: SHA-1, 30-second steps, ±1 step, `digits` digits.
pub fn totp(secret: &[u8], digits: u8) -> Result<Totp, EngineError> {
    Builder::new()
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .map_err(|error| EngineError::Internal(format!("totp: {error}")))
}

impl Engine {
    /// InitiateAuth: USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.
    pub async fn initiate_auth(
        &self,
        client_id: &str,
        auth_flow: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<AuthResponse, EngineError> {
        match auth_flow {
            "USER_PASSWORD_AUTH" => self.password_auth(client_id, parameters, Caller::Client).await,
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => self.refresh_auth(client_id, parameters).await,
            "USER_SRP_AUTH" | "CUSTOM_AUTH" | "USER_AUTH" => Err(EngineError::InvalidParameter(format!(
                "{auth_flow} is not supported by the embedded engine"
            ))),
            _ => Err(EngineError::InvalidParameter(format!("Unknown AuthFlow {auth_flow}"))),
        }
    }

    /// AdminInitiateAuth: ADMIN_USER_PASSWORD_AUTH (and ADMIN_NO_SRP_AUTH) and REFRESH_TOKEN_AUTH.
    pub async fn admin_initiate_auth(
        &self,
        pool_id: &str,
        client_id: &str,
        auth_flow: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<AuthResponse, EngineError> {
        self.describe_user_pool_client(pool_id, client_id).await?;
        match auth_flow {
            "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                self.password_auth(client_id, parameters, Caller::Admin).await
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => self.refresh_auth(client_id, parameters).await,
            _ => Err(EngineError::InvalidParameter(format!("Unknown AuthFlow {auth_flow}"))),
        }
    }

    async fn password_auth(
        &self,
        client_id: &str,
        parameters: &BTreeMap<String, String>,
        caller: Caller,
    ) -> Result<AuthResponse, EngineError> {
        let username = parameters
            .get("USERNAME")
            .ok_or_else(|| EngineError::InvalidParameter("Missing required parameter USERNAME".to_owned()))?;
        let password = parameters
            .get("PASSWORD")
            .ok_or_else(|| EngineError::InvalidParameter("Missing required parameter PASSWORD".to_owned()))?;
        let (client, pool) = self
            .client_for(client_id, Some(username), parameters.get("SECRET_HASH").map(String::as_str))
            .await?;
        let flow = match caller {
            Caller::Client => "ALLOW_USER_PASSWORD_AUTH",
            Caller::Admin => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        };
        if !client.allows(flow) {
            return Err(EngineError::InvalidParameter(format!(
                "{} flow not enabled for this client",
                flow.trim_start_matches("ALLOW_")
            )));
        }
        let found = self.parts.store.find_user(&pool.id, &lookup_name(&pool, username)).await?;
        let Some(user) = found else {
            // Same work as for a real user: one password hash.
            self.parts.hasher.verify(password, None).await?;
            return Err(if client.prevent_user_existence_errors {
                EngineError::bad_credentials()
            } else {
                EngineError::UserNotFound
            });
        };
        let guard = Guard::of(&client);
        let failures = match self.ensure_not_locked(&pool, &user.sub, guard).await {
            Ok(record) => record,
            Err(locked) => {
                self.parts.hasher.verify(password, None).await?;
                return Err(locked);
            }
        };
        let matches = self.parts.hasher.verify(password, user.password_hash.as_deref()).await?;
        if !user.enabled {
            // Disabled accounts never sign in and do not count failures.
            return Err(if matches {
                EngineError::NotAuthorized("User is disabled.".to_owned())
            } else {
                EngineError::bad_credentials()
            });
        }
        if !matches {
            self.record_failure(&pool, &user.sub, guard).await?;
            return Err(EngineError::bad_credentials());
        }
        match user.status {
            UserStatus::Unconfirmed => return Err(EngineError::UserNotConfirmed),
            // The caller proved the (now deactivated) password, so saying a reset is needed reveals nothing
            // to someone guessing usernames; a wrong password got the generic answer above.
            UserStatus::ResetRequired => return Err(EngineError::PasswordResetRequired),
            UserStatus::ForceChangePassword => {
                if user.temporary_password_expires_ms.is_some_and(|expires| expires <= self.now()) {
                    return Err(EngineError::NotAuthorized(
                        "Temporary password has expired and must be reset by an administrator.".to_owned(),
                    ));
                }
                self.clear_failures(&pool, &user.sub).await?;
                return self.challenge(&client, &user, "NEW_PASSWORD_REQUIRED", self.now()).await;
            }
            UserStatus::Confirmed => {}
        }
        // A success resets the count; most logins have nothing to reset and skip the write.
        if failures != LockoutRecord::default() {
            self.clear_failures(&pool, &user.sub).await?;
        }
        self.after_password(&client, &pool, &user, self.now()).await
    }

    /// What follows a correct password: an MFA challenge, MFA set-up, or tokens.
    async fn after_password(
        &self,
        client: &AppClient,
        pool: &UserPool,
        user: &User,
        auth_time: i64,
    ) -> Result<AuthResponse, EngineError> {
        if pool.mfa != MfaConfiguration::Off {
            let sms_first = user.mfa.preferred.as_deref() == Some("SMS_MFA") || !user.mfa.totp_enabled;
            if user.mfa.sms_enabled && pool.sms_mfa && sms_first {
                return self.sms_challenge(client, pool, user, auth_time).await;
            }
            if user.mfa.totp_enabled {
                return self.challenge(client, user, "SOFTWARE_TOKEN_MFA", auth_time).await;
            }
        }
        if pool.mfa == MfaConfiguration::On && !user.mfa.totp_enabled {
            return self.challenge(client, user, "MFA_SETUP", auth_time).await;
        }
        self.issue_tokens(client, pool, user, auth_time).await
    }

    /// The end of a successful sign-in: PostAuthentication, then a new login (token family) and its tokens.
    async fn issue_tokens(
        &self,
        client: &AppClient,
        pool: &UserPool,
        user: &User,
        auth_time: i64,
    ) -> Result<AuthResponse, EngineError> {
        self.parts.triggers.post_authentication(&pool.id, user).await?;
        let family = uuid::Uuid::new_v4().to_string();
        let tokens =
            self.mint(client, user, &family, auth_time, true, "TokenGeneration_Authentication").await?;
        Ok(AuthResponse { authentication_result: Some(tokens), ..AuthResponse::default() })
    }

    /// Sends a one-time code by SMS (to the outbox) and asks for it back.
    async fn sms_challenge(
        &self,
        client: &AppClient,
        pool: &UserPool,
        user: &User,
        auth_time: i64,
    ) -> Result<AuthResponse, EngineError> {
        let phone = user.attribute("phone_number").ok_or_else(|| {
            EngineError::InvalidParameter("The user has no phone number for SMS MFA".to_owned())
        })?;
        let code = crate::codes::new_code(self.parts.entropy.as_ref());
        self.parts
            .store
            .put_code(&CodeRecord {
                pool_id: pool.id.clone(),
                sub: user.sub.clone(),
                purpose: CodePurpose::SmsMfa,
                code_hash: crate::codes::hash_code(&pool.id, &user.sub, CodePurpose::SmsMfa.as_str(), &code),
                expires_ms: self.now() + self.parts.session_ttl_secs * 1000,
                attempts: 0,
                window_started_ms: self.now(),
                sent_in_window: 1,
                failures_in_window: 0,
            })
            .await?;
        let body = format!("Your {} sign-in code is {code}", pool.name);
        self.deliver(&pool.id, "sms", phone, "sms_mfa_code", "Sign-in code", body).await?;
        let mut response = self.challenge(client, user, "SMS_MFA", auth_time).await?;
        let masked: String = phone.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        response.challenge_parameters.insert("CODE_DELIVERY_DELIVERY_MEDIUM".to_owned(), "SMS".to_owned());
        response
            .challenge_parameters
            .insert("CODE_DELIVERY_DESTINATION".to_owned(), format!("+*******{masked}"));
        Ok(response)
    }

    async fn challenge(
        &self,
        client: &AppClient,
        user: &User,
        name: &str,
        auth_time: i64,
    ) -> Result<AuthResponse, EngineError> {
        let session = new_opaque(self.parts.entropy.as_ref());
        self.parts
            .store
            .put_session(&ChallengeSession {
                id_hash: hash_opaque(&session),
                pool_id: client.pool_id.clone(),
                client_id: client.id.clone(),
                sub: user.sub.clone(),
                challenge: name.to_owned(),
                expires_ms: self.now() + self.parts.session_ttl_secs * 1000,
                auth_time_ms: auth_time,
            })
            .await?;
        let mut parameters = BTreeMap::from([("USER_ID_FOR_SRP".to_owned(), user.username.clone())]);
        if name == "NEW_PASSWORD_REQUIRED" {
            let attributes: BTreeMap<&String, &String> =
                user.attributes.iter().filter(|(name, _)| !name.ends_with("_verified")).collect();
            parameters
                .insert("userAttributes".to_owned(), serde_json::to_string(&attributes).unwrap_or_default());
            parameters.insert("requiredAttributes".to_owned(), "[]".to_owned());
        }
        if name == "MFA_SETUP" {
            parameters.insert("MFAS_CAN_SETUP".to_owned(), "[\"SOFTWARE_TOKEN_MFA\"]".to_owned());
        }
        Ok(AuthResponse {
            challenge_name: Some(name.to_owned()),
            session: Some(session),
            challenge_parameters: parameters,
            authentication_result: None,
        })
    }

    /// RespondToAuthChallenge / AdminRespondToAuthChallenge: NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA,
    /// MFA_SETUP. The session is server-side, bound to the client and user, used once, and expires.
    pub async fn respond_to_auth_challenge(
        &self,
        client_id: &str,
        challenge_name: &str,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthResponse, EngineError> {
        let username = responses.get("USERNAME").map(String::as_str);
        let (client, pool) =
            self.client_for(client_id, username, responses.get("SECRET_HASH").map(String::as_str)).await?;
        let expired =
            || EngineError::NotAuthorized("Invalid session for the user, session is expired.".to_owned());
        let taken = self.parts.store.take_session(&hash_opaque(session)).await?.ok_or_else(expired)?;
        if taken.expires_ms <= self.now() || taken.client_id != client.id || taken.challenge != challenge_name
        {
            return Err(expired());
        }
        let mut user = self.parts.store.get_user(&pool.id, &taken.sub).await?.ok_or_else(expired)?;
        if username.is_some_and(|name| !user.answers_to(name)) {
            return Err(expired());
        }
        if !user.enabled {
            return Err(EngineError::NotAuthorized("User is disabled.".to_owned()));
        }
        let guard = Guard::of(&client);
        self.ensure_not_locked(&pool, &user.sub, guard).await?;
        match challenge_name {
            "NEW_PASSWORD_REQUIRED" => {
                let password = responses.get("NEW_PASSWORD").ok_or_else(|| {
                    EngineError::InvalidParameter("Missing required parameter NEW_PASSWORD".to_owned())
                })?;
                if let Err(error) = check_policy(&pool.password_policy, password) {
                    // The session stays usable for another try with a better password.
                    self.parts.store.put_session(&taken).await?;
                    return Err(error);
                }
                user.password_hash =
                    Some(self.parts.hasher.hash(password, self.parts.entropy.as_ref()).await?);
                user.status = UserStatus::Confirmed;
                user.temporary_password_expires_ms = None;
                user.updated_ms = self.now();
                self.parts.store.update_user(&user).await?;
                self.after_password(&client, &pool, &user, taken.auth_time_ms).await
            }
            "SMS_MFA" => {
                let code = responses.get("SMS_MFA_CODE").map(String::as_str).unwrap_or_default();
                if let Err(error) = self.check_code(&pool, &user.sub, CodePurpose::SmsMfa, code, guard).await
                {
                    if matches!(error, EngineError::CodeMismatch) {
                        self.parts.store.put_session(&taken).await?;
                    }
                    return Err(error);
                }
                self.issue_tokens(&client, &pool, &user, taken.auth_time_ms).await
            }
            "SOFTWARE_TOKEN_MFA" => {
                let code = responses.get("SOFTWARE_TOKEN_MFA_CODE").map(String::as_str).unwrap_or_default();
                if let Err(error) = self.check_totp(&pool, &mut user, code, guard).await {
                    // A wrong code may be retried within the session's life; lockout counts it.
                    if matches!(error, EngineError::CodeMismatch) {
                        self.parts.store.put_session(&taken).await?;
                    }
                    return Err(error);
                }
                self.issue_tokens(&client, &pool, &user, taken.auth_time_ms).await
            }
            "MFA_SETUP" => {
                // MFA_SETUP is answered after AssociateSoftwareToken/VerifySoftwareToken with the session.
                if !user.mfa.totp_enabled {
                    self.parts.store.put_session(&taken).await?;
                    return Err(EngineError::InvalidParameter(
                        "Software token MFA is not set up yet".to_owned(),
                    ));
                }
                self.issue_tokens(&client, &pool, &user, taken.auth_time_ms).await
            }
            other => Err(EngineError::InvalidParameter(format!("Unsupported challenge {other}"))),
        }
    }

    /// AdminRespondToAuthChallenge: as above, addressed by pool.
    pub async fn admin_respond_to_auth_challenge(
        &self,
        pool_id: &str,
        client_id: &str,
        challenge_name: &str,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthResponse, EngineError> {
        self.describe_user_pool_client(pool_id, client_id).await?;
        self.respond_to_auth_challenge(client_id, challenge_name, session, responses).await
    }

    /// Checks a code from the authenticator in force: RFC 6238, ±1 step, never the same step twice;
    /// failures count toward lockout.
    async fn check_totp(
        &self,
        pool: &UserPool,
        user: &mut User,
        code: &str,
        guard: Guard,
    ) -> Result<(), EngineError> {
        let sealed = user.mfa.totp_secret_sealed.clone().ok_or_else(|| {
            EngineError::SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the user.".to_owned(),
            )
        })?;
        self.check_totp_secret(pool, user, &sealed, code, guard).await
    }

    /// Checks a code against one sealed secret (the one in force, or the one waiting for verification).
    async fn check_totp_secret(
        &self,
        pool: &UserPool,
        user: &mut User,
        sealed: &[u8],
        code: &str,
        guard: Guard,
    ) -> Result<(), EngineError> {
        let secret = self.parts.sealer.open(TOTP_PURPOSE, sealed)?;
        let now = u64::try_from(self.parts.clock.now_secs()).unwrap_or(0);
        let step = totp(&secret, 6)?.check(code.trim(), now);
        match step {
            Some(step) if user.mfa.totp_last_step.is_none_or(|last| step > last) => {
                user.mfa.totp_last_step = Some(step);
                user.updated_ms = self.now();
                self.parts.store.update_user(user).await?;
                self.clear_failures(pool, &user.sub).await?;
                Ok(())
            }
            _ => {
                self.record_failure(pool, &user.sub, guard).await?;
                Err(EngineError::CodeMismatch)
            }
        }
    }

    async fn refresh_auth(
        &self,
        client_id: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<AuthResponse, EngineError> {
        let token = parameters.get("REFRESH_TOKEN").ok_or_else(|| {
            EngineError::InvalidParameter("Missing required parameter REFRESH_TOKEN".to_owned())
        })?;
        let (client, user, record) = self
            .check_refresh(
                client_id,
                token,
                ClientProof::SecretHash(parameters.get("SECRET_HASH").map(String::as_str)),
                parameters.get("USERNAME").map(String::as_str),
            )
            .await?;
        if client.refresh_token_rotation {
            return Err(EngineError::NotAuthorized(
                "REFRESH_TOKEN_AUTH is not allowed for a client with refresh token rotation; use GetTokensFromRefreshToken".to_owned(),
            ));
        }
        if record.rotated_ms.is_some() {
            return Err(EngineError::NotAuthorized("Invalid Refresh Token".to_owned()));
        }
        let tokens = self
            .mint(&client, &user, &record.family, record.auth_time_ms, false, "TokenGeneration_RefreshTokens")
            .await?;
        Ok(AuthResponse { authentication_result: Some(tokens), ..AuthResponse::default() })
    }

    /// The refresh token's record, client and user, after every check: it exists, belongs to this client,
    /// is not revoked or expired, and its user may still sign in.
    async fn check_refresh(
        &self,
        client_id: &str,
        token: &str,
        proof: ClientProof<'_>,
        username: Option<&str>,
    ) -> Result<(AppClient, User, RefreshRecord), EngineError> {
        let invalid = || EngineError::NotAuthorized("Invalid Refresh Token".to_owned());
        let record = self.parts.store.get_refresh(&hash_opaque(token)).await?.ok_or_else(invalid)?;
        if record.client_id != client_id {
            return Err(invalid());
        }
        let user = self.parts.store.get_user(&record.pool_id, &record.sub).await?.ok_or_else(invalid)?;
        let name = username.unwrap_or(&user.username);
        let hash_name = if user.answers_to(name) { name } else { "" };
        let computed;
        let secret_hash = match proof {
            ClientProof::SecretHash(hash) => hash,
            ClientProof::Secret(secret) => {
                computed =
                    secret.map(|secret| crate::secret_hash(secret.as_bytes(), &user.username, client_id));
                computed.as_deref()
            }
        };
        let (client, _) = self.client_for(client_id, Some(hash_name), secret_hash).await?;
        if !client.allows("ALLOW_REFRESH_TOKEN_AUTH") {
            return Err(EngineError::InvalidParameter(
                "REFRESH_TOKEN_AUTH flow not enabled for this client".to_owned(),
            ));
        }
        if record.revoked || record.expires_ms <= self.now() || record.issued_ms < user.tokens_valid_after_ms
        {
            return Err(invalid());
        }
        if !user.enabled {
            return Err(EngineError::NotAuthorized("User is disabled.".to_owned()));
        }
        Ok((client, user, record))
    }

    /// GetTokensFromRefreshToken: with rotation on, a new refresh token replaces the old one. Presenting a
    /// replaced token after the grace period is treated as theft: the whole family is revoked.
    pub async fn get_tokens_from_refresh_token(
        &self,
        client_id: &str,
        token: &str,
        client_secret: Option<&str>,
    ) -> Result<AuthenticationResult, EngineError> {
        let (client, user, record) =
            self.check_refresh(client_id, token, ClientProof::Secret(client_secret), None).await?;
        if !client.refresh_token_rotation {
            let tokens = self
                .mint(
                    &client,
                    &user,
                    &record.family,
                    record.auth_time_ms,
                    false,
                    "TokenGeneration_RefreshTokens",
                )
                .await?;
            return Ok(tokens);
        }
        let now = self.now();
        let first_use = self.parts.store.mark_rotated(&record.token_hash, now).await?;
        if !first_use {
            let rotated = self
                .parts
                .store
                .get_refresh(&record.token_hash)
                .await?
                .and_then(|r| r.rotated_ms)
                .unwrap_or(0);
            if now - rotated > client.rotation_grace_secs * 1000 {
                self.revoke_family(&record).await?;
                return Err(EngineError::NotAuthorized("Refresh Token has been revoked".to_owned()));
            }
        }
        self.mint(&client, &user, &record.family, record.auth_time_ms, true, "TokenGeneration_RefreshTokens")
            .await
    }

    /// RevokeToken: revokes one refresh token and every access token issued from it.
    pub async fn revoke_token(
        &self,
        client_id: &str,
        token: &str,
        client_secret: Option<&str>,
    ) -> Result<(), EngineError> {
        let Some(record) = self.parts.store.get_refresh(&hash_opaque(token)).await? else {
            // Cognito answers success for an unknown token, so the call reveals nothing.
            return Ok(());
        };
        let client = self.parts.store.get_client(client_id).await?.ok_or_else(|| {
            EngineError::ResourceNotFound(format!("User pool client {client_id} does not exist."))
        })?;
        if record.client_id != client.id {
            return Err(EngineError::NotAuthorized("Invalid Refresh Token".to_owned()));
        }
        if let Some(sealed) = &client.secret_sealed {
            let secret = self.parts.sealer.open("client-secret", sealed)?;
            let given = client_secret.unwrap_or_default();
            if aws_lc_rs::constant_time::verify_slices_are_equal(&secret, given.as_bytes()).is_err() {
                return Err(EngineError::NotAuthorized("Client secret is invalid".to_owned()));
            }
        }
        if !client.enable_token_revocation {
            return Err(EngineError::InvalidParameter(
                "Token revocation is not enabled for this client".to_owned(),
            ));
        }
        self.revoke_family(&record).await
    }

    /// Revokes a login: every refresh token of its family, and the access tokens it minted.
    async fn revoke_family(&self, record: &RefreshRecord) -> Result<(), EngineError> {
        self.parts.store.revoke_family(&record.pool_id, &record.family, record.expires_ms).await?;
        self.note_family_revoked(&record.family, record.expires_ms);
        Ok(())
    }

    /// GlobalSignOut: the caller's refresh tokens and issued access tokens stop working.
    pub async fn global_sign_out(&self, access_token: &str) -> Result<(), EngineError> {
        let (mut user, _) = self.user_from_access_token(access_token).await?;
        self.revoke_sessions(&mut user).await
    }

    pub async fn admin_user_global_sign_out(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        self.revoke_sessions(&mut user).await
    }

    /// The user's signed-in sessions: the refresh-token families still able to refresh. Cognito has no
    /// such call; the console shows it for the embedded engine.
    pub async fn admin_list_sessions(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<RefreshRecord>, EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        Ok(self.parts.store.live_refresh(&pool.id, &user.sub, self.now()).await?)
    }

    /// AssociateSoftwareToken: a new TOTP secret for the user (by access token, or by an MFA_SETUP session,
    /// which is then handed back renewed). The secret waits, sealed, for VerifySoftwareToken: the
    /// authenticator in force, if any, keeps working until a code from the new one is verified.
    pub async fn associate_software_token(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
    ) -> Result<(String, Option<String>), EngineError> {
        let MfaSetup { mut user, session: taken, .. } =
            self.user_for_mfa_setup(access_token, session).await?;
        let next_session = match taken {
            Some(taken) => Some(self.renew_session(taken).await?),
            None => None,
        };
        let mut secret = [0u8; SECRET_LEN];
        self.parts.entropy.fill(&mut secret);
        user.mfa.totp_pending_sealed =
            Some(self.parts.sealer.seal(TOTP_PURPOSE, &secret, self.parts.entropy.as_ref())?);
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        Ok((base32::encode(Alphabet::Rfc4648 { padding: false }, &secret), next_session))
    }

    /// VerifySoftwareToken: a code from the waiting secret makes it the authenticator in force, and turns
    /// TOTP on.
    pub async fn verify_software_token(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
        code: &str,
    ) -> Result<Option<String>, EngineError> {
        let MfaSetup { mut user, session: taken, guard } =
            self.user_for_mfa_setup(access_token, session).await?;
        let pool = self.pool(&user.pool_id).await?;
        // A secret associated before secrets waited apart (never verified) is still the one to verify.
        let pending = user
            .mfa
            .totp_pending_sealed
            .clone()
            .or_else(|| user.mfa.totp_secret_sealed.clone().filter(|_| !user.mfa.totp_verified));
        let Some(pending) = pending else {
            if let Some(taken) = taken {
                self.parts.store.put_session(&taken).await?;
            }
            return Err(EngineError::SoftwareTokenMfaNotFound(
                "No software token is waiting for verification: call AssociateSoftwareToken first."
                    .to_owned(),
            ));
        };
        self.ensure_not_locked(&pool, &user.sub, guard).await?;
        if let Err(error) = self.check_totp_secret(&pool, &mut user, &pending, code, guard).await {
            // A mistyped code may be typed again within the session's life: the session goes back as it
            // was (same id, same expiry). Failures still count toward the lockout.
            if let Some(taken) = taken {
                self.parts.store.put_session(&taken).await?;
            }
            return Err(match error {
                EngineError::CodeMismatch => EngineError::EnableSoftwareTokenMfa,
                other => other,
            });
        }
        let next_session = match taken {
            Some(taken) => Some(self.renew_session(taken).await?),
            None => None,
        };
        user.mfa.totp_secret_sealed = Some(pending);
        user.mfa.totp_pending_sealed = None;
        user.mfa.totp_verified = true;
        user.mfa.totp_enabled = true;
        user.mfa.preferred = Some("SOFTWARE_TOKEN_MFA".to_owned());
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        self.parts.triggers.user_changed(&user.pool_id, &user).await;
        Ok(next_session)
    }

    /// The user an MFA set-up call is about, the guard of the client it came through, and (for the session
    /// form) the MFA_SETUP session, taken.
    async fn user_for_mfa_setup(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
    ) -> Result<MfaSetup, EngineError> {
        if let Some(token) = access_token {
            let (user, verified) = self.user_from_access_token(token).await?;
            let guard = match self.cached_client(verified.client_id()).await? {
                Some(client) => Guard::of(&client),
                None => Guard::Engine,
            };
            return Ok(MfaSetup { user, session: None, guard });
        }
        let session = session
            .ok_or_else(|| EngineError::InvalidParameter("AccessToken or Session is required".to_owned()))?;
        let expired =
            || EngineError::NotAuthorized("Invalid session for the user, session is expired.".to_owned());
        let taken = self.parts.store.take_session(&hash_opaque(session)).await?.ok_or_else(expired)?;
        if taken.expires_ms <= self.now() || taken.challenge != "MFA_SETUP" {
            return Err(expired());
        }
        let user = self.parts.store.get_user(&taken.pool_id, &taken.sub).await?.ok_or_else(expired)?;
        let guard = match self.cached_client(&taken.client_id).await? {
            Some(client) => Guard::of(&client),
            None => Guard::Engine,
        };
        Ok(MfaSetup { user, session: Some(taken), guard })
    }

    /// Puts a taken MFA_SETUP session back under a new opaque id (each step answers a fresh session).
    async fn renew_session(&self, taken: ChallengeSession) -> Result<String, EngineError> {
        let renewed = new_opaque(self.parts.entropy.as_ref());
        self.parts.store.put_session(&ChallengeSession { id_hash: hash_opaque(&renewed), ..taken }).await?;
        Ok(renewed)
    }

    /// SetUserMFAPreference: turn TOTP or SMS on or off for oneself. Turning the last factor off is refused
    /// while the pool requires MFA.
    pub async fn set_user_mfa_preference(
        &self,
        access_token: &str,
        totp: Option<MfaPreference>,
        sms: Option<MfaPreference>,
    ) -> Result<(), EngineError> {
        let (user, _) = self.user_from_access_token(access_token).await?;
        self.apply_mfa_preference(user, totp, sms, Writer::User).await
    }

    /// AdminSetUserMFAPreference. An administrator may turn the last factor off even while the pool
    /// requires MFA: that is how an account whose authenticator is lost enrols a new one (MFA_SETUP) at its
    /// next sign-in, instead of being deleted and invited again.
    pub async fn admin_set_user_mfa_preference(
        &self,
        pool_id: &str,
        username: &str,
        totp: Option<MfaPreference>,
        sms: Option<MfaPreference>,
    ) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        self.apply_mfa_preference(user, totp, sms, Writer::Admin).await
    }

    async fn apply_mfa_preference(
        &self,
        mut user: User,
        totp: Option<MfaPreference>,
        sms: Option<MfaPreference>,
        writer: Writer,
    ) -> Result<(), EngineError> {
        let pool = self.pool(&user.pool_id).await?;
        if let Some(setting) = totp {
            if setting.enabled && !user.mfa.totp_verified {
                return Err(EngineError::InvalidParameter(
                    "User has not verified software token mfa".to_owned(),
                ));
            }
            user.mfa.totp_enabled = setting.enabled;
        }
        if let Some(setting) = sms {
            if setting.enabled {
                if !pool.sms_mfa {
                    return Err(EngineError::InvalidParameter(
                        "SMS MFA is not enabled for this user pool".to_owned(),
                    ));
                }
                if user.attribute("phone_number_verified") != Some("true") {
                    return Err(EngineError::InvalidParameter(
                        "SMS MFA needs a verified phone_number".to_owned(),
                    ));
                }
            }
            user.mfa.sms_enabled = setting.enabled;
        }
        if pool.mfa == MfaConfiguration::On
            && !user.mfa.totp_enabled
            && !user.mfa.sms_enabled
            && writer == Writer::User
        {
            return Err(EngineError::InvalidParameter(
                "MFA is required by the user pool and cannot be disabled".to_owned(),
            ));
        }
        user.mfa.preferred = match (totp, sms) {
            (_, Some(setting)) if setting.enabled && setting.preferred => Some("SMS_MFA".to_owned()),
            (Some(setting), _) if setting.enabled && setting.preferred => {
                Some("SOFTWARE_TOKEN_MFA".to_owned())
            }
            _ => user.mfa.preferred.take().filter(|preferred| match preferred.as_str() {
                "SMS_MFA" => user.mfa.sms_enabled,
                "SOFTWARE_TOKEN_MFA" => user.mfa.totp_enabled,
                _ => false,
            }),
        };
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        self.parts.triggers.user_changed(&user.pool_id, &user).await;
        Ok(())
    }
}
