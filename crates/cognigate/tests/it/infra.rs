//! `cognigate infra`: the committed `infra/cognigate.json` is what the configuration gives, `--check` says
//! so, and fails naming the file when it is not; process variables never leak into the file.

use crate::{cognigate, repo_root, run};

#[test]
fn the_committed_infra_file_is_current() {
    let (ok, stdout, stderr) = run(cognigate().args(["infra", "--check"]));
    assert!(ok, "infra/cognigate.json is stale; run `cargo run -p cognigate -- infra`:\n{stderr}");
    assert!(stdout.contains("infra/cognigate.json is current"), "{stdout}");
}

#[test]
fn check_fails_naming_the_file_when_it_differs() {
    let dir = tempfile::tempdir().unwrap();
    let committed = std::fs::read_to_string(repo_root().join("infra/cognigate.json")).unwrap();
    let edited = dir.path().join("cognigate.json");
    std::fs::write(&edited, committed.replacen("\"burst\": 200", "\"burst\": 201", 1)).unwrap();
    let (ok, _, stderr) = run(cognigate().args(["infra", "--check", "--out"]).arg(&edited));
    assert!(!ok, "an edited file must fail the check");
    assert!(stderr.contains(&edited.display().to_string()), "{stderr}");
    assert!(stderr.contains("cognigate infra"), "{stderr}");
    let missing = dir.path().join("absent.json");
    let (ok, _, stderr) = run(cognigate().args(["infra", "--check", "--out"]).arg(&missing));
    assert!(!ok);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}

#[test]
fn infra_writes_the_same_bytes_whatever_the_process_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/cognigate.json");
    let (ok, stdout, stderr) = run(cognigate()
        .args(["infra", "--out"])
        .arg(&out)
        .env("COGNIGATE_THROTTLING__CUSTOMER__BURST", "999")
        .env("COGNIGATE_ENV", "prod"));
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&out.display().to_string()), "{stdout}");
    let written = std::fs::read_to_string(&out).unwrap();
    let committed = std::fs::read_to_string(repo_root().join("infra/cognigate.json")).unwrap();
    assert_eq!(written, committed);
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["environments"]["prod"]["throttling"]["customer"]["burst"], 200);
    for env in ["dev", "staging", "prod"] {
        assert!(value["environments"][env]["pools"]["staff"]["groups"].is_array(), "{env}");
    }
}
