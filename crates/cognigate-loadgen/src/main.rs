//! The load generator of the wire benchmark (`bench/wire/run.sh`) and of the auth benchmark
//! (`bench/auth/run.sh`; the `auth-*` commands, see `auth_bench`).
//!
//! Why a program of our own: cognigate, moto and cognito-local must be measured with the same client, the
//! same request bodies and the same concurrency in one run, and their answers must be checked, so that a
//! ratio between them means something. It speaks Cognito's JSON 1.1 protocol over HTTP/1.1 from a fixed
//! number of closed-loop workers, records latencies in an HDR histogram, counts every error, and reads each
//! server's CPU time and RSS from /proc. It also creates the benchmark pools and user, and seeds the pools
//! (see `seed`), and prints the final table (see `report`).
//!
//! The auth benchmark drives cognigate's own `/auth/customer/*` API instead: an open-loop mixed load at
//! fixed arrival rates (`mixed`), then peak closed-loop throughput over a raw HTTP/1.1 client (`raw`,
//! `peak`) against the plain axum hello-world of `src/bin/hello.rs`.

#![allow(clippy::print_stdout, reason = "a command-line tool reports on standard output")]

mod auth;
mod auth_bench;
mod load;
mod mixed;
mod ops;
mod peak;
mod proc;
mod raw;
mod report;
mod seed;
mod wire;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::load::{Figures, Plan};
use crate::ops::{Op, Target};

#[derive(Debug, Parser)]
#[command(
    name = "cognigate-loadgen",
    about = "Load generator of the wire and auth benchmarks (bench/wire/run.sh, bench/auth/run.sh)"
)]
struct Cli {
    /// Threads of the generator's runtime.
    #[arg(long, global = true, default_value_t = 1, env = "LOADGEN_THREADS")]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Waits until the server answers HTTP at all.
    Wait {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// Sends one request that must succeed and prints its JSON answer.
    Call {
        #[arg(long)]
        url: String,
        /// The operation, e.g. `AdminGetUser`.
        #[arg(long)]
        operation: String,
        /// The JSON body.
        #[arg(long)]
        body: String,
    },
    /// Creates a user pool and a public app client allowing USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH;
    /// prints `POOL_ID CLIENT_ID`.
    CreatePool {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "bench")]
        name: String,
    },
    /// Creates the benchmark user (AdminCreateUser, then AdminSetUserPassword with Permanent).
    CreateUser {
        #[arg(long)]
        url: String,
        #[arg(long)]
        pool_id: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
    },
    /// Seeds users FROM..TO through AdminCreateUser.
    SeedApi {
        #[arg(long)]
        url: String,
        #[arg(long)]
        pool_id: String,
        #[command(flatten)]
        range: SeedRange,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Seeds users FROM..TO into cognigate's store (the server must be stopped).
    SeedCognigate {
        /// The store URL the server uses (`sqlite://<dir>/cognigate.db`).
        #[arg(long)]
        store_url: String,
        #[arg(long)]
        pool_id: String,
        #[command(flatten)]
        range: SeedRange,
    },
    /// Seeds users FROM..TO into cognito-local's pool file (the server must be stopped).
    SeedCognitoLocal {
        /// `.cognito/db/<poolId>.json`.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        range: SeedRange,
    },
    /// Runs the operations against every server and writes the figures as JSON.
    Bench(BenchArgs),
    /// Prints a free TCP port on 127.0.0.1 (bound and released: free now, not reserved).
    FreePort,
    /// Checks that cognigate serves its auth API (`POST /auth/customer/login` is routed).
    AuthProbe {
        /// cognigate's base URL.
        #[arg(long)]
        url: String,
    },
    /// Seeds confirmed users FROM..TO with one password through the wire (AdminCreateUser, then
    /// AdminSetUserPassword with Permanent), for the auth benchmark.
    AuthSeed {
        #[arg(long)]
        url: String,
        #[arg(long)]
        pool_id: String,
        #[arg(long)]
        password: String,
        #[command(flatten)]
        range: SeedRange,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Peak closed-loop throughput of one GET over raw keep-alive connections (answers must be 200).
    PeakGet {
        /// `http://host:port/path`.
        #[arg(long)]
        url: String,
        /// Extra request headers, `Name: value`.
        #[arg(long = "header")]
        headers: Vec<String>,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 2.0)]
        warmup_secs: f64,
        #[arg(long, default_value_t = 10.0)]
        duration_secs: f64,
    },
    /// The auth benchmark: mixed open-loop load on /auth/customer/*, then peak `me` against a hello-world;
    /// prints and writes the report, and fails if any request failed.
    AuthBench(auth_bench::AuthBenchArgs),
    /// Prints the table from the JSON files `bench` and the seeding wrote; fails if any measurement had a
    /// failed request.
    Report {
        /// The files `bench` wrote, in phase order.
        #[arg(long = "results", required = true, num_args = 1..)]
        results: Vec<PathBuf>,
        /// The JSON-lines log the seeding commands appended to.
        #[arg(long)]
        seed_log: Option<PathBuf>,
        /// Lines to print under the table (versions, machine).
        #[arg(long = "note")]
        notes: Vec<String>,
        /// Also write the report here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct SeedRange {
    #[arg(long)]
    from: u64,
    #[arg(long)]
    to: u64,
    /// How the report names the server.
    #[arg(long)]
    server: String,
    /// Appends one JSON line with the seeding time here.
    #[arg(long)]
    log: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// `name=NAME,url=URL,pool=POOL_ID,client=CLIENT_ID,pid=PID`; the first is the subject of the ratios.
    #[arg(long = "server", required = true, num_args = 1..)]
    servers: Vec<ServerSpec>,
    #[arg(long = "op", required = true, num_args = 1.., value_enum)]
    ops: Vec<Op>,
    /// How many users are seeded in every pool.
    #[arg(long)]
    users: u64,
    /// The phase's name in the report.
    #[arg(long)]
    phase: String,
    #[arg(long)]
    username: String,
    #[arg(long)]
    password: String,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    #[arg(long)]
    out: PathBuf,
}

/// A server under test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSpec {
    name: String,
    url: String,
    pool: String,
    client: String,
    pid: Option<u32>,
}

impl std::str::FromStr for ServerSpec {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let mut spec = Self {
            name: String::new(),
            url: String::new(),
            pool: String::new(),
            client: String::new(),
            pid: None,
        };
        for part in text.split(',') {
            let (key, value) = part.split_once('=').ok_or_else(|| anyhow!("`{part}` is not key=value"))?;
            match key {
                "name" => spec.name = value.to_owned(),
                "url" => spec.url = value.to_owned(),
                "pool" => spec.pool = value.to_owned(),
                "client" => spec.client = value.to_owned(),
                "pid" => spec.pid = Some(value.parse().with_context(|| format!("pid `{value}`"))?),
                _ => bail!("unknown key `{key}` (name, url, pool, client, pid)"),
            }
        }
        if spec.name.is_empty() || spec.url.is_empty() || spec.pool.is_empty() || spec.client.is_empty() {
            bail!("a server needs name, url, pool and client: `{text}`");
        }
        Ok(spec)
    }
}

/// One operation against one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    op: Op,
    server: String,
    figures: Figures,
    /// The server process's CPU time per request (warm-up included), when its pid is known.
    server_cpu_ms_per_request: Option<f64>,
    /// The generator's CPU time over the run's wall time (1.0 = one core busy).
    loadgen_cpu_share: f64,
    /// CPU used meanwhile by processes other than the servers and the generator, over the wall time: a
    /// build or another benchmark running at the same time shows here, and makes the figure suspect.
    #[serde(default)]
    other_cpu_share: f64,
}

/// A server's state at the end of a phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerEnd {
    name: String,
    rss_kib: Option<u64>,
}

/// What `bench` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResults {
    phase: String,
    users: u64,
    concurrency: usize,
    warmup_secs: f64,
    duration_secs: f64,
    servers: Vec<ServerEnd>,
    measurements: Vec<Measurement>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(execute(cli.command))
}

async fn execute(command: Command) -> Result<()> {
    match command {
        Command::Wait { url, timeout_secs } => wait(&url, Duration::from_secs(timeout_secs)).await,
        Command::Call { url, operation, body } => {
            let body: Value = serde_json::from_str(&body).context("--body is not JSON")?;
            let answer = wire::call(&wire::client(1)?, &url, &operation, &body).await?;
            println!("{answer}");
            Ok(())
        }
        Command::CreatePool { url, name } => create_pool(&url, &name).await,
        Command::CreateUser { url, pool_id, username, password } => {
            create_user(&url, &pool_id, &username, &password).await
        }
        Command::SeedApi { url, pool_id, range, concurrency } => {
            let client = wire::client(concurrency)?;
            timed_seed(&range, "AdminCreateUser", async {
                seed::through_api(&client, &url, &pool_id, (range.from, range.to), None, concurrency)
                    .await
                    .map(|_| ())
            })
            .await
        }
        Command::SeedCognigate { store_url, pool_id, range } => {
            timed_seed(&range, "Store::insert_user", async {
                seed::into_cognigate_store(&store_url, &pool_id, (range.from, range.to)).await
            })
            .await
        }
        Command::SeedCognitoLocal { file, range } => {
            timed_seed(&range, "pool file", async {
                seed::into_cognito_local_file(&file, (range.from, range.to))
            })
            .await
        }
        Command::Bench(args) => bench(args).await,
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a port")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
        Command::PeakGet { url, headers, concurrency, warmup_secs, duration_secs } => {
            let address = raw::resolve(&url).await?;
            let path = url
                .strip_prefix("http://")
                .and_then(|rest| rest.find('/').map(|at| rest[at..].to_owned()))
                .unwrap_or_else(|| "/".to_owned());
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .filter_map(|header| header.split_once(':'))
                .map(|(name, value)| (name.trim(), value.trim()))
                .collect();
            let workload = peak::Workload {
                requests: vec![raw::get_request(address, &path, &headers)],
                expected: Vec::new(),
                exact: false,
            };
            let figures = peak::run(
                address,
                Arc::new(workload),
                concurrency,
                Duration::from_secs_f64(warmup_secs),
                Duration::from_secs_f64(duration_secs),
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(())
        }
        Command::AuthProbe { url } => auth_bench::probe(&url).await,
        Command::AuthSeed { url, pool_id, password, range, concurrency } => {
            let client = wire::client(concurrency)?;
            let mut repeats = 0;
            timed_seed(&range, "AdminCreateUser + AdminSetUserPassword", async {
                let range = (range.from, range.to);
                repeats =
                    seed::through_api(&client, &url, &pool_id, range, Some(&password), concurrency).await?;
                Ok(())
            })
            .await?;
            if repeats > 0 {
                println!("{repeats} seeding call(s) failed with HTTP 5xx and were repeated");
            }
            Ok(())
        }
        Command::AuthBench(args) => {
            if !auth_bench::run(args).await? {
                bail!("some requests failed: the figures with errors are invalid");
            }
            Ok(())
        }
        Command::Report { results, seed_log, notes, out } => {
            let (text, invalid) = report::render(&results, seed_log.as_deref(), &notes)?;
            print!("{text}");
            if let Some(out) = out {
                std::fs::write(&out, &text).with_context(|| format!("cannot write {}", out.display()))?;
            }
            if invalid > 0 {
                bail!("{invalid} measurement(s) had failed requests: those figures are invalid");
            }
            Ok(())
        }
    }
}

async fn wait(url: &str, timeout: Duration) -> Result<()> {
    let client = wire::client(1)?;
    let deadline = Instant::now() + timeout;
    loop {
        match wire::send(&client, url, "ListUserPools", json!({ "MaxResults": 1 }).to_string()).await {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(error.context("the server never answered"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn create_pool(url: &str, name: &str) -> Result<()> {
    let client = wire::client(1)?;
    let pool = wire::call(&client, url, "CreateUserPool", &json!({ "PoolName": name })).await?;
    let pool_id = pool["UserPool"]["Id"].as_str().ok_or_else(|| anyhow!("no UserPool.Id in {pool}"))?;
    let app = wire::call(
        &client,
        url,
        "CreateUserPoolClient",
        &json!({
            "UserPoolId": pool_id,
            "ClientName": name,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        }),
    )
    .await?;
    let client_id = app["UserPoolClient"]["ClientId"]
        .as_str()
        .ok_or_else(|| anyhow!("no UserPoolClient.ClientId in {app}"))?;
    println!("{pool_id} {client_id}");
    Ok(())
}

async fn create_user(url: &str, pool_id: &str, username: &str, password: &str) -> Result<()> {
    seed::confirmed_user(&wire::client(1)?, url, pool_id, username, password).await
}

async fn timed_seed(range: &SeedRange, method: &str, work: impl Future<Output = Result<()>>) -> Result<()> {
    let started = Instant::now();
    work.await?;
    let seconds = started.elapsed().as_secs_f64();
    let count = range.to.saturating_sub(range.from);
    println!(
        "seeded {count} users into {} ({method}) in {seconds:.1} s ({:.0} users/s)",
        range.server,
        count as f64 / seconds.max(1e-9)
    );
    if let Some(log) = &range.log {
        let line = json!({
            "server": range.server, "from": range.from, "to": range.to, "method": method, "seconds": seconds,
        });
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        writeln!(file, "{line}")?;
    }
    Ok(())
}

/// The CPU seconds all servers with a known pid have used so far (a server that is gone counts 0).
fn servers_cpu(servers: &[ServerSpec]) -> f64 {
    servers.iter().filter_map(|server| server.pid).filter_map(|pid| proc::cpu_seconds(pid).ok()).sum()
}

/// Signs the benchmark user in once, for the tokens GetUser and REFRESH_TOKEN_AUTH use.
async fn sign_in(client: &reqwest::Client, server: &ServerSpec, target: &mut Target) -> Result<()> {
    let answer = wire::call(
        client,
        &server.url,
        "InitiateAuth",
        &json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": server.client,
            "AuthParameters": { "USERNAME": target.username, "PASSWORD": target.password },
        }),
    )
    .await
    .with_context(|| format!("signing the benchmark user in at {}", server.name))?;
    let token = |name: &str| -> Result<String> {
        answer["AuthenticationResult"][name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{}: no AuthenticationResult.{name} in {answer}", server.name))
    };
    target.access_token = token("AccessToken")?;
    target.refresh_token = token("RefreshToken")?;
    Ok(())
}

async fn bench(args: BenchArgs) -> Result<()> {
    let plan = Plan {
        concurrency: args.concurrency.max(1),
        warmup: Duration::from_secs_f64(args.warmup_secs),
        duration: Duration::from_secs_f64(args.duration_secs),
    };
    let client = wire::client(plan.concurrency)?;
    let mut targets = Vec::new();
    for server in &args.servers {
        let mut target = Target {
            pool_id: server.pool.clone(),
            client_id: server.client.clone(),
            username: args.username.clone(),
            password: args.password.clone(),
            users: args.users,
            ..Target::default()
        };
        if args.ops.iter().any(|op| op.needs_tokens()) {
            sign_in(&client, server, &mut target).await?;
        }
        targets.push(Arc::new(target));
    }
    let mut measurements = Vec::new();
    for &op in &args.ops {
        for (server, target) in args.servers.iter().zip(&targets) {
            let server_before = server.pid.map(proc::cpu_seconds).transpose()?;
            let own_before = proc::own_cpu_seconds()?;
            let all_servers_before = servers_cpu(&args.servers);
            let machine_before = proc::machine_busy_seconds()?;
            let started = Instant::now();
            let figures = load::run(&client, &server.url, op, target.clone(), plan).await?;
            let wall = started.elapsed().as_secs_f64();
            let own = proc::own_cpu_seconds()? - own_before;
            let machine = proc::machine_busy_seconds()? - machine_before;
            let other = (machine - own - (servers_cpu(&args.servers) - all_servers_before)).max(0.0) / wall;
            let server_cpu = match (server.pid, server_before) {
                (Some(pid), Some(before)) if figures.total_requests > 0 => {
                    Some((proc::cpu_seconds(pid)? - before) * 1000.0 / figures.total_requests as f64)
                }
                _ => None,
            };
            println!(
                "[{}] {:<30} {:<14} {:>9.0} req/s  p50 {:>8.3} ms  p99 {:>8.3} ms  other load {:.2}  errors {}{}",
                args.phase,
                op.label(),
                server.name,
                figures.per_second,
                figures.p50_ms,
                figures.p99_ms,
                other,
                figures.errors,
                figures.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default()
            );
            measurements.push(Measurement {
                op,
                server: server.name.clone(),
                figures,
                server_cpu_ms_per_request: server_cpu,
                loadgen_cpu_share: own / wall.max(1e-9),
                other_cpu_share: other,
            });
        }
    }
    let servers = args
        .servers
        .iter()
        .map(|server| ServerEnd { name: server.name.clone(), rss_kib: server.pid.and_then(proc::rss_kib) })
        .collect();
    let results = PhaseResults {
        phase: args.phase,
        users: args.users,
        concurrency: plan.concurrency,
        warmup_secs: args.warmup_secs,
        duration_secs: args.duration_secs,
        servers,
        measurements,
    };
    let json: Value = serde_json::to_value(&results)?;
    std::fs::write(&args.out, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(())
}
