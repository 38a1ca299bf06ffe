//! The open-loop mixed load: logins, refreshes and registrations at fixed arrival rates, together.
//!
//! Open loop: the i-th request of an operation is due at `start + i / rate`, whatever happened to the
//! earlier ones, and is sent on its own task at that time; its latency is measured from the time it was due,
//! not from when it left. A closed-loop client waits for each answer before asking again, so a server that
//! stalls is simply asked less, and the stall never shows in its latencies (coordinated omission); here a
//! stall shows in every request that fell due meanwhile. The achieved rate counts the successful answers
//! that arrived inside the window: a server that falls behind answers fewer than were due.
//!
//! In flight at once: at most `max_in_flight` requests per operation (so a bounded number of connections;
//! per operation, so that a backlog of slow logins does not hold cheap refreshes back on the client). A
//! request that falls due while all are taken waits on the client for one, as a queue in front of the server
//! would; its latency still counts from the time it was due. Requests due in the window are all answered unless they
//! could not even be sent by `drain` after the window, which is an error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;
use reqwest::Client;
use serde::{Deserialize, Serialize};

use crate::auth::{self, Session};

/// How many errors of each operation are kept word for word.
const KEPT_ERRORS: usize = 5;

/// The operations of the mixed load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthOp {
    Login,
    Refresh,
    Register,
}

impl AuthOp {
    pub fn label(self) -> &'static str {
        match self {
            Self::Login => "login (POST /auth/customer/login)",
            Self::Refresh => "refresh (POST /auth/customer/refresh)",
            Self::Register => "register (POST /auth/customer/register)",
        }
    }
}

/// What the requests need: the seeded users, the sessions signed in beforehand, the run's id.
#[derive(Debug)]
pub struct Material {
    pub base_url: String,
    /// The seeded users' emails, signed in round-robin.
    pub users: Vec<String>,
    pub password: String,
    /// Sign-ins made before the window, refreshed round-robin. Where the pool rotates refresh tokens,
    /// each answer's new one replaces the one sent (as a client would keep it).
    pub sessions: Vec<Mutex<Session>>,
    /// Makes the registration emails unique to this run.
    pub run_id: String,
    pub register_password: String,
}

/// The rate of each operation (requests per second; 0 leaves it out) and the window.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rates: Vec<(AuthOp, f64)>,
    pub duration: Duration,
    /// At most this many requests of each operation in flight; a request that falls due while all of its
    /// operation's are taken waits for one, and the wait counts in its latency.
    pub max_in_flight: usize,
    /// How long after the window a request may still wait to be sent; one that cannot is an error.
    pub drain: Duration,
}

/// The figures of one operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpFigures {
    pub op: AuthOp,
    pub target_per_second: f64,
    /// Requests that fell due in the window.
    pub sent: u64,
    /// Requests the server answered (any status).
    pub answered: u64,
    pub ok: u64,
    pub errors: u64,
    /// Successful answers that arrived inside the window, per second of window.
    pub achieved_per_second: f64,
    /// Latency from the time each request was due, over every request (errors included).
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// How many answers had each status (`none` for no answer: a transport error or never sent).
    pub statuses: BTreeMap<String, u64>,
    pub first_errors: Vec<String>,
    /// How late the scheduler sent requests beyond their due time (the generator's own lag), p99.
    pub send_lag_p99_ms: f64,
}

struct Tally {
    histogram: Histogram<u64>,
    lag: Histogram<u64>,
    sent: u64,
    ok: u64,
    ok_in_window: u64,
    errors: u64,
    statuses: BTreeMap<String, u64>,
    first_errors: Vec<String>,
}

fn histogram() -> Result<Histogram<u64>> {
    crate::report::latency_histogram(600_000_000)
}

impl Tally {
    fn new() -> Result<Self> {
        Ok(Self {
            histogram: histogram()?,
            lag: histogram()?,
            sent: 0,
            ok: 0,
            ok_in_window: 0,
            errors: 0,
            statuses: BTreeMap::new(),
            first_errors: Vec::new(),
        })
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Sends the i-th request of `op`; the status (if any) and the verdict.
async fn one(client: &Client, material: &Material, op: AuthOp, i: u64) -> (Option<u16>, Result<(), String>) {
    let pick = |len: usize| usize::try_from(i % len.max(1) as u64).unwrap_or(0);
    let mut refreshed = None;
    let (path, body, email) = match op {
        AuthOp::Login => {
            let Some(email) = material.users.get(pick(material.users.len())) else {
                return (None, Err("no seeded users".to_owned()));
            };
            (auth::LOGIN, auth::login_body(email, &material.password), email.clone())
        }
        AuthOp::Refresh => {
            let Some(slot) = material.sessions.get(pick(material.sessions.len())) else {
                return (None, Err("no sessions to refresh".to_owned()));
            };
            let session = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let body = auth::refresh_body(&session);
            let email = session.email.clone();
            refreshed = Some((slot, session.refresh_token));
            (auth::REFRESH, body, email)
        }
        AuthOp::Register => {
            let email = auth::registration_email(&material.run_id, i);
            (auth::REGISTER, auth::register_body(&email, &material.register_password), email)
        }
    };
    match auth::post(client, &auth::url(&material.base_url, path), &body).await {
        Ok(answer) => {
            let verdict = match op {
                AuthOp::Login => auth::check_login(&answer, &email).map(drop),
                AuthOp::Refresh => auth::check_refresh(&answer, &email).map(|rotated| {
                    if let (Some(next), Some((slot, sent))) = (rotated, refreshed) {
                        let mut kept = slot.lock().unwrap_or_else(PoisonError::into_inner);
                        // Requests overlap: only the answer to the token still kept replaces it.
                        if kept.refresh_token == sent {
                            kept.refresh_token = next;
                        }
                    }
                }),
                AuthOp::Register => auth::check_register(&answer),
            };
            (Some(answer.status), verdict)
        }
        Err(error) => (None, Err(format!("{error:#}"))),
    }
}

/// Runs the plan; the figures in the plan's order.
pub async fn run(client: &Client, material: Arc<Material>, plan: &Plan) -> Result<Vec<OpFigures>> {
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + plan.duration;
    let give_up = tokio::time::Instant::from_std(end + plan.drain);
    let mut schedulers = Vec::new();
    for &(op, rate) in &plan.rates {
        if rate <= 0.0 {
            continue;
        }
        let tally = Arc::new(Mutex::new(Tally::new()?));
        let slots = Arc::new(tokio::sync::Semaphore::new(plan.max_in_flight.max(1)));
        let (client, material, scheduler_tally) = (client.clone(), material.clone(), tally.clone());
        let scheduler = tokio::spawn(async move {
            let mut requests = Vec::new();
            for i in 0_u64.. {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
                let lag = Instant::now().saturating_duration_since(due);
                let (client, material, tally, slots) =
                    (client.clone(), material.clone(), scheduler_tally.clone(), slots.clone());
                requests.push(tokio::spawn(async move {
                    let slot = tokio::time::timeout_at(give_up, slots.acquire_owned()).await;
                    let (status, verdict) = match slot {
                        Ok(Ok(_slot)) => one(&client, &material, op, i).await,
                        _ => (
                            None,
                            Err("never sent: every connection was busy until the drain ended".to_owned()),
                        ),
                    };
                    let answered = Instant::now();
                    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                    tally.sent += 1;
                    tally.lag.saturating_record(micros(lag));
                    tally.histogram.saturating_record(micros(answered.saturating_duration_since(due)));
                    let key = status.map_or_else(|| "none".to_owned(), |status| status.to_string());
                    *tally.statuses.entry(key).or_default() += 1;
                    match verdict {
                        Ok(()) => {
                            tally.ok += 1;
                            if answered <= end {
                                tally.ok_in_window += 1;
                            }
                        }
                        Err(error) => {
                            tally.errors += 1;
                            if tally.first_errors.len() < KEPT_ERRORS {
                                tally.first_errors.push(error);
                            }
                        }
                    }
                }));
            }
            for request in requests {
                request.await.context("a request task panicked")?;
            }
            Ok::<(), anyhow::Error>(())
        });
        schedulers.push((op, rate, tally, scheduler));
    }
    let mut figures = Vec::new();
    for (op, rate, tally, scheduler) in schedulers {
        scheduler.await.context("a scheduler panicked")??;
        let tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
        let ms =
            |histogram: &Histogram<u64>, quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1000.0;
        figures.push(OpFigures {
            op,
            target_per_second: rate,
            sent: tally.sent,
            answered: tally
                .statuses
                .iter()
                .filter(|(status, _)| *status != "none")
                .map(|(_, count)| count)
                .sum(),
            ok: tally.ok,
            errors: tally.errors,
            achieved_per_second: tally.ok_in_window as f64 / plan.duration.as_secs_f64().max(1e-9),
            p50_ms: ms(&tally.histogram, 0.50),
            p90_ms: ms(&tally.histogram, 0.90),
            p99_ms: ms(&tally.histogram, 0.99),
            max_ms: tally.histogram.max() as f64 / 1000.0,
            statuses: tally.statuses.clone(),
            first_errors: tally.first_errors.clone(),
            send_lag_p99_ms: ms(&tally.lag, 0.99),
        });
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{Value, json};

    use super::*;

    /// A stand-in for the auth API that answers as the contract says, after 40 ms.
    async fn stub() -> String {
        async fn tokens(Json(body): Json<Value>) -> Json<Value> {
            tokio::time::sleep(Duration::from_millis(40)).await;
            let email = body["email"].as_str().unwrap_or("s@x.example");
            Json(
                json!({ "accessToken": "a", "idToken": "i", "refreshToken": "r", "user": { "email": email } }),
            )
        }
        async fn register() -> (axum::http::StatusCode, Json<Value>) {
            (axum::http::StatusCode::ACCEPTED, Json(json!({ "accepted": true, "message": "m" })))
        }
        let app = Router::new()
            .route("/auth/customer/login", post(tokens))
            .route("/auth/customer/refresh", post(tokens))
            .route("/auth/customer/register", post(register));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_every_request_when_due_and_counts_the_waits() {
        let material = Arc::new(Material {
            base_url: stub().await,
            users: vec!["u1@x.example".to_owned(), "u2@x.example".to_owned()],
            password: "p".to_owned(),
            sessions: vec![Mutex::new(Session {
                email: "s@x.example".to_owned(),
                username: "s".to_owned(),
                access_token: "a".to_owned(),
                refresh_token: "r".to_owned(),
            })],
            run_id: "t".to_owned(),
            register_password: "p".to_owned(),
        });
        // 50 logins/s at 40 ms each need 2 in flight; with one slot per operation they queue on the client.
        let plan = Plan {
            rates: vec![(AuthOp::Login, 50.0), (AuthOp::Refresh, 20.0), (AuthOp::Register, 0.0)],
            duration: Duration::from_secs(1),
            max_in_flight: 1,
            drain: Duration::from_secs(5),
        };
        let figures = run(&crate::wire::client(4).unwrap(), material, &plan).await.unwrap();
        assert_eq!(figures.len(), 2, "an operation at rate 0 is left out");
        let login = &figures[0];
        assert_eq!((login.sent, login.ok, login.errors), (50, 50, 0), "{:?}", login.first_errors);
        assert_eq!(figures[1].sent, 20);
        // 50 logins of 40 ms through one slot take 2 s for a 1 s window: the queue shows in the latency.
        assert!(login.max_ms > 500.0, "max {} ms", login.max_ms);
        assert!(login.p50_ms >= 40.0);
        // The refreshes have their own slot: 20/s of 40 ms never wait behind the logins.
        assert!(figures[1].max_ms < 400.0, "refresh max {} ms", figures[1].max_ms);
    }
}
