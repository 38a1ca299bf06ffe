//! `HttpJwksSource` against a local HTTP server: the well-known path, the size limit, non-200 answers,
//! redirects not followed, and a verifier reading a pool's keys over HTTP end to end.

use std::sync::Arc;

use cognigate_token::{HttpJwksSource, JwkSet, JwksError, JwksSource, sign};

use crate::*;

fn json_response(body: Vec<u8>) -> Response {
    (200, vec![("Content-Type", "application/json".into())], body)
}

#[tokio::test]
async fn fetches_the_well_known_jwks() {
    let key = SigningKey::generate().unwrap();
    let set = JwkSet::from_signing_keys([&key]);
    let body = serde_json::to_vec(&set).unwrap();
    let server = TestServer::start(move |_| json_response(body.clone()));
    let source = HttpJwksSource::new().unwrap();
    let fetched = source.fetch(&format!("{}/us-east-1_Abc", server.base)).await.unwrap();
    assert_eq!(fetched, set);
    assert_eq!(
        server.requests.lock().unwrap().as_slice(),
        ["GET /us-east-1_Abc/.well-known/jwks.json HTTP/1.1".to_owned()]
    );
}

#[tokio::test]
async fn refuses_bodies_over_the_limit() {
    let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(70 * 1024)).into_bytes();
    let server = TestServer::start(move |_| json_response(big.clone()));
    let source = HttpJwksSource::new().unwrap();
    assert!(matches!(source.fetch(&server.base).await, Err(JwksError::TooLarge { limit: 65536 })));
    // Without Content-Length the limit is enforced while reading.
    let body = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(70 * 1024)).into_bytes();
    let unannounced = TestServer::start(move |_| (200, vec![(NO_LENGTH, "1".into())], body.clone()));
    assert!(matches!(source.fetch(&unannounced.base).await, Err(JwksError::TooLarge { limit: 65536 })));
    let fits = TestServer::start(|_| (200, vec![(NO_LENGTH, "1".into())], br#"{"keys":[]}"#.to_vec()));
    assert_eq!(source.fetch(&fits.base).await.unwrap(), JwkSet::default());
    let small = HttpJwksSource::new().unwrap().with_max_bytes(10);
    let tiny = TestServer::start(|_| json_response(br#"{"keys":[]}"#.to_vec()));
    assert!(matches!(small.fetch(&tiny.base).await, Err(JwksError::TooLarge { limit: 10 })));
}

#[tokio::test]
async fn refuses_errors_redirects_and_garbage() {
    let server = TestServer::start(|path| match path {
        "/missing/.well-known/jwks.json" => (404, vec![], b"no".to_vec()),
        "/moved/.well-known/jwks.json" => (302, vec![("Location", "http://127.0.0.1:9/evil".into())], vec![]),
        _ => json_response(b"<html>".to_vec()),
    });
    let source = HttpJwksSource::new().unwrap();
    assert!(matches!(source.fetch(&format!("{}/missing", server.base)).await, Err(JwksError::Status(404))));
    assert!(matches!(source.fetch(&format!("{}/moved", server.base)).await, Err(JwksError::Status(302))));
    assert!(matches!(source.fetch(&format!("{}/garbage", server.base)).await, Err(JwksError::Json(_))));
    assert_eq!(server.request_count(), 3);
    // Nothing listening: a request error, not a panic.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert!(matches!(source.fetch(&url).await, Err(JwksError::Request(_))));
}

#[tokio::test]
async fn verifier_reads_keys_over_http() {
    let key = SigningKey::generate().unwrap();
    let body = serde_json::to_vec(&JwkSet::from_signing_keys([&key])).unwrap();
    let server = TestServer::start(move |_| json_response(body.clone()));
    let issuer = format!("{}/us-east-1_Pool", server.base);
    let verifier = Verifier::builder(Arc::new(HttpJwksSource::new().unwrap()))
        .audience(Audience::access(issuer.clone(), [WEB]))
        .clock(Arc::new(FixedClock::new(NOW)))
        .build()
        .unwrap();
    let token = sign(&key, &access_claims(&issuer, WEB)).unwrap();
    assert_eq!(verifier.verify(&token).await.unwrap().issuer(), issuer);
    assert_eq!(server.request_count(), 1);
}
