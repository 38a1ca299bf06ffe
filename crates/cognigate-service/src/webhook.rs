//! The billing webhook: Stripe's signing scheme (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>">`), a replay window, and idempotency by event id, so a billing provider can retry freely.
//! `customer.subscription.created` grants premium, `customer.subscription.deleted` removes it; the
//! customer is named by `data.object.metadata.user_sub` (or `email`).

use std::sync::Arc;

use cognigate_domain::errors::ErrorCode;
use cognigate_token::Clock;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::{AuthService, RequestMeta, normalize_email};
use crate::error::{ServiceError, ServiceResult};
use crate::ports::{AuditOutcome, WebhookLedger};

/// How far a signature's timestamp may be from now, as Stripe's libraries default to.
pub const TOLERANCE_SECS: u64 = 300;

/// The webhook's secret. Debug never shows it.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// What the webhook did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookOutcome {
    /// `processed`, `duplicate` or `ignored`.
    pub status: String,
    pub event_id: String,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<EventData>,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Debug, Deserialize)]
struct EventObject {
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
}

/// The billing webhook.
#[derive(Clone)]
pub struct BillingWebhook {
    secret: Option<WebhookSecret>,
    ledger: Arc<dyn WebhookLedger>,
    customers: Arc<AuthService>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for BillingWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingWebhook")
            .field("secret", &self.secret)
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

/// The signature Stripe would send for `body` at `timestamp` (tests and scripts use this to sign).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    // HMAC takes keys of any length; the error cannot happen.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else { return String::new() };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

impl BillingWebhook {
    pub fn new(
        secret: Option<WebhookSecret>,
        ledger: Arc<dyn WebhookLedger>,
        customers: Arc<AuthService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { secret, ledger, customers, clock }
    }

    /// Checks the signature header against `body`: a `t` within the tolerance and one `v1` that matches,
    /// compared in constant time.
    fn verify(&self, header: Option<&str>, body: &[u8]) -> ServiceResult<()> {
        let refused =
            |why: &str| ServiceError::new(ErrorCode::AuthFailed, format!("The webhook signature {why}."));
        let Some(secret) = &self.secret else {
            return Err(ServiceError::forbidden("The billing webhook is not configured (secrets.webhook)."));
        };
        let header = header.ok_or_else(|| refused("is missing"))?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
                Some(("v1", value)) => signatures.extend(decode_hex(value)),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or_else(|| refused("has no timestamp"))?;
        if self.clock.now().abs_diff(timestamp) > TOLERANCE_SECS {
            return Err(refused("is outside the tolerance window"));
        }
        let matches = signatures.iter().any(|signature| {
            let Ok(mut mac) = HmacSha256::new_from_slice(&secret.0) else { return false };
            mac.update(format!("{timestamp}.").as_bytes());
            mac.update(body);
            mac.verify_slice(signature).is_ok()
        });
        if matches { Ok(()) } else { Err(refused("does not match")) }
    }

    /// Handles one delivery.
    pub async fn handle(
        &self,
        meta: &RequestMeta,
        signature: Option<&str>,
        body: &[u8],
    ) -> ServiceResult<WebhookOutcome> {
        let result = self.handle_inner(signature, body).await;
        let (outcome, detail, target) = match &result {
            Ok(done) => (AuditOutcome::Success, Some(done.status.clone()), Some(done.event_id.clone())),
            Err(error) => (AuditOutcome::Failure, Some(error.code.as_str().to_owned()), None),
        };
        self.customers
            .audit_event(meta, "billing.webhook", outcome, target.as_deref(), detail.as_deref())
            .await;
        result
    }

    async fn handle_inner(&self, signature: Option<&str>, body: &[u8]) -> ServiceResult<WebhookOutcome> {
        self.verify(signature, body)?;
        let event: Event = serde_json::from_slice(body)
            .map_err(|error| ServiceError::validation(format!("the event is not valid JSON: {error}")))?;
        if event.id.is_empty() || event.id.len() > 255 {
            return Err(ServiceError::validation("the event id is missing or too long"));
        }
        let subscribed = match event.kind.as_str() {
            "customer.subscription.created" => true,
            "customer.subscription.deleted" => false,
            _ => return Ok(WebhookOutcome { status: "ignored".to_owned(), event_id: event.id }),
        };
        let now = i64::try_from(self.clock.now()).unwrap_or(i64::MAX).saturating_mul(1000);
        if !self.ledger.record_event(&event.id, now).await? {
            return Ok(WebhookOutcome { status: "duplicate".to_owned(), event_id: event.id });
        }
        match self.apply(&event, subscribed).await {
            Ok(()) => Ok(WebhookOutcome { status: "processed".to_owned(), event_id: event.id }),
            Err(error) => {
                // Not processed: let the billing provider's retry try again.
                if let Err(forget) = self.ledger.forget_event(&event.id).await {
                    tracing::error!(error = %forget, event = %event.id, "a failed webhook event could not be forgotten");
                }
                Err(error)
            }
        }
    }

    async fn apply(&self, event: &Event, subscribed: bool) -> ServiceResult<()> {
        let metadata = event.data.as_ref().map(|data| &data.object.metadata);
        let sub = match (metadata.and_then(|m| m.get("user_sub")), metadata.and_then(|m| m.get("email"))) {
            (Some(sub), _) => sub.clone(),
            (None, Some(email)) => {
                let email = normalize_email(email)?;
                self.customers
                    .mirror()
                    .find_mirror_by_email(self.customers.pool(), &email)
                    .await?
                    .map(|user| user.sub)
                    .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, "No customer has this email."))?
            }
            (None, None) => {
                return Err(ServiceError::validation("data.object.metadata names no user_sub or email"));
            }
        };
        self.customers.set_subscription(&sub, subscribed).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_stripes_scheme() {
        // HMAC-SHA256("whsec", "1700000000.{}") computed independently with Python's hmac module.
        assert_eq!(
            sign(b"whsec", 1_700_000_000, b"{}"),
            "t=1700000000,v1=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af"
        );
        assert_eq!(decode_hex("0aff"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode_hex("0af"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
