//! The server started for real on a free loopback port, asked over HTTP, and stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::cognigate;

/// A running `cognigate` server; killed when dropped so no test leaves one behind. Its state lives in a
/// temporary directory.
struct Server {
    child: Child,
    url: String,
    lines: Vec<String>,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let data = tempfile::tempdir().unwrap();
    let child = cognigate()
        .args(args)
        .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
        .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by `Server` from here on, so it is killed and reaped whatever happens next.
    let mut server = Server { child, url: String::new(), lines: Vec::new(), _data: data };
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the server stopped before listening: {:?}",
            server.lines
        );
        if line.starts_with("cognigate listening on ") {
            server.url = line.split_whitespace().find(|word| word.starts_with("http://")).unwrap().to_owned();
            return server;
        }
        server.lines.push(line);
    }
}

#[tokio::test]
async fn dev_serves_health_readiness_and_the_configuration() {
    let server = start(&["dev", "--listen", "127.0.0.1:0"]);
    let client = reqwest::Client::new();
    let health = client.get(format!("{}/healthz", server.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(format!("{}/readyz", server.url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let config: serde_json::Value =
        client.get(format!("{}/config", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(config["environment"], "dev");
    assert_eq!(config["pools"]["customer"]["provider"], "local");
    assert!(config["policies"].as_array().unwrap().iter().any(|id| id == "staff.last_super_admin"));

    // Both pools run on the embedded engine, with their keys and discovery documents published.
    assert!(
        server.lines.iter().any(|l| l.starts_with("customer pool: embedded engine, pool id local_")),
        "{:?}",
        server.lines
    );
    let pools = config["local_pools"].as_array().unwrap();
    assert_eq!(pools.len(), 2);
    let mut kids = Vec::new();
    for pool in pools {
        let pool_id = pool["pool_id"].as_str().unwrap();
        let jwks: serde_json::Value = client
            .get(format!("{}/{pool_id}/.well-known/jwks.json", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        kids.push(jwks["keys"][0]["kid"].as_str().unwrap().to_owned());
        let discovery: serde_json::Value = client
            .get(format!("{}/{pool_id}/.well-known/openid-configuration", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(discovery["issuer"], pool["issuer"]);
    }
    assert_ne!(kids[0], kids[1], "each pool has its own signing key");
    let missing =
        client.get(format!("{}/local_Nope12345/.well-known/jwks.json", server.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn pool_ids_and_keys_are_stable_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let child = cognigate()
            .args(["dev", "--listen", "127.0.0.1:0"])
            .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server =
            Server { child, url: String::new(), lines: Vec::new(), _data: tempfile::tempdir().unwrap() };
        let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
        let mut line = String::new();
        let mut url = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            if let Some(rest) = line.strip_prefix("cognigate listening on ") {
                url = rest.split_whitespace().next().unwrap().to_owned();
                break;
            }
            line.clear();
        }
        let config: serde_json::Value =
            reqwest::get(format!("{url}/config")).await.unwrap().json().await.unwrap();
        let pool_id = config["local_pools"][0]["pool_id"].as_str().unwrap().to_owned();
        let jwks: serde_json::Value = reqwest::get(format!("{url}/{pool_id}/.well-known/jwks.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.push((pool_id, config["local_pools"][0]["client_id"].clone(), jwks["keys"][0]["kid"].clone()));
        drop(server);
    }
    assert_eq!(seen[0], seen[1], "the same installation keeps its pool ids, client ids and keys");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("sealing.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn outbox_lists_what_the_engine_sent() {
    let data = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = crate::run(
        cognigate()
            .arg("outbox")
            .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display())),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("the outbox is empty"), "{stdout}");
}

#[tokio::test]
async fn serve_runs_the_selected_environment() {
    let server = start(&["--env", "staging", "serve", "--listen", "127.0.0.1:0"]);
    let config: serde_json::Value =
        reqwest::get(format!("{}/config", server.url)).await.unwrap().json().await.unwrap();
    assert_eq!(config["environment"], "staging");
    assert_eq!(config["pools"]["staff"]["provider"], "cognito");
}

#[test]
fn serve_refuses_an_invalid_configuration_before_listening() {
    let (ok, stdout, stderr) = crate::run(
        cognigate()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("COGNIGATE_POOLS__CUSTOMER__TOKENS__ACCESS", "2d"),
    );
    assert!(!ok);
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains("pools.customer.tokens.access"), "{stderr}");
}
