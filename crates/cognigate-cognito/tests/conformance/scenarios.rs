//! The scenarios, written once against `IdentityProvider`. Each uses its own users, so they can run one
//! after another on the same pool; each returns `Err` with what differed from Cognito's behaviour.

use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use cognigate_provider::*;

use crate::backends::Backend;

pub type Outcome = Result<(), String>;
pub type Run<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
pub type Scenario = for<'a> fn(&'a Backend) -> Run<'a>;

const PASSWORD: &str = "Correct-Horse-9";
const NEW_PASSWORD: &str = "Better-Horse-10";

macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

macro_rules! scenario_list {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), $name as Scenario)),*]
    };
}

pub fn all() -> Vec<(&'static str, Scenario)> {
    scenario_list![
        sign_up_confirm_and_sign_in,
        wrong_confirmation_code_is_refused,
        resend_confirmation_code_replaces_the_code,
        weak_passwords_are_refused,
        duplicate_sign_up_is_refused,
        unknown_user_and_wrong_password_look_alike,
        refresh_issues_new_tokens,
        global_sign_out_revokes_tokens,
        revoke_token_ends_the_refresh_token,
        forgot_password_resets_with_the_code,
        wrong_reset_code_changes_nothing,
        change_password_needs_the_current_one,
        invited_user_sets_a_new_password,
        disabled_user_gets_no_tokens,
        admin_set_password_makes_it_permanent,
        admin_reset_forces_a_new_password,
        totp_enrolment_and_challenge,
        made_up_challenge_session_is_refused,
        groups_are_listed_and_in_tokens,
        list_users_filters_and_pages,
        admin_sign_out_ends_refresh,
        attributes_are_updated_by_admin_and_self,
        deleted_user_is_gone,
        tokens_carry_cognito_claims,
        check_reports_the_pool,
    ]
}

// ----- helpers -----

fn expect_error<T: std::fmt::Debug>(result: ProviderResult<T>, code: ErrorCode, what: &str) -> Outcome {
    match result {
        Err(error) if error.code == code => Ok(()),
        Err(error) => Err(format!("{what}: expected {code}, got {error} ({})", error.exception)),
        Ok(value) => Err(format!("{what}: expected {code}, got success {value:?}")),
    }
}

fn ok<T>(result: ProviderResult<T>, what: &str) -> Result<T, String> {
    result.map_err(|error| format!("{what}: {error} ({})", error.exception))
}

fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn confirmed(b: &Backend, email: &str) -> Outcome {
    let outcome = ok(b.provider.sign_up(email, PASSWORD, &attributes(&[("email", email)])).await, "sign_up")?;
    ensure!(!outcome.confirmed, "a new sign-up must be unconfirmed");
    let code = b.code_for(email).await;
    ok(b.provider.confirm_sign_up(email, &code).await, "confirm_sign_up")
}

async fn tokens(b: &Backend, email: &str, password: &str) -> Result<Tokens, String> {
    match ok(b.provider.sign_in(email, password).await, "sign_in")? {
        AuthStep::SignedIn(tokens) => Ok(tokens),
        AuthStep::Challenge(challenge) => Err(format!("unexpected challenge {}", challenge.name)),
    }
}

async fn invited(b: &Backend, email: &str, temporary: &str) -> Outcome {
    let attrs = attributes(&[("email", email), ("email_verified", "true")]);
    ok(b.provider.admin_create_user(email, &attrs, Some(temporary), true).await, "admin_create_user")?;
    Ok(())
}

fn claims(token: &str) -> Result<serde_json::Value, String> {
    let payload = token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn another_code(code: &str) -> String {
    code.chars()
        .enumerate()
        .map(|(i, c)| if i == 5 { if c == '9' { '0' } else { char::from(c as u8 + 1) } } else { c })
        .collect()
}

fn totp_code(secret_base32: &str, step_offset: i64) -> Result<String, String> {
    let secret =
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_base32.trim_end_matches('='))
            .ok_or("the TOTP secret is not base32")?;
    let totp = cognigate_engine::totp(&secret, 6).map_err(|e| e.to_string())?;
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
    let at = u64::try_from(i64::try_from(now.as_secs()).unwrap_or(0) + step_offset * 30).unwrap_or(0);
    Ok(totp.generate(at).to_string())
}

// ----- scenarios -----

fn sign_up_confirm_and_sign_in(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "first@example.com";
        ok(b.provider.sign_up(email, PASSWORD, &attributes(&[("email", email)])).await, "sign_up")?;
        expect_error(
            b.provider.sign_in(email, PASSWORD).await,
            ErrorCode::NotConfirmed,
            "unconfirmed sign-in",
        )?;
        let code = b.code_for(email).await;
        ok(b.provider.confirm_sign_up(email, &code).await, "confirm_sign_up")?;
        let tokens = tokens(b, email, PASSWORD).await?;
        ensure!(tokens.refresh_token.is_some(), "sign-in must answer a refresh token");
        let user = ok(b.provider.get_user(&tokens.access_token).await, "get_user")?;
        ensure!(user.attribute("email") == Some(email), "get_user email: {:?}", user.attribute("email"));
        let admin_view = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(admin_view.status == "CONFIRMED", "status after confirmation: {}", admin_view.status);
        ensure!(!admin_view.sub.is_empty() && admin_view.sub == user.sub, "sub differs between views");
        Ok(())
    })
}

fn wrong_confirmation_code_is_refused(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "wrong-code@example.com";
        ok(b.provider.sign_up(email, PASSWORD, &attributes(&[("email", email)])).await, "sign_up")?;
        let wrong = another_code(&b.code_for(email).await);
        expect_error(b.provider.confirm_sign_up(email, &wrong).await, ErrorCode::CodeMismatch, "wrong code")?;
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::NotConfirmed, "still unconfirmed")
    })
}

fn resend_confirmation_code_replaces_the_code(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "resend@example.com";
        ok(b.provider.sign_up(email, PASSWORD, &attributes(&[("email", email)])).await, "sign_up")?;
        let delivery = ok(b.provider.resend_confirmation_code(email).await, "resend_confirmation_code")?;
        ensure!(delivery.medium == "EMAIL", "delivery medium {}", delivery.medium);
        ensure!(!delivery.destination.contains("resend@"), "the destination must be masked");
        let code = b.code_for(email).await;
        ok(b.provider.confirm_sign_up(email, &code).await, "confirm with the resent code")?;
        tokens(b, email, PASSWORD).await.map(|_| ())
    })
}

fn weak_passwords_are_refused(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "weak@example.com";
        let attrs = attributes(&[("email", email)]);
        for weak in ["Short-1", "no-upper-case-1", "NO-LOWER-CASE-1", "No-Digits-Here"] {
            expect_error(b.provider.sign_up(email, weak, &attrs).await, ErrorCode::PasswordPolicy, weak)?;
        }
        Ok(())
    })
}

fn duplicate_sign_up_is_refused(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "twice@example.com";
        let attrs = attributes(&[("email", email)]);
        ok(b.provider.sign_up(email, PASSWORD, &attrs).await, "first sign_up")?;
        expect_error(
            b.provider.sign_up(email, PASSWORD, &attrs).await,
            ErrorCode::UserExists,
            "second sign_up",
        )
    })
}

fn unknown_user_and_wrong_password_look_alike(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "alike@example.com";
        confirmed(b, email).await?;
        let wrong =
            b.provider.sign_in(email, "Wrong-Horse-99").await.err().ok_or("wrong password signed in")?;
        let unknown =
            b.provider.sign_in("nobody@example.com", PASSWORD).await.err().ok_or("unknown user signed in")?;
        ensure!(wrong.code == ErrorCode::AuthFailed, "wrong password: {wrong}");
        ensure!(
            (wrong.exception.as_str(), wrong.message.as_str())
                == (unknown.exception.as_str(), unknown.message.as_str()),
            "distinguishable: wrong password {} '{}' vs unknown user {} '{}'",
            wrong.exception,
            wrong.message,
            unknown.exception,
            unknown.message
        );
        Ok(())
    })
}

fn refresh_issues_new_tokens(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "refresh@example.com";
        confirmed(b, email).await?;
        let first = tokens(b, email, PASSWORD).await?;
        let refresh_token = first.refresh_token.clone().ok_or("no refresh token")?;
        let username = ok(b.provider.admin_get_user(email).await, "admin_get_user")?.username;
        let renewed = ok(b.provider.refresh(&refresh_token, &username).await, "refresh")?;
        ensure!(renewed.access_token != first.access_token, "refresh must mint a new access token");
        ok(b.provider.get_user(&renewed.access_token).await, "get_user with the refreshed token")?;
        match &renewed.refresh_token {
            // A client that rotates: the replacement serves, the replaced one no longer does.
            Some(next) if *next != refresh_token => {
                ok(b.provider.refresh(next, &username).await, "refresh with the rotated refresh token")?;
                expect_error(
                    b.provider.refresh(&refresh_token, &username).await,
                    ErrorCode::AuthFailed,
                    "refresh with the replaced refresh token",
                )?;
            }
            _ => {
                ok(b.provider.refresh(&refresh_token, &username).await, "the same refresh token again")?;
            }
        }
        expect_error(
            b.provider.refresh("not-a-refresh-token", &username).await,
            ErrorCode::AuthFailed,
            "garbage",
        )
    })
}

fn global_sign_out_revokes_tokens(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "signout@example.com";
        confirmed(b, email).await?;
        let tokens = tokens(b, email, PASSWORD).await?;
        ok(b.provider.global_sign_out(&tokens.access_token).await, "global_sign_out")?;
        expect_error(
            b.provider.get_user(&tokens.access_token).await,
            ErrorCode::AuthFailed,
            "access after sign-out",
        )?;
        let refresh = tokens.refresh_token.ok_or("no refresh token")?;
        expect_error(
            b.provider.refresh(&refresh, email).await,
            ErrorCode::AuthFailed,
            "refresh after sign-out",
        )
    })
}

fn revoke_token_ends_the_refresh_token(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "revoke@example.com";
        confirmed(b, email).await?;
        let tokens = tokens(b, email, PASSWORD).await?;
        let refresh = tokens.refresh_token.ok_or("no refresh token")?;
        ok(b.provider.revoke_token(&refresh).await, "revoke_token")?;
        expect_error(b.provider.refresh(&refresh, email).await, ErrorCode::AuthFailed, "refresh after revoke")
    })
}

fn forgot_password_resets_with_the_code(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "forgot@example.com";
        confirmed(b, email).await?;
        ok(b.provider.forgot_password(email).await, "forgot_password")?;
        let code = b.code_for(email).await;
        ok(b.provider.confirm_forgot_password(email, &code, NEW_PASSWORD).await, "confirm_forgot_password")?;
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::AuthFailed, "old password")?;
        tokens(b, email, NEW_PASSWORD).await.map(|_| ())
    })
}

fn wrong_reset_code_changes_nothing(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "forgot-wrong@example.com";
        confirmed(b, email).await?;
        ok(b.provider.forgot_password(email).await, "forgot_password")?;
        let wrong = another_code(&b.code_for(email).await);
        let result = b.provider.confirm_forgot_password(email, &wrong, NEW_PASSWORD).await;
        expect_error(result, ErrorCode::CodeMismatch, "wrong reset code")?;
        expect_error(b.provider.sign_in(email, NEW_PASSWORD).await, ErrorCode::AuthFailed, "new password")?;
        tokens(b, email, PASSWORD).await.map(|_| ())
    })
}

fn change_password_needs_the_current_one(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "change@example.com";
        confirmed(b, email).await?;
        let tokens = tokens(b, email, PASSWORD).await?;
        let wrong = b.provider.change_password(&tokens.access_token, "Wrong-Horse-99", NEW_PASSWORD).await;
        expect_error(wrong, ErrorCode::AuthFailed, "change with a wrong current password")?;
        let weak = b.provider.change_password(&tokens.access_token, PASSWORD, "weak").await;
        expect_error(weak, ErrorCode::PasswordPolicy, "change to a weak password")?;
        ok(
            b.provider.change_password(&tokens.access_token, PASSWORD, NEW_PASSWORD).await,
            "change_password",
        )?;
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::AuthFailed, "old password")?;
        self::tokens(b, email, NEW_PASSWORD).await.map(|_| ())
    })
}

fn invited_user_sets_a_new_password(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "invited@example.com";
        invited(b, email, "Temporary-Pass-1").await?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(user.status == "FORCE_CHANGE_PASSWORD", "status {}", user.status);
        expect_error(
            b.provider.sign_in(email, "Wrong-Horse-99").await,
            ErrorCode::AuthFailed,
            "wrong temporary",
        )?;
        let challenge = match ok(b.provider.sign_in(email, "Temporary-Pass-1").await, "sign_in")? {
            AuthStep::Challenge(challenge) => challenge,
            AuthStep::SignedIn(_) => return Err("tokens before the new password".into()),
        };
        ensure!(challenge.name == "NEW_PASSWORD_REQUIRED", "challenge {}", challenge.name);
        let weak = ChallengeAnswer::NewPassword { password: "weak".into(), attributes: Attributes::new() };
        expect_error(
            b.provider.respond_to_challenge(email, &challenge.session, &weak).await,
            ErrorCode::PasswordPolicy,
            "weak new password",
        )?;
        // Cognito may end the session on a failed answer; start again for the real one.
        let challenge = match ok(b.provider.sign_in(email, "Temporary-Pass-1").await, "sign_in again")? {
            AuthStep::Challenge(challenge) => challenge,
            AuthStep::SignedIn(_) => return Err("tokens before the new password".into()),
        };
        let good =
            ChallengeAnswer::NewPassword { password: NEW_PASSWORD.into(), attributes: Attributes::new() };
        match ok(b.provider.respond_to_challenge(email, &challenge.session, &good).await, "new password")? {
            AuthStep::SignedIn(_) => {}
            AuthStep::Challenge(next) => return Err(format!("unexpected challenge {}", next.name)),
        }
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(user.status == "CONFIRMED", "status after the new password: {}", user.status);
        tokens(b, email, NEW_PASSWORD).await.map(|_| ())
    })
}

fn disabled_user_gets_no_tokens(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "disabled@example.com";
        confirmed(b, email).await?;
        let before = tokens(b, email, PASSWORD).await?;
        ok(b.provider.admin_disable_user(email).await, "admin_disable_user")?;
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::AuthFailed, "disabled sign-in")?;
        let refresh = before.refresh_token.ok_or("no refresh token")?;
        expect_error(b.provider.refresh(&refresh, email).await, ErrorCode::AuthFailed, "disabled refresh")?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(!user.enabled, "admin_get_user must show the user disabled");
        ok(b.provider.admin_enable_user(email).await, "admin_enable_user")?;
        tokens(b, email, PASSWORD).await.map(|_| ())
    })
}

fn admin_set_password_makes_it_permanent(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "set-password@example.com";
        invited(b, email, "Temporary-Pass-1").await?;
        let weak = b.provider.admin_set_user_password(email, "weak", true).await;
        expect_error(weak, ErrorCode::PasswordPolicy, "weak admin password")?;
        ok(b.provider.admin_set_user_password(email, NEW_PASSWORD, true).await, "admin_set_user_password")?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(user.status == "CONFIRMED", "status {}", user.status);
        tokens(b, email, NEW_PASSWORD).await.map(|_| ())
    })
}

fn admin_reset_forces_a_new_password(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "reset@example.com";
        confirmed(b, email).await?;
        ok(b.provider.admin_reset_user_password(email).await, "admin_reset_user_password")?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(user.status == "RESET_REQUIRED", "status {}", user.status);
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::PasswordResetRequired, "sign-in")?;
        let code = b.code_for(email).await;
        ok(b.provider.confirm_forgot_password(email, &code, NEW_PASSWORD).await, "confirm_forgot_password")?;
        tokens(b, email, NEW_PASSWORD).await.map(|_| ())
    })
}

fn totp_enrolment_and_challenge(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "totp@example.com";
        confirmed(b, email).await?;
        let first = tokens(b, email, PASSWORD).await?;
        let who = Enrolment::AccessToken(first.access_token.clone());
        let secret = ok(b.provider.associate_software_token(&who).await, "associate_software_token")?;
        let wrong = another_code(&totp_code(&secret.secret_base32, 0)?);
        expect_error(
            b.provider.verify_software_token(&who, &wrong).await,
            ErrorCode::CodeMismatch,
            "wrong code",
        )?;
        // The previous step's code enrols (one step of skew, as Cognito allows); the current one is then
        // still unused for the sign-in challenge.
        let enrol = totp_code(&secret.secret_base32, -1)?;
        ok(b.provider.verify_software_token(&who, &enrol).await, "verify_software_token")?;
        let setting = MfaSetting { enabled: true, preferred: true };
        ok(b.provider.set_mfa_preference(&first.access_token, setting).await, "set_mfa_preference")?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(
            user.mfa_methods.contains(&"SOFTWARE_TOKEN_MFA".to_owned()),
            "MFA methods {:?}",
            user.mfa_methods
        );
        let challenge = match ok(b.provider.sign_in(email, PASSWORD).await, "sign_in")? {
            AuthStep::Challenge(challenge) => challenge,
            AuthStep::SignedIn(_) => return Err("tokens without the second factor".into()),
        };
        ensure!(challenge.name == "SOFTWARE_TOKEN_MFA", "challenge {}", challenge.name);
        let wrong = ChallengeAnswer::TotpCode(another_code(&totp_code(&secret.secret_base32, 0)?));
        expect_error(
            b.provider.respond_to_challenge(email, &challenge.session, &wrong).await,
            ErrorCode::CodeMismatch,
            "wrong TOTP answer",
        )?;
        let challenge = match ok(b.provider.sign_in(email, PASSWORD).await, "sign_in again")? {
            AuthStep::Challenge(challenge) => challenge,
            AuthStep::SignedIn(_) => return Err("tokens without the second factor".into()),
        };
        let right = ChallengeAnswer::TotpCode(totp_code(&secret.secret_base32, 0)?);
        match ok(b.provider.respond_to_challenge(email, &challenge.session, &right).await, "TOTP answer")? {
            AuthStep::SignedIn(_) => Ok(()),
            AuthStep::Challenge(next) => Err(format!("unexpected challenge {}", next.name)),
        }
    })
}

fn made_up_challenge_session_is_refused(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "session@example.com";
        confirmed(b, email).await?;
        let forged = "AYABeMadeUpSessionThatNoServerIssued0123456789";
        for answer in [
            ChallengeAnswer::TotpCode("123456".into()),
            ChallengeAnswer::NewPassword { password: NEW_PASSWORD.into(), attributes: Attributes::new() },
        ] {
            if let Ok(step) = b.provider.respond_to_challenge(email, forged, &answer).await {
                return Err(format!("a made-up session was accepted: {step:?}"));
            }
        }
        expect_error(
            b.provider.sign_in(email, NEW_PASSWORD).await,
            ErrorCode::AuthFailed,
            "hijacked password",
        )?;
        tokens(b, email, PASSWORD).await.map(|_| ())
    })
}

fn groups_are_listed_and_in_tokens(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "grouped@example.com";
        confirmed(b, email).await?;
        ok(b.provider.create_group("dealers", Some("Dealers"), Some(10)).await, "create_group")?;
        expect_error(
            b.provider.create_group("dealers", None, None).await,
            ErrorCode::Conflict,
            "duplicate group",
        )?;
        let groups = ok(b.provider.list_groups().await, "list_groups")?;
        ensure!(groups.iter().any(|g| g.name == "dealers" && g.precedence == Some(10)), "groups {groups:?}");
        ok(b.provider.admin_add_user_to_group(email, "dealers").await, "admin_add_user_to_group")?;
        let mine = ok(b.provider.admin_list_groups_for_user(email).await, "admin_list_groups_for_user")?;
        ensure!(mine == ["dealers"], "groups of the user {mine:?}");
        let members = ok(b.provider.list_users_in_group("dealers").await, "list_users_in_group")?;
        ensure!(members.iter().any(|u| u.attribute("email") == Some(email)), "members {members:?}");
        let tokens = tokens(b, email, PASSWORD).await?;
        for token in [&tokens.access_token, &tokens.id_token] {
            let groups = claims(token)?["cognito:groups"].clone();
            ensure!(groups == serde_json::json!(["dealers"]), "cognito:groups {groups}");
        }
        ok(b.provider.admin_remove_user_from_group(email, "dealers").await, "admin_remove_user_from_group")?;
        let mine = ok(b.provider.admin_list_groups_for_user(email).await, "groups after removal")?;
        ensure!(mine.is_empty(), "groups after removal {mine:?}");
        Ok(())
    })
}

fn list_users_filters_and_pages(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        for i in 0..3 {
            invited(b, &format!("pager-{i}@example.com"), "Temporary-Pass-1").await?;
        }
        let first = ok(b.provider.list_users(Some("email ^= \"pager-\""), Some(2), None).await, "page 1")?;
        ensure!(first.users.len() == 2, "page 1 has {} users", first.users.len());
        let token = first.next.clone().ok_or("no pagination token after a full page")?;
        let second =
            ok(b.provider.list_users(Some("email ^= \"pager-\""), Some(2), Some(&token)).await, "page 2")?;
        ensure!(second.users.len() == 1, "page 2 has {} users", second.users.len());
        let mut seen: Vec<_> =
            first.users.iter().chain(&second.users).filter_map(|u| u.attribute("email")).collect();
        seen.sort_unstable();
        ensure!(seen == ["pager-0@example.com", "pager-1@example.com", "pager-2@example.com"], "{seen:?}");
        let exact =
            ok(b.provider.list_users(Some("email = \"pager-1@example.com\""), None, None).await, "exact")?;
        ensure!(exact.users.len() == 1, "exact filter found {}", exact.users.len());
        let none = ok(b.provider.list_users(Some("email ^= \"nobody-\""), None, None).await, "no match")?;
        ensure!(none.users.is_empty(), "a filter matching nobody found {}", none.users.len());
        Ok(())
    })
}

fn admin_sign_out_ends_refresh(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "admin-signout@example.com";
        confirmed(b, email).await?;
        let tokens = tokens(b, email, PASSWORD).await?;
        ok(b.provider.admin_user_global_sign_out(email).await, "admin_user_global_sign_out")?;
        let refresh = tokens.refresh_token.ok_or("no refresh token")?;
        expect_error(
            b.provider.refresh(&refresh, email).await,
            ErrorCode::AuthFailed,
            "refresh after admin sign-out",
        )?;
        expect_error(
            b.provider.get_user(&tokens.access_token).await,
            ErrorCode::AuthFailed,
            "access after sign-out",
        )
    })
}

fn attributes_are_updated_by_admin_and_self(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "attributes@example.com";
        confirmed(b, email).await?;
        ok(
            b.provider.admin_update_user_attributes(email, &attributes(&[("name", "Ann Admin")])).await,
            "admin",
        )?;
        let user = ok(b.provider.admin_get_user(email).await, "admin_get_user")?;
        ensure!(user.attribute("name") == Some("Ann Admin"), "name {:?}", user.attribute("name"));
        let tokens = tokens(b, email, PASSWORD).await?;
        let update = attributes(&[("given_name", "Ann")]);
        ok(b.provider.update_user_attributes(&tokens.access_token, &update).await, "update_user_attributes")?;
        let me = ok(b.provider.get_user(&tokens.access_token).await, "get_user")?;
        ensure!(me.attribute("given_name") == Some("Ann"), "given_name {:?}", me.attribute("given_name"));
        Ok(())
    })
}

fn deleted_user_is_gone(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "deleted@example.com";
        confirmed(b, email).await?;
        ok(b.provider.admin_delete_user(email).await, "admin_delete_user")?;
        let gone = b.provider.admin_get_user(email).await.err().ok_or("the deleted user is still there")?;
        ensure!(gone.exception == "UserNotFoundException", "admin_get_user after delete: {gone}");
        expect_error(b.provider.sign_in(email, PASSWORD).await, ErrorCode::AuthFailed, "deleted sign-in")
    })
}

fn tokens_carry_cognito_claims(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let email = "claims@example.com";
        confirmed(b, email).await?;
        let tokens = tokens(b, email, PASSWORD).await?;
        let info = b.provider.info();
        let access = claims(&tokens.access_token)?;
        let id = claims(&tokens.id_token)?;
        ensure!(access["token_use"] == "access" && id["token_use"] == "id", "token_use {access} / {id}");
        ensure!(access["client_id"] == info.client_id.as_str(), "client_id {}", access["client_id"]);
        ensure!(id["aud"] == info.client_id.as_str(), "aud {}", id["aud"]);
        for token in [&access, &id] {
            let iss = token["iss"].as_str().unwrap_or_default();
            ensure!(iss.ends_with(&format!("/{}", info.pool_id)), "iss {iss}");
            ensure!(token["sub"].is_string() && token["exp"].as_i64() > token["iat"].as_i64(), "sub/exp/iat");
        }
        ensure!(id["email"] == email, "id token email {}", id["email"]);
        ensure!(access["origin_jti"] == id["origin_jti"] && access["origin_jti"].is_string(), "origin_jti");
        ensure!(
            tokens.expires_in > 0 && tokens.token_type == "Bearer",
            "{} {}",
            tokens.expires_in,
            tokens.token_type
        );
        Ok(())
    })
}

fn check_reports_the_pool(b: &Backend) -> Run<'_> {
    Box::pin(async move {
        let summary = ok(b.provider.check().await, "check")?;
        ensure!(summary.pool_id == b.provider.info().pool_id, "pool id {}", summary.pool_id);
        ensure!(summary.password_minimum_length == 10, "minimum length {}", summary.password_minimum_length);
        ensure!(summary.mfa_configuration == "OPTIONAL", "MFA {}", summary.mfa_configuration);
        Ok(())
    })
}
