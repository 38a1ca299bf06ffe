//! The onboarding state machine: where an account stands between sign-up and full use, and what each state
//! lets it do.
//!
//! The identity provider only knows "confirmed or not" and "enabled or not"; the product needs more (a
//! dealer waits for a staff member's approval, a premium customer for billing, a staff member for MFA
//! enrolment). Those facts live on the user mirror, and every transition goes through [`transition`] so
//! the auth API, the admin API, the console and `cognigate sync` agree on the rules.

use std::collections::BTreeMap;

use cognigate_config::OnboardingGate;
use serde::{Deserialize, Serialize};

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingState {
    /// Signed up; the email is not confirmed yet.
    PendingVerification,
    /// Confirmed; a staff member has to approve the account.
    PendingApproval,
    /// The account must enrol a second factor.
    PendingMfa,
    /// Billing has to confirm a subscription.
    PendingSubscription,
    /// Fully usable.
    Active,
    /// Temporarily barred by staff; may come back.
    Suspended,
    /// Disabled at the identity provider.
    Disabled,
    /// Refused at approval; final.
    Rejected,
}

impl OnboardingState {
    pub const ALL: [Self; 8] = [
        Self::PendingVerification,
        Self::PendingApproval,
        Self::PendingMfa,
        Self::PendingSubscription,
        Self::Active,
        Self::Suspended,
        Self::Disabled,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingVerification => "pending_verification",
            Self::PendingApproval => "pending_approval",
            Self::PendingMfa => "pending_mfa",
            Self::PendingSubscription => "pending_subscription",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Disabled => "disabled",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// What signing in gives an account in this state.
    pub fn sign_in(self) -> SignInAccess {
        match self {
            // The identity provider refuses unconfirmed accounts itself (NOT_CONFIRMED).
            Self::PendingVerification => SignInAccess::Refused,
            // Tokens, so the user can see where they stand (`me`) and finish the step that is theirs
            // (TOTP enrolment), but no permission is in force until the account is active.
            Self::PendingApproval | Self::PendingMfa => SignInAccess::Limited,
            // The base type's permissions hold; the tier waiting for billing is not in force yet.
            Self::PendingSubscription | Self::Active => SignInAccess::Full,
            Self::Suspended | Self::Disabled | Self::Rejected => SignInAccess::Refused,
        }
    }

    /// Whether permissions are in force (the `active` fact of an authorization request).
    pub fn permissions_in_force(self) -> bool {
        self.sign_in() == SignInAccess::Full
    }

    /// The gate a pending state waits for.
    pub fn gate(self) -> Option<OnboardingGate> {
        match self {
            Self::PendingApproval => Some(OnboardingGate::Approval),
            Self::PendingMfa => Some(OnboardingGate::Mfa),
            Self::PendingSubscription => Some(OnboardingGate::Subscription),
            _ => None,
        }
    }

    fn waiting_for(gate: OnboardingGate) -> Self {
        match gate {
            OnboardingGate::Approval => Self::PendingApproval,
            OnboardingGate::Mfa => Self::PendingMfa,
            OnboardingGate::Subscription => Self::PendingSubscription,
        }
    }
}

impl std::fmt::Display for OnboardingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What signing in gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInAccess {
    /// No tokens.
    Refused,
    /// Tokens, but no permission in force.
    Limited,
    /// Tokens and the account's permissions.
    Full,
}

/// The gates configured for an account: those named for its role or base type, for each of its tiers, and
/// for `"*"`, in the order approval → mfa → subscription (a person is approved before they pay).
pub fn gates_for(
    configured: &BTreeMap<String, Vec<OnboardingGate>>,
    role: &str,
    tiers: &[String],
) -> Vec<OnboardingGate> {
    let mut gates: Vec<OnboardingGate> = configured
        .iter()
        .filter(|(key, _)| {
            key.as_str() == "*" || key.as_str() == role || tiers.iter().any(|t| t == key.as_str())
        })
        .flat_map(|(_, gates)| gates.iter().copied())
        .collect();
    gates.sort();
    gates.dedup();
    gates
}

/// The facts the next state depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateFacts {
    pub approved: bool,
    pub mfa_enrolled: bool,
    pub subscribed: bool,
}

impl GateFacts {
    fn passed(&self, gate: OnboardingGate) -> bool {
        match gate {
            OnboardingGate::Approval => self.approved,
            OnboardingGate::Mfa => self.mfa_enrolled,
            OnboardingGate::Subscription => self.subscribed,
        }
    }
}

/// The state a confirmed, enabled account is in: the first gate it has not passed, or active.
pub fn state_after_gates(gates: &[OnboardingGate], facts: &GateFacts) -> OnboardingState {
    gates
        .iter()
        .find(|gate| !facts.passed(**gate))
        .map_or(OnboardingState::Active, |gate| OnboardingState::waiting_for(*gate))
}

/// Something that happens to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnboardingEvent {
    /// The email was confirmed (or an administrator confirmed the account).
    Confirmed,
    /// A staff member approved the account.
    Approved,
    /// A staff member rejected the account.
    Rejected,
    /// The account enrolled a second factor.
    MfaEnrolled,
    /// Billing confirmed a subscription.
    Subscribed,
    /// The subscription ended (the tier goes; the account stays usable).
    Unsubscribed,
    /// Staff suspended the account.
    Suspended,
    /// Staff lifted a suspension, or re-enabled a disabled account.
    Reinstated,
    /// The account was disabled at the identity provider.
    Disabled,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an account that is {from} cannot be {event}")]
pub struct TransitionRefused {
    pub from: OnboardingState,
    pub event: &'static str,
}

fn event_name(event: OnboardingEvent) -> &'static str {
    match event {
        OnboardingEvent::Confirmed => "confirmed",
        OnboardingEvent::Approved => "approved",
        OnboardingEvent::Rejected => "rejected",
        OnboardingEvent::MfaEnrolled => "marked as enrolled in MFA",
        OnboardingEvent::Subscribed => "subscribed",
        OnboardingEvent::Unsubscribed => "unsubscribed",
        OnboardingEvent::Suspended => "suspended",
        OnboardingEvent::Reinstated => "reinstated",
        OnboardingEvent::Disabled => "disabled",
    }
}

/// The next state after `event`, given the account's gates and the facts *after* the event (the caller
/// records the approval, enrolment or subscription first, then asks where that leaves the account).
pub fn transition(
    from: OnboardingState,
    event: OnboardingEvent,
    gates: &[OnboardingGate],
    facts: &GateFacts,
) -> Result<OnboardingState, TransitionRefused> {
    use OnboardingEvent as E;
    use OnboardingState as S;
    let refused = || TransitionRefused { from, event: event_name(event) };
    let gated = || state_after_gates(gates, facts);
    match (from, event) {
        (S::Rejected, _) => Err(refused()),
        (_, E::Disabled) => Ok(S::Disabled),
        (S::Disabled | S::Suspended, E::Reinstated) => Ok(gated()),
        (_, E::Reinstated) => Err(refused()),
        (S::Disabled, _) => Err(refused()),
        (_, E::Suspended) => Ok(S::Suspended),
        (S::Suspended, _) => Err(refused()),
        (S::PendingVerification, E::Confirmed) => Ok(gated()),
        (S::PendingVerification, _) => Err(refused()),
        (S::PendingApproval, E::Approved) => Ok(gated()),
        (S::PendingApproval, E::Rejected) => Ok(S::Rejected),
        (_, E::Approved | E::Rejected) => Err(refused()),
        // Confirming twice, enrolling or subscribing again: the state follows the facts.
        (_, E::Confirmed | E::MfaEnrolled | E::Subscribed | E::Unsubscribed) => Ok(gated()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates(pairs: &[(&str, &[OnboardingGate])]) -> BTreeMap<String, Vec<OnboardingGate>> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.to_vec())).collect()
    }

    #[test]
    fn gates_come_from_role_tiers_and_star_in_a_fixed_order() {
        let configured = gates(&[
            ("dealer", &[OnboardingGate::Approval]),
            ("premium", &[OnboardingGate::Subscription]),
            ("*", &[OnboardingGate::Mfa]),
        ]);
        assert_eq!(
            gates_for(&configured, "dealer", &["premium".to_owned()]),
            vec![OnboardingGate::Approval, OnboardingGate::Mfa, OnboardingGate::Subscription]
        );
        assert_eq!(gates_for(&configured, "individual", &[]), vec![OnboardingGate::Mfa]);
        assert!(gates_for(&BTreeMap::new(), "dealer", &[]).is_empty());
    }

    #[test]
    fn each_gate_holds_until_its_fact_is_true() {
        let all = [OnboardingGate::Approval, OnboardingGate::Mfa, OnboardingGate::Subscription];
        let mut facts = GateFacts::default();
        assert_eq!(state_after_gates(&all, &facts), OnboardingState::PendingApproval);
        facts.approved = true;
        assert_eq!(state_after_gates(&all, &facts), OnboardingState::PendingMfa);
        facts.mfa_enrolled = true;
        assert_eq!(state_after_gates(&all, &facts), OnboardingState::PendingSubscription);
        facts.subscribed = true;
        assert_eq!(state_after_gates(&all, &facts), OnboardingState::Active);
        assert_eq!(state_after_gates(&[], &GateFacts::default()), OnboardingState::Active);
    }

    #[test]
    fn sign_in_access_is_explicit_for_every_state() {
        use OnboardingState as S;
        let expected = [
            (S::PendingVerification, SignInAccess::Refused),
            (S::PendingApproval, SignInAccess::Limited),
            (S::PendingMfa, SignInAccess::Limited),
            (S::PendingSubscription, SignInAccess::Full),
            (S::Active, SignInAccess::Full),
            (S::Suspended, SignInAccess::Refused),
            (S::Disabled, SignInAccess::Refused),
            (S::Rejected, SignInAccess::Refused),
        ];
        assert_eq!(expected.len(), S::ALL.len());
        for (state, access) in expected {
            assert_eq!(state.sign_in(), access, "{state}");
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn approval_and_rejection_only_from_pending_approval() {
        let gates = [OnboardingGate::Approval];
        let approved = GateFacts { approved: true, ..GateFacts::default() };
        assert_eq!(
            transition(OnboardingState::PendingApproval, OnboardingEvent::Approved, &gates, &approved),
            Ok(OnboardingState::Active)
        );
        assert_eq!(
            transition(OnboardingState::PendingApproval, OnboardingEvent::Rejected, &gates, &approved),
            Ok(OnboardingState::Rejected)
        );
        for from in [OnboardingState::Active, OnboardingState::PendingVerification, OnboardingState::Rejected]
        {
            assert!(transition(from, OnboardingEvent::Approved, &gates, &approved).is_err(), "{from}");
            assert!(transition(from, OnboardingEvent::Rejected, &gates, &approved).is_err(), "{from}");
        }
    }

    #[test]
    fn rejected_is_final_and_disabled_needs_reinstating() {
        let none = GateFacts::default();
        for event in [OnboardingEvent::Confirmed, OnboardingEvent::Reinstated, OnboardingEvent::Subscribed] {
            assert!(transition(OnboardingState::Rejected, event, &[], &none).is_err());
        }
        assert!(transition(OnboardingState::Disabled, OnboardingEvent::Subscribed, &[], &none).is_err());
        assert_eq!(
            transition(OnboardingState::Disabled, OnboardingEvent::Reinstated, &[], &none),
            Ok(OnboardingState::Active)
        );
        assert_eq!(
            transition(
                OnboardingState::Suspended,
                OnboardingEvent::Reinstated,
                &[OnboardingGate::Mfa],
                &none
            ),
            Ok(OnboardingState::PendingMfa)
        );
        assert!(transition(OnboardingState::Active, OnboardingEvent::Reinstated, &[], &none).is_err());
    }

    #[test]
    fn confirmation_moves_to_the_first_gate() {
        let gates = [OnboardingGate::Approval];
        assert_eq!(
            transition(
                OnboardingState::PendingVerification,
                OnboardingEvent::Confirmed,
                &gates,
                &GateFacts::default()
            ),
            Ok(OnboardingState::PendingApproval)
        );
        assert!(
            transition(
                OnboardingState::PendingVerification,
                OnboardingEvent::Approved,
                &gates,
                &GateFacts::default()
            )
            .is_err()
        );
    }
}
