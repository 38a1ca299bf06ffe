//! The closed-loop generator: a fixed number of workers, each sending its next request as soon as the
//! previous one is answered, for a warm-up and then a measured window. Latencies of the requests started in
//! the window go into an HDR histogram (microseconds, 3 significant digits). Every answer is checked; errors
//! are counted in both periods and any error makes the figure invalid.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use hdrhistogram::Histogram;
use reqwest::Client;
use serde::{Deserialize, Serialize};

use crate::ops::{Op, Target};
use crate::wire;

/// How long to warm up and to measure, and with how many connections.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// The figures of one operation against one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figures {
    /// Requests started and answered in the measured window.
    pub requests: u64,
    /// Failed requests (transport errors, non-200 answers, failed checks), warm-up included.
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the window's start to the last answer of a request started in it.
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// All requests, warm-up included (for CPU per request).
    pub total_requests: u64,
}

/// What one worker saw.
struct Tally {
    histogram: Histogram<u64>,
    requests: u64,
    total: u64,
    errors: u64,
    first_error: Option<String>,
    last_answer: Option<Instant>,
}

fn histogram() -> Result<Histogram<u64>> {
    crate::report::latency_histogram(120_000_000)
}

/// One worker: requests until the window closes.
async fn worker(
    client: Client,
    url: Arc<str>,
    op: Op,
    target: Arc<Target>,
    counter: Arc<AtomicU64>,
    window: (Instant, Instant),
) -> Result<Tally> {
    let (start, end) = window;
    let mut tally = Tally {
        histogram: histogram()?,
        requests: 0,
        total: 0,
        errors: 0,
        first_error: None,
        last_answer: None,
    };
    loop {
        let i = counter.fetch_add(1, Ordering::Relaxed);
        let body = op.body(&target, i);
        let sent = Instant::now();
        if sent >= end {
            return Ok(tally);
        }
        let outcome = match wire::send(&client, &url, op.operation(), body).await {
            Ok(answer) if answer.status == 200 => op.check(&target, i, &answer.body).map_err(|error| {
                anyhow!("{} answered 200 but {error}: {}", op.operation(), answer.snippet())
            }),
            Ok(answer) => Err(anyhow!("HTTP {}: {}", answer.status, answer.snippet())),
            Err(error) => Err(error),
        };
        let answered = Instant::now();
        tally.total += 1;
        if let Err(error) = outcome {
            tally.errors += 1;
            tally.first_error.get_or_insert_with(|| format!("{error:#}"));
            continue;
        }
        if sent >= start {
            let micros = u64::try_from(answered.duration_since(sent).as_micros()).unwrap_or(u64::MAX);
            tally.histogram.saturating_record(micros.max(1));
            tally.requests += 1;
            tally.last_answer = Some(answered);
        }
    }
}

/// Runs one operation against one server.
pub async fn run(client: &Client, url: &str, op: Op, target: Arc<Target>, plan: Plan) -> Result<Figures> {
    let now = Instant::now();
    let start = now + plan.warmup;
    let end = start + plan.duration;
    let counter = Arc::new(AtomicU64::new(0));
    let url: Arc<str> = Arc::from(url);
    let mut workers = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        workers.push(tokio::spawn(worker(
            client.clone(),
            url.clone(),
            op,
            target.clone(),
            counter.clone(),
            (start, end),
        )));
    }
    let mut all = histogram()?;
    let (mut requests, mut total, mut errors, mut first_error, mut last) = (0, 0, 0, None, start);
    for handle in workers {
        let tally = handle.await.context("a worker panicked")??;
        all.add(&tally.histogram).map_err(|error| anyhow!("histogram: {error}"))?;
        requests += tally.requests;
        total += tally.total;
        errors += tally.errors;
        if first_error.is_none() {
            first_error = tally.first_error;
        }
        if let Some(answered) = tally.last_answer {
            last = last.max(answered);
        }
    }
    let seconds = last.duration_since(start).as_secs_f64();
    let ms = |quantile: f64| all.value_at_quantile(quantile) as f64 / 1000.0;
    Ok(Figures {
        requests,
        errors,
        first_error,
        seconds,
        per_second: if seconds > 0.0 { requests as f64 / seconds } else { 0.0 },
        p50_ms: ms(0.50),
        p90_ms: ms(0.90),
        p99_ms: ms(0.99),
        max_ms: all.max() as f64 / 1000.0,
        total_requests: total,
    })
}
