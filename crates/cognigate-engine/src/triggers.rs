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

    /// A user changed something about their own account (a verified new email, an authenticator turned on
    /// or off), by any caller. Cognito has no such trigger; cognigate keeps its user mirror in step with it,
    /// so a change made over the wire is not lost to the service. It cannot fail the change, which is done.
    async fn user_changed(&self, _pool_id: &str, _user: &User) {}
}

/// No triggers configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTriggers;

impl Triggers for NoTriggers {}

/// How messages reach people: the outbox (dev), or a real channel (SMTP, ...). A message is kept in the
/// outbox, sealed, only when nothing delivers it: a delivered code or temporary password has no business
/// staying in the database.
#[async_trait]
pub trait Delivery: Send + Sync + std::fmt::Debug {
    /// Delivers one message; an error becomes Cognito's CodeDeliveryFailureException.
    async fn deliver(&self, message: &crate::model::OutboxMessage) -> Result<(), String>;

    /// Whether this message is kept in the outbox for someone to read there: nothing else delivers it.
    fn keeps_in_outbox(&self, _message: &crate::model::OutboxMessage) -> bool {
        false
    }
}

/// The outbox only (dev): nothing leaves the machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutboxOnly;

#[async_trait]
impl Delivery for OutboxOnly {
    async fn deliver(&self, _message: &crate::model::OutboxMessage) -> Result<(), String> {
        Ok(())
    }

    fn keeps_in_outbox(&self, _message: &crate::model::OutboxMessage) -> bool {
        true
    }
}
