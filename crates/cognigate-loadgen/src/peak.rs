//! Peak closed-loop throughput over raw keep-alive connections (see `raw`): a fixed number of connections,
//! each sending its next prepared request as soon as the previous answer is read, for a warm-up and then a
//! measured window. Every answer is checked; an error reopens the connection and is counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::raw::{Connection, Response, find};

/// How many errors are kept word for word.
const KEPT_ERRORS: usize = 5;

/// What the i-th request sends and what its answer must hold.
#[derive(Debug)]
pub struct Workload {
    /// Prepared requests, used round-robin.
    pub requests: Vec<Vec<u8>>,
    /// For each request, a byte string the 200 answer's body must contain (or be, with `exact`).
    pub expected: Vec<Vec<u8>>,
    pub exact: bool,
}

impl Workload {
    fn check(&self, index: usize, response: &Response) -> Result<(), String> {
        if response.status != 200 {
            return Err(format!("HTTP {}: {}", response.status, response.snippet()));
        }
        let Some(expected) = self.expected.get(index) else { return Ok(()) };
        let matches =
            if self.exact { response.body == *expected } else { find(&response.body, expected).is_some() };
        if matches {
            Ok(())
        } else {
            Err(format!("HTTP 200 without `{}`: {}", String::from_utf8_lossy(expected), response.snippet()))
        }
    }
}

/// The figures of one peak measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeakFigures {
    pub requests: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// All requests, warm-up included.
    pub total_requests: u64,
}

struct Tally {
    histogram: Histogram<u64>,
    requests: u64,
    total: u64,
    errors: u64,
    first_errors: Vec<String>,
    last_answer: Option<Instant>,
}

fn histogram() -> Result<Histogram<u64>> {
    crate::report::latency_histogram(120_000_000)
}

async fn worker(
    address: SocketAddr,
    workload: Arc<Workload>,
    counter: Arc<AtomicU64>,
    window: (Instant, Instant),
) -> Result<Tally> {
    let (start, end) = window;
    let mut tally = Tally {
        histogram: histogram()?,
        requests: 0,
        total: 0,
        errors: 0,
        first_errors: Vec::new(),
        last_answer: None,
    };
    let mut connection = Connection::open(address).await?;
    let count = workload.requests.len().max(1) as u64;
    loop {
        let index = usize::try_from(counter.fetch_add(1, Ordering::Relaxed) % count).unwrap_or(0);
        let sent = Instant::now();
        if sent >= end {
            return Ok(tally);
        }
        let request = workload.requests.get(index).map(Vec::as_slice).unwrap_or_default();
        let outcome = match connection.send(request).await {
            Ok(response) => workload.check(index, &response),
            Err(error) => Err(format!("{error:#}")),
        };
        let answered = Instant::now();
        tally.total += 1;
        if let Err(error) = outcome {
            tally.errors += 1;
            if tally.first_errors.len() < KEPT_ERRORS {
                tally.first_errors.push(error);
            }
        } else if sent >= start {
            let micros = u64::try_from(answered.duration_since(sent).as_micros()).unwrap_or(u64::MAX);
            tally.histogram.saturating_record(micros.max(1));
            tally.requests += 1;
            tally.last_answer = Some(answered);
        }
        if !connection.is_open() {
            connection = Connection::open(address).await?;
        }
    }
}

/// Runs one workload against one server with `concurrency` connections.
pub async fn run(
    address: SocketAddr,
    workload: Arc<Workload>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<PeakFigures> {
    let start = Instant::now() + warmup;
    let end = start + duration;
    let counter = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| tokio::spawn(worker(address, workload.clone(), counter.clone(), (start, end))))
        .collect();
    let mut all = histogram()?;
    let (mut requests, mut total, mut errors, mut first_errors, mut last) = (0, 0, 0, Vec::new(), start);
    for handle in workers {
        let tally = handle.await.context("a peak worker panicked")??;
        all.add(&tally.histogram).map_err(|error| anyhow!("histogram: {error}"))?;
        requests += tally.requests;
        total += tally.total;
        errors += tally.errors;
        for error in tally.first_errors {
            if first_errors.len() < KEPT_ERRORS {
                first_errors.push(error);
            }
        }
        if let Some(answered) = tally.last_answer {
            last = last.max(answered);
        }
    }
    let seconds = last.duration_since(start).as_secs_f64();
    let ms = |quantile: f64| all.value_at_quantile(quantile) as f64 / 1000.0;
    Ok(PeakFigures {
        requests,
        errors,
        first_errors,
        seconds,
        per_second: if seconds > 0.0 { requests as f64 / seconds } else { 0.0 },
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
        max_ms: all.max() as f64 / 1000.0,
        total_requests: total,
    })
}
