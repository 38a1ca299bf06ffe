//! `docs/flows.md`: the auth flows of each pool as Mermaid sequence diagrams.
//!
//! The diagrams are drawn from the pool's settings, so they say what this configuration does: a pool that
//! does not register itself has no registration diagram, a pool whose MFA is off has no MFA diagram, and the
//! lifetimes, lockout, rate limits, password rules and onboarding gates in the notes are the configured ones.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use cognigate_config::{
    Config, Environment, MailDelivery, MfaMethod, MfaMode, OnboardingGate, PoolConfig, PoolKind,
    RateLimitedRoute, SignUpMode,
};
use cognigate_domain::claims::ONBOARDING_CLAIM;
use cognigate_domain::errors::ErrorCode;
use cognigate_domain::onboarding::OnboardingState;

use crate::markdown::{GENERATED, escape, toml_name};

/// The auth flows page for `config`, as loaded for `environment`.
pub fn flows_page(environment: Environment, config: &Config) -> String {
    let mut out = String::from(GENERATED);
    out.push_str("# Auth flows\n\n");
    let mail = match config.mail.delivery {
        MailDelivery::Outbox => "the outbox (`mail.delivery = \"outbox\"`; read it with `cognigate outbox`)",
        MailDelivery::Smtp => "the outbox and out by SMTP (`mail.delivery = \"smtp\"`)",
    };
    let _ = writeln!(
        out,
        "How an app signs people in through cognigate's auth API (`/auth/customer/*` and `/auth/staff/*`), one \
         sequence diagram per flow and pool, drawn from the `{environment}` settings of `cognigate.toml`: which pools \
         register themselves and which are invited, whether MFA is off, optional or required, token lifetimes, \
         lockout, rate limits, password rules and onboarding gates. Change a setting and these diagrams change with \
         it. cognigate holds no password itself: the identity provider does, the embedded engine (`provider = \
         \"local\"`) or AWS Cognito (`provider = \"cognito\"`), and cognigate calls either with Cognito's operations \
         (SignUp, InitiateAuth, RespondToAuthChallenge...). The user mirror is cognigate's own record of each \
         account (onboarding state, role, team, whether TOTP is enrolled); the audit log records every attempt and \
         its outcome, never a password, code or token. The engine's codes and invitations, and cognigate's own \
         notices to account owners, go to {mail}; AWS Cognito emails its own codes and invitations. Failures are \
         answered with the API's stable error codes and their HTTP status, and a wait (`RATE_LIMITED`, `LOCKED`) \
         with `Retry-After`.\n"
    );

    pools_table(&mut out, config);
    for kind in PoolKind::ALL {
        pool_section(&mut out, &Pool { kind, settings: config.pools.get(kind), config });
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The settings the diagrams depend on, side by side.
fn pools_table(out: &mut String, config: &Config) {
    let pools: Vec<Pool<'_>> = PoolKind::ALL
        .into_iter()
        .map(|kind| Pool { kind, settings: config.pools.get(kind), config })
        .collect();
    let heads: Vec<String> =
        pools.iter().map(|p| format!("{} (`{}`)", escape(p.display()), p.kind)).collect();
    let _ = writeln!(out, "| setting | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(pools.len()));
    let mut row = |label: &str, cell: &dyn Fn(&Pool<'_>) -> String| {
        let cells: Vec<String> = pools.iter().map(|p| escape(&cell(p))).collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    };
    row("sign-up (`sign_up`)", &|p| match p.settings.sign_up {
        SignUpMode::SelfService => "`self`: anyone registers".to_owned(),
        SignUpMode::AdminOnly => "`admin_only`: invited by staff".to_owned(),
    });
    row("MFA (`mfa.mode`, `mfa.methods`)", &|p| {
        let methods: Vec<String> = p.settings.mfa.methods.iter().map(toml_name).collect();
        match p.settings.mfa.mode {
            MfaMode::Off => "`off`".to_owned(),
            mode => format!("`{}` ({})", toml_name(&mode), methods.join(", ")),
        }
    });
    row("tokens (`tokens`: access / ID / refresh)", &|p| {
        let tokens = &p.settings.tokens;
        format!("{} / {} / {}", tokens.access, tokens.id, tokens.refresh)
    });
    row("refresh tokens (`tokens.rotate_refresh`, `tokens.rotation_grace`)", &|p| {
        let tokens = &p.settings.tokens;
        if tokens.rotate_refresh {
            format!("rotated at each refresh; a replaced one is accepted {} longer", tokens.rotation_grace)
        } else {
            "not rotated".to_owned()
        }
    });
    row("failed sign-ins (`lockout`)", &|p| {
        let lockout = &p.settings.lockout;
        format!(
            "per address: from {} failures within {}, waits of 1s doubling up to {}; per account: from {}, \
             up to {}",
            lockout.max_failures,
            lockout.window,
            lockout.duration,
            lockout.account_max_failures,
            lockout.account_max_delay
        )
    });
    row("onboarding gates (`onboarding.gates`)", &|p| {
        let gates = p.gate_list();
        if gates.is_empty() { "none".to_owned() } else { gates.join(", ") }
    });
    out.push('\n');
}

fn pool_section(out: &mut String, pool: &Pool<'_>) {
    let _ = writeln!(out, "## {} (`{}` pool)\n", pool.display(), pool.kind);
    match pool.settings.mfa.mode {
        MfaMode::Off => {
            let _ = writeln!(
                out,
                "MFA is off for this pool (`{} = \"off\"`): there is no MFA challenge and no TOTP enrolment, so \
                 those diagrams are left out.\n",
                pool.key("mfa.mode")
            );
        }
        _ if !pool.totp() => {
            let _ = writeln!(
                out,
                "MFA is `{}` for this pool but TOTP is not among `{}`: its SMS challenges are not drawn here.\n",
                toml_name(&pool.settings.mfa.mode),
                pool.key("mfa.methods")
            );
        }
        _ => {}
    }

    match pool.settings.sign_up {
        SignUpMode::SelfService => {
            heading(out, pool, "registration and confirmation");
            let _ = writeln!(
                out,
                "`{} = \"self\"`: anyone registers with an email and a password, then confirms the email with \
                 the code sent to it. An address that already has an account gets the same answer as a new one, \
                 and its owner is told by email instead. Confirmation moves the account to its first onboarding \
                 gate, or makes it active.\n",
                pool.key("sign_up")
            );
            registration(pool).finish(out);
        }
        SignUpMode::AdminOnly => {
            heading(out, pool, "first sign-in after an invitation");
            let mfa = if pool.mfa_required() {
                " MFA is required, so the first sign-in also enrols an authenticator app (MFA_SETUP)."
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "`{} = \"admin_only\"`: nobody registers; an administrator invites the account, and the first \
                 sign-in replaces the temporary password (NEW_PASSWORD_REQUIRED).{mfa}\n",
                pool.key("sign_up")
            );
            invitation(pool).finish(out);
        }
    }

    if !pool.mfa_required() {
        heading(out, pool, "sign-in");
        let who = if pool.totp() { "an account without TOTP" } else { "every account" };
        let _ = writeln!(
            out,
            "Email and password: {who} gets its tokens at once. The rate limit and the waits that failures \
             impose are checked before the identity provider is asked.\n"
        );
        sign_in_plain(pool).finish(out);
    }
    if pool.totp() {
        heading(out, pool, "sign-in with MFA");
        let who = if pool.mfa_required() {
            "MFA is required: every sign-in answers a SOFTWARE_TOKEN_MFA challenge once TOTP is enrolled"
        } else {
            "MFA is optional: an account that enrolled TOTP answers a SOFTWARE_TOKEN_MFA challenge"
        };
        let _ = writeln!(
            out,
            "{who}, with a code from the authenticator app, before it gets tokens. An account that lost its \
             authenticator signs in once with one of its recovery codes instead.\n"
        );
        sign_in_mfa(pool).finish(out);
    }
    if pool.totp() && pool.mfa_required() && pool.settings.sign_up == SignUpMode::SelfService {
        heading(out, pool, "first sign-in: TOTP set-up");
        out.push_str(
            "MFA is required, so an account that has not enrolled TOTP yet gets an MFA_SETUP challenge instead of \
             tokens and enrols an authenticator app to finish signing in.\n\n",
        );
        first_sign_in_mfa_setup(pool).finish(out);
    }
    if pool.totp() && !pool.mfa_required() {
        heading(out, pool, "TOTP enrolment");
        out.push_str(
            "A signed-in account turns MFA on by enrolling an authenticator app, with its access token and its \
             password (and a current code, to replace an authenticator it has). Turning MFA off takes the password \
             and a current code.\n\n",
        );
        totp_enrolment(pool).finish(out);
    }

    heading(out, pool, "refresh");
    let tokens = &pool.settings.tokens;
    let rotation = if tokens.rotate_refresh {
        format!(
            "Each refresh also answers a new refresh token and replaces the one presented (`{} = true`); a \
             replaced one presented again after {} (`{}`) ends the whole sign-in.",
            pool.key("tokens.rotate_refresh"),
            tokens.rotation_grace,
            pool.key("tokens.rotation_grace")
        )
    } else {
        format!(
            "The refresh token stays the same until it expires (`{} = false`).",
            pool.key("tokens.rotate_refresh")
        )
    };
    let _ = writeln!(
        out,
        "New access and ID tokens ({} and {}) for a refresh token ({}), without the password. {rotation} A \
         revoked or expired refresh token is refused.\n",
        tokens.access, tokens.id, tokens.refresh
    );
    refresh(pool).finish(out);

    heading(out, pool, "password reset");
    out.push_str(
        "A code by email, then a new password. Both answers are the same whether or not the account exists. A \
         reset with the emailed code works while failed sign-ins make the account wait, lifts those waits, and \
         ends every session of the account.\n\n",
    );
    password_reset(pool).finish(out);

    heading(out, pool, "sign-out everywhere");
    out.push_str(
        "Ends every session of the account: its refresh tokens are revoked, and access tokens issued before are \
         refused from then on, because the token verifier's revocation check sees the sign-out. Revocations are \
         stored, so they outlast a restart.\n\n",
    );
    sign_out(pool).finish(out);
}

fn heading(out: &mut String, pool: &Pool<'_>, flow: &str) {
    let _ = writeln!(out, "### {}: {flow}\n", pool.display());
}

// --- The flows -----------------------------------------------------------------------------------------

fn registration(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mail, Who::Mirror, Who::Audit]);
    d.call(
        APP,
        ME,
        format!("POST {} {{email, password, baseType, plan, attributes}}", pool.path("register")),
    );
    pool.rate_limit_note(&mut d, RateLimitedRoute::Register);
    d.call(ME, PROVIDER, "SignUp (email, password, attributes)");
    d.note(
        PROVIDER,
        format!(
            "{}<br/>(the embedded engine judges it before it looks the address up)",
            pool.password_note()
        ),
    );
    d.open("alt", "password too weak");
    d.reply(PROVIDER, ME, "InvalidPasswordException");
    d.call(ME, AUDIT, format!("registration refused ({})", ErrorCode::PasswordPolicy.as_str()));
    d.reply(ME, APP, answer(ErrorCode::PasswordPolicy));
    d.otherwise("the address already has an account");
    d.reply(PROVIDER, ME, "UsernameExistsException");
    d.call(
        ME,
        MAIL,
        "notice to the owner: someone tried to register with this address (at most once an hour per address)",
    );
    d.call(ME, AUDIT, "registration accepted");
    d.reply(ME, APP, format!("{REGISTRATION_ACCEPTED}: the same answer as for a new account"));
    d.otherwise("a new account, unconfirmed");
    d.call(PROVIDER, MAIL, "confirmation code (6 digits)");
    d.reply(PROVIDER, ME, "sub, UserConfirmed = false");
    d.call(
        ME,
        PROVIDER,
        format!(
            "AdminUpdateUserAttributes: custom:base_type, custom:onboarding = {}",
            OnboardingState::PendingVerification
        ),
    );
    d.call(ME, MIRROR, format!("write the account: {}", OnboardingState::PendingVerification));
    d.call(ME, AUDIT, "registration accepted");
    d.reply(ME, APP, REGISTRATION_ACCEPTED);
    d.close();
    d.note_over(
        &[APP, ME],
        format!(
            "No code? POST {} {{email}} answers 200 {{accepted: true, message}} whether or not the account \
             exists and waits for confirmation",
            pool.path("resend-code")
        ),
    );
    d.call(APP, ME, format!("POST {} {{email, code}}", pool.path("confirm")));
    pool.rate_limit_note(&mut d, RateLimitedRoute::Confirm);
    d.call(ME, PROVIDER, "ConfirmSignUp (email, code)");
    d.open("alt", "wrong or expired code, unknown address, or already confirmed");
    d.reply(PROVIDER, ME, "CodeMismatchException, ExpiredCodeException or NotAuthorizedException");
    d.call(ME, AUDIT, format!("confirmation failed ({})", ErrorCode::CodeMismatch.as_str()));
    d.reply(ME, APP, format!("{}: one answer for every reason", answer(ErrorCode::CodeMismatch)));
    d.otherwise("code accepted");
    d.note(
        PROVIDER,
        "PostConfirmation hook: cognigate_service::triggers::confirm_identity<br/>(the Lambda on AWS Cognito, \
         the same function in the embedded engine)",
    );
    d.call(
        PROVIDER,
        PROVIDER,
        "custom:base_type (the least privileged when none), the default group, custom:onboarding = the state below",
    );
    d.call(
        PROVIDER,
        MIRROR,
        format!(
            "{} → first onboarding gate, or {}",
            OnboardingState::PendingVerification,
            OnboardingState::Active
        ),
    );
    d.note(MIRROR, pool.gates_note());
    d.reply(PROVIDER, ME, "confirmed");
    d.call(ME, PROVIDER, "AdminGetUser (email)");
    d.call(
        ME,
        MIRROR,
        format!(
            "read the row: one still {} (the hook's write lost) moves on, custom:onboarding first",
            OnboardingState::PendingVerification
        ),
    );
    d.call(ME, AUDIT, "email confirmed");
    d.reply(ME, APP, "200 {confirmed: true, onboardingState}: sign in next");
    d.close();
    d
}

fn invitation(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mail, Who::Mirror, Who::Audit]);
    d.note_over(&[ME, PROVIDER], "Earlier, an administrator invited the account (AdminCreateUser)");
    d.call(
        PROVIDER,
        MAIL,
        format!(
            "invitation: email and temporary password, valid {} ({})",
            pool.settings.password.temporary_password_validity,
            pool.key("password.temporary_password_validity")
        ),
    );
    sign_in_start(&mut d, pool, Password::Temporary, |d| {
        d.reply(PROVIDER, ME, "challenge NEW_PASSWORD_REQUIRED, session");
        d.reply(ME, APP, "200 {challenge: NEW_PASSWORD_REQUIRED, session, mfaRequired: false}");
        d.call(
            APP,
            ME,
            format!(
                "POST {} {{email, challenge: NEW_PASSWORD_REQUIRED, session, newPassword}}",
                pool.path("challenge")
            ),
        );
        pool.rate_limit_note(d, RateLimitedRoute::RespondToChallenge);
        d.call(ME, PROVIDER, "RespondToAuthChallenge NEW_PASSWORD_REQUIRED (session, new password)");
        d.note(PROVIDER, pool.password_note());
        d.open("alt", "new password too weak");
        d.reply(PROVIDER, ME, "InvalidPasswordException");
        d.reply(ME, APP, format!("{}: try again with the same session", answer(ErrorCode::PasswordPolicy)));
        d.otherwise("new password set");
        if pool.totp() && pool.mfa_required() {
            mfa_setup_steps(d, pool);
        } else {
            tokens_answer(d, pool);
            d.note(MIRROR, pool.gates_note());
            if pool.totp() {
                d.note_over(&[APP, ME], "TOTP can be enrolled later, signed in (see TOTP enrolment)");
            }
        }
        d.close();
    });
    d
}

fn sign_in_plain(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mirror, Who::Audit]);
    sign_in_start(&mut d, pool, Password::Own, |d| {
        tokens_answer(d, pool);
        if pool.totp() {
            d.note_over(
                &[APP, ME],
                "An account that enrolled TOTP gets the SOFTWARE_TOKEN_MFA challenge instead",
            );
        }
    });
    d
}

fn sign_in_mfa(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mail, Who::Mirror, Who::Audit]);
    sign_in_start(&mut d, pool, Password::Own, |d| {
        d.reply(PROVIDER, ME, "challenge SOFTWARE_TOKEN_MFA, session");
        d.reply(ME, APP, "200 {challenge: SOFTWARE_TOKEN_MFA, session, mfaRequired: true}");
        d.note(APP, "The user reads the 6-digit code from the authenticator app");
        d.call(
            APP,
            ME,
            format!(
                "POST {} {{email, challenge: SOFTWARE_TOKEN_MFA, session, code}}",
                pool.path("challenge")
            ),
        );
        pool.rate_limit_note(d, RateLimitedRoute::RespondToChallenge);
        d.note(
            ME,
            format!(
                "The same waits as the password: {} while this address must wait",
                answer(ErrorCode::Locked)
            ),
        );
        d.call(ME, PROVIDER, "RespondToAuthChallenge SOFTWARE_TOKEN_MFA (session, code)");
        d.open("alt", "wrong code");
        d.reply(PROVIDER, ME, "CodeMismatchException");
        d.call(
            ME,
            AUDIT,
            format!("MFA code refused ({}), counted as a failure", ErrorCode::CodeMismatch.as_str()),
        );
        d.reply(ME, APP, format!("{}: try again with the same session", answer(ErrorCode::CodeMismatch)));
        d.otherwise("session expired or already used");
        d.reply(PROVIDER, ME, "NotAuthorizedException");
        d.reply(ME, APP, format!("{}: sign in again", answer(ErrorCode::AuthFailed)));
        d.otherwise("code accepted");
        tokens_answer(d, pool);
        d.close();
    });
    recovery_code_sign_in(&mut d, pool);
    if pool.mfa_required() {
        d.note_over(&[APP, ME], "An account without TOTP yet gets MFA_SETUP instead (see the first sign-in)");
    }
    d
}

/// `POST /auth/<pool>/login` with a recovery code in place of the lost authenticator's code.
fn recovery_code_sign_in(d: &mut Diagram, pool: &Pool<'_>) {
    d.open("opt", "authenticator lost, one of the account's recovery codes instead of its code");
    d.call(APP, ME, format!("POST {} {{email, password, recoveryCode}}", pool.path("login")));
    d.note(ME, "The same rate limit, waits and password check as above");
    d.call(ME, PROVIDER, "InitiateAuth USER_PASSWORD_AUTH (email, password)");
    d.reply(PROVIDER, ME, "challenge SOFTWARE_TOKEN_MFA: the password is right");
    d.open("alt", "not an unused recovery code of the account");
    d.call(
        ME,
        AUDIT,
        format!("recovery code refused ({}), counted as a failure", ErrorCode::AuthFailed.as_str()),
    );
    d.reply(ME, APP, answer(ErrorCode::AuthFailed));
    d.otherwise("an unused recovery code, now spent");
    d.call(ME, PROVIDER, "AdminSetUserMFAPreference (TOTP off): the lost authenticator is removed");
    d.call(ME, ME, "delete every other recovery code of the account");
    d.call(ME, MIRROR, "TOTP no longer enrolled");
    d.call(ME, AUDIT, "recovery code used");
    d.call(ME, MAIL, "notice to the owner: a recovery code was used and the authenticator removed");
    d.call(ME, PROVIDER, "InitiateAuth USER_PASSWORD_AUTH (email, password) again");
    if pool.mfa_required() {
        d.reply(PROVIDER, ME, "challenge MFA_SETUP, session");
        d.reply(
            ME,
            APP,
            "200 {challenge: MFA_SETUP, session, mfaRequired: true}: a new authenticator is enrolled at once",
        );
    } else {
        d.reply(PROVIDER, ME, "AuthenticationResult: access, ID and refresh tokens");
        d.reply(
            ME,
            APP,
            "200 access, ID and refresh tokens: signed in, without MFA until the user enrols again",
        );
    }
    d.close();
    d.close();
}

fn first_sign_in_mfa_setup(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mirror, Who::Audit]);
    sign_in_start(&mut d, pool, Password::Own, |d| mfa_setup_steps(d, pool));
    d
}

fn totp_enrolment(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mirror, Who::Audit]);
    d.call(
        APP,
        ME,
        format!("POST {} {{password, code}} (Authorization: Bearer access token)", pool.path("totp/setup")),
    );
    pool.rate_limit_note(&mut d, RateLimitedRoute::Mfa);
    d.call(ME, ME, format!("verify the access token ({} pool, not revoked)", pool.kind));
    d.note(ME, "code: a current one from the authenticator in force, needed only to replace it");
    step_up(&mut d, |d| {
        d.call(ME, MIRROR, "an enrolment begun now");
        d.call(ME, PROVIDER, "AssociateSoftwareToken (access token)");
        d.reply(
            PROVIDER,
            ME,
            "a new secret, waiting: an authenticator in force keeps working until it is verified",
        );
        d.reply(ME, APP, "200 {secret, otpauthUri, qrSvg, qrPngBase64}");
    });
    d.note(APP, "The user scans the QR code into an authenticator app");
    d.call(
        APP,
        ME,
        format!("POST {} {{code}} (Authorization: Bearer access token)", pool.path("totp/verify")),
    );
    d.note(ME, format!("Within {ENROLMENT_WINDOW} of the set-up, or {}", answer(ErrorCode::Conflict)));
    d.call(ME, PROVIDER, "VerifySoftwareToken (access token, code)");
    d.open("alt", "wrong code");
    d.reply(PROVIDER, ME, "CodeMismatchException");
    d.reply(ME, APP, format!("{}: try again, counted as a failure", answer(ErrorCode::CodeMismatch)));
    d.otherwise("code accepted");
    d.reply(PROVIDER, ME, "SUCCESS: the new secret replaces the old one");
    d.call(ME, PROVIDER, "SetUserMFAPreference (TOTP enabled, preferred)");
    enrolled_steps(&mut d, pool, false);
    d.call(ME, AUDIT, "TOTP enrolled");
    d.reply(ME, APP, format!("200 {{mfaEnabled: true, user, recoveryCodes}}: {RECOVERY_CODES}"));
    d.note_over(&[APP, ME], "From now on every sign-in answers the SOFTWARE_TOKEN_MFA challenge");
    d.close();
    d.call(
        APP,
        ME,
        format!("POST {} {{password, code}} (Authorization: Bearer access token)", pool.path("totp/disable")),
    );
    if pool.mfa_gate() {
        d.note(
            ME,
            format!("{} for accounts whose onboarding gates include mfa", answer(ErrorCode::Forbidden)),
        );
    }
    step_up(&mut d, |d| {
        d.call(ME, PROVIDER, "SetUserMFAPreference (TOTP off)");
        d.call(ME, MIRROR, "TOTP off, the recovery codes deleted");
        d.call(ME, AUDIT, "TOTP turned off");
        d.reply(ME, APP, "200 {mfaEnabled: false, user}");
    });
    d
}

fn refresh(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mirror, Who::Audit]);
    let tokens = &pool.settings.tokens;
    d.call(APP, ME, format!("POST {} {{refreshToken}}", pool.path("refresh")));
    pool.rate_limit_note_per_address(&mut d, RateLimitedRoute::Refresh);
    d.call(ME, PROVIDER, format!("{} (refresh token)", pool.refresh_operation()));
    d.open("alt", "refresh token valid");
    if tokens.rotate_refresh {
        d.reply(PROVIDER, ME, "new access, ID and refresh tokens: the one presented is replaced");
    } else {
        d.reply(PROVIDER, ME, "new access and ID tokens");
    }
    d.call(ME, MIRROR, "the account's onboarding state");
    d.note(ME, refused_states_note());
    if tokens.rotate_refresh {
        d.reply(ME, APP, "200 new access, ID and refresh tokens: keep the new refresh token");
        d.note_over(
            &[APP, ME],
            format!(
                "A replaced refresh token still works for {} ({}), for a client whose answer was lost",
                tokens.rotation_grace,
                pool.key("tokens.rotation_grace")
            ),
        );
    } else {
        d.reply(ME, APP, "200 new access and ID tokens (the refresh token stays the same)");
    }
    let lasts = if tokens.rotate_refresh {
        format!(
            "Rotation replaces the refresh token, not the sign-in: the last one expires {} after sign-in, as \
             the first would have, then the user signs in again",
            tokens.refresh
        )
    } else {
        format!("The refresh token lasts {} from sign-in, then the user signs in again", tokens.refresh)
    };
    d.note_over(
        &[APP, ME],
        format!(
            "Access token {}, ID token {} ({}), with the claims of the account's state now. {lasts}",
            tokens.access,
            tokens.id,
            pool.key("tokens")
        ),
    );
    if tokens.rotate_refresh {
        d.otherwise(format!("a replaced refresh token presented after {} (reuse)", tokens.rotation_grace));
        d.call(PROVIDER, PROVIDER, "revoke the whole sign-in: every refresh and access token of it (stored)");
        d.reply(PROVIDER, ME, "NotAuthorizedException");
        d.call(ME, AUDIT, format!("refresh refused ({})", ErrorCode::AuthFailed.as_str()));
        d.reply(
            ME,
            APP,
            format!("{}: the owner and the thief alike sign in again", answer(ErrorCode::AuthFailed)),
        );
    }
    d.otherwise(
        "expired, or revoked by a sign-out everywhere, a password change or reset, or a refused account",
    );
    d.reply(PROVIDER, ME, "NotAuthorizedException");
    d.call(ME, AUDIT, format!("refresh refused ({})", ErrorCode::AuthFailed.as_str()));
    d.reply(ME, APP, format!("{}: sign in again", answer(ErrorCode::AuthFailed)));
    d.close();
    d
}

fn password_reset(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Mail, Who::Audit]);
    d.call(APP, ME, format!("POST {} {{email}}", pool.path("forgot-password")));
    pool.rate_limit_note(&mut d, RateLimitedRoute::ForgotPassword);
    d.call(ME, PROVIDER, "ForgotPassword (email)");
    d.open("alt", "the account exists, with a verified email");
    d.call(PROVIDER, MAIL, "reset code (6 digits)");
    d.reply(PROVIDER, ME, "code sent");
    d.otherwise("no such account, no verified email, or too many codes this hour");
    d.reply(PROVIDER, ME, "nothing is sent");
    d.close();
    d.call(ME, AUDIT, "password reset requested");
    d.reply(ME, APP, "200 {accepted: true, message}: the same answer whoever asked");
    d.call(APP, ME, format!("POST {} {{email, code, newPassword}}", pool.path("reset-password")));
    pool.rate_limit_note(&mut d, RateLimitedRoute::ConfirmForgotPassword);
    d.note(ME, "No wait for failed sign-ins here: the emailed code proves the mailbox");
    d.call(ME, PROVIDER, "ConfirmForgotPassword (email, code, new password)");
    d.note(PROVIDER, format!("{}<br/>(the embedded engine judges it before the code)", pool.password_note()));
    d.open("alt", "new password too weak");
    d.reply(PROVIDER, ME, "InvalidPasswordException");
    d.reply(ME, APP, answer(ErrorCode::PasswordPolicy));
    d.otherwise("wrong or expired code, or unknown email");
    d.reply(PROVIDER, ME, "CodeMismatchException, ExpiredCodeException ...");
    d.call(ME, AUDIT, format!("password reset failed ({})", ErrorCode::CodeMismatch.as_str()));
    d.reply(ME, APP, format!("{}: one answer for every reason", answer(ErrorCode::CodeMismatch)));
    d.otherwise("password changed");
    d.reply(PROVIDER, ME, "done");
    d.call(ME, ME, "forget the account's failed sign-ins: no address waits any more");
    d.call(ME, ME, "revoke the account's tokens issued until now (stored)");
    d.call(ME, PROVIDER, "AdminUserGlobalSignOut: every refresh token revoked");
    d.call(ME, AUDIT, "password reset");
    d.reply(ME, APP, "200 {accepted: true, message}: sign in again");
    d.close();
    d
}

fn sign_out(pool: &Pool<'_>) -> Diagram {
    let mut d = Diagram::new(pool, &[Who::Provider, Who::Audit]);
    d.call(APP, ME, format!("POST {} (Authorization: Bearer access token)", pool.path("sign-out")));
    d.call(ME, ME, format!("verify the access token ({} pool, not revoked)", pool.kind));
    d.call(ME, PROVIDER, "GlobalSignOut (access token)");
    d.reply(PROVIDER, ME, "every refresh token of the account revoked");
    d.call(ME, ME, "revocation list: tokens of this account issued until now are refused, stored");
    d.call(ME, AUDIT, "signed out everywhere");
    d.reply(ME, APP, "200 {accepted: true, message}");
    d.call(APP, ME, "any request with an access token issued before, from any device");
    d.call(ME, ME, "verifier: signature and claims valid, revocation check: revoked");
    d.reply(ME, APP, answer(ErrorCode::AuthFailed));
    d.call(
        APP,
        ME,
        format!("POST {} {{refreshToken}} with a refresh token issued before", pool.path("refresh")),
    );
    d.call(ME, PROVIDER, format!("{} (refresh token)", pool.refresh_operation()));
    d.reply(PROVIDER, ME, "NotAuthorizedException (revoked)");
    d.reply(ME, APP, answer(ErrorCode::AuthFailed));
    d.note_over(
        &[APP, ME],
        format!(
            "Revocations (sign-out, password change or reset, rejection, suspension, disabling, deletion, refresh \
             reuse) are stored and loaded again at start, so a restart revives no token. Without them an access \
             token would stay usable until it expires ({})",
            pool.settings.tokens.access
        ),
    );
    d
}

// --- Steps shared by several flows ---------------------------------------------------------------------

/// The answer to every registration the provider accepted or refused as taken.
const REGISTRATION_ACCEPTED: &str = "202 {accepted: true, message}";

/// How long a signed-in enrolment may take to be verified (`ENROLMENT_WINDOW_MS` in `cognigate-service`).
const ENROLMENT_WINDOW: &str = "10 minutes";

/// What the answers of an enrolment hand out (`RECOVERY_CODES` in `cognigate-service`).
const RECOVERY_CODES: &str = "ten one-time recovery codes, shown this once";

/// What becomes of tokens the provider minted for an account whose state refuses sign-in.
fn refused_states_note() -> String {
    format!(
        "A refused state ({}, {}, {}): these tokens are revoked and the answer is {}, as for a wrong password",
        OnboardingState::Rejected,
        OnboardingState::Suspended,
        OnboardingState::Disabled,
        answer(ErrorCode::AuthFailed)
    )
}

/// Which password a sign-in gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Password {
    /// The account's own.
    Own,
    /// The temporary password of an invitation.
    Temporary,
}

/// `POST /auth/<pool>/login`: the rate limit, the waits failures impose, the identity provider's verdict on
/// the password; `accepted` continues the diagram when the password is right.
fn sign_in_start(d: &mut Diagram, pool: &Pool<'_>, password: Password, accepted: impl FnOnce(&mut Diagram)) {
    let (given, wrong, right) = match password {
        Password::Own => (
            "",
            "wrong password, unknown email, or a refused account (rejected, suspended, disabled) with any password",
            "password accepted",
        ),
        Password::Temporary => (
            " (the temporary password)",
            "wrong or expired temporary password (an administrator invites again), or unknown email",
            "temporary password accepted",
        ),
    };
    d.call(APP, ME, format!("POST {} {{email, password}}{given}", pool.path("login")));
    pool.rate_limit_note(d, RateLimitedRoute::Login);
    d.note(ME, pool.lockout_note());
    d.open("alt", "over the rate limit");
    d.reply(ME, APP, format!("{} with Retry-After", answer(ErrorCode::RateLimited)));
    d.otherwise("this address must still wait after failures");
    d.call(ME, AUDIT, format!("sign-in refused ({})", ErrorCode::Locked.as_str()));
    d.reply(ME, APP, format!("{} with Retry-After: the seconds left", answer(ErrorCode::Locked)));
    d.otherwise("may try");
    d.call(ME, PROVIDER, "InitiateAuth USER_PASSWORD_AUTH (email, password)");
    d.open("alt", wrong);
    d.reply(PROVIDER, ME, "NotAuthorizedException");
    d.call(ME, AUDIT, format!("sign-in failed ({}), counted as a failure", ErrorCode::AuthFailed.as_str()));
    d.reply(ME, APP, answer(ErrorCode::AuthFailed));
    d.otherwise(right);
    accepted(d);
    d.close();
    d.close();
}

/// The identity provider answered tokens: check the account's state, record the sign-in, hand them over.
fn tokens_answer(d: &mut Diagram, pool: &Pool<'_>) {
    d.reply(PROVIDER, ME, "AuthenticationResult: access, ID and refresh tokens");
    d.call(ME, MIRROR, "the account's onboarding state, then record the sign-in");
    d.note(ME, refused_states_note());
    d.call(ME, ME, "forget the account's failures, remember this address as one it signs in from");
    d.call(ME, AUDIT, "signed in");
    d.reply(ME, APP, "200 {accessToken, idToken, refreshToken, expiresIn, user}");
    d.note_over(&[APP, ME], pool.tokens_note());
}

/// The `/totp/setup` and `/totp/disable` proof that the person is here, not just a token: a sign-in with the
/// password (and the current code when an authenticator is enrolled) whose tokens are revoked at once;
/// `proven` continues the diagram when it succeeds.
fn step_up(d: &mut Diagram, proven: impl FnOnce(&mut Diagram)) {
    d.call(
        ME,
        PROVIDER,
        "sign in again: InitiateAuth (email, password), then SOFTWARE_TOKEN_MFA (code) when an authenticator is \
         enrolled",
    );
    d.open("alt", "wrong password or code");
    d.reply(PROVIDER, ME, "NotAuthorizedException or CodeMismatchException");
    d.call(ME, AUDIT, "refused, counted as a failure");
    d.reply(ME, APP, format!("{} or {}", answer(ErrorCode::AuthFailed), answer(ErrorCode::CodeMismatch)));
    d.otherwise("proven");
    d.reply(PROVIDER, ME, "tokens of that sign-in");
    d.call(ME, ME, "revoke them at once: they proved the factors, nothing more");
    proven(d);
    d.close();
}

/// After a verified enrolment: the state (identity first), the mirror (with the gates, when `gates`), the
/// recovery codes.
fn enrolled_steps(d: &mut Diagram, pool: &Pool<'_>, gates: bool) {
    if pool.mfa_gate() {
        d.call(ME, PROVIDER, "AdminUpdateUserAttributes: custom:onboarding, when the state moves");
    }
    d.call(ME, MIRROR, pool.enrolled_message());
    if gates {
        d.note(MIRROR, pool.gates_note());
    }
    d.call(ME, ME, "ten new recovery codes, stored hashed (an earlier set is replaced)");
}

/// An MFA_SETUP challenge answered by enrolling TOTP with the challenge's session.
fn mfa_setup_steps(d: &mut Diagram, pool: &Pool<'_>) {
    d.reply(PROVIDER, ME, "challenge MFA_SETUP, session");
    d.reply(ME, APP, "200 {challenge: MFA_SETUP, session, mfaRequired: true}");
    d.call(APP, ME, format!("POST {} {{session}}", pool.path("totp/setup")));
    pool.rate_limit_note_per_address(d, RateLimitedRoute::Mfa);
    d.call(ME, PROVIDER, "AssociateSoftwareToken (session)");
    d.reply(PROVIDER, ME, "secret, new session");
    d.reply(ME, APP, "200 {secret, otpauthUri, qrSvg, qrPngBase64, session}");
    d.note(APP, "The user scans the QR code into an authenticator app");
    d.call(APP, ME, format!("POST {} {{email, session, code}}", pool.path("totp/verify")));
    pool.rate_limit_note(d, RateLimitedRoute::Mfa);
    d.call(ME, PROVIDER, "VerifySoftwareToken (session, code)");
    d.open("alt", "wrong code");
    d.reply(PROVIDER, ME, "EnableSoftwareTokenMFAException");
    d.reply(ME, APP, format!("{}: try again, counted as a failure", answer(ErrorCode::CodeMismatch)));
    d.otherwise("code accepted");
    d.reply(PROVIDER, ME, "SUCCESS, session");
    enrolled_steps(d, pool, true);
    d.call(ME, PROVIDER, "RespondToAuthChallenge MFA_SETUP (session)");
    d.reply(PROVIDER, ME, "AuthenticationResult: access, ID and refresh tokens");
    d.call(ME, MIRROR, "record the sign-in");
    d.call(ME, AUDIT, "TOTP enrolled, signed in");
    d.reply(
        ME,
        APP,
        format!(
            "200 {{accessToken, idToken, refreshToken, expiresIn, user, recoveryCodes}}: {RECOVERY_CODES}"
        ),
    );
    d.note_over(&[APP, ME], pool.tokens_note());
    d.close();
}

/// An error answer: the HTTP status and the stable code.
fn answer(code: ErrorCode) -> String {
    format!("{} {}", code.http_status(), code.as_str())
}

// --- One pool's settings, as the diagrams say them -----------------------------------------------------

struct Pool<'a> {
    kind: PoolKind,
    settings: &'a PoolConfig,
    config: &'a Config,
}

impl Pool<'_> {
    fn display(&self) -> &str {
        &self.settings.display_name
    }

    fn path(&self, route: &str) -> String {
        format!("/auth/{}/{route}", self.kind)
    }

    fn key(&self, key: &str) -> String {
        format!("pools.{}.{key}", self.kind)
    }

    fn totp(&self) -> bool {
        self.settings.mfa.mode != MfaMode::Off && self.settings.mfa.methods.contains(&MfaMethod::Totp)
    }

    fn mfa_required(&self) -> bool {
        self.settings.mfa.mode == MfaMode::Required
    }

    /// Writes the route's rate limits as a note: each half as configured, or its default (no auth route is
    /// unlimited).
    fn rate_limit_note(&self, d: &mut Diagram, route: RateLimitedRoute) {
        self.write_rate_limit_note(d, route, true);
    }

    /// The same for a call that names no account yet (a refresh token, an MFA_SETUP session): only the
    /// per-address half applies.
    fn rate_limit_note_per_address(&self, d: &mut Diagram, route: RateLimitedRoute) {
        self.write_rate_limit_note(d, route, false);
    }

    fn write_rate_limit_note(&self, d: &mut Diagram, route: RateLimitedRoute, per_account: bool) {
        let configured = self.config.rate_limits.get(self.kind);
        let set = configured.get(&route);
        let limits = route.limits_in(configured);
        let halves = [
            (limits.per_address, set.and_then(|set| set.per_address), "per address"),
            (limits.per_account.filter(|_| per_account), set.and_then(|set| set.per_account), "per account"),
        ];
        let halves: Vec<(String, bool)> = halves
            .into_iter()
            .filter_map(|(rate, given, scope)| rate.map(|rate| (format!("{rate} {scope}"), given.is_some())))
            .collect();
        if halves.is_empty() {
            return;
        }
        let key = format!("rate_limits.{}.{}", self.kind, toml_name(&route));
        let text = if halves.iter().all(|(_, given)| !given) {
            let rates: Vec<&str> = halves.iter().map(|(rate, _)| rate.as_str()).collect();
            format!("Rate limit ({key} not set, the defaults): {}", rates.join(", "))
        } else {
            let rates: Vec<String> = halves
                .iter()
                .map(|(rate, given)| if *given { rate.clone() } else { format!("{rate} (default)") })
                .collect();
            format!("Rate limit ({key}): {}", rates.join(", "))
        };
        d.note(ME, text);
    }

    fn lockout_note(&self) -> String {
        let lockout = &self.settings.lockout;
        let what = if self.totp() { "wrong passwords or MFA codes" } else { "wrong passwords" };
        format!(
            "Failures ({}): {} {what} within {} from one address make that address wait 1s before its next \
             try, then 2s, 4s ... up to {}.<br/>{} from all addresses together make every try wait, up to {}, \
             except from addresses the account signed in from in the last 30 days",
            self.key("lockout"),
            lockout.max_failures,
            lockout.window,
            lockout.duration,
            lockout.account_max_failures,
            lockout.account_max_delay
        )
    }

    fn tokens_note(&self) -> String {
        let tokens = &self.settings.tokens;
        format!(
            "Tokens ({}): access {}, ID {}, refresh {}.<br/>Claims: {} (the onboarding state), and role, tier \
             and permissions only while they are in force ({}, {})",
            self.key("tokens"),
            tokens.access,
            tokens.id,
            tokens.refresh,
            ONBOARDING_CLAIM,
            OnboardingState::PendingSubscription,
            OnboardingState::Active
        )
    }

    /// The identity provider's operation behind `/refresh`: with rotation, the one that answers a new refresh
    /// token; without, AWS Cognito's classic refresh (the embedded engine serves both through the former).
    fn refresh_operation(&self) -> &'static str {
        if self.settings.tokens.rotate_refresh {
            "GetTokensFromRefreshToken"
        } else {
            "InitiateAuth REFRESH_TOKEN_AUTH (AWS Cognito) or GetTokensFromRefreshToken (embedded engine)"
        }
    }

    /// Whether some account of the pool must enrol MFA to become active (an `mfa` onboarding gate).
    fn mfa_gate(&self) -> bool {
        self.settings.onboarding.gates.values().any(|gates| gates.contains(&OnboardingGate::Mfa))
    }

    fn password_note(&self) -> String {
        let policy = &self.settings.password;
        let mut needs = Vec::new();
        for (required, what) in [
            (policy.require_lowercase, "a lowercase letter"),
            (policy.require_uppercase, "an uppercase letter"),
            (policy.require_digits, "a digit"),
            (policy.require_symbols, "a symbol"),
        ] {
            if required {
                needs.push(what);
            }
        }
        let needs = match needs.split_last() {
            None => String::new(),
            Some((last, [])) => format!(", with {last}"),
            Some((last, rest)) => format!(", with {} and {last}", rest.join(", ")),
        };
        format!("Password ({}): at least {} characters{needs}", self.key("password"), policy.min_length)
    }

    /// Each configured gate with whom it applies to, as `who: gate (state)`.
    fn gate_list(&self) -> Vec<String> {
        self.settings
            .onboarding
            .gates
            .iter()
            .map(|(subject, gates)| {
                let who = if subject == "*" { "every account".to_owned() } else { subject.clone() };
                let mut gates = gates.clone();
                gates.sort();
                let names: Vec<String> = gates
                    .iter()
                    .map(|gate| {
                        let state = OnboardingState::ALL.into_iter().find(|s| s.gate() == Some(*gate));
                        match state {
                            Some(state) => format!("{} ({state})", toml_name(gate)),
                            None => toml_name(gate),
                        }
                    })
                    .collect();
                format!("{who}: {}", names.join(", "))
            })
            .collect()
    }

    fn gates_note(&self) -> String {
        let gates = self.gate_list();
        if gates.is_empty() {
            return format!(
                "No onboarding gates ({}): the account is {} at once",
                self.key("onboarding.gates"),
                OnboardingState::Active
            );
        }
        let rest = if self.settings.onboarding.gates.contains_key("*") {
            String::new()
        } else {
            format!("<br/>any other account: {}", OnboardingState::Active)
        };
        let distinct: BTreeSet<&OnboardingGate> = self.settings.onboarding.gates.values().flatten().collect();
        let order = if distinct.len() > 1 { ", passed in the order approval, mfa, subscription" } else { "" };
        format!(
            "Onboarding gates ({}){order}:<br/>{}{rest}",
            self.key("onboarding.gates"),
            gates.join("<br/>")
        )
    }

    /// What TOTP enrolment does to the mirror: it records it, and an account waiting at the MFA gate moves on.
    fn enrolled_message(&self) -> String {
        if self.mfa_gate() {
            format!(
                "TOTP enrolled: {} → next onboarding gate, or {}",
                OnboardingState::PendingMfa,
                OnboardingState::Active
            )
        } else {
            "TOTP enrolled".to_owned()
        }
    }
}

// --- Writing Mermaid -----------------------------------------------------------------------------------

const APP: &str = "App";
const ME: &str = "cognigate";
const PROVIDER: &str = "Provider";
const MAIL: &str = "Mail";
const MIRROR: &str = "Mirror";
const AUDIT: &str = "Audit";

/// The participants a diagram may have besides the app and cognigate, in the order they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Provider,
    Mail,
    Mirror,
    Audit,
}

impl Who {
    fn declaration(self) -> String {
        let (id, label) = match self {
            Self::Provider => (PROVIDER, "Identity provider (embedded engine or AWS Cognito)"),
            Self::Mail => (MAIL, "Outbox / email"),
            Self::Mirror => (MIRROR, "User mirror"),
            Self::Audit => (AUDIT, "Audit log"),
        };
        format!("participant {id} as {label}")
    }
}

/// A Mermaid sequence diagram being written; `alt` blocks are opened and closed through it, so they nest.
#[derive(Debug)]
struct Diagram {
    lines: Vec<String>,
    depth: usize,
}

impl Diagram {
    fn new(pool: &Pool<'_>, others: &[Who]) -> Self {
        let mut lines =
            vec![format!("participant {APP} as App ({})", pool.display()), format!("participant {ME}")];
        lines.extend(others.iter().map(|who| who.declaration()));
        Self { lines, depth: 0 }
    }

    fn line(&mut self, text: String) {
        // `;` separates statements and `#` starts an entity code in Mermaid: keep them out of the text.
        let text = text.replace(';', ",").replace('#', "");
        self.lines.push(format!("{}{text}", "    ".repeat(self.depth)));
    }

    fn call(&mut self, from: &str, to: &str, text: impl AsRef<str>) {
        self.line(format!("{from}->>{to}: {}", text.as_ref()));
    }

    fn reply(&mut self, from: &str, to: &str, text: impl AsRef<str>) {
        self.line(format!("{from}-->>{to}: {}", text.as_ref()));
    }

    fn note(&mut self, over: &str, text: impl AsRef<str>) {
        self.line(format!("Note over {over}: {}", text.as_ref()));
    }

    fn note_over(&mut self, over: &[&str], text: impl AsRef<str>) {
        self.line(format!("Note over {}: {}", over.join(","), text.as_ref()));
    }

    fn open(&mut self, keyword: &str, label: impl AsRef<str>) {
        self.line(format!("{keyword} {}", label.as_ref()));
        self.depth += 1;
    }

    fn otherwise(&mut self, label: impl AsRef<str>) {
        self.depth = self.depth.saturating_sub(1);
        self.line(format!("else {}", label.as_ref()));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("end".to_owned());
    }

    fn finish(self, out: &mut String) {
        debug_assert_eq!(self.depth, 0, "every block of a diagram is closed");
        out.push_str("```mermaid\nsequenceDiagram\n    autonumber\n");
        for line in &self.lines {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("```\n\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Config {
        let source = include_str!("../../../cognigate.toml");
        cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []).unwrap()
    }

    /// The shipped configuration with `change` applied.
    fn with(change: impl FnOnce(&mut Config)) -> Config {
        let mut config = shipped();
        change(&mut config);
        config
    }

    /// The lines of each ```mermaid block.
    fn mermaid_blocks(page: &str) -> Vec<Vec<&str>> {
        let mut blocks = Vec::new();
        let mut current: Option<Vec<&str>> = None;
        for line in page.lines() {
            match (&mut current, line.trim()) {
                (None, "```mermaid") => current = Some(Vec::new()),
                (Some(_), "```") => blocks.extend(current.take()),
                (Some(block), _) => block.push(line),
                (None, _) => {}
            }
        }
        assert!(current.is_none(), "a ```mermaid block is not closed");
        blocks
    }

    /// What Mermaid would trip on: a block that is not a sequence diagram, `alt`/`opt`/`loop`/... not matched
    /// by `end`, `else` outside an `alt`, a statement separator in a text, or an undeclared participant.
    fn check_sequence_diagram(block: &[&str]) -> Result<(), String> {
        let mut lines = block.iter().map(|line| line.trim()).filter(|line| !line.is_empty());
        if lines.next() != Some("sequenceDiagram") {
            return Err("does not start with sequenceDiagram".to_owned());
        }
        let mut participants: Vec<&str> = Vec::new();
        let mut open: Vec<&str> = Vec::new();
        for line in lines {
            if line.contains(';') || line.contains('#') {
                return Err(format!("`;` or `#` in {line:?}"));
            }
            let keyword = line.split_whitespace().next().unwrap_or_default();
            match keyword {
                "participant" | "actor" => {
                    participants.push(line.split_whitespace().nth(1).unwrap_or_default());
                    continue;
                }
                "alt" | "opt" | "loop" | "par" | "critical" | "break" | "rect" => open.push(keyword),
                "else" if open.last() != Some(&"alt") => return Err(format!("{line:?} outside an alt")),
                "end" => {
                    open.pop().ok_or_else(|| "`end` without a block".to_owned())?;
                }
                _ => {}
            }
            let ends: Vec<&str> = if let Some(rest) = line.strip_prefix("Note over ") {
                rest.split(':').next().unwrap_or_default().split(',').map(str::trim).collect()
            } else if let Some((arrow, _)) = line.split_once(':') {
                arrow.split("->>").map(|end| end.trim_end_matches('-').trim()).collect()
            } else {
                Vec::new()
            };
            if let Some(unknown) = ends.iter().find(|end| !participants.contains(end)) {
                return Err(format!("{unknown:?} is not a participant, in {line:?}"));
            }
        }
        if open.is_empty() { Ok(()) } else { Err(format!("unclosed blocks: {open:?}")) }
    }

    /// The part of the page about one pool: from its heading to the next pool's.
    fn section<'a>(page: &'a str, config: &Config, pool: PoolKind) -> &'a str {
        let heading = format!("## {} (`{pool}` pool)", config.pools.get(pool).display_name);
        let start = page.find(&heading).unwrap_or_else(|| panic!("no {heading}"));
        let rest = &page[start + heading.len()..];
        &rest[..rest.find("\n## ").unwrap_or(rest.len())]
    }

    fn variants() -> Vec<(&'static str, Config)> {
        vec![
            ("shipped", shipped()),
            (
                "staff MFA off",
                with(|c| {
                    c.pools.staff.mfa.mode = MfaMode::Off;
                    c.pools.staff.onboarding.gates.clear();
                }),
            ),
            ("customer admin_only", with(|c| c.pools.customer.sign_up = SignUpMode::AdminOnly)),
            ("customer MFA required", with(|c| c.pools.customer.mfa.mode = MfaMode::Required)),
            (
                "customer MFA off, no gates, no rate limits",
                with(|c| {
                    c.pools.customer.mfa.mode = MfaMode::Off;
                    c.pools.customer.onboarding.gates.clear();
                    c.rate_limits.customer.clear();
                }),
            ),
            ("staff MFA optional", with(|c| c.pools.staff.mfa.mode = MfaMode::Optional)),
        ]
    }

    #[test]
    fn every_block_is_a_balanced_sequence_diagram() {
        for (name, config) in variants() {
            let page = flows_page(Environment::Dev, &config);
            let blocks = mermaid_blocks(&page);
            assert!(blocks.len() >= 10, "{name}: only {} diagrams", blocks.len());
            for block in blocks {
                if let Err(problem) = check_sequence_diagram(&block) {
                    panic!("{name}: {problem}\n{}", block.join("\n"));
                }
            }
        }
    }

    #[test]
    fn the_checker_catches_unbalanced_blocks() {
        let good = ["sequenceDiagram", "participant A", "alt x", "A->>A: hi", "else y", "end"];
        assert_eq!(check_sequence_diagram(&good), Ok(()));
        assert!(check_sequence_diagram(&["sequenceDiagram", "participant A", "alt x", "A->>A: hi"]).is_err());
        assert!(check_sequence_diagram(&["sequenceDiagram", "end"]).is_err());
        assert!(check_sequence_diagram(&["sequenceDiagram", "opt x", "else y", "end"]).is_err());
        assert!(check_sequence_diagram(&["graph TD", "A-->B"]).is_err());
        assert!(check_sequence_diagram(&["sequenceDiagram", "participant A", "A->>B: hi"]).is_err());
    }

    #[test]
    fn staff_mfa_off_draws_no_staff_mfa_diagram() {
        let shipped = shipped();
        let page = flows_page(Environment::Dev, &shipped);
        let staff = section(&page, &shipped, PoolKind::Staff);
        assert!(staff.contains("SOFTWARE_TOKEN_MFA") && staff.contains("MFA_SETUP"), "{staff}");

        let config = with(|c| {
            c.pools.staff.mfa.mode = MfaMode::Off;
            c.pools.staff.onboarding.gates.clear();
        });
        let page = flows_page(Environment::Dev, &config);
        let staff = section(&page, &config, PoolKind::Staff);
        for mfa in [
            "SOFTWARE_TOKEN_MFA",
            "MFA_SETUP",
            "/auth/staff/totp/",
            "AssociateSoftwareToken",
            "sign-in with MFA",
        ] {
            assert!(!staff.contains(mfa), "{mfa} in the staff section:\n{staff}");
        }
        assert!(staff.contains("MFA is off for this pool (`pools.staff.mfa.mode = \"off\"`)"), "{staff}");
        assert!(staff.contains("### Staff: sign-in\n"), "a plain sign-in diagram instead: {staff}");
        let customer = section(&page, &config, PoolKind::Customer);
        assert!(customer.contains("SOFTWARE_TOKEN_MFA"), "the customer pool keeps its MFA diagrams");
    }

    #[test]
    fn admin_only_customers_get_no_registration_diagram() {
        let config = with(|c| c.pools.customer.sign_up = SignUpMode::AdminOnly);
        let page = flows_page(Environment::Dev, &config);
        for registration in ["/auth/customer/register", "/auth/customer/confirm", "registration"] {
            assert!(!page.contains(registration), "{registration} on the page:\n{page}");
        }
        for block in mermaid_blocks(&page) {
            assert!(!block.iter().any(|line| line.contains("SignUp")), "{}", block.join("\n"));
        }
        let customer = section(&page, &config, PoolKind::Customer);
        assert!(customer.contains("### Customers: first sign-in after an invitation"), "{customer}");
        assert!(customer.contains("NEW_PASSWORD_REQUIRED"), "{customer}");

        let shipped = shipped();
        let page = flows_page(Environment::Dev, &shipped);
        assert!(section(&page, &shipped, PoolKind::Customer).contains("POST /auth/customer/register"));
        assert!(!section(&page, &shipped, PoolKind::Staff).contains("/register"), "staff are invited");
    }

    #[test]
    fn the_notes_say_the_configured_values() {
        let config = with(|c| {
            c.pools.customer.tokens.access = cognigate_config::HumanDuration::from_secs(20 * 60);
            c.pools.customer.lockout.max_failures = 7;
            c.pools.customer.onboarding.gates.insert("individual".into(), vec![OnboardingGate::Approval]);
            c.pools.customer.display_name = "Buyers and sellers".into();
        });
        let page = flows_page(Environment::Dev, &config);
        let customer = section(&page, &config, PoolKind::Customer);
        assert!(
            customer.contains("Tokens (pools.customer.tokens): access 20m, ID 1h, refresh 30d"),
            "{customer}"
        );
        assert!(
            customer.contains(
                "7 wrong passwords or MFA codes within 15m from one address make that address wait 1s before its \
                 next try, then 2s, 4s ... up to 30m"
            ),
            "{customer}"
        );
        assert!(
            customer.contains("20 from all addresses together make every try wait, up to 1m"),
            "{customer}"
        );
        assert!(customer.contains("individual: approval (pending_approval)"), "{customer}");
        assert!(customer.contains("participant App as App (Buyers and sellers)"));
        assert!(
            customer
                .contains("Rate limit (rate_limits.customer.login): 30/min per address, 10/min per account")
        );

        let staff = section(&page, &config, PoolKind::Staff);
        assert!(staff.contains("every account: mfa (pending_mfa)"), "{staff}");
        assert!(!staff.contains("any other account"), "`*` covers every staff account");
        assert!(staff.contains("valid 1d (pools.staff.password.temporary_password_validity)"), "{staff}");
        assert!(!staff.contains("### Staff: sign-in\n"), "MFA is required: no sign-in without it");
        assert!(!staff.contains("TOTP enrolment"), "required MFA enrols during sign-in");
    }

    /// Routes the configuration leaves out are limited by their defaults, and the notes say so.
    #[test]
    fn unset_rate_limits_are_drawn_with_their_defaults() {
        let page = flows_page(Environment::Dev, &shipped());
        assert!(
            page.contains(
                "Rate limit (rate_limits.customer.confirm not set, the defaults): 20/min per address, 5/min per \
                 account"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "Rate limit (rate_limits.customer.register): 10/min per address, 3/min per account (default)"
            ),
            "{page}"
        );
        assert!(page.contains("Rate limit (rate_limits.customer.refresh): 120/min per address\n"), "{page}");
    }

    /// The answers that must not tell strangers which addresses have accounts are drawn as the same answer.
    #[test]
    fn registration_and_codes_answer_alike_for_every_address() {
        let shipped = shipped();
        let page = flows_page(Environment::Dev, &shipped);
        let customer = section(&page, &shipped, PoolKind::Customer);
        assert!(customer.contains("else the address already has an account"), "{customer}");
        assert_eq!(customer.matches("202 {accepted: true, message}").count(), 2, "{customer}");
        assert!(!customer.contains(ErrorCode::UserExists.as_str()), "{customer}");
        assert!(!customer.contains(ErrorCode::CodeExpired.as_str()), "{customer}");
        assert!(customer.contains("400 CODE_MISMATCH: one answer for every reason"), "{customer}");
        assert!(
            customer.contains("200 {accepted: true, message}: the same answer whoever asked"),
            "{customer}"
        );
    }

    #[test]
    fn refresh_rotation_and_recovery_codes_follow_the_settings() {
        let shipped = shipped();
        let page = flows_page(Environment::Dev, &shipped);
        let customer = section(&page, &shipped, PoolKind::Customer);
        assert!(customer.contains("GetTokensFromRefreshToken (refresh token)"), "{customer}");
        assert!(customer.contains("a replaced refresh token presented after 10s (reuse)"), "{customer}");
        assert!(customer.contains("signed in, without MFA until the user enrols again"), "optional MFA");
        let staff = section(&page, &shipped, PoolKind::Staff);
        assert!(staff.contains("a new authenticator is enrolled at once"), "required MFA: {staff}");
        assert!(staff.contains("recoveryCodes}: ten one-time recovery codes"), "{staff}");

        let config = with(|c| c.pools.customer.tokens.rotate_refresh = false);
        let page = flows_page(Environment::Dev, &config);
        let customer = section(&page, &config, PoolKind::Customer);
        assert!(customer.contains("the refresh token stays the same"), "{customer}");
        assert!(!customer.contains("(reuse)"), "{customer}");
    }
}
