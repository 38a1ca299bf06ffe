//! The auth benchmark (driven by `bench/auth/run.sh`): cognigate's `/auth/customer/*` API under one
//! open-loop mixed load (see `mixed`), then the peak closed-loop throughput of `GET /auth/customer/me`
//! against a plain axum hello-world (`loadgen-hello`) over the same raw client (see `peak`), then the RSS of
//! the servers. Prints and writes one Markdown report; every figure is measured, each goal is judged.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::auth::{self, Session};
use crate::mixed::{self, AuthOp, OpFigures};
use crate::ops::seeded_email;
use crate::peak::{self, PeakFigures, Workload};
use crate::{proc, raw, wire};

/// The goals the report judges.
const GOAL_P99_MS: f64 = 250.0;
const GOAL_RATIO: f64 = 0.5;

#[derive(Debug, clap::Args)]
pub struct AuthBenchArgs {
    /// cognigate's base URL (`http://127.0.0.1:PORT`).
    #[arg(long)]
    url: String,
    /// The hello-world server's URL (`http://127.0.0.1:PORT/`).
    #[arg(long)]
    hello_url: String,
    /// How many users `auth-seed` created (`user000000@bench.example` ...).
    #[arg(long)]
    users: u64,
    /// Their password.
    #[arg(long)]
    password: String,
    /// Seeded users signed in before the window, for the refresh tokens and the access tokens of `me`.
    #[arg(long, default_value_t = 100)]
    sessions: u64,
    #[arg(long, default_value_t = 100.0)]
    login_rate: f64,
    #[arg(long, default_value_t = 50.0)]
    refresh_rate: f64,
    #[arg(long, default_value_t = 10.0)]
    register_rate: f64,
    /// The mixed load's window.
    #[arg(long, default_value_t = 60.0)]
    duration_secs: f64,
    /// At most this many mixed-load requests of each operation in flight; more wait on the client (the wait
    /// counts).
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// How long after the window a waiting request may still be sent (one that is not is an error).
    #[arg(long, default_value_t = 30.0)]
    drain_secs: f64,
    /// Registrations use `load-<RUN_ID>-<n>@example.com`; by default the current Unix time.
    #[arg(long)]
    run_id: Option<String>,
    /// The password of the registrations (the customer policy: 10+ characters, upper, lower, digit).
    #[arg(long, default_value = "Load-Test-Pass-1")]
    register_password: String,
    /// Connections of the peak measurements.
    #[arg(long, default_value_t = 32)]
    peak_concurrency: usize,
    #[arg(long, default_value_t = 2.0)]
    peak_warmup_secs: f64,
    #[arg(long, default_value_t = 10.0)]
    peak_duration_secs: f64,
    #[arg(long)]
    cognigate_pid: Option<u32>,
    #[arg(long)]
    hello_pid: Option<u32>,
    /// Lines to print under the tables (versions, machine, seeding).
    #[arg(long = "note")]
    notes: Vec<String>,
    /// Write the Markdown report here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One peak measurement with the CPU it took.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeakRow {
    pub label: String,
    pub figures: PeakFigures,
    /// The server's CPU per request, warm-up included, when its pid is known.
    pub server_cpu_us_per_request: Option<f64>,
    /// The generator's CPU over the wall time (1.0 = one core).
    pub loadgen_cpu_share: f64,
    /// CPU used meanwhile by every other process, over the wall time.
    pub other_cpu_share: f64,
}

/// Everything the run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthResults {
    pub users: u64,
    pub sessions: u64,
    pub sessions_seconds: f64,
    pub duration_secs: f64,
    pub max_in_flight: usize,
    pub drain_secs: f64,
    pub mixed: Vec<OpFigures>,
    /// CPU used during the mixed load (window and drain), in cores.
    pub mixed_cpu: CpuShares,
    pub peak_concurrency: usize,
    pub peak_warmup_secs: f64,
    pub peak_duration_secs: f64,
    pub me: PeakRow,
    pub hello: PeakRow,
    pub cognigate_rss_kib: Option<u64>,
    pub hello_rss_kib: Option<u64>,
}

/// CPU used over a stretch of wall time, in cores (1.0 = one core busy throughout).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CpuShares {
    /// The server (0 when its pid is unknown).
    pub server: f64,
    pub loadgen: f64,
    /// Every other process on the machine.
    pub other: f64,
    /// The wall time measured.
    pub seconds: f64,
}

/// CPU counters at the start of a stretch.
struct CpuMark {
    at: Instant,
    server: Option<f64>,
    own: f64,
    machine: f64,
}

impl CpuMark {
    fn now(pid: Option<u32>) -> Result<Self> {
        Ok(Self {
            at: Instant::now(),
            server: pid.map(proc::cpu_seconds).transpose()?,
            own: proc::own_cpu_seconds()?,
            machine: proc::machine_busy_seconds()?,
        })
    }

    /// The shares since the mark.
    fn shares(&self, pid: Option<u32>) -> Result<CpuShares> {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let own = proc::own_cpu_seconds()? - self.own;
        let server = match (pid, self.server) {
            (Some(pid), Some(before)) => proc::cpu_seconds(pid)? - before,
            _ => 0.0,
        };
        let machine = proc::machine_busy_seconds()? - self.machine;
        Ok(CpuShares {
            server: server / wall,
            loadgen: own / wall,
            other: (machine - own - server).max(0.0) / wall,
            seconds: wall,
        })
    }
}

/// Signs the first `count` seeded users in, a few at a time.
async fn sign_in_sessions(
    client: &reqwest::Client,
    base: &str,
    users: &[String],
    count: usize,
    password: &str,
) -> Result<Vec<Session>> {
    let mut sessions = Vec::with_capacity(count);
    for batch in users.iter().take(count).collect::<Vec<_>>().chunks(4) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|email| {
                let (client, base, email, password) =
                    (client.clone(), base.to_owned(), (*email).clone(), password.to_owned());
                tokio::spawn(async move { auth::log_in(&client, &base, &email, &password).await })
            })
            .collect();
        for task in tasks {
            sessions.push(task.await.context("a sign-in task panicked")??);
        }
    }
    Ok(sessions)
}

/// Runs one peak measurement and reads the CPU it took.
async fn measure_peak(
    label: &str,
    url: &str,
    workload: Workload,
    pid: Option<u32>,
    args: &AuthBenchArgs,
) -> Result<PeakRow> {
    let address = raw::resolve(url).await?;
    let mark = CpuMark::now(pid)?;
    let figures = peak::run(
        address,
        Arc::new(workload),
        args.peak_concurrency,
        Duration::from_secs_f64(args.peak_warmup_secs),
        Duration::from_secs_f64(args.peak_duration_secs),
    )
    .await?;
    let cpu = mark.shares(pid)?;
    let row = PeakRow {
        label: label.to_owned(),
        server_cpu_us_per_request: pid
            .filter(|_| figures.total_requests > 0)
            .map(|_| cpu.server * cpu.seconds * 1e6 / figures.total_requests as f64),
        loadgen_cpu_share: cpu.loadgen,
        other_cpu_share: cpu.other,
        figures,
    };
    println!(
        "  {:<44} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  errors {}  loadgen CPU {:.2}  other {:.2}",
        row.label,
        row.figures.per_second,
        row.figures.p50_ms,
        row.figures.p99_ms,
        row.figures.errors,
        row.loadgen_cpu_share,
        row.other_cpu_share
    );
    for error in &row.figures.first_errors {
        println!("      error: {error}");
    }
    Ok(row)
}

pub async fn run(args: AuthBenchArgs) -> Result<bool> {
    let client = wire::client(256)?;
    let users: Vec<String> = (0..args.users).map(seeded_email).collect();
    let run_id = match &args.run_id {
        Some(id) => id.clone(),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.as_secs().to_string())
            .unwrap_or_else(|_| "run".to_owned()),
    };

    let count = usize::try_from(args.sessions.min(args.users)).unwrap_or(0).max(1);
    println!("== signing {count} seeded users in (tokens for refresh and me)");
    let started = Instant::now();
    let sessions = sign_in_sessions(&client, &args.url, &users, count, &args.password).await?;
    let sessions_seconds = started.elapsed().as_secs_f64();
    println!("  {count} sign-ins in {sessions_seconds:.1} s");

    println!(
        "== mixed open-loop load: {} logins/s + {} refreshes/s + {} registrations/s for {} s",
        args.login_rate, args.refresh_rate, args.register_rate, args.duration_secs
    );
    let material = Arc::new(mixed::Material {
        base_url: args.url.clone(),
        users: users.clone(),
        password: args.password.clone(),
        sessions: sessions.iter().cloned().map(std::sync::Mutex::new).collect(),
        run_id,
        register_password: args.register_password.clone(),
    });
    let plan = mixed::Plan {
        rates: vec![
            (AuthOp::Login, args.login_rate),
            (AuthOp::Refresh, args.refresh_rate),
            (AuthOp::Register, args.register_rate),
        ],
        duration: Duration::from_secs_f64(args.duration_secs),
        max_in_flight: args.max_in_flight,
        drain: Duration::from_secs_f64(args.drain_secs),
    };
    let cpu_before = CpuMark::now(args.cognigate_pid)?;
    let mixed = mixed::run(&client, material, &plan).await?;
    let mixed_cpu = cpu_before.shares(args.cognigate_pid)?;
    for figures in &mixed {
        println!(
            "  {:<40} target {:>5.0}/s  achieved {:>7.1}/s  p50 {:>8.1} ms  p99 {:>8.1} ms  errors {}",
            figures.op.label(),
            figures.target_per_second,
            figures.achieved_per_second,
            figures.p50_ms,
            figures.p99_ms,
            figures.errors
        );
        for error in &figures.first_errors {
            println!("      error: {error}");
        }
    }
    println!(
        "  CPU over the window (cores): cognigate {:.2}, loadgen {:.2}, other processes {:.2}",
        mixed_cpu.server, mixed_cpu.loadgen, mixed_cpu.other
    );

    println!(
        "== peak closed-loop throughput: {} connections, {} s warm-up + {} s",
        args.peak_concurrency, args.peak_warmup_secs, args.peak_duration_secs
    );
    let me_address = raw::resolve(&args.url).await?;
    let me = Workload {
        requests: sessions
            .iter()
            .map(|session| {
                raw::get_request(
                    me_address,
                    auth::ME,
                    &[("Authorization", &format!("Bearer {}", session.access_token))],
                )
            })
            .collect(),
        expected: sessions
            .iter()
            .map(|session| format!("\"email\":\"{}\"", session.email).into_bytes())
            .collect(),
        exact: false,
    };
    let me_label = format!("GET /auth/customer/me ({} tokens)", sessions.len());
    let me = measure_peak(&me_label, &args.url, me, args.cognigate_pid, &args).await?;
    let hello_address = raw::resolve(&args.hello_url).await?;
    let hello = Workload {
        requests: vec![raw::get_request(hello_address, "/", &[])],
        expected: vec![br#"{"hello":"world"}"#.to_vec()],
        exact: true,
    };
    let hello =
        measure_peak("GET / (axum hello-world)", &args.hello_url, hello, args.hello_pid, &args).await?;

    let results = AuthResults {
        users: args.users,
        sessions: sessions.len() as u64,
        sessions_seconds,
        duration_secs: args.duration_secs,
        max_in_flight: args.max_in_flight,
        drain_secs: args.drain_secs,
        mixed,
        mixed_cpu,
        peak_concurrency: args.peak_concurrency,
        peak_warmup_secs: args.peak_warmup_secs,
        peak_duration_secs: args.peak_duration_secs,
        me,
        hello,
        cognigate_rss_kib: args.cognigate_pid.and_then(proc::rss_kib),
        hello_rss_kib: args.hello_pid.and_then(proc::rss_kib),
    };
    let (text, clean) = render(&results, &args.notes);
    println!();
    print!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if let Some(json) = &args.json {
        std::fs::write(json, serde_json::to_vec_pretty(&results)?)
            .with_context(|| format!("cannot write {}", json.display()))?;
    }
    Ok(clean)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}

/// The Markdown report, and whether every request succeeded.
pub fn render(results: &AuthResults, notes: &[String]) -> (String, bool) {
    let mut text = String::new();
    let mut clean = true;
    let _ = writeln!(
        text,
        "## Mixed open-loop load: {:.0} s, {} seeded customer users\n",
        results.duration_secs, results.users
    );
    let _ = writeln!(
        text,
        "Open loop: each request is sent when due (i / rate) and its latency counts from then; at most {} per \
         operation in flight, later ones wait on the client (the wait counts) for up to {:.0} s after the window. Achieved = \
         successful answers inside the window per second. Goal per operation: 0 errors and p99 < \
         {GOAL_P99_MS:.0} ms.\n",
        results.max_in_flight, results.drain_secs
    );
    let _ = writeln!(
        text,
        "| Operation | Target/s | Achieved/s | Sent | Errors | p50 ms | p90 ms | p99 ms | max ms | Statuses | Goal |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    let mut details = Vec::new();
    for figures in &results.mixed {
        let met = figures.errors == 0 && figures.p99_ms < GOAL_P99_MS;
        clean &= figures.errors == 0;
        let statuses: Vec<String> =
            figures.statuses.iter().map(|(status, count)| format!("{status}×{count}")).collect();
        let _ = writeln!(
            text,
            "| {} | {:.0} | {:.1} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
            figures.op.label(),
            figures.target_per_second,
            figures.achieved_per_second,
            figures.sent,
            figures.errors,
            figures.p50_ms,
            figures.p90_ms,
            figures.p99_ms,
            figures.max_ms,
            statuses.join(" "),
            verdict(met)
        );
        if figures.send_lag_p99_ms > 10.0 {
            details.push(format!(
                "- {}: the generator sent late (p99 {:.1} ms after due); the latencies include it.",
                figures.op.label(),
                figures.send_lag_p99_ms
            ));
        }
        for error in &figures.first_errors {
            details.push(format!("- {} error: `{}`", figures.op.label(), error.replace('`', "'")));
        }
    }
    let requests: u64 = results.mixed.iter().map(|figures| figures.answered).sum();
    let cpu = results.mixed_cpu;
    let _ = writeln!(
        text,
        "\nCPU over the mixed load, in cores: cognigate {:.2} ({:.1} ms per answered request, all operations), load \
         generator {:.2}, other processes {:.2}.",
        cpu.server,
        cpu.server * cpu.seconds * 1000.0 / (requests.max(1) as f64),
        cpu.loadgen,
        cpu.other
    );
    if !details.is_empty() {
        let _ = writeln!(text, "\n{}", details.join("\n"));
    }

    let _ = writeln!(
        text,
        "\n## Peak closed-loop throughput: {} keep-alive connections, {} s warm-up + {} s\n",
        results.peak_concurrency, results.peak_warmup_secs, results.peak_duration_secs
    );
    let _ = writeln!(
        text,
        "| Request | req/s | p50 ms | p99 ms | Errors | Server CPU µs/req | Loadgen CPU | Other CPU |"
    );
    let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in [&results.me, &results.hello] {
        clean &= row.figures.errors == 0;
        let _ = writeln!(
            text,
            "| {} | {:.0} | {:.3} | {:.3} | {} | {} | {:.2} | {:.2} |",
            row.label,
            row.figures.per_second,
            row.figures.p50_ms,
            row.figures.p99_ms,
            row.figures.errors,
            row.server_cpu_us_per_request.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.1}")),
            row.loadgen_cpu_share,
            row.other_cpu_share
        );
    }
    let ratio = if results.hello.figures.per_second > 0.0 {
        results.me.figures.per_second / results.hello.figures.per_second
    } else {
        0.0
    };
    let _ = writeln!(
        text,
        "\nRatio me / hello: **{ratio:.2}** (goal ≥ {GOAL_RATIO}: {}).",
        verdict(ratio >= GOAL_RATIO && results.me.figures.errors == 0)
    );
    for row in [&results.me, &results.hello] {
        for error in &row.figures.first_errors {
            let _ = writeln!(text, "- {} error: `{}`", row.label, error.replace('`', "'"));
        }
    }
    let _ = writeln!(
        text,
        "\nRSS at the end (VmRSS): cognigate {}, hello-world {}.",
        mib(results.cognigate_rss_kib),
        mib(results.hello_rss_kib)
    );
    let _ = writeln!(
        text,
        "\nBefore the window, {} seeded users signed in ({:.1} s): their refresh tokens feed the refreshes and \
         their access tokens the `me` requests.",
        results.sessions, results.sessions_seconds
    );
    for note in notes {
        let _ = writeln!(text, "\n{note}");
    }
    if !clean {
        let _ = writeln!(text, "\n**Some requests failed: the figures with errors are invalid.**");
    }
    (text, clean)
}

/// Checks that cognigate serves the auth API before anything is seeded.
pub async fn probe(url: &str) -> Result<()> {
    let client = wire::client(1)?;
    let answer = auth::post(&client, &auth::url(url, auth::LOGIN), &serde_json::json!({})).await?;
    if answer.status == 404 || answer.status == 405 {
        return Err(anyhow!(
            "POST {} answered HTTP {}: the auth API is not served ({})",
            auth::url(url, auth::LOGIN),
            answer.status,
            answer.snippet()
        ));
    }
    Ok(())
}
