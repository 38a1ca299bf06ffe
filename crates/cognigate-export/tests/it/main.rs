//! The exports: valid JSON, YAML and Cedar, and stable byte for byte (snapshots under `snapshots/`; review
//! a deliberate change with `cargo insta review` or `INSTA_UPDATE=always cargo test -p cognigate-export`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::str::FromStr;

use cognigate_config::{Config, Environment};
use cognigate_export::{Artefact, docs, export};
use cognigate_policy::Authorizer;

fn shipped() -> (Config, Authorizer) {
    let source = include_str!("../../../../cognigate.toml");
    let config = cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []).unwrap();
    let authorizer = Authorizer::from_config(&config).unwrap();
    (config, authorizer)
}

fn artefact<'a>(artefacts: &'a [Artefact], path: &str) -> &'a str {
    &artefacts.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{path} not exported")).contents
}

#[test]
fn export_writes_the_five_artefacts_and_each_parses() {
    let (config, authorizer) = shipped();
    let artefacts = export(&config, &authorizer).unwrap();
    let paths: Vec<&str> = artefacts.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        paths,
        ["roles.json", "policies.yaml", "cognigate.cedar", "cognigate.cedarschema", "permissions.md"]
    );

    let roles: serde_json::Value = serde_json::from_str(artefact(&artefacts, "roles.json")).unwrap();
    assert_eq!(roles["pools"]["staff"]["roles"]["manager"]["team_scoped"], true);
    let effective = &roles["pools"]["customer"]["roles"]["dealer"]["effective"];
    assert!(
        effective.as_array().unwrap().iter().any(|p| p == "listing_create"),
        "dealers inherit individual permissions"
    );

    let policies: serde_json::Value = serde_norway::from_str(artefact(&artefacts, "policies.yaml")).unwrap();
    assert_eq!(policies["version"], 1);
    assert!(policies["rules"].as_array().unwrap().iter().any(|r| r["id"] == "staff.last_super_admin"));
    assert_eq!(policies["routes"].as_array().unwrap().len(), config.routes.len());

    let policy_set = cedar_policy::PolicySet::from_str(artefact(&artefacts, "cognigate.cedar")).unwrap();
    assert_eq!(policy_set.policies().count(), authorizer.policy_ids().len());
    let (schema, _) =
        cedar_policy::Schema::from_cedarschema_str(artefact(&artefacts, "cognigate.cedarschema")).unwrap();
    let result =
        cedar_policy::Validator::new(schema).validate(&policy_set, cedar_policy::ValidationMode::Strict);
    assert!(result.validation_passed(), "the exported policies validate against the exported schema");

    let matrix = artefact(&artefacts, "permissions.md");
    assert!(matrix.contains("| `system_config` | ✅ | — | — | — |"), "{matrix}");
}

#[test]
fn exports_are_stable() {
    let (config, authorizer) = shipped();
    let first = export(&config, &authorizer).unwrap();
    let second = export(&config, &Authorizer::from_config(&config).unwrap()).unwrap();
    assert_eq!(first, second, "the same configuration gives the same bytes");
    for artefact in &first {
        insta::assert_snapshot!(artefact.path.clone(), artefact.contents);
    }
}

#[test]
fn docs_pages_are_stable_and_list_every_key() {
    let (config, authorizer) = shipped();
    let pages = docs(&[(Environment::Dev, config)], &authorizer);
    let environment = artefact(&pages, "environment.md");
    for key in cognigate_export::config_keys().iter().filter(|k| !k.section && !k.in_array) {
        let var = cognigate_config::env_var_for_key(&key.key);
        assert!(environment.contains(&format!("`{var}`")), "{var} is missing from environment.md");
    }
    assert!(environment.contains("`COGNIGATE_POOLS__STAFF__MFA__MODE`"));
    let configuration = artefact(&pages, "configuration.md");
    assert!(
        configuration.contains("| `pools.customer.tokens.refresh` | duration | yes |"),
        "{configuration}"
    );
}

#[test]
fn docs_index_links_every_other_page() {
    let (config, authorizer) = shipped();
    let pages = docs(&[(Environment::Dev, config)], &authorizer);
    let paths: Vec<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["README.md", "permissions.md", "roles.md", "environment.md", "configuration.md", "flows.md"]
    );
    let index = artefact(&pages, "README.md");
    for page in &paths[1..] {
        assert!(index.contains(&format!("[{page}]({page})")), "{page} is not linked from README.md");
    }
}

#[test]
fn flows_page_is_stable() {
    let (config, authorizer) = shipped();
    let pages = docs(&[(Environment::Dev, config.clone())], &authorizer);
    let flows = artefact(&pages, "flows.md");
    assert_eq!(flows, cognigate_export::flows_page(Environment::Dev, &config), "the same bytes twice");
    insta::assert_snapshot!("flows.md", flows);
}
