//! Cognito's JSON 1.1 wire protocol as the benchmark speaks it: `POST /` with `X-Amz-Target`, the
//! `application/x-amz-json-1.1` content type and one fixed, fake SigV4 `Authorization` header. The three
//! servers accept any signature; moto takes the region (us-east-1) from the header's credential scope.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use reqwest::Client;
use serde_json::Value;

/// Sent with every request, to every server. Nobody checks the signature; moto reads the region from it.
pub const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request, \
                                 SignedHeaders=host, Signature=00";

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An HTTP/1.1 client that keeps up to `connections` connections open to one server, and never goes through
/// a proxy (the servers are on loopback).
pub fn client(connections: usize) -> Result<Client> {
    Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()
        .context("cannot build the HTTP client")
}

/// A server's answer: the HTTP status and the whole body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The first 300 characters of the body, for error messages.
    pub fn snippet(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
}

/// Sends one request and reads the whole answer.
pub async fn send(client: &Client, url: &str, operation: &str, body: String) -> Result<Answer> {
    let response = client
        .post(url)
        .header("X-Amz-Target", format!("AWSCognitoIdentityProviderService.{operation}"))
        .header("Content-Type", CONTENT_TYPE)
        .header("Authorization", AUTHORIZATION)
        .body(body)
        .send()
        .await
        .with_context(|| format!("{operation} to {url}"))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.with_context(|| format!("reading the answer to {operation}"))?;
    Ok(Answer { status, body: body.to_vec() })
}

/// Sends one request that must succeed, and returns its JSON answer.
pub async fn call(client: &Client, url: &str, operation: &str, body: &Value) -> Result<Value> {
    let answer = send(client, url, operation, body.to_string()).await?;
    if answer.status != 200 {
        bail!("{operation} at {url} answered HTTP {}: {}", answer.status, answer.snippet());
    }
    if answer.body.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(&answer.body)
        .with_context(|| format!("{operation} at {url} answered with no JSON: {}", answer.snippet()))
}
