use crate::{cognigate, repo_root, run};

#[test]
fn config_check_passes_for_every_environment_of_the_shipped_file() {
    let (ok, stdout, stderr) = run(cognigate().args(["config", "check"]));
    assert!(ok, "{stderr}");
    for env in ["dev", "staging", "prod"] {
        assert!(stdout.contains(&format!("cognigate.toml is valid for {env}")), "{stdout}");
    }
}

#[test]
fn config_check_names_a_misspelt_key_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(repo_root().join("cognigate.toml")).unwrap();
    let bad = dir.path().join("cognigate.toml");
    std::fs::write(&bad, source.replacen("max_failures = 5", "max_failurs = 5", 1)).unwrap();
    let (ok, _, stderr) = run(cognigate().arg("--config").arg(&bad).args(["config", "check"]));
    assert!(!ok);
    assert!(stderr.contains("pools.customer.lockout.max_failurs: unknown key `max_failurs`"), "{stderr}");
}

#[test]
fn config_check_names_an_environment_variable_that_breaks_a_rule() {
    let (ok, _, stderr) = run(cognigate()
        .args(["--env", "prod", "config", "check"])
        .env("COGNIGATE_POOLS__STAFF__MFA__MODE", "off"));
    assert!(!ok);
    assert!(stderr.contains("pools.staff.mfa.mode: must be \"required\" for staff in prod"), "{stderr}");
    assert!(stderr.contains("COGNIGATE_POOLS__STAFF__MFA__MODE"), "{stderr}");
}

#[test]
fn a_missing_configuration_file_is_a_clear_error() {
    let (ok, _, stderr) =
        run(cognigate().args(["--config", "/nonexistent/cognigate.toml", "config", "check"]));
    assert!(!ok);
    assert!(stderr.contains("cannot read the configuration file /nonexistent/cognigate.toml"), "{stderr}");
}

#[test]
fn config_show_prints_the_effective_configuration() {
    let (ok, stdout, stderr) = run(cognigate().args(["--env", "prod", "config", "show"]));
    assert!(ok, "{stderr}");
    let shown: toml::Table = toml::from_str(&stdout).unwrap();
    assert_eq!(shown["pools"]["staff"]["tokens"]["access"].as_str(), Some("10m"));
    assert_eq!(shown["pools"]["customer"]["provider"].as_str(), Some("cognito"));
}

#[test]
fn export_writes_the_artefacts() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = run(cognigate().arg("export").arg("--out").arg(dir.path()));
    assert!(ok, "{stderr}");
    for name in ["roles.json", "policies.yaml", "cognigate.cedar", "cognigate.cedarschema", "permissions.md"]
    {
        let path = dir.path().join(name);
        assert!(std::fs::metadata(&path).unwrap().len() > 100, "{name}");
        assert!(stdout.contains(&path.display().to_string()), "{stdout}");
    }
    let roles: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("roles.json")).unwrap()).unwrap();
    assert!(roles["pools"]["staff"]["roles"]["super_admin"].is_object());
}

/// The check CI relies on: the committed docs/ are what `cognigate docs` generates now.
#[test]
fn committed_docs_are_current() {
    let (ok, stdout, stderr) = run(cognigate().args(["docs", "--check"]));
    assert!(ok, "docs/ is stale; run `cargo run -p cognigate -- docs` and commit:\n{stderr}");
    assert!(stdout.contains("are current"), "{stdout}");
}

#[test]
fn docs_check_fails_on_a_stale_page() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = run(cognigate().arg("docs").arg("--out").arg(dir.path()));
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(cognigate().arg("docs").arg("--check").arg("--out").arg(dir.path()));
    assert!(ok, "{stderr}");
    let page = dir.path().join("permissions.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replacen("✅", "—", 1)).unwrap();
    let (ok, _, stderr) = run(cognigate().arg("docs").arg("--check").arg("--out").arg(dir.path()));
    assert!(!ok);
    assert!(stderr.contains("permissions.md"), "{stderr}");
}

#[test]
fn dev_refuses_another_environment() {
    let (ok, _, stderr) = run(cognigate().args(["--env", "prod", "dev", "--listen", "127.0.0.1:0"]));
    assert!(!ok);
    assert!(stderr.contains("always runs the dev environment"), "{stderr}");
}
