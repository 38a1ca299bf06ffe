//! PostAuthentication: every successful Cognito sign-in becomes one audit event, through the service's
//! own [`Auditor`], so it is the same JSON log line (target `audit`) the service writes, and the same
//! stored row when a store is configured. The action is `auth.authenticated`: Cognito accepted the
//! credentials, whichever client presented them; the auth API's own `auth.login` events say what the API
//! decided on top. A store failure never fails the sign-in (the log line still carries the event).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::cognito::CognitoEventUserPoolsPostAuthentication;
use cognigate_domain::claims::identity_claims;
use cognigate_service::audit::Auditor;
use cognigate_service::ports::{AuditEvent, AuditOutcome, AuditStore};
use serde_json::Value;

use crate::error::TriggerError;
use crate::triggers::confirmation::now_ms;
use crate::triggers::{TriggerState, answer, parse};

const TRIGGER: &str = "PostAuthentication";

/// The audit action of a sign-in Cognito accepted.
pub const AUTHENTICATED: &str = "auth.authenticated";

pub(crate) async fn handle(
    event: Value,
    state: &TriggerState,
    request_id: Option<&str>,
) -> Result<Value, TriggerError> {
    let event: CognitoEventUserPoolsPostAuthentication = parse(TRIGGER, event)?;
    let header = &event.cognito_event_user_pools_header;
    let pool = state.pool(header.user_pool_id.as_deref())?;
    let attributes: BTreeMap<String, String> =
        event.request.user_attributes.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    let sub = attributes
        .get("sub")
        .filter(|sub| !sub.is_empty())
        .cloned()
        .or_else(|| header.user_name.clone())
        .ok_or_else(|| TriggerError::Malformed {
            trigger: TRIGGER,
            message: "no sub and no userName".to_owned(),
        })?;
    let role = identity_claims(state.model(), pool.kind, &attributes, &[]).role;
    let record = AuditEvent {
        id: uuid::Uuid::new_v4().to_string(),
        at: now_ms(),
        pool: pool.kind,
        action: AUTHENTICATED.to_owned(),
        outcome: AuditOutcome::Success,
        actor: Some(sub.clone()),
        actor_role: role,
        target: Some(sub),
        detail: event.request.new_device_used.then(|| "new device".to_owned()),
        address: None,
        user_agent: None,
        request_id: request_id.map(str::to_owned),
    };
    let store: Option<Arc<dyn AuditStore>> = if state.audits_to_store() {
        state.store().await.map(|store| store as Arc<dyn AuditStore>)
    } else {
        None
    };
    // The log line is always written: on AWS it is the one sink that cannot be unreachable.
    Auditor::new(store, true).record(record).await;
    answer(TRIGGER, &event)
}
