//! The server started for real on a free loopback port, asked over HTTP, and stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::cognigate;

/// A running `cognigate` server; killed when dropped so no test leaves one behind. Its state lives in a
/// temporary directory.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) lines: Vec<String>,
    pub(crate) data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    start_with(args, &[])
}

pub(crate) fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
    start_in(tempfile::tempdir().unwrap(), args, env)
}

/// Starts a server on the state in `data` (a restart when it was used before).
fn start_in(data: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Server {
    let child = cognigate()
        .args(args)
        .envs(env.iter().copied())
        .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
        .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by `Server` from here on, so it is killed and reaped whatever happens next.
    let mut server = Server { child, url: String::new(), lines: Vec::new(), data };
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

/// Stops `server` and starts `cognigate dev` again on the same state.
pub(crate) fn restart(mut server: Server) -> Server {
    let _ = server.child.kill();
    let _ = server.child.wait();
    let data = std::mem::replace(&mut server.data, tempfile::tempdir().unwrap());
    start_in(data, &["dev", "--no-seed", "--listen", "127.0.0.1:0"], &[])
}

/// The newest six-digit code the server's outbox holds for `email`.
pub(crate) fn code_in_outbox(server: &Server, email: &str) -> String {
    let (ok, stdout, stderr) = crate::run(
        cognigate()
            .args(["outbox", "--json", "--to", email, "--limit", "1"])
            .env("COGNIGATE_SERVICE__DATA_DIR", server.data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", server.data.path().display())),
    );
    assert!(ok, "{stderr}");
    let messages: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let body = messages[0]["body"].as_str().unwrap();
    // The last 6-digit number: a pool's name may hold digits too.
    body.split(|c: char| !c.is_ascii_digit()).rfind(|w| w.len() == 6).unwrap().to_owned()
}

#[tokio::test]
async fn dev_serves_health_readiness_and_the_configuration() {
    let server = start(&["dev", "--no-seed", "--listen", "127.0.0.1:0"]);
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
            .args(["dev", "--no-seed", "--listen", "127.0.0.1:0"])
            .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server =
            Server { child, url: String::new(), lines: Vec::new(), data: tempfile::tempdir().unwrap() };
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
async fn outbox_json_shows_a_code_sent_over_the_wire() {
    let server = start(&["dev", "--no-seed", "--listen", "127.0.0.1:0"]);
    let client_id = server.lines[0].split("client id ").nth(1).unwrap().split(',').next().unwrap().to_owned();
    let body = serde_json::json!({
        "ClientId": client_id, "Username": "outbox@example.com", "Password": "Correct-Horse-9",
        "UserAttributes": [{ "Name": "email", "Value": "outbox@example.com" }],
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/", server.url))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let (ok, stdout, stderr) = crate::run(
        cognigate()
            .args(["outbox", "--json", "--to", "outbox@example.com"])
            .env("COGNIGATE_SERVICE__DATA_DIR", server.data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", server.data.path().display())),
    );
    assert!(ok, "{stderr}");
    let messages: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(messages[0]["recipient"], "outbox@example.com");
    assert_eq!(messages[0]["kind"], "sign_up_code", "{messages}");
    assert!(messages[0]["body"].as_str().unwrap().chars().filter(char::is_ascii_digit).count() >= 6);
}

/// The `cognito` provider settings of both pools, pointed at another cognigate's wire endpoint.
pub(crate) fn cognito_pools_at(url: &str, lines: &[String]) -> Vec<(String, String)> {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "test-secret".to_owned()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
        ("COGNIGATE_SECRET_STAFF_CLIENT".to_owned(), "unused-by-a-client-without-secret".to_owned()),
    ];
    for kind in ["customer", "staff"] {
        let line = lines.iter().find(|l| l.starts_with(&format!("{kind} pool: "))).unwrap();
        let word_after = |label: &str| {
            let rest = &line[line.find(label).unwrap() + label.len()..];
            rest.split([',', ' ']).find(|w| !w.is_empty()).unwrap().to_owned()
        };
        let key = kind.to_uppercase();
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__USER_POOL_ID"), word_after("pool id ")));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__CLIENT_ID"), word_after("client id ")));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__ENDPOINT"), url.to_owned()));
        // The engine's pool ids are `local_...`: its region is `local`.
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__REGION"), "local".to_owned()));
    }
    env
}

#[tokio::test]
async fn serve_runs_staging_on_the_cognito_provider() {
    // Staging's pools use the `cognito` provider; here it talks to a second cognigate's wire endpoint
    // through the AWS SDK, exactly as it would talk to AWS.
    let upstream = start(&["dev", "--no-seed", "--listen", "127.0.0.1:0"]);
    let env = cognito_pools_at(&upstream.url, &upstream.lines);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = start_with(&["--env", "staging", "serve", "--listen", "127.0.0.1:0"], &env);
    // Outside dev the configuration is an operator's page: a staff token with system_config is needed.
    let config = reqwest::get(format!("{}/config", server.url)).await.unwrap();
    assert_eq!(config.status(), 401);
    for kind in ["customer", "staff"] {
        let line = server.lines.iter().find(|l| l.starts_with(&format!("{kind} pool: "))).unwrap();
        assert!(line.contains("AWS Cognito") && line.contains(&upstream.url), "{line}");
    }
    // Outside dev the wire protocol is not on the service port at all (it is off unless it gets a listener
    // of its own); the dev upstream serves it, and lets loopback callers administer.
    for (url, served) in [(&server.url, false), (&upstream.url, true)] {
        let answer = reqwest::Client::new()
            .post(format!("{url}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "AWSCognitoIdentityProviderService.ListUserPools")
            .body(r#"{"MaxResults": 10}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), if served { 200 } else { 404 }, "{url}");
    }
}

#[test]
fn staging_refuses_to_start_when_cognito_cannot_be_reached() {
    let (ok, stdout, stderr) = crate::run(
        cognigate()
            .args(["--env", "staging", "serve", "--listen", "127.0.0.1:0"])
            .env("COGNIGATE_STORE__URL", "sqlite://target/unused-staging.db")
            .env("COGNIGATE_SERVICE__DATA_DIR", std::env::temp_dir().join("cognigate-unreachable"))
            .env("COGNIGATE_SECRET_STAFF_CLIENT", "x")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "test-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("COGNIGATE_POOLS__CUSTOMER__COGNITO__ENDPOINT", "http://127.0.0.1:9")
            .env("COGNIGATE_POOLS__STAFF__COGNITO__ENDPOINT", "http://127.0.0.1:9"),
    );
    assert!(!ok, "{stdout}");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains("cannot reach the Cognito user pool eu-west-1_StagCust1"), "{stderr}");
    assert!(stderr.contains("staging refuses to start"), "{stderr}");
}

#[tokio::test]
async fn dev_falls_back_to_the_engine_loudly_when_cognito_cannot_be_reached() {
    let data = tempfile::tempdir().unwrap();
    let output = cognigate()
        .args(["dev", "--no-seed", "--listen", "127.0.0.1:0"])
        .env("COGNIGATE_SERVICE__DATA_DIR", data.path())
        .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", data.path().display()))
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("COGNIGATE_POOLS__CUSTOMER__PROVIDER", "cognito")
        .env("COGNIGATE_POOLS__CUSTOMER__COGNITO__REGION", "eu-west-1")
        .env("COGNIGATE_POOLS__CUSTOMER__COGNITO__USER_POOL_ID", "eu-west-1_Missing01")
        .env("COGNIGATE_POOLS__CUSTOMER__COGNITO__CLIENT_ID", "missingclient")
        .env("COGNIGATE_POOLS__CUSTOMER__COGNITO__ENDPOINT", "http://127.0.0.1:9")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server { child: output, url: String::new(), lines: Vec::new(), data };
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.starts_with("cognigate listening on ") {
        server.lines.push(std::mem::take(&mut line));
    }
    assert!(line.starts_with("cognigate listening on "), "{:?}", server.lines);
    assert!(
        server.lines.iter().any(|l| l.starts_with("customer pool: embedded engine")),
        "{:?}",
        server.lines
    );
    let _ = server.child.kill();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("WARNING") && stderr.contains("FALLS BACK"), "{stderr}");
}

#[tokio::test]
async fn the_wire_endpoint_answers_the_aws_json_protocol() {
    let server = start(&["dev", "--no-seed", "--listen", "127.0.0.1:0"]);
    let client = reqwest::Client::new();
    let call = |target: &str, body: &'static str| {
        client
            .post(format!("{}/", server.url))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{target}"))
            .body(body)
            .send()
    };
    let pools = call("ListUserPools", r#"{"MaxResults": 10}"#).await.unwrap();
    assert_eq!(pools.status(), 200);
    let pools: serde_json::Value = pools.json().await.unwrap();
    assert_eq!(pools["UserPools"].as_array().unwrap().len(), 2, "{pools}");
    let unknown = call("MakeCoffee", "{}").await.unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(unknown.headers()["x-amzn-errortype"], "UnknownOperationException");
    let malformed = call("SignUp", "{not json").await.unwrap();
    assert_eq!(malformed.status(), 400);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(body["__type"], "SerializationException");
    let missing = call("AdminGetUser", r#"{"UserPoolId": "local_nope"}"#).await.unwrap();
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
}

/// Outside dev, on the embedded engine (staging's pools switched to `local`): the wire is only where
/// `engine.wire.listen` puts it, administration there needs a signature, no client operation of a
/// configured pool is served (not even through cognigate's own client, whose id is predictable), and the
/// operational views are closed (I1).
#[tokio::test]
async fn outside_dev_the_wire_is_its_own_listener_and_no_side_door() {
    let metrics_token = "metrics-reader-token-1234567890";
    let server = start_with(
        &["--env", "staging", "serve", "--listen", "127.0.0.1:0"],
        &[
            ("COGNIGATE_POOLS__CUSTOMER__PROVIDER", "local"),
            ("COGNIGATE_POOLS__STAFF__PROVIDER", "local"),
            ("COGNIGATE_MAIL__DELIVERY", "smtp"),
            ("COGNIGATE_MAIL__SMTP__HOST", "127.0.0.1"),
            ("COGNIGATE_MAIL__SMTP__PORT", "9"),
            ("COGNIGATE_MAIL__SMTP__SECURITY", "none"),
            ("COGNIGATE_ENGINE__WIRE__LISTEN", "127.0.0.1:0"),
            ("COGNIGATE_SECRETS__METRICS_TOKEN", r#"{ env = "TEST_METRICS_TOKEN" }"#),
            ("TEST_METRICS_TOKEN", metrics_token),
        ],
    );
    let wire_url = server
        .lines
        .iter()
        .find_map(|line| line.strip_prefix("Cognito wire endpoint: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no wire line: {:?}", server.lines))
        .trim_end_matches('/')
        .to_owned();
    assert_ne!(wire_url, server.url, "a listener of its own");
    let client = reqwest::Client::new();
    let call = |url: &str, target: &str, body: serde_json::Value| {
        client
            .post(format!("{url}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{target}"))
            .body(body.to_string())
            .send()
    };
    // The service port does not speak the wire protocol.
    let on_service =
        call(&server.url, "ListUserPools", serde_json::json!({ "MaxResults": 10 })).await.unwrap();
    assert!(on_service.headers().get("x-amzn-errortype").is_none(), "{:?}", on_service.headers());
    assert_ne!(on_service.status(), 200);
    // Unsigned administration from loopback is refused: loopback is no credential outside dev.
    let list = call(&wire_url, "ListUserPools", serde_json::json!({ "MaxResults": 10 })).await.unwrap();
    assert_eq!(list.status(), 400);
    let body: serde_json::Value = list.json().await.unwrap();
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    assert!(body["message"].as_str().unwrap().contains("signed (SigV4)"), "{body}");
    // Client operations of both configured pools are refused, through the service's own client too.
    let config = cognigate_config::load_from_str(
        include_str!("../../../../cognigate.toml"),
        "cognigate.toml",
        cognigate_config::Environment::Staging,
        [],
    )
    .unwrap();
    for kind in [cognigate_config::PoolKind::Customer, cognigate_config::PoolKind::Staff] {
        let client_id = cognigate::runtime::service_client_id(&config, kind);
        for (operation, body) in [
            (
                "InitiateAuth",
                serde_json::json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "someone@example.com", "PASSWORD": "Correct-Horse-9!" } }),
            ),
            (
                "ForgotPassword",
                serde_json::json!({ "ClientId": client_id, "Username": "someone@example.com" }),
            ),
            (
                "SignUp",
                serde_json::json!({ "ClientId": client_id, "Username": "someone@example.com",
                "Password": "Correct-Horse-9!" }),
            ),
        ] {
            let answer = call(&wire_url, operation, body).await.unwrap();
            assert_eq!(answer.status(), 400);
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["__type"], "NotAuthorizedException", "{kind} {operation}: {body}");
        }
    }
    // I1: the configuration and the metrics are not public.
    let config_view = client.get(format!("{}/config", server.url)).send().await.unwrap();
    assert_eq!(config_view.status(), 401);
    let metrics = client.get(format!("{}/metrics", server.url)).send().await.unwrap();
    assert_eq!(metrics.status(), 401);
    let metrics =
        client.get(format!("{}/metrics", server.url)).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(metrics.status(), 401);
    let metrics =
        client.get(format!("{}/metrics", server.url)).bearer_auth(metrics_token).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("cognigate_"));
    let openapi = client.get(format!("{}/openapi.json", server.url)).send().await.unwrap();
    assert_eq!(openapi.status(), 200, "the API description stays public");
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

/// `cognigate dev` on an empty installation creates the first super_admin with a one-time password that
/// it prints once, plus demo accounts; a restart seeds nothing and prints no password; `--no-seed` opts out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_seeds_a_first_super_admin_once() {
    let server = start(&["dev", "--listen", "127.0.0.1:0"]);
    let printed = |lines: &[String], prefix: &str| {
        lines.iter().find_map(|l| l.trim().strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    };
    assert_eq!(printed(&server.lines, "Console:"), Some(format!("{}/console", server.url)));
    assert_eq!(printed(&server.lines, "First super_admin:").as_deref(), Some("admin@example.com"));
    let password = printed(&server.lines, "One-time temporary password:").expect("the password is printed");
    assert!(password.len() >= 16, "{password}");

    let client = reqwest::Client::new();
    let login = |password: String| {
        client
            .post(format!("{}/auth/staff/login", server.url))
            .json(&serde_json::json!({ "email": "admin@example.com", "password": password }))
            .send()
    };
    let body: serde_json::Value = login(password.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(body["challenge"], "NEW_PASSWORD_REQUIRED", "{body}");
    // The demo staff got invitations in the outbox; their passwords are not printed.
    let (ok, stdout, _) = crate::run(
        cognigate()
            .args(["outbox", "--json", "--to", "north.manager@example.com"])
            .env("COGNIGATE_SERVICE__DATA_DIR", server.data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", server.data.path().display())),
    );
    assert!(ok && stdout.contains("Temporary password"), "{stdout}");
    assert!(!server.lines.iter().any(|l| l.contains("north.manager")), "{:?}", server.lines);

    // A restart finds the super_admin and seeds nothing.
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let data = std::mem::replace(&mut server.data, tempfile::tempdir().unwrap());
    let again = start_in(data, &["dev", "--listen", "127.0.0.1:0"], &[]);
    assert_eq!(printed(&again.lines, "One-time temporary password:"), None, "{:?}", again.lines);
    assert!(again.lines.iter().any(|l| l.contains("a super_admin exists already")), "{:?}", again.lines);

    let bare = start(&["dev", "--no-seed", "--listen", "127.0.0.1:0"]);
    assert_eq!(printed(&bare.lines, "First super_admin:"), None);
    assert!(printed(&bare.lines, "Console:").is_some(), "the console URL is always printed");
}
