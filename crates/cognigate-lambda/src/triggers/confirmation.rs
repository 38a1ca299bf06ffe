//! PostConfirmation: a confirmed sign-up becomes an account the rest of cognigate knows, by the one hook
//! the embedded engine runs too ([`confirm_identity`]: base type, default group, `custom:onboarding`, the
//! mirror row).
//! A confirmed password reset (`PostConfirmation_ConfirmForgotPassword`) changes none of this.

use std::collections::BTreeMap;

use aws_lambda_events::cognito::{
    CognitoEventUserPoolsPostConfirmation, CognitoEventUserPoolsPostConfirmationTriggerSource,
};
use cognigate_service::ports::MirrorStore;
use cognigate_service::triggers::{ConfirmedIdentity, confirm_identity};
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
    let attributes: BTreeMap<String, String> =
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

    let store = state.store().await;
    let identity = ConfirmedIdentity { pool: pool.kind, sub, username, attributes };
    confirm_identity(
        provider.as_ref(),
        store.as_deref().map(|store| store as &dyn MirrorStore),
        state.settings(pool.kind),
        state.model(),
        identity,
        now_ms(),
    )
    .await?;
    answer(TRIGGER, &event)
}

/// The wall clock in milliseconds, as the mirror records times.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}
