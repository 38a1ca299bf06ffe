//! Pools and app clients: CreateUserPool, DescribeUserPool, ListUserPools, DeleteUserPool and the
//! UserPoolClient equivalents. A new pool gets its own signing key; nothing is shared between pools.

use std::collections::BTreeMap;

use crate::clock::random_bytes;
use crate::model::*;
use crate::{Engine, EngineError};

/// A pool to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPool {
    pub name: String,
    /// A fixed id (`cognigate dev` keeps pool ids stable); generated when `None`.
    pub id: Option<String>,
    pub password_policy: PasswordPolicy,
    pub mfa: MfaConfiguration,
    pub software_token_mfa: bool,
    pub sms_mfa: bool,
    pub auto_verified_attributes: Vec<String>,
    pub username_attributes: Vec<String>,
    pub custom_attributes: BTreeMap<String, CustomAttributeRule>,
    pub admin_create_only: bool,
    pub lockout: LockoutPolicy,
    pub temporary_password_validity_days: u32,
}

impl NewPool {
    /// Cognito's defaults for a pool that signs users in by email.
    pub fn with_defaults(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: None,
            password_policy: PasswordPolicy {
                minimum_length: 8,
                require_lowercase: true,
                require_uppercase: true,
                require_numbers: true,
                require_symbols: true,
            },
            mfa: MfaConfiguration::Off,
            software_token_mfa: false,
            sms_mfa: false,
            auto_verified_attributes: vec!["email".to_owned()],
            username_attributes: vec!["email".to_owned()],
            custom_attributes: BTreeMap::new(),
            admin_create_only: false,
            lockout: LockoutPolicy { max_failures: 5, window_secs: 900, duration_secs: 1800 },
            temporary_password_validity_days: 7,
        }
    }
}

impl NewPool {
    /// The settings of an existing pool, to change some of them (`ensure_user_pool` keeps its id).
    pub fn from_pool(pool: &UserPool) -> Self {
        Self {
            name: pool.name.clone(),
            id: Some(pool.id.clone()),
            password_policy: pool.password_policy.clone(),
            mfa: pool.mfa,
            software_token_mfa: pool.software_token_mfa,
            sms_mfa: pool.sms_mfa,
            auto_verified_attributes: pool.auto_verified_attributes.clone(),
            username_attributes: pool.username_attributes.clone(),
            custom_attributes: pool.custom_attributes.clone(),
            admin_create_only: pool.admin_create_only,
            lockout: pool.lockout.clone(),
            temporary_password_validity_days: pool.temporary_password_validity_days,
        }
    }

    /// Cognito's ranges for pool settings.
    fn validate(&self) -> Result<(), EngineError> {
        if self.name.trim().is_empty() || self.name.len() > 128 {
            return Err(EngineError::InvalidParameter("PoolName must be 1 to 128 characters".to_owned()));
        }
        if !(6..=99).contains(&self.password_policy.minimum_length) {
            return Err(EngineError::InvalidParameter("MinimumLength must be 6 to 99".to_owned()));
        }
        if !(1..=365).contains(&self.temporary_password_validity_days) {
            return Err(EngineError::InvalidParameter(
                "TemporaryPasswordValidityDays must be 1 to 365".to_owned(),
            ));
        }
        Ok(())
    }

    /// The pool record these settings describe.
    fn into_pool(self, id: String, created_ms: i64, updated_ms: i64) -> UserPool {
        UserPool {
            id,
            name: self.name,
            password_policy: self.password_policy,
            mfa: self.mfa,
            software_token_mfa: self.software_token_mfa,
            sms_mfa: self.sms_mfa,
            auto_verified_attributes: self.auto_verified_attributes,
            username_attributes: self.username_attributes,
            custom_attributes: self.custom_attributes,
            admin_create_only: self.admin_create_only,
            lockout: self.lockout,
            temporary_password_validity_days: self.temporary_password_validity_days,
            created_ms,
            updated_ms,
        }
    }
}

/// An app client to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub name: String,
    /// A fixed id; generated when `None`.
    pub id: Option<String>,
    pub generate_secret: bool,
    pub explicit_auth_flows: Vec<String>,
    pub access_token_validity_secs: i64,
    pub id_token_validity_secs: i64,
    pub refresh_token_validity_secs: i64,
    pub prevent_user_existence_errors: bool,
    pub read_attributes: Vec<String>,
    pub write_attributes: Vec<String>,
    pub refresh_token_rotation: bool,
    pub rotation_grace_secs: i64,
    /// cognigate's own client of a configured pool (see [`AppClient::front_door`]); never set over the wire.
    pub front_door: bool,
}

impl NewClient {
    /// Cognito's ranges for client settings and its known flows.
    fn validate(&self) -> Result<(), EngineError> {
        if self.name.trim().is_empty() || self.name.len() > 128 {
            return Err(EngineError::InvalidParameter("ClientName must be 1 to 128 characters".to_owned()));
        }
        for flow in &self.explicit_auth_flows {
            if !KNOWN_FLOWS.contains(&flow.as_str()) {
                return Err(EngineError::InvalidParameter(format!("Unknown auth flow {flow}")));
            }
        }
        let within = |value: i64, low: i64, high: i64| (low..=high).contains(&value);
        if !within(self.access_token_validity_secs, 300, 86_400)
            || !within(self.id_token_validity_secs, 300, 86_400)
            || !within(self.refresh_token_validity_secs, 3600, 3650 * 86_400)
        {
            return Err(EngineError::InvalidParameter(
                "Token validities: access and id 5 minutes to 1 day, refresh 1 hour to 3650 days".to_owned(),
            ));
        }
        if !within(self.rotation_grace_secs, 0, 60) {
            return Err(EngineError::InvalidParameter("RetryGracePeriodSeconds must be 0 to 60".to_owned()));
        }
        Ok(())
    }

    /// Cognito's defaults for a new client (user existence errors prevented, 1 h tokens, 30 d refresh).
    pub fn with_defaults(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: None,
            generate_secret: false,
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".to_owned(),
                "ALLOW_REFRESH_TOKEN_AUTH".to_owned(),
            ],
            access_token_validity_secs: 3600,
            id_token_validity_secs: 3600,
            refresh_token_validity_secs: 30 * 86_400,
            prevent_user_existence_errors: true,
            read_attributes: Vec::new(),
            write_attributes: Vec::new(),
            refresh_token_rotation: false,
            rotation_grace_secs: 0,
            front_door: false,
        }
    }
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const POOL_ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_text(engine: &Engine, alphabet: &[u8], len: usize) -> String {
    let bytes: [u8; 64] = random_bytes(engine.parts.entropy.as_ref());
    bytes.iter().take(len).map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()])).collect()
}

impl Engine {
    pub async fn create_user_pool(&self, new: NewPool) -> Result<UserPool, EngineError> {
        new.validate()?;
        let id = new
            .id
            .clone()
            .unwrap_or_else(|| format!("{}_{}", self.parts.region, random_text(self, POOL_ID_CHARS, 9)));
        if self.parts.store.get_pool(&id).await?.is_some() {
            return Err(EngineError::InvalidParameter(format!("User pool {id} already exists.")));
        }
        let now = self.now();
        let pool = new.into_pool(id, now, now);
        self.parts.store.put_pool(&pool).await?;
        self.forget_settings();
        self.rotate_signing_key(&pool.id).await?;
        Ok(pool)
    }

    /// Creates the pool with its fixed id, or brings an existing one's settings up to date (keeping its
    /// users, keys and creation time). This is how pools from the configuration keep stable ids.
    pub async fn ensure_user_pool(&self, new: NewPool) -> Result<UserPool, EngineError> {
        let Some(id) = new.id.clone() else {
            return Err(EngineError::InvalidParameter("ensure_user_pool needs a fixed pool id".to_owned()));
        };
        let Some(existing) = self.parts.store.get_pool(&id).await? else {
            return self.create_user_pool(new).await;
        };
        new.validate()?;
        let pool = new.into_pool(id, existing.created_ms, self.now());
        if pool != (UserPool { updated_ms: pool.updated_ms, ..existing }) {
            self.parts.store.put_pool(&pool).await?;
            self.forget_settings();
        }
        if self.parts.store.list_keys(&pool.id).await?.is_empty() {
            self.rotate_signing_key(&pool.id).await?;
        }
        Ok(pool)
    }

    /// Creates the client with its fixed id, or updates an existing one's settings (keeping its secret).
    pub async fn ensure_user_pool_client(
        &self,
        pool_id: &str,
        new: NewClient,
    ) -> Result<AppClient, EngineError> {
        let Some(id) = new.id.clone() else {
            return Err(EngineError::InvalidParameter(
                "ensure_user_pool_client needs a fixed client id".to_owned(),
            ));
        };
        let Some(existing) = self.parts.store.get_client(&id).await? else {
            return Ok(self.create_user_pool_client(pool_id, new).await?.0);
        };
        if existing.pool_id != pool_id {
            return Err(EngineError::InvalidParameter(format!("Client {id} belongs to another pool")));
        }
        new.validate()?;
        let client = AppClient {
            name: new.name,
            explicit_auth_flows: new.explicit_auth_flows,
            access_token_validity_secs: new.access_token_validity_secs,
            id_token_validity_secs: new.id_token_validity_secs,
            refresh_token_validity_secs: new.refresh_token_validity_secs,
            prevent_user_existence_errors: new.prevent_user_existence_errors,
            read_attributes: new.read_attributes,
            write_attributes: new.write_attributes,
            refresh_token_rotation: new.refresh_token_rotation,
            rotation_grace_secs: new.rotation_grace_secs,
            front_door: new.front_door,
            // A client that must have a secret gets one (kept if it has it); one that must not loses it.
            secret_sealed: match (new.generate_secret, &existing.secret_sealed) {
                (true, Some(sealed)) => Some(sealed.clone()),
                (true, None) => Some(self.seal_client_secret(&random_text(self, ALPHANUMERIC, 51))?),
                (false, _) => None,
            },
            updated_ms: self.now(),
            ..existing.clone()
        };
        if client != (AppClient { updated_ms: client.updated_ms, ..existing }) {
            self.parts.store.put_client(&client).await?;
            self.forget_settings();
        }
        Ok(client)
    }

    pub async fn describe_user_pool(&self, pool_id: &str) -> Result<UserPool, EngineError> {
        self.pool(pool_id).await
    }

    pub async fn count_users(&self, pool_id: &str) -> Result<i64, EngineError> {
        Ok(self.parts.store.count_users(pool_id).await?)
    }

    pub async fn list_user_pools(&self) -> Result<Vec<UserPool>, EngineError> {
        Ok(self.parts.store.list_pools().await?)
    }

    pub async fn delete_user_pool(&self, pool_id: &str) -> Result<(), EngineError> {
        self.pool(pool_id).await?;
        self.parts.store.delete_pool(pool_id).await?;
        self.forget_keys(pool_id);
        self.forget_settings();
        Ok(())
    }

    /// Creates an app client; returns it and, when generated, its secret (shown once, stored sealed).
    pub async fn create_user_pool_client(
        &self,
        pool_id: &str,
        new: NewClient,
    ) -> Result<(AppClient, Option<String>), EngineError> {
        self.pool(pool_id).await?;
        new.validate()?;
        let id = new.id.unwrap_or_else(|| random_text(self, ALPHANUMERIC, 26));
        if self.parts.store.get_client(&id).await?.is_some() {
            return Err(EngineError::InvalidParameter(format!("User pool client {id} already exists.")));
        }
        let secret = new.generate_secret.then(|| random_text(self, ALPHANUMERIC, 51));
        let now = self.now();
        let client = AppClient {
            id,
            pool_id: pool_id.to_owned(),
            name: new.name,
            secret_sealed: secret.as_deref().map(|s| self.seal_client_secret(s)).transpose()?,
            explicit_auth_flows: new.explicit_auth_flows,
            access_token_validity_secs: new.access_token_validity_secs,
            id_token_validity_secs: new.id_token_validity_secs,
            refresh_token_validity_secs: new.refresh_token_validity_secs,
            prevent_user_existence_errors: new.prevent_user_existence_errors,
            read_attributes: new.read_attributes,
            write_attributes: new.write_attributes,
            enable_token_revocation: true,
            refresh_token_rotation: new.refresh_token_rotation,
            rotation_grace_secs: new.rotation_grace_secs,
            front_door: new.front_door,
            created_ms: now,
            updated_ms: now,
        };
        self.parts.store.put_client(&client).await?;
        self.forget_settings();
        Ok((client, secret))
    }

    pub async fn describe_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClient, EngineError> {
        self.parts.store.get_client(client_id).await?.filter(|client| client.pool_id == pool_id).ok_or_else(
            || EngineError::ResourceNotFound(format!("User pool client {client_id} does not exist.")),
        )
    }

    pub async fn list_user_pool_clients(&self, pool_id: &str) -> Result<Vec<AppClient>, EngineError> {
        self.pool(pool_id).await?;
        Ok(self.parts.store.list_clients(pool_id).await?)
    }

    pub async fn delete_user_pool_client(&self, pool_id: &str, client_id: &str) -> Result<(), EngineError> {
        self.describe_user_pool_client(pool_id, client_id).await?;
        self.parts.store.delete_client(client_id).await?;
        self.forget_settings();
        Ok(())
    }
}

/// The ExplicitAuthFlows values Cognito accepts.
pub const KNOWN_FLOWS: [&str; 6] = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_AUTH",
];
