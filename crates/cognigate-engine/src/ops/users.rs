//! Users: sign-up and confirmation, the admin user operations, self-service reads and updates, password
//! reset and change, and ListUsers with Cognito's filter syntax.

use std::collections::BTreeMap;

use cognigate_config::{RESERVED_CUSTOM_ATTRIBUTES, STANDARD_ATTRIBUTES};
use cognigate_domain::email::normalize_email;

use crate::api::{Attribute, CodeDeliveryDetails, SignUpRequest, SignUpResponse, UserDescription};
use crate::codes::{
    CODES_PER_WINDOW, FAILURES_PER_WINDOW, MAX_CODE_ATTEMPTS, RESET_CODE_TTL_SECS, SIGN_UP_CODE_TTL_SECS,
    THROTTLE_WINDOW_MS, hash_code, new_code, phantom_sub,
};
use crate::engine::Guard;
use crate::model::*;
use crate::password::check_policy;
use crate::{Engine, EngineError};

/// How an attribute write is made: by the user themselves, or by an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    User,
    Admin,
}

/// What AdminCreateUser does with the invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// Send the invitation (the default).
    Send,
    /// Send the invitation again with a new temporary password (user in FORCE_CHANGE_PASSWORD).
    Resend,
    /// Send nothing.
    Suppress,
}

/// Masks an address the way Cognito does in CodeDeliveryDetails: `a***@e***`.
fn mask(destination: &str) -> String {
    match destination.split_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().unwrap_or('*');
            let domain_first = domain.chars().next().unwrap_or('*');
            let tld = domain.rsplit_once('.').map(|(_, tld)| tld).unwrap_or_default();
            format!("{first}***@{domain_first}***.{tld}")
        }
        None => "***".to_owned(),
    }
}

fn delivery(email: &str) -> CodeDeliveryDetails {
    CodeDeliveryDetails {
        destination: mask(email),
        delivery_medium: "EMAIL".to_owned(),
        attribute_name: "email".to_owned(),
    }
}

/// Who a code is about: a user, or a phantom standing for a name nobody has (see
/// [`crate::codes::phantom_sub`]) or a user with nowhere to send a code.
enum CodeSubject {
    User(Box<User>),
    Phantom { sub: String, name: String },
}

impl CodeSubject {
    fn sub(&self) -> &str {
        match self {
            Self::User(user) => &user.sub,
            Self::Phantom { sub, .. } => sub,
        }
    }

    /// Where the code goes: the user's email; a phantom's goes nowhere.
    fn email(&self) -> Option<&str> {
        match self {
            Self::User(user) => user.attribute("email"),
            Self::Phantom { .. } => None,
        }
    }

    /// What the answer's masked destination is made from when nothing is sent.
    fn shown_as(&self) -> &str {
        match self {
            Self::User(user) => user.attribute("email").unwrap_or("user@example.com"),
            Self::Phantom { name, .. } if is_email(name) => name,
            Self::Phantom { .. } => "user@example.com",
        }
    }
}

/// A code to send: what it is for, how long it lives, and the message around it.
struct CodeMessage<'a> {
    purpose: CodePurpose,
    ttl_secs: i64,
    kind: &'a str,
    subject: String,
    text: &'a str,
}

fn is_email(text: &str) -> bool {
    normalize_email(text).is_ok()
}

/// An email address in the one form the pools keep (see `cognigate_domain::email`), or Cognito's error
/// with the reason.
fn email_address(text: &str, what: &str) -> Result<String, EngineError> {
    normalize_email(text).map_err(|error| EngineError::InvalidParameter(format!("{what}: {error}")))
}

/// The name to look a user up by: in email-username pools, the address in its normal form (so every way
/// of writing one address finds the one account); otherwise as given.
pub(crate) fn lookup_name(pool: &UserPool, name: &str) -> String {
    if uses_email_username(pool)
        && let Ok(email) = normalize_email(name)
    {
        return email;
    }
    name.to_owned()
}

fn seconds(ms: i64) -> f64 {
    // Millisecond timestamps are far below 2^53, so the conversion is exact.
    #[allow(clippy::cast_precision_loss, reason = "timestamps are far below 2^53")]
    let value = ms as f64 / 1000.0;
    value
}

impl Engine {
    /// Validates attribute names and values against the pool; `Writer::User` may not touch what cognigate
    /// manages for authorization (`custom:role`, `custom:tier`...) or verification flags.
    pub(crate) fn validate_attributes(
        &self,
        pool: &UserPool,
        attributes: &BTreeMap<String, String>,
        writer: Writer,
    ) -> Result<(), EngineError> {
        for (name, value) in attributes {
            if value.chars().count() > 2048 {
                return Err(EngineError::InvalidParameter(format!("{name} is longer than 2048 characters")));
            }
            if name == "sub" {
                return Err(EngineError::InvalidParameter("sub cannot be set".to_owned()));
            }
            if name == "email_verified" || name == "phone_number_verified" {
                if writer == Writer::User {
                    return Err(EngineError::NotAuthorized(format!("A client cannot write {name}")));
                }
                if value != "true" && value != "false" {
                    return Err(EngineError::InvalidParameter(format!("{name} must be true or false")));
                }
                continue;
            }
            if let Some(custom) = name.strip_prefix("custom:") {
                if RESERVED_CUSTOM_ATTRIBUTES.contains(&custom) {
                    if writer == Writer::User {
                        return Err(EngineError::NotAuthorized(format!("A client cannot write {name}")));
                    }
                    continue;
                }
                let rule = pool.custom_attributes.get(custom).ok_or_else(|| {
                    EngineError::InvalidParameter(format!(
                        "Attributes did not conform to the schema: {name} is not defined"
                    ))
                })?;
                check_custom(name, rule, value)?;
                continue;
            }
            if !STANDARD_ATTRIBUTES.contains(&name.as_str()) {
                return Err(EngineError::InvalidParameter(format!(
                    "Attributes did not conform to the schema: {name} is not a known attribute"
                )));
            }
            if name == "email" {
                email_address(value, "Invalid email address format")?;
            }
        }
        Ok(())
    }

    /// Finds a user by username (case-insensitively), or fails as Cognito does.
    /// A user by sign-in name (the email in email-username pools), or by the generated username (the sub).
    pub(crate) async fn user_by_name(&self, pool: &UserPool, username: &str) -> Result<User, EngineError> {
        if let Some(user) = self.parts.store.find_user(&pool.id, &lookup_name(pool, username)).await? {
            return Ok(user);
        }
        if uses_email_username(pool)
            && uuid::Uuid::parse_str(username).is_ok()
            && let Some(user) = self.parts.store.get_user(&pool.id, username).await?
        {
            return Ok(user);
        }
        Err(EngineError::UserNotFound)
    }

    pub async fn sign_up(&self, request: SignUpRequest) -> Result<SignUpResponse, EngineError> {
        let (_, pool) = self
            .client_for(&request.client_id, Some(&request.username), request.secret_hash.as_deref())
            .await?;
        if pool.admin_create_only {
            return Err(EngineError::NotAuthorized("SignUp is not permitted for this user pool".to_owned()));
        }
        let mut username = request.username.trim().to_owned();
        let mut attributes = crate::api::attributes_to_map(&request.user_attributes);
        if uses_email_username(&pool) {
            username = email_address(&username, "Username should be an email")?;
            match attributes.get("email") {
                Some(email) if normalize_email(email).as_deref() != Ok(username.as_str()) => {
                    return Err(EngineError::InvalidParameter(
                        "The email attribute must be the username".to_owned(),
                    ));
                }
                _ => {
                    attributes.insert("email".to_owned(), username.clone());
                }
            }
        } else if username.is_empty() || username.len() > 128 {
            return Err(EngineError::InvalidParameter("Username must be 1 to 128 characters".to_owned()));
        }
        self.validate_attributes(&pool, &attributes, Writer::User)?;
        check_policy(&pool.password_policy, &request.password)?;
        // Hashed before looking the name up, so a taken name costs what a new one does: the time of the
        // answer does not say whether the account exists.
        let hash = self.parts.hasher.hash(&request.password, self.parts.entropy.as_ref()).await?;
        if self.parts.store.find_user(&pool.id, &username).await?.is_some() {
            return Err(EngineError::UsernameExists("User already exists".to_owned()));
        }
        let auto_confirm = self.parts.triggers.pre_sign_up(&pool.id, &username, &attributes).await?;
        attributes
            .insert("email_verified".to_owned(), if auto_confirm { "true" } else { "false" }.to_owned());
        let now = self.now();
        let sub = uuid::Uuid::new_v4().to_string();
        let (username, sign_in_alias) = generated_username(&pool, &sub, username);
        let user = User {
            pool_id: pool.id.clone(),
            sub,
            username,
            sign_in_alias,
            attributes,
            status: if auto_confirm { UserStatus::Confirmed } else { UserStatus::Unconfirmed },
            enabled: true,
            password_hash: Some(hash),
            temporary_password_expires_ms: None,
            pending_email: None,
            mfa: UserMfa::default(),
            tokens_valid_after_ms: 0,
            created_ms: now,
            updated_ms: now,
        };
        self.parts.store.insert_user(&user).await.map_err(|error| match error {
            crate::store::StoreError::Conflict(_) => {
                EngineError::UsernameExists("User already exists".to_owned())
            }
            other => other.into(),
        })?;
        let code_delivery_details = if auto_confirm {
            self.parts.triggers.post_confirmation(&pool.id, &user).await?;
            None
        } else {
            Some(self.send_sign_up_code(&pool, &CodeSubject::User(Box::new(user.clone()))).await?)
        };
        Ok(SignUpResponse { user_confirmed: auto_confirm, user_sub: user.sub, code_delivery_details })
    }

    /// Sends a code to `subject` (stored hashed), within Cognito's throttle: LimitExceeded once the hour's
    /// codes are spent. A phantom's code is stored and counted the same way, and sent nowhere.
    async fn send_code(
        &self,
        pool: &UserPool,
        subject: &CodeSubject,
        message: CodeMessage<'_>,
    ) -> Result<CodeDeliveryDetails, EngineError> {
        let CodeMessage { purpose, ttl_secs, kind, subject: title, text } = message;
        let now = self.now();
        let previous = self.parts.store.get_code(&pool.id, subject.sub(), purpose).await?;
        let (window_started_ms, sent, failures) = match previous {
            Some(previous) if now - previous.window_started_ms < THROTTLE_WINDOW_MS => {
                (previous.window_started_ms, previous.sent_in_window, previous.failures_in_window)
            }
            _ => (now, 0, 0),
        };
        if sent >= CODES_PER_WINDOW {
            return Err(EngineError::LimitExceeded);
        }
        let code = new_code(self.parts.entropy.as_ref());
        self.parts
            .store
            .put_code(&CodeRecord {
                pool_id: pool.id.clone(),
                sub: subject.sub().to_owned(),
                purpose,
                code_hash: hash_code(&pool.id, subject.sub(), purpose.as_str(), &code),
                expires_ms: now + ttl_secs * 1000,
                attempts: 0,
                window_started_ms,
                sent_in_window: sent + 1,
                failures_in_window: failures,
            })
            .await?;
        let Some(email) = subject.email() else {
            return Ok(delivery(subject.shown_as()));
        };
        let body = format!(
            "{text}\n\n    {code}\n\nThe code expires in {} minutes. If you did not ask for it, ignore this message.\n",
            ttl_secs / 60
        );
        self.notify(&pool.id, email, kind, &title, body).await?;
        Ok(delivery(email))
    }

    async fn send_sign_up_code(
        &self,
        pool: &UserPool,
        subject: &CodeSubject,
    ) -> Result<CodeDeliveryDetails, EngineError> {
        let message = CodeMessage {
            purpose: CodePurpose::SignUp,
            ttl_secs: SIGN_UP_CODE_TTL_SECS,
            kind: "sign_up_code",
            subject: format!("Your {} verification code", pool.name),
            text: "Welcome! Confirm your account with this code:",
        };
        self.send_code(pool, subject, message).await
    }

    /// Checks a one-time code: single use, expiring, with five attempts per code and Cognito's hourly
    /// throttle across codes; only SMS MFA failures also count toward the sign-in lockout.
    pub(crate) async fn check_code(
        &self,
        pool: &UserPool,
        sub: &str,
        purpose: CodePurpose,
        code: &str,
        guard: Guard,
    ) -> Result<(), EngineError> {
        let Some(mut record) = self.parts.store.get_code(&pool.id, sub, purpose).await? else {
            return Err(EngineError::ExpiredCode);
        };
        let now = self.now();
        let window_open = now - record.window_started_ms < THROTTLE_WINDOW_MS;
        if window_open && record.failures_in_window >= FAILURES_PER_WINDOW {
            return Err(EngineError::LimitExceeded);
        }
        // An expired or exhausted code stays (it carries the throttle's counts) until a new one replaces
        // it, so a client that retries on LimitExceeded (boto3 does) keeps getting the same answer.
        if record.expires_ms <= now {
            return Err(EngineError::ExpiredCode);
        }
        if record.attempts >= MAX_CODE_ATTEMPTS {
            return Err(EngineError::LimitExceeded);
        }
        let expected = hash_code(&pool.id, sub, purpose.as_str(), code);
        if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), record.code_hash.as_bytes())
            .is_err()
        {
            record.attempts += 1;
            if window_open {
                record.failures_in_window += 1;
            } else {
                record.window_started_ms = now;
                record.sent_in_window = 0;
                record.failures_in_window = 1;
            }
            // An SMS code is a second factor: its failures count toward the sign-in lockout with the
            // password's. Verification and reset codes do not: anyone can request one for any address, so
            // counting them would let a stranger lock an owner out. Their limits are the throttle's.
            if purpose == CodePurpose::SmsMfa {
                self.record_failure(pool, sub, guard).await?;
            }
            self.parts.store.put_code(&record).await?;
            return Err(if record.attempts >= MAX_CODE_ATTEMPTS {
                EngineError::LimitExceeded
            } else {
                EngineError::CodeMismatch
            });
        }
        self.parts.store.delete_code(&pool.id, sub, purpose).await?;
        Ok(())
    }

    /// The client, pool and subject a code operation is about: the user, or a phantom when the name is
    /// unknown and the client hides that (Cognito's PreventUserExistenceErrors).
    async fn code_subject(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<(AppClient, UserPool, CodeSubject), EngineError> {
        let (client, pool) = self.client_for(client_id, Some(username), secret_hash).await?;
        match self.user_by_name(&pool, username).await {
            Ok(user) => Ok((client, pool, CodeSubject::User(Box::new(user)))),
            Err(EngineError::UserNotFound) if client.prevent_user_existence_errors => {
                let key = User::username_key(username);
                let sub = phantom_sub(&pool.id, &key);
                Ok((client, pool, CodeSubject::Phantom { sub, name: username.trim().to_owned() }))
            }
            Err(error) => Err(error),
        }
    }

    pub async fn confirm_sign_up(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
    ) -> Result<(), EngineError> {
        let (_, pool, subject) = self.code_subject(client_id, secret_hash, username).await?;
        // No lockout here: a code is not a password, and counting its failures toward the sign-in lockout
        // would let anyone lock an owner out. The code's own throttle limits guessing.
        if let CodeSubject::User(user) = &subject
            && user.status != UserStatus::Unconfirmed
        {
            return Err(EngineError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        self.check_code(&pool, subject.sub(), CodePurpose::SignUp, code, Guard::Engine).await?;
        match subject {
            CodeSubject::User(user) => self.mark_confirmed(&pool, *user).await,
            // A phantom's code was never sent to anyone; nothing can match it.
            CodeSubject::Phantom { .. } => Err(EngineError::CodeMismatch),
        }
    }

    async fn mark_confirmed(&self, pool: &UserPool, mut user: User) -> Result<(), EngineError> {
        user.status = UserStatus::Confirmed;
        if user.attributes.contains_key("email") {
            user.attributes.insert("email_verified".to_owned(), "true".to_owned());
        }
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        self.parts.triggers.post_confirmation(&pool.id, &user).await
    }

    pub async fn resend_confirmation_code(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDeliveryDetails, EngineError> {
        let (_, pool, subject) = self.code_subject(client_id, secret_hash, username).await?;
        if let CodeSubject::User(user) = &subject
            && user.status != UserStatus::Unconfirmed
        {
            return Err(EngineError::InvalidParameter("User is already confirmed.".to_owned()));
        }
        // An unknown name gets the same answer, and the same throttle, as if a code went out.
        self.send_sign_up_code(&pool, &subject).await
    }

    pub async fn admin_confirm_sign_up(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(EngineError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        self.parts.store.delete_code(&pool.id, &user.sub, CodePurpose::SignUp).await?;
        self.mark_confirmed(&pool, user).await
    }

    /// Creates a user who must choose a password at first sign-in (FORCE_CHANGE_PASSWORD), and sends the
    /// invitation with a temporary password unless told not to.
    pub async fn admin_create_user(
        &self,
        pool_id: &str,
        username: &str,
        attributes: &[Attribute],
        temporary_password: Option<&str>,
        action: MessageAction,
    ) -> Result<User, EngineError> {
        let pool = self.pool(pool_id).await?;
        let username = username.trim().to_owned();
        if action == MessageAction::Resend {
            let mut user = self.user_by_name(&pool, &username).await?;
            if user.status != UserStatus::ForceChangePassword {
                return Err(EngineError::UnsupportedUserState(format!(
                    "User status is {}",
                    user.status.as_str()
                )));
            }
            let password = self.temporary_password(&pool, temporary_password)?;
            user.password_hash = Some(self.parts.hasher.hash(&password, self.parts.entropy.as_ref()).await?);
            user.temporary_password_expires_ms =
                Some(self.now() + i64::from(pool.temporary_password_validity_days) * 86_400_000);
            user.updated_ms = self.now();
            self.parts.store.update_user(&user).await?;
            self.send_invitation(&pool, &user, &password).await?;
            return Ok(user);
        }
        let mut attributes = crate::api::attributes_to_map(attributes);
        let mut username = username;
        if uses_email_username(&pool) {
            username = email_address(&username, "Username should be an email")?;
            attributes.insert("email".to_owned(), username.clone());
        }
        self.validate_attributes(&pool, &attributes, Writer::Admin)?;
        attributes.entry("email_verified".to_owned()).or_insert_with(|| "false".to_owned());
        if self.parts.store.find_user(&pool.id, &username).await?.is_some() {
            return Err(EngineError::UsernameExists("User account already exists".to_owned()));
        }
        let password = self.temporary_password(&pool, temporary_password)?;
        let now = self.now();
        let sub = uuid::Uuid::new_v4().to_string();
        let (username, sign_in_alias) = generated_username(&pool, &sub, username);
        let user = User {
            pool_id: pool.id.clone(),
            sub,
            username,
            sign_in_alias,
            attributes,
            status: UserStatus::ForceChangePassword,
            enabled: true,
            password_hash: Some(self.parts.hasher.hash(&password, self.parts.entropy.as_ref()).await?),
            temporary_password_expires_ms: Some(
                now + i64::from(pool.temporary_password_validity_days) * 86_400_000,
            ),
            pending_email: None,
            mfa: UserMfa::default(),
            tokens_valid_after_ms: 0,
            created_ms: now,
            updated_ms: now,
        };
        self.parts.store.insert_user(&user).await.map_err(|error| match error {
            crate::store::StoreError::Conflict(_) => {
                EngineError::UsernameExists("User account already exists".to_owned())
            }
            other => other.into(),
        })?;
        if action == MessageAction::Send {
            self.send_invitation(&pool, &user, &password).await?;
        }
        Ok(user)
    }

    /// The given temporary password (checked against the policy), or a generated one that satisfies it.
    fn temporary_password(&self, pool: &UserPool, given: Option<&str>) -> Result<String, EngineError> {
        if let Some(password) = given {
            check_policy(&pool.password_policy, password)?;
            return Ok(password.to_owned());
        }
        const SETS: [&str; 4] =
            ["abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?@^_"];
        let length = usize::try_from(pool.password_policy.minimum_length.max(16)).unwrap_or(16);
        let mut bytes = vec![0u8; length];
        self.parts.entropy.fill(&mut bytes);
        let password: String = bytes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let set = SETS[i % SETS.len()].as_bytes();
                char::from(set[usize::from(*b) % set.len()])
            })
            .collect();
        check_policy(&pool.password_policy, &password)?;
        Ok(password)
    }

    async fn send_invitation(&self, pool: &UserPool, user: &User, password: &str) -> Result<(), EngineError> {
        let Some(email) = user.attribute("email") else {
            return Ok(());
        };
        let body = format!(
            "You have been invited to {}.\n\nUsername: {}\nTemporary password: {password}\n\nSign in and choose your own password within {} days.\n",
            pool.name,
            user.sign_in_name(),
            pool.temporary_password_validity_days
        );
        self.notify(&pool.id, email, "invitation", &format!("Your {} account", pool.name), body).await
    }

    pub async fn admin_get_user(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<UserDescription, EngineError> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_by_name(&pool, username).await?;
        Ok(describe(&user))
    }

    pub async fn admin_delete_user(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        // Every login's family is recorded as revoked before the user goes, so the record outlives them:
        // their tokens stay refused after a restart too.
        self.revoke_sessions(&mut user).await?;
        self.parts.store.delete_user(&pool.id, &user.sub).await?;
        // Every token the user ever had is dead, this second's included.
        self.note_subject_revoked(&user.sub, self.now().div_euclid(1000) + 1);
        Ok(())
    }

    /// Disables the user and ends every session: refresh tokens and issued access tokens are revoked.
    pub async fn admin_disable_user(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        user.enabled = false;
        self.revoke_sessions(&mut user).await
    }

    pub async fn admin_enable_user(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        user.enabled = true;
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        Ok(())
    }

    /// Revokes all of the user's refresh tokens and every token issued before now, and saves the user.
    pub(crate) async fn revoke_sessions(&self, user: &mut User) -> Result<(), EngineError> {
        let now = self.now();
        // Whole seconds: `iat` has second precision. Tokens of this same second are caught by their family.
        user.tokens_valid_after_ms = now.div_euclid(1000) * 1000;
        user.updated_ms = now;
        self.parts.store.update_user(user).await?;
        for (family, until) in self.parts.store.revoke_user_refresh(&user.pool_id, &user.sub).await? {
            self.note_family_revoked(&family, until);
        }
        self.note_subject_revoked(&user.sub, now.div_euclid(1000));
        Ok(())
    }

    pub async fn admin_set_user_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        check_policy(&pool.password_policy, password)?;
        user.password_hash = Some(self.parts.hasher.hash(password, self.parts.entropy.as_ref()).await?);
        if permanent {
            user.status = UserStatus::Confirmed;
            user.temporary_password_expires_ms = None;
        } else {
            user.status = UserStatus::ForceChangePassword;
            user.temporary_password_expires_ms =
                Some(self.now() + i64::from(pool.temporary_password_validity_days) * 86_400_000);
        }
        self.clear_failures(&pool, &user.sub).await?;
        self.revoke_sessions(&mut user).await
    }

    /// Invalidates the password: the user must reset it with a code sent to their verified email.
    pub async fn admin_reset_user_password(&self, pool_id: &str, username: &str) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        if user.attribute("email_verified") != Some("true") {
            return Err(EngineError::InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email".to_owned(),
            ));
        }
        user.status = UserStatus::ResetRequired;
        self.revoke_sessions(&mut user).await?;
        self.send_reset_code(&pool, &CodeSubject::User(Box::new(user))).await?;
        Ok(())
    }

    async fn send_reset_code(
        &self,
        pool: &UserPool,
        subject: &CodeSubject,
    ) -> Result<CodeDeliveryDetails, EngineError> {
        let message = CodeMessage {
            purpose: CodePurpose::ForgotPassword,
            ttl_secs: RESET_CODE_TTL_SECS,
            kind: "forgot_password_code",
            subject: format!("Reset your {} password", pool.name),
            text: "Use this code to choose a new password:",
        };
        self.send_code(pool, subject, message).await
    }

    pub async fn forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> Result<CodeDeliveryDetails, EngineError> {
        let (client, pool, subject) = self.code_subject(client_id, secret_hash, username).await?;
        let subject = match subject {
            CodeSubject::User(user)
                if user.attribute("email_verified") != Some("true")
                    && user.status != UserStatus::ResetRequired =>
            {
                if !client.prevent_user_existence_errors {
                    return Err(EngineError::InvalidParameter(
                        "Cannot reset password for the user as there is no registered/verified email"
                            .to_owned(),
                    ));
                }
                // Nowhere to send a code: answered, and throttled, like a name nobody has.
                CodeSubject::Phantom { sub: user.sub.clone(), name: username.trim().to_owned() }
            }
            other => other,
        };
        self.send_reset_code(&pool, &subject).await
    }

    /// Sets a new password with a reset code. The account's sessions end; a disabled account stays disabled
    /// and MFA stays as it was.
    pub async fn confirm_forgot_password(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<(), EngineError> {
        let (_, pool, subject) = self.code_subject(client_id, secret_hash, username).await?;
        // The policy is the pool's, the same for every name: judged first, it says nothing about the user.
        check_policy(&pool.password_policy, password)?;
        // Not refused while locked: the code proves the mailbox, and a reset that works is what lifts a
        // lockout somebody else caused.
        self.check_code(&pool, subject.sub(), CodePurpose::ForgotPassword, code, Guard::Engine).await?;
        let CodeSubject::User(user) = subject else {
            return Err(EngineError::CodeMismatch);
        };
        let mut user = *user;
        user.password_hash = Some(self.parts.hasher.hash(password, self.parts.entropy.as_ref()).await?);
        if matches!(
            user.status,
            UserStatus::ResetRequired | UserStatus::ForceChangePassword | UserStatus::Unconfirmed
        ) {
            user.status = UserStatus::Confirmed;
        }
        user.temporary_password_expires_ms = None;
        self.clear_failures(&pool, &user.sub).await?;
        self.revoke_sessions(&mut user).await
    }

    /// ChangePassword: the previous password must be right (failures count toward lockout); every session,
    /// this one included, ends.
    pub async fn change_password(
        &self,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> Result<(), EngineError> {
        let (mut user, verified) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&user.pool_id).await?;
        let guard = match self.cached_client(verified.client_id()).await? {
            Some(client) => Guard::of(&client),
            None => Guard::Engine,
        };
        self.ensure_not_locked(&pool, &user.sub, guard).await?;
        if !self.parts.hasher.verify(previous, user.password_hash.as_deref()).await? {
            self.record_failure(&pool, &user.sub, guard).await?;
            return Err(EngineError::bad_credentials());
        }
        check_policy(&pool.password_policy, proposed)?;
        user.password_hash = Some(self.parts.hasher.hash(proposed, self.parts.entropy.as_ref()).await?);
        self.clear_failures(&pool, &user.sub).await?;
        self.revoke_sessions(&mut user).await
    }

    /// GetUser: the caller's own attributes (those the client may read).
    pub async fn get_user(&self, access_token: &str) -> Result<UserDescription, EngineError> {
        let (user, verified) = self.user_from_access_token(access_token).await?;
        let client = self
            .parts
            .store
            .get_client(verified.client_id())
            .await?
            .ok_or_else(|| EngineError::NotAuthorized("Invalid Access Token".to_owned()))?;
        let mut description = describe(&user);
        let readable: Vec<(String, String)> = self.readable_attributes(&client, &user);
        description.attributes =
            std::iter::once(Attribute { name: "sub".to_owned(), value: user.sub.clone() })
                .chain(readable.into_iter().map(|(name, value)| Attribute { name, value }))
                .collect();
        Ok(description)
    }

    /// UpdateUserAttributes: the user changes their own attributes, within what the client may write. A
    /// new email does not take effect until the user proves it with the code sent to it
    /// (VerifyUserAttribute); until then the old address keeps working for sign-in and resets. Returns
    /// where that code went, if one was sent.
    pub async fn update_user_attributes(
        &self,
        access_token: &str,
        attributes: &[Attribute],
    ) -> Result<Option<CodeDeliveryDetails>, EngineError> {
        let (mut user, verified) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&user.pool_id).await?;
        let client = self
            .parts
            .store
            .get_client(verified.client_id())
            .await?
            .ok_or_else(|| EngineError::NotAuthorized("Invalid Access Token".to_owned()))?;
        let changes = normalized(crate::api::attributes_to_map(attributes))?;
        self.validate_attributes(&pool, &changes, Writer::User)?;
        for name in changes.keys() {
            if !client.write_attributes.is_empty() && !client.write_attributes.contains(name) {
                return Err(EngineError::NotAuthorized(format!("A client cannot write {name}")));
            }
            if let Some(custom) = name.strip_prefix("custom:")
                && pool.custom_attributes.get(custom).is_some_and(|rule| !rule.mutable)
            {
                return Err(EngineError::NotAuthorized(format!("{name} is immutable")));
            }
        }
        let mut changes = changes;
        let new_email =
            changes.remove("email").filter(|email| Some(email.as_str()) != user.attribute("email"));
        if let Some(email) = &new_email
            && self.parts.store.find_user(&pool.id, email).await?.is_some_and(|other| other.sub != user.sub)
        {
            return Err(EngineError::AliasExists(
                "An account with the given email already exists.".to_owned(),
            ));
        }
        user.attributes.extend(changes);
        user.pending_email.clone_from(&new_email);
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await?;
        self.parts.triggers.user_changed(&pool.id, &user).await;
        let Some(email) = new_email else { return Ok(None) };
        let mut addressee = user.clone();
        addressee.attributes.insert("email".to_owned(), email);
        let addressee = CodeSubject::User(Box::new(addressee));
        let message = CodeMessage {
            purpose: CodePurpose::VerifyEmail,
            ttl_secs: SIGN_UP_CODE_TTL_SECS,
            kind: "verify_email_code",
            subject: format!("Confirm your new {} email address", pool.name),
            text: "Confirm your new email address with this code:",
        };
        Ok(Some(self.send_code(&pool, &addressee, message).await?))
    }

    /// VerifyUserAttribute (email): applies the pending email once its code is right. In email pools the
    /// email is also the username, so the user signs in with the new address from then on.
    pub async fn verify_user_attribute(
        &self,
        access_token: &str,
        attribute: &str,
        code: &str,
    ) -> Result<(), EngineError> {
        let (mut user, _) = self.user_from_access_token(access_token).await?;
        if attribute != "email" {
            return Err(EngineError::InvalidParameter(format!("{attribute} cannot be verified here")));
        }
        let pool = self.pool(&user.pool_id).await?;
        let Some(email) = user.pending_email.clone() else {
            return Err(EngineError::ExpiredCode);
        };
        self.check_code(&pool, &user.sub, CodePurpose::VerifyEmail, code, Guard::Engine).await?;
        if uses_email_username(&pool) {
            user.sign_in_alias = Some(email.clone());
        }
        user.attributes.insert("email".to_owned(), email);
        user.attributes.insert("email_verified".to_owned(), "true".to_owned());
        user.pending_email = None;
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await.map_err(|error| match error {
            crate::store::StoreError::Conflict(_) => {
                EngineError::AliasExists("An account with the given email already exists.".to_owned())
            }
            other => other.into(),
        })?;
        self.parts.triggers.user_changed(&pool.id, &user).await;
        Ok(())
    }

    /// AdminUpdateUserAttributes: any attribute, including the ones cognigate manages and the email (which
    /// is also the username in email pools; a new email is unverified unless `email_verified` says so).
    pub async fn admin_update_user_attributes(
        &self,
        pool_id: &str,
        username: &str,
        attributes: &[Attribute],
    ) -> Result<(), EngineError> {
        let pool = self.pool(pool_id).await?;
        let mut user = self.user_by_name(&pool, username).await?;
        let changes = normalized(crate::api::attributes_to_map(attributes))?;
        self.validate_attributes(&pool, &changes, Writer::Admin)?;
        if let Some(email) = changes.get("email")
            && Some(email.as_str()) != user.attribute("email")
        {
            if pool.username_attributes.iter().any(|a| a == "email") {
                if self
                    .parts
                    .store
                    .find_user(&pool.id, email)
                    .await?
                    .is_some_and(|other| other.sub != user.sub)
                {
                    return Err(EngineError::AliasExists(
                        "An account with the given email already exists.".to_owned(),
                    ));
                }
                user.sign_in_alias = Some(email.clone());
            }
            if !changes.contains_key("email_verified") {
                user.attributes.insert("email_verified".to_owned(), "false".to_owned());
            }
        }
        user.attributes.extend(changes);
        user.updated_ms = self.now();
        self.parts.store.update_user(&user).await.map_err(|error| match error {
            crate::store::StoreError::Conflict(_) => {
                EngineError::AliasExists("An account with the given email already exists.".to_owned())
            }
            other => other.into(),
        })?;
        Ok(())
    }

    /// ListUsers with Cognito's filter syntax (`name = "value"`, `name ^= "value"`) and pagination tokens.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&str>,
        limit: Option<u32>,
        pagination_token: Option<&str>,
    ) -> Result<(Vec<UserDescription>, Option<String>), EngineError> {
        self.pool(pool_id).await?;
        let filter = filter.filter(|f| !f.trim().is_empty()).map(parse_filter).transpose()?;
        let limit = limit.unwrap_or(60);
        if !(1..=60).contains(&limit) {
            return Err(EngineError::InvalidParameter("Limit must be 1 to 60".to_owned()));
        }
        let page = self.parts.store.list_users(pool_id, filter.as_ref(), limit, pagination_token).await?;
        Ok((page.users.iter().map(describe).collect(), page.next))
    }
}

/// Attribute changes with the email, if any, in its normal form.
fn normalized(mut changes: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, EngineError> {
    if let Some(email) = changes.get_mut("email") {
        *email = email_address(email, "Invalid email address format")?;
    }
    Ok(changes)
}

/// Parses `attribute = "value"` or `attribute ^= "value"`.
pub fn parse_filter(text: &str) -> Result<UserFilter, EngineError> {
    const FILTERABLE: [&str; 11] = [
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
        "custom:display_name",
    ];
    let invalid = || EngineError::InvalidParameter(format!("Error while parsing filter: {text}"));
    let (attribute, prefix, rest) = if let Some((attribute, rest)) = text.split_once("^=") {
        (attribute, true, rest)
    } else if let Some((attribute, rest)) = text.split_once('=') {
        (attribute, false, rest)
    } else {
        return Err(invalid());
    };
    let attribute = attribute.trim().trim_matches('"').to_owned();
    let value =
        rest.trim().strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(invalid)?.to_owned();
    if !FILTERABLE.contains(&attribute.as_str()) && !attribute.starts_with("custom:") {
        return Err(EngineError::InvalidParameter(format!("Invalid search attribute: {attribute}")));
    }
    Ok(UserFilter { attribute, value, prefix })
}

fn check_custom(name: &str, rule: &CustomAttributeRule, value: &str) -> Result<(), EngineError> {
    let bad = |why: &str| EngineError::InvalidParameter(format!("{name}: {why}"));
    if rule.number {
        let number: i64 = value.trim().parse().map_err(|_| bad("must be a number"))?;
        if rule.min.is_some_and(|min| number < min) || rule.max.is_some_and(|max| number > max) {
            return Err(bad("is out of range"));
        }
        return Ok(());
    }
    let length = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
    if rule.min_length.is_some_and(|min| length < min) || rule.max_length.is_some_and(|max| length > max) {
        return Err(bad("has the wrong length"));
    }
    if let Some(pattern) = &rule.pattern {
        let regex =
            regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| bad("has an invalid pattern"))?;
        if !regex.is_match(value) {
            return Err(bad("does not match the required format"));
        }
    }
    Ok(())
}

/// A user as AdminGetUser and ListUsers show them (all attributes, `sub` first).
/// Whether the pool's users sign in with their email, Cognito generating their usernames.
fn uses_email_username(pool: &UserPool) -> bool {
    pool.username_attributes.iter().any(|a| a == "email")
}

/// The username and sign-in alias of a new user: in an email-username pool Cognito generates the username
/// (the sub) and the email given becomes the alias; elsewhere the username is the one given.
fn generated_username(pool: &UserPool, sub: &str, given: String) -> (String, Option<String>) {
    if uses_email_username(pool) { (sub.to_owned(), Some(given)) } else { (given, None) }
}

pub(crate) fn describe(user: &User) -> UserDescription {
    let mut attributes = vec![Attribute { name: "sub".to_owned(), value: user.sub.clone() }];
    attributes.extend(
        user.attributes.iter().map(|(name, value)| Attribute { name: name.clone(), value: value.clone() }),
    );
    let mut mfa = Vec::new();
    if user.mfa.totp_enabled {
        mfa.push("SOFTWARE_TOKEN_MFA".to_owned());
    }
    if user.mfa.sms_enabled {
        mfa.push("SMS_MFA".to_owned());
    }
    UserDescription {
        username: user.username.clone(),
        attributes,
        user_status: user.status.as_str().to_owned(),
        enabled: user.enabled,
        user_create_date: seconds(user.created_ms),
        user_last_modified_date: seconds(user.updated_ms),
        user_m_f_a_setting_list: mfa,
        preferred_mfa_setting: user.mfa.preferred.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_as_cognito_writes_them() {
        assert_eq!(
            parse_filter("email ^= \"ann\"").unwrap(),
            UserFilter { attribute: "email".into(), value: "ann".into(), prefix: true }
        );
        assert_eq!(
            parse_filter("cognito:user_status = \"CONFIRMED\"").unwrap(),
            UserFilter { attribute: "cognito:user_status".into(), value: "CONFIRMED".into(), prefix: false }
        );
        assert!(parse_filter("email ~ \"x\"").is_err());
        assert!(parse_filter("email = x").is_err());
        assert!(parse_filter("password = \"x\"").is_err());
    }

    #[test]
    fn masks_addresses() {
        assert_eq!(mask("alice@example.com"), "a***@e***.com");
    }
}
