//! One provider conformance suite, run three ways: the `local` provider in-process, the `cognito` provider
//! against cognigate's own wire endpoint, and the `cognito` provider against moto's server — an independent
//! Cognito implementation. The scenarios are written once (`scenarios.rs`); what differs is only how a
//! backend is started and where its codes come from (`backends.rs`). Where moto is known to deviate from
//! Cognito, the scenario is listed in `MOTO_DEVIATIONS` with the reason, and the suite checks that moto
//! still deviates (so the list cannot silently go stale) instead of weakening the scenario for everyone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]
#![allow(clippy::print_stdout, reason = "the suite prints its per-scenario report")]

mod backends;
mod scenarios;

use backends::Backend;

/// Scenarios moto fails for a known reason (shared/notes/emulators.md). Nothing else may fail on moto.
pub const MOTO_DEVIATIONS: &[(&str, &str)] = &[
    ("wrong_confirmation_code_is_refused", "moto accepts any confirmation code"),
    ("resend_confirmation_code_replaces_the_code", "moto answers ResendConfirmationCode with HTTP 500"),
    (
        "unknown_user_and_wrong_password_look_alike",
        "moto ignores PreventUserExistenceErrors: an unknown user gets UserNotFoundException",
    ),
    ("revoke_token_ends_the_refresh_token", "moto answers RevokeToken with HTTP 500"),
    ("wrong_reset_code_changes_nothing", "moto resets the password with any code"),
    (
        "totp_enrolment_and_challenge",
        "moto hands every user one fixed secret (not valid base32) and accepts any TOTP code",
    ),
    (
        "admin_reset_forces_a_new_password",
        "moto does not mark the email verified at ConfirmSignUp, so AdminResetUserPassword refuses the user",
    ),
    ("disabled_user_gets_no_tokens", "moto still refreshes the tokens of a disabled user"),
];

/// Runs every scenario against `backend` and fails with a report of the unexpected outcomes.
async fn run_suite(backend: &Backend) {
    let deviations: &[(&str, &str)] = if backend.name == "moto" { MOTO_DEVIATIONS } else { &[] };
    let mut problems = Vec::new();
    let mut report = Vec::new();
    for (name, scenario) in scenarios::all() {
        let outcome = scenario(backend).await;
        let deviation = deviations.iter().find(|(n, _)| *n == name).map(|(_, why)| *why);
        match (outcome, deviation) {
            (Ok(()), None) => report.push(format!("  ok        {name}")),
            (Err(error), Some(why)) => {
                report.push(format!("  deviates  {name}: {why} ({error})"));
            }
            (Err(error), None) => {
                report.push(format!("  FAILED    {name}: {error}"));
                problems.push(format!("{name}: {error}"));
            }
            (Ok(()), Some(why)) => {
                report.push(format!("  STALE     {name}: listed as a deviation ({why}) but passed"));
                problems.push(format!("{name} passed on {}: remove it from MOTO_DEVIATIONS", backend.name));
            }
        }
    }
    println!("conformance on {}:\n{}", backend.name, report.join("\n"));
    assert!(problems.is_empty(), "{} on {}:\n{}", problems.len(), backend.name, problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provider_in_process() {
    run_suite(&Backend::local().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_provider_over_cognigate_wire() {
    run_suite(&Backend::wire().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_provider_over_cognigate_wire_with_refresh_rotation() {
    run_suite(&Backend::wire_rotating().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_provider_against_moto() {
    let Some(backend) = Backend::moto().await else {
        return;
    };
    run_suite(&backend).await;
}

#[test]
fn every_listed_deviation_names_a_scenario() {
    let names: Vec<&str> = scenarios::all().iter().map(|(name, _)| *name).collect();
    for (name, _) in MOTO_DEVIATIONS {
        assert!(names.contains(name), "MOTO_DEVIATIONS names no scenario {name}");
    }
}
