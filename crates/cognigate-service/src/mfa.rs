//! MFA: enrolling an authenticator (inside the `MFA_SETUP` challenge of a sign-in, or signed in), turning
//! it off, and the one-time recovery codes for a lost one.
//!
//! Why the extra proofs: a bearer token can leak (an XSS in the application, a log line). With it alone a
//! thief could replace the owner's authenticator (locking the owner out and owning the second factor) or
//! turn MFA off. So enrolling while signed in takes the password, and replacing or removing an
//! authenticator also takes a current code from it. Both are checked the one way both identity providers
//! can: by signing in again (password, then the TOTP challenge), after which that sign-in's tokens are
//! revoked at once. The new secret replaces nothing until a code from it is verified, and only an
//! enrolment begun that way can be verified with a bearer token.
//!
//! Recovery codes (the briefs' "backup codes") are made at each enrolment, shown once, stored as hashes,
//! and each works once: with the password it passes the MFA step, removes the authenticator (every other
//! code of the set goes with it), and the sign-in continues with a new enrolment where the pool requires
//! MFA. This works on both providers because it only uses calls both have.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognigate_config::{MfaMode, OnboardingGate, RateLimitedRoute};
use cognigate_domain::errors::ErrorCode;
use cognigate_domain::onboarding::{OnboardingEvent, OnboardingState};
use cognigate_provider::{AuthStep, ChallengeAnswer, Enrolment, MfaSetting, Tokens};
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::auth::{
    AuthService, LoginOutcome, MfaStatusResponse, RequestMeta, TotpDisableRequest, TotpSetupRequest,
    TotpSetupResponse, TotpVerifyOutcome, TotpVerifyRequest, check_code, check_opaque, check_password_shape,
    normalize_email,
};
use crate::error::{ServiceError, ServiceResult};
use crate::ports::{AuditOutcome, MirrorUser};
use crate::totp;

/// Recovery codes made at each enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (base32: 5 bits each, so 50 bits), shown in two groups of five.
const RECOVERY_CODE_LEN: usize = 10;
const RECOVERY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
/// How long an enrolment begun with the password may take to be verified.
const ENROLMENT_WINDOW_MS: i64 = 10 * 60 * 1000;

fn has_totp(mfa_methods: &[String]) -> bool {
    mfa_methods.iter().any(|method| method == "SOFTWARE_TOKEN_MFA")
}

/// A recovery code as typed: case, spaces and dashes do not matter.
fn normalized_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The stored form of a recovery code: SHA-256, bound to the pool and account so a code of one account
/// never matches another's. The code has 50 random bits and every guess passes the rate limits and the
/// lockout, so a fast hash suffices.
fn recovery_hash(pool: &str, sub: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [pool, sub, &normalized_code(code)] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..RECOVERY_CODE_LEN)
        .map(|_| char::from(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())]))
        .collect();
    let (first, second) = chars.split_at(RECOVERY_CODE_LEN / 2);
    format!("{first}-{second}")
}

impl AuthService {
    /// Starts an enrolment: a new secret (with its `otpauth://` URI and QR code) that replaces nothing
    /// until verified. Inside an `MFA_SETUP` challenge the session is the proof; signed in, the password
    /// is, plus a current code when an authenticator is enrolled already.
    pub async fn totp_setup(
        &self,
        meta: &RequestMeta,
        bearer: Option<&str>,
        request: TotpSetupRequest,
    ) -> ServiceResult<TotpSetupResponse> {
        let result = async {
            let (enrolment, account) = match (&request.session, bearer) {
                (Some(session), _) => {
                    check_opaque("session", session)?;
                    self.limit(RateLimitedRoute::Mfa, meta, None).await?;
                    (Enrolment::Session(session.clone()), None)
                }
                (None, Some(token)) => {
                    let caller = self.authenticate(token).await?;
                    let mut user = self.load_or_rebuild(caller.token.sub(), token).await?;
                    self.limit(RateLimitedRoute::Mfa, meta, Some(&user.email)).await?;
                    self.ensure_not_locked(meta, &user.email).await?;
                    let password = request.password.as_deref().ok_or_else(|| {
                        ServiceError::validation(
                            "password is required to set up an authenticator while signed in",
                        )
                    })?;
                    check_password_shape("password", password)?;
                    let enrolled = has_totp(&self.parts.provider.get_user(token).await?.mfa_methods);
                    let code = match (&request.code, enrolled) {
                        (Some(code), true) => Some(code.as_str()),
                        (None, true) => {
                            return Err(ServiceError::validation(
                                "code (from the authenticator in use) is required to replace it",
                            ));
                        }
                        (_, false) => None,
                    };
                    self.step_up(meta, &user.email, password, code).await?;
                    user.mfa_setup_started = Some(self.now_ms());
                    self.save(&user).await?;
                    (Enrolment::AccessToken(token.to_owned()), Some(user.email))
                }
                (None, None) => return Err(ServiceError::invalid_token()),
            };
            let secret = self.parts.provider.associate_software_token(&enrolment).await?;
            let issuer = format!("{} {}", self.shared.service_name, self.parts.settings.display_name);
            let uri =
                totp::otpauth_uri(&issuer, account.as_deref().unwrap_or("account"), &secret.secret_base32);
            Ok(TotpSetupResponse {
                qr_svg: totp::qr_svg(&uri)?,
                qr_png_base64: totp::qr_png_base64(&uri)?,
                otpauth_uri: uri,
                secret: secret.secret_base32.clone(),
                session: secret.session.clone(),
            })
        }
        .await;
        self.finish(meta, "auth.totp_setup", None, result).await
    }

    /// Finishes an enrolment with a code from the new authenticator: MFA on, a new set of recovery codes
    /// (in the answer, once). Inside `MFA_SETUP` the sign-in then completes, with tokens that carry the
    /// account's state after the enrolment.
    pub async fn totp_verify(
        &self,
        meta: &RequestMeta,
        bearer: Option<&str>,
        request: TotpVerifyRequest,
    ) -> ServiceResult<TotpVerifyOutcome> {
        let actor = request.email.as_deref().map(normalize_email).transpose()?;
        let result = async {
            check_code(&request.code)?;
            match (&request.session, bearer) {
                (Some(session), _) => {
                    check_opaque("session", session)?;
                    let email = actor
                        .clone()
                        .ok_or_else(|| ServiceError::validation("email is required with a session"))?;
                    self.limit(RateLimitedRoute::Mfa, meta, Some(&email)).await?;
                    self.ensure_not_locked(meta, &email).await?;
                    self.verify_setup_in_sign_in(meta, &email, session, &request.code).await
                }
                (None, Some(token)) => {
                    let caller = self.authenticate(token).await?;
                    let mut user = self.load_or_rebuild(caller.token.sub(), token).await?;
                    self.limit(RateLimitedRoute::Mfa, meta, Some(&user.email)).await?;
                    self.ensure_not_locked(meta, &user.email).await?;
                    let begun =
                        user.mfa_setup_started.is_some_and(|at| self.now_ms() - at < ENROLMENT_WINDOW_MS);
                    if !begun {
                        return Err(ServiceError::new(
                            ErrorCode::Conflict,
                            "No enrolment is waiting: start one with /totp/setup (and the password).",
                        ));
                    }
                    let enrolment = Enrolment::AccessToken(token.to_owned());
                    if let Err(error) =
                        self.parts.provider.verify_software_token(&enrolment, &request.code).await
                    {
                        if matches!(error.code, ErrorCode::CodeMismatch | ErrorCode::MfaNotSetUp) {
                            self.count_failure(meta, &user.email).await;
                        }
                        return Err(error.into());
                    }
                    self.parts
                        .provider
                        .set_mfa_preference(token, MfaSetting { enabled: true, preferred: true })
                        .await?;
                    self.enrolled(&mut user)?;
                    self.save(&user).await?;
                    let codes = self.new_recovery_codes(&user).await?;
                    Ok(TotpVerifyOutcome::Enabled(Box::new(MfaStatusResponse {
                        mfa_enabled: true,
                        user: self.view(&user),
                        recovery_codes: Some(codes),
                    })))
                }
                (None, None) => Err(ServiceError::invalid_token()),
            }
        }
        .await;
        self.finish(meta, "auth.totp_verify", actor.as_deref(), result).await
    }

    /// The `MFA_SETUP` challenge's verification: the enrolment is done at the provider and the challenge
    /// answered, which proves the session is `email`'s; only then do the mirror and the identity's state
    /// follow (the sign-in re-mints tokens minted before the state moved), and recovery codes are made.
    async fn verify_setup_in_sign_in(
        &self,
        meta: &RequestMeta,
        email: &str,
        session: &str,
        code: &str,
    ) -> ServiceResult<TotpVerifyOutcome> {
        let enrolment = Enrolment::Session(session.to_owned());
        let next = match self.parts.provider.verify_software_token(&enrolment, code).await {
            Ok(next) => next.unwrap_or_else(|| session.to_owned()),
            Err(error) => {
                if error.code == ErrorCode::CodeMismatch {
                    self.count_failure(meta, email).await;
                }
                return Err(error.into());
            }
        };
        // The provider refuses a session that is not this username's: nothing below happens for a
        // stranger's session with someone else's address.
        let step =
            self.parts.provider.respond_to_challenge(email, &next, &ChallengeAnswer::MfaSetupDone).await?;
        let record = self.parts.provider.admin_get_user(email).await?;
        if let AuthStep::SignedIn(tokens) = &step {
            let verified =
                self.parts.verifier.verify(&tokens.access_token).await.map_err(ServiceError::internal)?;
            if verified.sub() != record.sub {
                self.discard_tokens(tokens, &verified).await;
                return Err(ServiceError::auth_failed());
            }
        }
        let previous = self.shared.mirror.get_mirror(self.parts.pool, &record.sub).await?;
        let mut user = previous.clone().unwrap_or_else(|| self.mirror_from_record(&record));
        self.enrolled(&mut user)?;
        self.save_from(previous.as_ref(), &user).await?;
        let codes = self.new_recovery_codes(&user).await?;
        let outcome = match self.after_step(meta, email, step).await? {
            LoginOutcome::Tokens(mut tokens) => {
                tokens.recovery_codes = Some(codes);
                LoginOutcome::Tokens(tokens)
            }
            challenge => challenge,
        };
        Ok(TotpVerifyOutcome::SignedIn(outcome))
    }

    /// The mirror after an enrolment: MFA on, the MFA gate passed.
    fn enrolled(&self, user: &mut MirrorUser) -> ServiceResult<()> {
        user.mfa_enabled = true;
        user.mfa_setup_started = None;
        if user.onboarding.gate().is_some() || user.onboarding == OnboardingState::Active {
            self.apply(user, OnboardingEvent::MfaEnrolled)?;
        }
        user.updated_at = self.now_ms();
        Ok(())
    }

    /// Turns MFA off, with the password and a current code. Refused where MFA is required.
    pub async fn totp_disable(
        &self,
        meta: &RequestMeta,
        bearer: &str,
        request: TotpDisableRequest,
    ) -> ServiceResult<MfaStatusResponse> {
        let result = async {
            let caller = self.authenticate(bearer).await?;
            let mut user = self.load_or_rebuild(caller.token.sub(), bearer).await?;
            self.limit(RateLimitedRoute::Mfa, meta, Some(&user.email)).await?;
            self.ensure_not_locked(meta, &user.email).await?;
            if self.parts.settings.mfa.mode == MfaMode::Required {
                return Err(ServiceError::forbidden(
                    "MFA is required in this pool and cannot be turned off.",
                ));
            }
            if self.gates_of(&user).contains(&OnboardingGate::Mfa) {
                return Err(ServiceError::forbidden(
                    "MFA is required for this account and cannot be turned off.",
                ));
            }
            check_password_shape("password", &request.password)?;
            check_code(&request.code)?;
            self.step_up(meta, &user.email, &request.password, Some(&request.code)).await?;
            self.parts
                .provider
                .set_mfa_preference(bearer, MfaSetting { enabled: false, preferred: false })
                .await?;
            self.shared.recovery_codes.delete_recovery_codes(self.parts.pool, &user.sub).await?;
            user.mfa_enabled = false;
            user.updated_at = self.now_ms();
            self.save(&user).await?;
            Ok(MfaStatusResponse { mfa_enabled: false, user: self.view(&user), recovery_codes: None })
        }
        .await;
        self.finish(meta, "auth.totp_disable", None, result).await
    }

    /// Proves the person (not just a token) is here: signs in again with `password`, and `code` when the
    /// account has an authenticator, counting failures toward the lockout; that sign-in's tokens are
    /// revoked at once.
    async fn step_up(
        &self,
        meta: &RequestMeta,
        email: &str,
        password: &str,
        code: Option<&str>,
    ) -> ServiceResult<()> {
        let tokens = match self.sign_in(meta, email, password).await? {
            AuthStep::SignedIn(tokens) => tokens,
            AuthStep::Challenge(challenge) if challenge.name == "SOFTWARE_TOKEN_MFA" => {
                let code = code.ok_or_else(|| {
                    ServiceError::validation("code (from the authenticator in use) is required")
                })?;
                check_code(code)?;
                let answer = ChallengeAnswer::TotpCode(code.to_owned());
                match self.parts.provider.respond_to_challenge(email, &challenge.session, &answer).await {
                    Ok(AuthStep::SignedIn(tokens)) => tokens,
                    Ok(AuthStep::Challenge(next)) => {
                        return Err(ServiceError::validation(format!(
                            "finish signing in first ({})",
                            next.name
                        )));
                    }
                    Err(error) => {
                        if matches!(error.code, ErrorCode::CodeMismatch | ErrorCode::AuthFailed) {
                            self.count_failure(meta, email).await;
                        }
                        return Err(error.into());
                    }
                }
            }
            AuthStep::Challenge(challenge) => {
                return Err(ServiceError::validation(format!(
                    "finish signing in first ({})",
                    challenge.name
                )));
            }
        };
        self.revoke_proof(&tokens).await;
        Ok(())
    }

    /// Revokes the tokens a step-up sign-in produced: it proved the factors, nothing more.
    async fn revoke_proof(&self, tokens: &Tokens) {
        match self.parts.verifier.verify(&tokens.access_token).await {
            Ok(verified) => self.discard_tokens(tokens, &verified).await,
            Err(error) => tracing::warn!(error = %error, "a step-up sign-in's token did not verify"),
        }
    }

    /// Signs in with the password and a recovery code in place of the lost authenticator: the code is
    /// spent, the authenticator and the rest of its codes are removed, the owner is told, and the sign-in
    /// continues without the old authenticator (enrolling a new one where the pool requires MFA).
    pub(crate) async fn recover(
        &self,
        meta: &RequestMeta,
        email: &str,
        password: &str,
        code: &str,
    ) -> ServiceResult<LoginOutcome> {
        if !(RECOVERY_CODE_LEN..=RECOVERY_CODE_LEN + 4).contains(&code.len())
            || normalized_code(code).len() != RECOVERY_CODE_LEN
        {
            return Err(ServiceError::validation(
                "recoveryCode is not a recovery code (ten letters and digits)",
            ));
        }
        match self.sign_in(meta, email, password).await? {
            AuthStep::Challenge(challenge) if challenge.name == "SOFTWARE_TOKEN_MFA" => {}
            other => {
                // The password alone signed in: those tokens are nobody's, so they end here.
                if let AuthStep::SignedIn(tokens) = &other {
                    self.revoke_proof(tokens).await;
                }
                return Err(ServiceError::validation(
                    "This account has no authenticator to recover: sign in with the password alone.",
                ));
            }
        }
        let record = self.parts.provider.admin_get_user(email).await?;
        let pool = self.parts.pool;
        let hash = recovery_hash(pool.as_str(), &record.sub, code);
        let spent =
            self.shared.recovery_codes.use_recovery_code(pool, &record.sub, &hash, self.now_ms()).await?;
        if !spent {
            self.count_failure(meta, email).await;
            self.audit(
                meta,
                "auth.recovery_code",
                AuditOutcome::Failure,
                Some(email),
                None,
                Some(&record.sub),
                Some("AUTH_FAILED"),
            )
            .await;
            return Err(ServiceError::auth_failed());
        }
        self.parts
            .provider
            .admin_set_mfa_preference(&record.username, MfaSetting { enabled: false, preferred: false })
            .await?;
        self.shared.recovery_codes.delete_recovery_codes(pool, &record.sub).await?;
        let previous = self.shared.mirror.get_mirror(pool, &record.sub).await?;
        let mut user = previous.clone().unwrap_or_else(|| self.mirror_from_record(&record));
        user.mfa_enabled = false;
        user.updated_at = self.now_ms();
        self.save_from(previous.as_ref(), &user).await?;
        self.audit(
            meta,
            "auth.recovery_code",
            AuditOutcome::Success,
            Some(email),
            None,
            Some(&record.sub),
            None,
        )
        .await;
        let body = format!(
            "A recovery code was used to sign in to your {} account, and the authenticator app it had was \
             removed. Set up a new one (and keep the new recovery codes).\n\nIf this was not you, reset your \
             password now and contact support.\n",
            self.parts.settings.display_name
        );
        if let Err(error) = self.shared.notifier.notify(pool, email, "A recovery code was used", &body).await
        {
            tracing::warn!(error = %error, "the owner could not be told that a recovery code was used");
        }
        let step = self.sign_in(meta, email, password).await?;
        self.after_step(meta, email, step).await
    }

    /// A new set of recovery codes for the account, replacing any earlier set; returned once.
    async fn new_recovery_codes(&self, user: &MirrorUser) -> ServiceResult<Vec<String>> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> =
            codes.iter().map(|code| recovery_hash(self.parts.pool.as_str(), &user.sub, code)).collect();
        self.shared
            .recovery_codes
            .replace_recovery_codes(self.parts.pool, &user.sub, &hashes, self.now_ms())
            .await?;
        Ok(codes)
    }

    /// How many unused recovery codes an account has (for the console and the admin API).
    pub async fn unused_recovery_codes(&self, sub: &str) -> ServiceResult<u32> {
        Ok(self.shared.recovery_codes.unused_recovery_codes(self.parts.pool, sub).await?)
    }

    /// Forgets an account's recovery codes (an administrator reset its MFA).
    pub(crate) async fn forget_recovery_codes(&self, sub: &str) -> ServiceResult<()> {
        Ok(self.shared.recovery_codes.delete_recovery_codes(self.parts.pool, sub).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_random_and_forgiving_to_type() {
        let codes: std::collections::BTreeSet<String> = (0..200).map(|_| new_recovery_code()).collect();
        assert_eq!(codes.len(), 200);
        let code = codes.iter().next().cloned().unwrap_or_default();
        assert_eq!(code.len(), 11);
        let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
        assert_eq!(recovery_hash("customer", "s1", &code), recovery_hash("customer", "s1", &typed));
        assert_ne!(recovery_hash("customer", "s1", &code), recovery_hash("customer", "s2", &code));
        assert_ne!(recovery_hash("customer", "s1", &code), recovery_hash("staff", "s1", &code));
    }
}
