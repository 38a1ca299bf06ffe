//! The auth benchmark's peer (`bench/auth/run.sh`): a plain axum 0.8 hello-world on tokio's multi-thread
//! runtime. `GET /` answers `{"hello":"world"}` as JSON; nothing else is routed. What `GET
//! /auth/customer/me` costs beyond it is what cognigate adds to the same HTTP stack.
//!
//!   loadgen-hello PORT  # listens on 127.0.0.1:PORT (0 picks a free port); prints `hello listening on http://ADDR`

#![allow(clippy::print_stdout, reason = "the listening line is how the benchmark script finds the server")]

use anyhow::{Context as _, Result};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Hello {
    hello: &'static str,
}

async fn hello() -> Json<Hello> {
    Json(Hello { hello: "world" })
}

#[tokio::main]
async fn main() -> Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .context("usage: loadgen-hello PORT")?
        .parse()
        .context("PORT must be a port number")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    println!("hello listening on http://{}", listener.local_addr()?);
    axum::serve(listener, Router::new().route("/", get(hello))).await.context("the server stopped")
}
