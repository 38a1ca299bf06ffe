//! The server started for real on a free loopback port, asked over HTTP, and stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::cognigate;

/// A running `cognigate` server; killed when dropped so no test leaves one behind.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = cognigate()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, url }
}

#[tokio::test]
async fn dev_serves_health_readiness_and_the_configuration() {
    let server = start(&["dev", "--listen", "127.0.0.1:0"]);
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(format!("{}/readyz", server.url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let config: serde_json::Value = client
        .get(format!("{}/config", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["environment"], "dev");
    assert_eq!(config["pools"]["customer"]["provider"], "local");
    assert!(
        config["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "staff.last_super_admin")
    );
}

#[tokio::test]
async fn serve_runs_the_selected_environment() {
    let server = start(&["--env", "staging", "serve", "--listen", "127.0.0.1:0"]);
    let config: serde_json::Value = reqwest::get(format!("{}/config", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
