//! Hook points for Cognito's Lambda triggers, per pool, and for delivering the outbox. The engine calls them where Cognito would; cognigate
//! plugs in the same trigger logic that runs as Lambdas on AWS, so tokens look the same offline and online.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::EngineError;
use crate::model::User;

/// What PreTokenGeneration sees.
#[derive(Debug, Clone)]
pub struct TokenContext<'a> {
    pub pool_id: &'a str,
    pub client_id: &'a str,
    pub user: &'a User,
    pub groups: &'a [String],
    /// `Authentication`, `RefreshTokens`, `NewPasswordChallenge`, ...
    pub trigger_source: &'a str,
}

/// Claims PreTokenGeneration adds to each token (event version 2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtraClaims {
    pub access: Map<String, Value>,
    pub id: Map<String, Value>,
}

#[async_trait]
pub trait Triggers: Send + Sync + std::fmt::Debug {
    /// May refuse a sign-up (`InvalidParameter`) or auto-confirm it (returns true).
    async fn pre_sign_up(
        &self,
        _pool_id: &str,
        _username: &str,
        _attributes: &BTreeMap<String, String>,
    ) -> Result<bool, EngineError> {
        Ok(false)
    }

    async fn post_confirmation(&self, _pool_id: &str, _user: &User) -> Result<(), EngineError> {
        Ok(())
    }

    async fn pre_token_generation(&self, _context: &TokenContext<'_>) -> Result<ExtraClaims, EngineError> {
        Ok(ExtraClaims::default())
    }

    async fn post_authentication(&self, _pool_id: &str, _user: &User) -> Result<(), EngineError> {
        Ok(())
    }
}

/// No triggers configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTriggers;

impl Triggers for NoTriggers {}

/// Sends what the outbox holds to people (SMTP, ...). The outbox keeps every message either way.
#[async_trait]
pub trait Delivery: Send + Sync + std::fmt::Debug {
    /// Delivers one message; an error becomes Cognito's CodeDeliveryFailureException.
    async fn deliver(&self, message: &crate::model::OutboxMessage) -> Result<(), String>;
}

/// The outbox only (dev): nothing leaves the machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutboxOnly;

#[async_trait]
impl Delivery for OutboxOnly {
    async fn deliver(&self, _message: &crate::model::OutboxMessage) -> Result<(), String> {
        Ok(())
    }
}
