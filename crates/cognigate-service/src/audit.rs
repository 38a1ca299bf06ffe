//! The audit trail: every auth event (and, through the admin API, every admin action) goes to the
//! configured sinks — the store, where the console queries it, and the log, one JSON line per event for
//! CloudWatch or any collector. Events carry identifiers and outcomes only; the type has no field that
//! could hold a password, code, token or secret.

use std::sync::Arc;

use crate::ports::{AuditEvent, AuditStore};

/// Writes audit events to the configured sinks.
#[derive(Debug, Clone)]
pub struct Auditor {
    store: Option<Arc<dyn AuditStore>>,
    log: bool,
}

impl Auditor {
    pub fn new(store: Option<Arc<dyn AuditStore>>, log: bool) -> Self {
        Self { store, log }
    }

    /// Records `event`. A store failure is logged, never turned into the caller's failure: the action has
    /// already happened, and the log line (when that sink is on) still carries the event.
    pub async fn record(&self, event: AuditEvent) {
        if self.log {
            tracing::info!(
                target: "audit",
                event_id = %event.id,
                at = event.at,
                pool = %event.pool,
                action = %event.action,
                outcome = event.outcome.as_str(),
                actor = event.actor.as_deref().unwrap_or(""),
                actor_role = event.actor_role.as_deref().unwrap_or(""),
                target_id = event.target.as_deref().unwrap_or(""),
                detail = event.detail.as_deref().unwrap_or(""),
                address = event.address.as_deref().unwrap_or(""),
                user_agent = event.user_agent.as_deref().unwrap_or(""),
                request_id = event.request_id.as_deref().unwrap_or(""),
                "audit"
            );
        }
        if let Some(store) = &self.store
            && let Err(error) = store.append_audit(&event).await
        {
            tracing::error!(error = %error, action = %event.action, "the audit event could not be stored");
        }
    }
}
