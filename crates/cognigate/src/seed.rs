//! What `cognigate dev` puts in an empty installation so a newcomer can open the console at once: a first
//! super_admin with a one-time temporary password (random, printed once, never a fixed one), two teams,
//! staff in each, and a few customers in every onboarding situation the console handles (active,
//! premium, dealers waiting for approval in each team).
//!
//! Seeding runs only when no super_admin exists yet, so a restart never adds a second set or a new
//! password. Demo accounts other than the super_admin get invitations with temporary passwords, readable
//! in the dev outbox (console → Outbox, or `cognigate outbox`).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use cognigate_config::{PasswordPolicy, PoolKind};
use cognigate_http::auth::AuthApi;
use cognigate_service::auth::{Invitation, RequestMeta};
use cognigate_service::ports::{MirrorQuery, Team, TeamStore};
use rand::Rng as _;
use rand::seq::IndexedRandom as _;

/// The first super_admin's email.
pub const FIRST_ADMIN: &str = "admin@example.com";

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeded {
    /// A super_admin existed: nothing was added.
    AlreadySeeded,
    /// The first super_admin (with its one-time temporary password) and the demo accounts.
    Created { admin_email: String, temporary_password: String, demo_accounts: usize },
}

const TEAMS: [(&str, &str); 2] =
    [("sales-north", "Dealers and sales in the north"), ("sales-south", "Dealers and sales in the south")];

const STAFF: [(&str, &str, Option<&str>); 5] = [
    ("ops.admin@example.com", "admin", None),
    ("north.manager@example.com", "manager", Some("sales-north")),
    ("north.member@example.com", "team_member", Some("sales-north")),
    ("south.manager@example.com", "manager", Some("sales-south")),
    ("south.member@example.com", "team_member", Some("sales-south")),
];

/// (email, base type, team, premium, approved)
const CUSTOMERS: [(&str, &str, Option<&str>, bool, bool); 5] = [
    ("alice@example.com", "individual", None, false, true),
    ("bob.premium@example.com", "individual", None, true, true),
    ("acme-motors@example.com", "dealer", Some("sales-north"), false, true),
    ("north-dealer@example.com", "dealer", Some("sales-north"), false, false),
    ("south-dealer@example.com", "dealer", Some("sales-south"), false, false),
];

/// Seeds an empty installation; does nothing when a super_admin exists.
pub async fn dev(api: &AuthApi, teams: &dyn TeamStore, with_demo: bool) -> Result<Seeded> {
    let staff = &api.staff;
    let existing = staff
        .mirror()
        .list_mirror(&MirrorQuery {
            pool: Some(PoolKind::Staff),
            role: Some(cognigate_config::SUPER_ADMIN.to_owned()),
            limit: 1,
            ..MirrorQuery::default()
        })
        .await
        .context("cannot read the user mirror")?;
    if !existing.is_empty() {
        return Ok(Seeded::AlreadySeeded);
    }
    let meta = RequestMeta {
        address: None,
        user_agent: Some("cognigate dev (seeding)".to_owned()),
        request_id: None,
    };
    let first_password = temporary_password(&staff.settings().password);
    let invitation = |email: &str, role: &str, team: Option<&str>, password: String| Invitation {
        email: email.to_owned(),
        role: role.to_owned(),
        team: team.map(str::to_owned),
        attributes: BTreeMap::new(),
        temporary_password: Some(password),
    };
    staff
        .invite_staff(
            &meta,
            None,
            invitation(FIRST_ADMIN, cognigate_config::SUPER_ADMIN, None, first_password.clone()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first super_admin: {e}"))?;
    let mut demo_accounts = 0;
    if with_demo {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        for (name, description) in TEAMS {
            let team = Team { name: name.to_owned(), description: description.to_owned(), created_at: now };
            teams.create_team(&team).await.map_err(|e| anyhow::anyhow!("cannot create team {name}: {e}"))?;
        }
        for (email, role, team) in STAFF {
            let password = temporary_password(&staff.settings().password);
            staff
                .invite_staff(&meta, None, invitation(email, role, team, password))
                .await
                .map_err(|e| anyhow::anyhow!("cannot invite {email}: {e}"))?;
            demo_accounts += 1;
        }
        for (email, base, team, premium, approved) in CUSTOMERS {
            let mut attributes = BTreeMap::from([("custom:base_type".to_owned(), base.to_owned())]);
            if let Some(team) = team {
                attributes.insert("custom:team".to_owned(), team.to_owned());
            }
            if premium {
                attributes.insert("custom:tier".to_owned(), "premium".to_owned());
            }
            api.customer
                .provision(email, &attributes, None, approved)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create {email}: {e}"))?;
            demo_accounts += 1;
        }
    }
    Ok(Seeded::Created {
        admin_email: FIRST_ADMIN.to_owned(),
        temporary_password: first_password,
        demo_accounts,
    })
}

/// A random password that meets `policy` (and at least 16 characters), from an alphabet without
/// look-alike characters so it can be typed from a terminal.
pub fn temporary_password(policy: &PasswordPolicy) -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-=?@^_";
    let mut rng = rand::rng();
    let length = usize::try_from(policy.min_length).unwrap_or(16).max(16);
    // One of every class, then any class, then shuffled.
    let classes: [&[u8]; 4] = [LOWER, UPPER, DIGITS, SYMBOLS];
    let mut bytes: Vec<u8> = classes.iter().filter_map(|class| class.choose(&mut rng).copied()).collect();
    while bytes.len() < length {
        let class = classes[rng.random_range(0..classes.len())];
        if let Some(byte) = class.choose(&mut rng) {
            bytes.push(*byte);
        }
    }
    for i in (1..bytes.len()).rev() {
        bytes.swap(i, rng.random_range(0..=i));
    }
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 20,
            require_lowercase: true,
            require_uppercase: true,
            require_digits: true,
            require_symbols: true,
            temporary_password_validity: cognigate_config::HumanDuration::from_secs(86_400),
        }
    }

    #[test]
    fn temporary_passwords_meet_the_policy_and_differ() {
        let policy = strict();
        let a = temporary_password(&policy);
        let b = temporary_password(&policy);
        assert_ne!(a, b);
        for password in [a, b] {
            assert_eq!(password.len(), 20);
            assert!(password.chars().any(|c| c.is_ascii_lowercase()));
            assert!(password.chars().any(|c| c.is_ascii_uppercase()));
            assert!(password.chars().any(|c| c.is_ascii_digit()));
            assert!(password.chars().any(|c| !c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn short_policies_still_get_sixteen_characters() {
        let policy = PasswordPolicy { min_length: 8, ..strict() };
        assert_eq!(temporary_password(&policy).len(), 16);
    }
}
