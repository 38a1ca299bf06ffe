//! PostConfirmation: a confirmed sign-up becomes an account the rest of cognigate knows.
//!
//! In order: a customer without a base type gets the least privileged one written to `custom:base_type`
//! (a PreSignUp response cannot set attributes, so this is the first moment it can be); the user joins the
//! pool's default group, the least privileged role, which is also the fallback the token claims read; the
//! account's onboarding state after confirmation ([`mirror_after_confirmation`], the auth service's own
//! rule) is written to `custom:onboarding`, which every token's claims are decided by; and, when a store
//! is configured, the user mirror row is written. The first three are the identity and fail the trigger
//! when the identity provider refuses; the mirror row is a copy, so a store failure is logged and left to
//! `cognigate sync`.
//! A confirmed password reset (`PostConfirmation_ConfirmForgotPassword`) changes none of this.

use std::collections::BTreeMap;

use aws_lambda_events::cognito::{
    CognitoEventUserPoolsPostConfirmation, CognitoEventUserPoolsPostConfirmationTriggerSource,
};
use cognigate_config::PoolKind;
use cognigate_domain::claims::ONBOARDING_ATTRIBUTE;
use cognigate_service::auth::default_role;
use cognigate_service::ports::MirrorStore;
use cognigate_service::triggers::{ConfirmedIdentity, mirror_after_confirmation};
use serde_json::Value;

use crate::error::TriggerError;
use crate::triggers::{TriggerState, answer, parse};

const TRIGGER: &str = "PostConfirmation";

pub(crate) async fn handle(event: Value, state: &TriggerState) -> Result<Value, TriggerError> {
    let event: CognitoEventUserPoolsPostConfirmation = parse(TRIGGER, event)?;
    let header = &event.cognito_event_user_pools_header;
    if header.trigger_source != Some(CognitoEventUserPoolsPostConfirmationTriggerSource::ConfirmSignUp) {
        return answer(TRIGGER, &event);
    }
    let pool = state.pool(header.user_pool_id.as_deref())?;
    let malformed = |message: &str| TriggerError::Malformed { trigger: TRIGGER, message: message.to_owned() };
    let username =
        header.user_name.clone().filter(|name| !name.is_empty()).ok_or_else(|| malformed("no userName"))?;
    let mut attributes: BTreeMap<String, String> =
        event.request.user_attributes.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    let sub = attributes
        .get("sub")
        .filter(|sub| !sub.is_empty())
        .cloned()
        .ok_or_else(|| malformed("no sub attribute"))?;
    let provider = pool.provider.as_ref().ok_or_else(|| {
        TriggerError::Misconfigured(format!(
            "the {} pool has no identity provider to add the user to its group",
            pool.kind
        ))
    })?;

    if pool.kind == PoolKind::Customer && attributes.get("custom:base_type").is_none_or(String::is_empty) {
        let base = default_role(PoolKind::Customer).to_owned();
        let update = BTreeMap::from([("custom:base_type".to_owned(), base.clone())]);
        provider.admin_update_user_attributes(&username, &update).await?;
        attributes.insert("custom:base_type".to_owned(), base);
    }
    let group = default_role(pool.kind);
    provider.admin_add_user_to_group(&username, group).await?;
    tracing::info!(pool = %pool.kind, sub = %sub, group, "confirmed sign-up joined the default group");

    let store = state.store().await;
    let existing = match &store {
        Some(store) => store.get_mirror(pool.kind, &sub).await.unwrap_or_else(|error| {
            tracing::error!(pool = %pool.kind, sub = %sub, error = %error, "the mirror row could not be read");
            None
        }),
        None => None,
    };
    let identity =
        ConfirmedIdentity { pool: pool.kind, sub: sub.clone(), username: username.clone(), attributes };
    let row =
        mirror_after_confirmation(existing, &identity, state.settings(pool.kind), state.model(), now_ms());
    let onboarding = BTreeMap::from([(ONBOARDING_ATTRIBUTE.to_owned(), row.onboarding.as_str().to_owned())]);
    provider.admin_update_user_attributes(&username, &onboarding).await?;
    if let Some(store) = store
        && let Err(error) = store.put_mirror(&row).await
    {
        tracing::error!(pool = %pool.kind, sub = %sub, error = %error, "the mirror row could not be written; `cognigate sync` will repair it");
    }
    answer(TRIGGER, &event)
}

/// The wall clock in milliseconds, as the mirror records times.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}
