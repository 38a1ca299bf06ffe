//! Bad input, route by route (`cases/bad_inputs.toml`): every case is answered with a 4xx and its stable
//! code, and leaves nothing behind — no identity, no mirror row, no outbox message — whatever it tried.

use cognigate_config::PoolKind;
use cognigate_service::ports::MirrorStore as _;
use serde::Deserialize;
use serde_json::Value;

use crate::fixtures::Stack;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    route: String,
    #[serde(default)]
    pool: Option<String>,
    #[serde(default)]
    method: Option<String>,
    body: String,
    #[serde(default)]
    pad: Option<usize>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    status: u16,
    code: String,
}

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

/// What a case could change: identities, mirror rows, outbox messages.
async fn state(stack: &Stack) -> (usize, u64, usize) {
    let mut identities = 0;
    let mut rows = 0;
    for pool in PoolKind::ALL {
        identities +=
            stack.api.service(pool).provider().list_users(None, Some(60), None).await.unwrap().users.len();
        rows += stack.runtime.store.count_mirror(pool).await.unwrap().iter().map(|(_, n)| n).sum::<u64>();
    }
    (identities, rows, stack.runtime.engine.outbox(None, 1000).await.unwrap().len())
}

#[tokio::test]
async fn bad_input_is_a_4xx_with_a_stable_code_and_changes_nothing() {
    let corpus: Corpus = toml::from_str(include_str!("cases/bad_inputs.toml")).unwrap();
    assert!(corpus.case.len() >= 50, "the corpus covers every route: {}", corpus.case.len());
    let stack = Stack::start(&[]).await;
    let before = state(&stack).await;
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in &corpus.case {
        let pad = |text: &str| match case.pad {
            Some(n) => text.replace("{pad}", &"a".repeat(n)),
            None => text.to_owned(),
        };
        let url = if case.route.starts_with('/') {
            format!("{}{}", stack.url, case.route)
        } else {
            format!("{}/auth/{}/{}", stack.url, case.pool.as_deref().unwrap_or("customer"), case.route)
        };
        let method =
            reqwest::Method::from_bytes(case.method.as_deref().unwrap_or("POST").as_bytes()).unwrap();
        let mut request = http.request(method, url).body(pad(&case.body));
        if !case.headers.contains_key("content-type") && !case.body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in &case.headers {
            request = request.header(name.as_str(), pad(value));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or_default();
        if (status, code) != (case.status, case.code.as_str()) || !(400..500).contains(&status) {
            failures.push(format!(
                "{} {}: {status} {body}",
                case.route,
                &case.body.chars().take(80).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases answered otherwise:\n{}",
        failures.len(),
        corpus.case.len(),
        failures.join("\n")
    );
    assert_eq!(state(&stack).await, before, "a refused request changed something");
}
