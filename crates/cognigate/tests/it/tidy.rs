//! Repository rules, checked as tests: the dependency edges between our crates are the ones
//! ARCHITECTURE.md allows, heavy and I/O crates stay where they belong, and every source file says why it
//! exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::repo_root;

/// For each of our crates, the crates (ours or registry) it may depend on in normal builds.
fn manifest_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(repo_root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()).unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_owned();
        let deps = manifest
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default();
        crates.insert(name, deps);
    }
    crates
}

#[test]
fn dependency_edges_follow_the_architecture() {
    let crates = manifest_dependencies();
    let allowed_internal: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("cognigate-config", &[][..]),
        ("cognigate-domain", &["cognigate-config"][..]),
        ("cognigate-policy", &["cognigate-config", "cognigate-domain"][..]),
        ("cognigate-export", &["cognigate-config", "cognigate-domain", "cognigate-policy"][..]),
        (
            "cognigate-http",
            &[
                "cognigate-config",
                "cognigate-domain",
                "cognigate-policy",
                "cognigate-engine",
                "cognigate-service",
            ][..],
        ),
        (
            "cognigate-service",
            &[
                "cognigate-config",
                "cognigate-domain",
                "cognigate-policy",
                "cognigate-token",
                "cognigate-provider",
            ][..],
        ),
        ("cognigate-token", &[][..]),
        ("cognigate-engine", &["cognigate-config", "cognigate-domain", "cognigate-token"][..]),
        // The store implements the engine's and the service's ports.
        (
            "cognigate-store",
            &["cognigate-engine", "cognigate-service", "cognigate-config", "cognigate-domain"][..],
        ),
        ("cognigate-provider", &["cognigate-domain", "cognigate-engine"][..]),
        ("cognigate-cognito", &["cognigate-provider"][..]),
        // The Lambdas: the authorizer (routes, tokens, Cedar) and the Cognito triggers (claims, the mirror and
        // audit through the service's rules and the store, groups through the cognito provider).
        (
            "cognigate-lambda",
            &[
                "cognigate-config",
                "cognigate-domain",
                "cognigate-policy",
                "cognigate-token",
                "cognigate-provider",
                "cognigate-cognito",
                "cognigate-service",
                "cognigate-store",
            ][..],
        ),
        // A benchmark tool: it seeds the store directly, so it may reach the engine and the store.
        ("cognigate-loadgen", &["cognigate-engine", "cognigate-store"][..]),
        (
            "cognigate",
            &[
                "cognigate-config",
                "cognigate-domain",
                "cognigate-policy",
                "cognigate-export",
                "cognigate-http",
                "cognigate-engine",
                "cognigate-store",
                "cognigate-token",
                "cognigate-provider",
                "cognigate-cognito",
                "cognigate-service",
            ][..],
        ),
    ]);
    for (name, deps) in &crates {
        let allowed = allowed_internal
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not in ARCHITECTURE.md's map"));
        for dep in deps.iter().filter(|d| d.starts_with("cognigate")) {
            assert!(allowed.contains(&dep.as_str()), "{name} must not depend on {dep} (see ARCHITECTURE.md)");
        }
    }
    // Only the HTTP edge knows axum; only the policy crate knows Cedar; the pure crates have no runtime.
    let only = |registry: &str, owner: &str| {
        for (name, deps) in &crates {
            if name != owner {
                assert!(!deps.contains(registry), "{name} depends on {registry}; only {owner} may");
            }
        }
    };
    // The load generator's hello-world peer is an axum server too; nothing of the product is.
    for (name, deps) in &crates {
        if name != "cognigate-http" && name != "cognigate-loadgen" {
            assert!(!deps.contains("axum"), "{name} depends on axum; only cognigate-http may");
        }
    }
    only("sqlx", "cognigate-store");
    only("cedar-policy", "cognigate-policy");
    only("aws-sdk-cognitoidentityprovider", "cognigate-cognito");
    only("aws-config", "cognigate-cognito");
    for pure in ["cognigate-config", "cognigate-domain", "cognigate-policy"] {
        for io in ["tokio", "axum", "reqwest", "sqlx"] {
            assert!(!crates[pure].contains(io), "{pure} is pure and must not depend on {io}");
        }
    }
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_library_module_starts_with_a_doc_comment() {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("crates")).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 10);
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| !std::fs::read_to_string(file).unwrap().trim_start().starts_with("//!"))
        .map(|file| file.display().to_string())
        .collect();
    assert!(undocumented.is_empty(), "modules without a //! doc saying why they exist: {undocumented:?}");
}
