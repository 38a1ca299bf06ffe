//! `cognigate sync`: reconciles the user mirror with the identity provider, which owns identities. Users
//! the provider has and the mirror lacks (a registration cut off between its two steps, accounts created
//! in the AWS console) get a mirror row; rows whose identity is gone are removed; fields the provider owns
//! (email, status, enabled, MFA, role, team, tier) are copied over; and the onboarding state, which the
//! mirror owns, is written back to the identity (`custom:onboarding`, which token claims are decided by)
//! wherever the identity says otherwise — accounts created before cognigate recorded it, or outside it,
//! get no permission in their tokens until then. The report lists every change.

use std::collections::HashSet;

use cognigate_domain::onboarding::{OnboardingEvent, OnboardingState, transition};
use serde::Serialize;

use cognigate_domain::claims::ONBOARDING_ATTRIBUTE;

use crate::auth::{AuthService, bars};
use crate::error::ServiceResult;
use crate::ports::{MirrorQuery, MirrorUser};

/// What a sync found and did, per pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub pool: String,
    /// Identities seen at the provider.
    pub identities: u64,
    /// Mirror rows created for identities that had none.
    pub created: Vec<String>,
    /// Mirror rows corrected, with the fields that differed.
    #[schema(value_type = Vec<Object>)]
    pub updated: Vec<(String, Vec<String>)>,
    /// Mirror rows removed because their identity no longer exists.
    pub removed: Vec<String>,
    /// True when changes were only reported.
    pub dry_run: bool,
}

impl SyncReport {
    pub fn drift(&self) -> usize {
        self.created.len() + self.updated.len() + self.removed.len()
    }
}

/// Provider pages are Cognito's maximum.
const PAGE: i32 = 60;

/// Reconciles one pool. With `dry_run`, reports without writing.
pub async fn sync_pool(service: &AuthService, dry_run: bool) -> ServiceResult<SyncReport> {
    let pool = service.pool();
    let mut report = SyncReport { pool: pool.as_str().to_owned(), dry_run, ..SyncReport::default() };
    let mut seen = HashSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = service.provider().list_users(None, Some(PAGE), token.as_deref()).await?;
        for record in &page.users {
            report.identities += 1;
            seen.insert(record.sub.clone());
            let fresh = service.mirror_from_record(record);
            let existed = service.mirror().get_mirror(pool, &record.sub).await?;
            let created = existed.is_none();
            let row = match existed {
                None => {
                    report.created.push(record.sub.clone());
                    if !dry_run {
                        service.mirror().put_mirror(&fresh).await?;
                    }
                    fresh
                }
                Some(existing) => {
                    let (merged, fields) = merge(&existing, &fresh);
                    if !fields.is_empty() {
                        report.updated.push((record.sub.clone(), fields));
                        if !dry_run {
                            service.mirror().put_mirror(&merged).await?;
                        }
                    }
                    merged
                }
            };
            let mut identity = Vec::new();
            if record.attribute(ONBOARDING_ATTRIBUTE) != Some(row.onboarding.as_str()) {
                identity.push("identity onboarding".to_owned());
                if !dry_run {
                    service.publish_onboarding(&record.username, row.onboarding).await?;
                }
            }
            if bars(row.onboarding) && record.enabled {
                identity.push("identity enabled".to_owned());
                if !dry_run {
                    service.provider().admin_disable_user(&record.username).await?;
                }
            }
            // A new row's identity is brought in line as part of creating it.
            if !identity.is_empty() && !created {
                match report.updated.iter_mut().find(|(sub, _)| *sub == record.sub) {
                    Some((_, fields)) => fields.extend(identity),
                    None => report.updated.push((record.sub.clone(), identity)),
                }
            }
        }
        match page.next {
            Some(next) if !page.users.is_empty() => token = Some(next),
            _ => break,
        }
    }
    let mut after: Option<String> = None;
    loop {
        let rows = service
            .mirror()
            .list_mirror(&MirrorQuery {
                pool: Some(pool),
                after: after.clone(),
                limit: 500,
                ..MirrorQuery::default()
            })
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.sub.clone());
        for row in rows.iter().filter(|row| !seen.contains(&row.sub)) {
            report.removed.push(row.sub.clone());
            if !dry_run {
                service.mirror().delete_mirror(pool, &row.sub).await?;
            }
        }
    }
    Ok(report)
}

/// The mirror row with the provider-owned fields of `fresh`, and the names of the fields that changed.
/// What only the mirror knows (approval, onboarding history, last login) is kept.
fn merge(existing: &MirrorUser, fresh: &MirrorUser) -> (MirrorUser, Vec<String>) {
    let mut merged = existing.clone();
    let mut fields = Vec::new();
    macro_rules! copy {
        ($($field:ident),*) => {$(
            if merged.$field != fresh.$field {
                merged.$field = fresh.$field.clone();
                fields.push(stringify!($field).to_owned());
            }
        )*};
    }
    copy!(username, email, status, enabled, mfa_enabled, role, team, premium);
    if merged.premium && !merged.subscribed {
        merged.subscribed = true;
    }
    let next = if !merged.enabled {
        OnboardingState::Disabled
    } else if existing.onboarding == OnboardingState::Disabled {
        // Re-enabled at the provider: the state follows the gates again.
        fresh.onboarding
    } else if existing.onboarding == OnboardingState::PendingVerification && merged.status != "UNCONFIRMED" {
        transition(existing.onboarding, OnboardingEvent::Confirmed, &[], &Default::default())
            .map(|_| fresh.onboarding)
            .unwrap_or(existing.onboarding)
    } else {
        existing.onboarding
    };
    if next != merged.onboarding {
        merged.onboarding = next;
        fields.push("onboarding".to_owned());
    }
    if !fields.is_empty() {
        merged.updated_at = fresh.updated_at;
    }
    (merged, fields)
}
