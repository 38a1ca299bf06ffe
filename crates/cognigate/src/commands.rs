//! One function per command.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use cognigate_config::{Config, Environment, WireListen};
use cognigate_export::Artefact;
use cognigate_http::Readiness;
use cognigate_policy::Authorizer;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, ConfigCommand, DocsArgs, ExportArgs, OutboxArgs, ServeArgs, SyncArgs};

pub fn init_tracing(cli: &Cli) {
    let filter = EnvFilter::try_from_env("COGNIGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Outside dev, logs are one JSON object per line, ready for CloudWatch.
    if matches!(cli.command, Command::Serve(_)) && cli.env.unwrap_or_default() != Environment::Dev {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Serve(args) => serve(&cli.config, cli.env.unwrap_or_default(), args),
        Command::Dev(args) => {
            if let Some(env) = cli.env.filter(|env| *env != Environment::Dev) {
                bail!("`cognigate dev` always runs the dev environment; use `cognigate --env {env} serve`");
            }
            serve(&cli.config, Environment::Dev, args)
        }
        Command::Config(ConfigCommand::Check) => config_check(&cli.config, cli.env),
        Command::Config(ConfigCommand::Show) => config_show(&cli.config, cli.env.unwrap_or_default()),
        Command::Export(args) => export(&cli.config, cli.env.unwrap_or_default(), args),
        Command::Docs(args) => docs(&cli.config, args),
        Command::Infra(args) => infra(&cli.config, args),
        Command::Outbox(args) => outbox(&cli.config, cli.env.unwrap_or_default(), args),
        Command::Sync(args) => sync(&cli.config, cli.env.unwrap_or_default(), args),
    }
}

fn load(path: &Path, environment: Environment) -> Result<Config> {
    let vars: Vec<(String, String)> =
        std::env::vars().filter(|(name, _)| name.starts_with("COGNIGATE_")).collect();
    let config =
        cognigate_config::load_file(path, environment, vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(config)
}

fn load_with_policies(path: &Path, environment: Environment) -> Result<(Config, Authorizer)> {
    let config = load(path, environment)?;
    let authorizer = Authorizer::from_config(&config)
        .with_context(|| format!("{}: the authorization policies cannot be built", path.display()))?;
    Ok((config, authorizer))
}

fn config_check(path: &Path, environment: Option<Environment>) -> Result<ExitCode> {
    let environments = environment.map_or_else(|| Environment::ALL.to_vec(), |env| vec![env]);
    let mut failed = false;
    for env in environments {
        match load_with_policies(path, env) {
            Ok((config, authorizer)) => {
                let model = authorizer.model();
                println!(
                    "{} is valid for {env}: {} customer and {} staff roles, {} permissions, {} routes, {} Cedar policies",
                    path.display(),
                    model.customer.roles.len(),
                    model.staff.roles.len(),
                    model.customer.permissions.len() + model.staff.permissions.len(),
                    config.routes.len(),
                    authorizer.policy_ids().len(),
                );
            }
            Err(error) => {
                failed = true;
                eprintln!("error ({env}): {error:#}");
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn config_show(path: &Path, environment: Environment) -> Result<ExitCode> {
    let config = load(path, environment)?;
    print!("{}", toml::to_string_pretty(&config).context("cannot render the configuration")?);
    Ok(ExitCode::SUCCESS)
}

fn write_artefacts(out: &Path, artefacts: &[Artefact]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for artefact in artefacts {
        let target = out.join(&artefact.path);
        std::fs::write(&target, &artefact.contents)
            .with_context(|| format!("cannot write {}", target.display()))?;
        println!("wrote {}", target.display());
    }
    Ok(())
}

fn export(path: &Path, environment: Environment, args: &ExportArgs) -> Result<ExitCode> {
    let (config, authorizer) = load_with_policies(path, environment)?;
    write_artefacts(&args.out, &cognigate_export::export(&config, &authorizer)?)?;
    Ok(ExitCode::SUCCESS)
}

/// The docs describe the dev settings and tabulate all three environments, so they do not depend on which
/// environment the command runs in.
pub fn generated_docs(path: &Path) -> Result<Vec<Artefact>> {
    let mut environments = Vec::new();
    for env in Environment::ALL {
        environments.push((env, load(path, env)?));
    }
    let (_, dev) = environments.first().context("no environment")?;
    let authorizer = Authorizer::from_config(dev)?;
    Ok(cognigate_export::docs(&environments, &authorizer))
}

fn docs(path: &Path, args: &DocsArgs) -> Result<ExitCode> {
    let artefacts = generated_docs(path)?;
    if !args.check {
        write_artefacts(&args.out, &artefacts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let stale: Vec<String> = artefacts
        .iter()
        .filter(|artefact| {
            std::fs::read_to_string(args.out.join(&artefact.path)).ok().as_deref()
                != Some(artefact.contents.as_str())
        })
        .map(|artefact| args.out.join(&artefact.path).display().to_string())
        .collect();
    if stale.is_empty() {
        println!("{} generated pages in {} are current", artefacts.len(), args.out.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("these pages differ from what `cognigate docs` generates from {}:", path.display());
        for page in &stale {
            eprintln!("  {page}");
        }
        eprintln!("run `cargo run -p cognigate -- docs` and commit the result");
        Ok(ExitCode::FAILURE)
    }
}

/// `cognigate infra`: every environment, loaded from the file alone. Process variables are deliberately
/// not read: the committed file must not depend on who generated it.
fn infra(path: &Path, args: &crate::cli::InfraArgs) -> Result<ExitCode> {
    let mut environments = Vec::new();
    for env in Environment::ALL {
        environments.push((env, cognigate_config::load_file(path, env, std::iter::empty())?));
    }
    let text = cognigate_export::infra_json(&environments)?;
    if args.check {
        if std::fs::read_to_string(&args.out).ok().as_deref() == Some(text.as_str()) {
            println!("{} is current", args.out.display());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} differs from what `cognigate infra` generates from {}; run `cargo run -p cognigate -- infra` \
             and commit the result",
            args.out.display(),
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(parent) = args.out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&args.out, &text).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn serve(path: &Path, environment: Environment, args: &ServeArgs) -> Result<ExitCode> {
    let (config, authorizer) = load_with_policies(path, environment)?;
    let listen = args.listen.clone().unwrap_or_else(|| config.service.listen.clone());
    let address: SocketAddr =
        listen.parse().with_context(|| format!("`{listen}` is not a socket address"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let parts = cognigate::runtime::start(&config, environment).await?;
        // These lines give each pool's ids, so the service, the CDK context and SDK scripts agree.
        for (kind, provider, summary) in &parts.providers {
            let info = provider.info();
            let users = summary.estimated_users.map(|n| format!(", {n} users")).unwrap_or_default();
            match info.kind {
                // The client SDK tools may use: the public one in dev; none elsewhere.
                "local" => match parts.pools.iter().find(|pool| pool.kind == *kind).and_then(|p| p.client_id.clone()) {
                    Some(client_id) => println!(
                        "{kind} pool: embedded engine, pool id {}, client id {client_id}, issuer {}/{}{users}",
                        info.pool_id, config.service.public_url, info.pool_id
                    ),
                    None => println!(
                        "{kind} pool: embedded engine, pool id {}, issuer {}/{}{users} (no public app client \
                         outside dev: its users go through the auth API)",
                        info.pool_id, config.service.public_url, info.pool_id
                    ),
                },
                _ => println!(
                    "{kind} pool: AWS Cognito ({}), pool id {}, client id {}{users}",
                    info.endpoint.as_deref().unwrap_or(&info.region),
                    info.pool_id,
                    info.client_id
                ),
            }
        }
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let bound = listener.local_addr()?;
        if environment == Environment::Dev && !bound.ip().is_loopback() {
            eprintln!(
                "!!! WARNING: `cognigate dev` is listening on {bound}, beyond this machine. dev serves the Cognito wire \
                 protocol for its pools' public client and shows the outbox: keep it on loopback."
            );
        }
        let readiness = Readiness::default();
        let wire_listen = config.engine.wire.listen_in(environment);
        let authorizer = Arc::new(authorizer);
        let api =
            cognigate::services::build(&config, environment, authorizer.clone(), &parts, Default::default()).await?;
        let seeded = if environment == Environment::Dev && !args.no_seed {
            Some(cognigate::seed::dev(&api, parts.store.as_ref(), !args.no_demo).await?)
        } else {
            None
        };
        let state =
            cognigate::app::state(config, environment, authorizer, &parts, Arc::new(api), readiness.clone())?;
        let admin = match (state.wire_access.admin_keys.is_empty(), state.wire_access.loopback_admin) {
            (false, _) => "signed (SigV4) with a configured access key only",
            (true, true) => "from loopback callers naming a loopback host",
            (true, false) => "refused: no engine.wire.admin_access_keys",
        };
        let wire_listener = match &wire_listen {
            WireListen::Service => {
                println!(
                    "Cognito wire endpoint: http://{bound}/ (any AWS SDK or the AWS CLI with --endpoint-url; \
                     admin operations {admin})"
                );
                None
            }
            WireListen::Own(address) => {
                let wire_address: SocketAddr =
                    address.parse().with_context(|| format!("engine.wire.listen: `{address}` is not an address"))?;
                let wire_listener = tokio::net::TcpListener::bind(wire_address)
                    .await
                    .with_context(|| format!("cannot listen on {wire_address} (engine.wire.listen)"))?;
                println!(
                    "Cognito wire endpoint: http://{}/ (a listener of its own; admin operations {admin})",
                    wire_listener.local_addr()?
                );
                Some(wire_listener)
            }
            WireListen::Off => {
                println!("Cognito wire endpoint: off (engine.wire.listen)");
                None
            }
        };
        println!(
            "Auth API: http://{bound}/auth/customer/* and http://{bound}/auth/staff/* (OpenAPI: http://{bound}/openapi.json)"
        );
        println!("Console: http://{bound}/console");
        match seeded {
            Some(cognigate::seed::Seeded::Created { admin_email, temporary_password, demo_accounts }) => {
                println!("  First super_admin: {admin_email}");
                println!("  One-time temporary password: {temporary_password}");
                println!(
                    "  (shown once: at the first sign-in you choose your own password and set up an authenticator \
                     app; {demo_accounts} demo accounts in teams sales-north and sales-south got invitations, \
                     readable in the console's Outbox)"
                );
            }
            Some(cognigate::seed::Seeded::AlreadySeeded) => {
                println!("  (a super_admin exists already: nothing was seeded; sign in with your own password)")
            }
            None => {}
        }
        // This line gives the address, so scripts and tests can find a port-0 server.
        println!("cognigate listening on http://{bound} (environment: {environment})");
        tracing::info!(%bound, %environment, "listening");
        readiness.set_ready(true);
        let shutdown_readiness = readiness.clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if let Some(wire_listener) = wire_listener {
            let router = cognigate_http::wire_router(state.clone());
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                if let Err(error) = cognigate_http::serve_router(wire_listener, router, shutdown).await {
                    tracing::error!(%error, "the wire listener stopped");
                }
            });
        }
        cognigate_http::serve(listener, state, async move {
            shutdown_signal().await;
            shutdown_readiness.set_ready(false);
            let _ = stop.send(true);
            tracing::info!("shutting down");
        })
        .await
        .context("the server stopped with an error")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn outbox(path: &Path, environment: Environment, args: &OutboxArgs) -> Result<ExitCode> {
    let config = load(path, environment)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let stored = runtime.block_on(async {
        let store = cognigate_store::SqlStore::open(&config.store.url).await?;
        cognigate_engine::store::Store::list_outbox(&store, args.to.as_deref(), args.limit).await
    })?;
    // Bodies are sealed at rest with the data directory's key; an empty outbox needs none.
    let messages = if stored.iter().any(|message| message.sealed) {
        let key = cognigate::runtime::existing_sealing_key(Path::new(&config.service.data_dir))?;
        let sealer = cognigate_engine::seal::Sealer::new(&key)?;
        stored
            .into_iter()
            .map(|message| cognigate_engine::open_outbox_message(&sealer, message))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        stored
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&messages)?);
        return Ok(ExitCode::SUCCESS);
    }
    if messages.is_empty() {
        println!("the outbox is empty");
    }
    for message in messages {
        println!("--- {} · to {} · {} · {}", message.id, message.recipient, message.kind, message.subject);
        println!("{}", message.body.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn sync(path: &Path, environment: Environment, args: &SyncArgs) -> Result<ExitCode> {
    let (config, authorizer) = load_with_policies(path, environment)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let reports = runtime.block_on(async {
        let parts = cognigate::runtime::start(&config, environment).await?;
        let api = cognigate::services::build(
            &config,
            environment,
            Arc::new(authorizer),
            &parts,
            Default::default(),
        )
        .await?;
        let mut reports = Vec::new();
        for pool in cognigate_config::PoolKind::ALL {
            let report = cognigate_service::sync::sync_pool(api.service(pool), args.dry_run)
                .await
                .map_err(|error| anyhow::anyhow!("syncing the {pool} pool: {error}"))?;
            reports.push(report);
        }
        anyhow::Ok(reports)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(ExitCode::SUCCESS);
    }
    for report in &reports {
        let verb = if report.dry_run { "would be" } else { "were" };
        println!(
            "{} pool: {} identities; {} drifted ({} mirror rows {verb} created, {} corrected, {} removed)",
            report.pool,
            report.identities,
            report.drift(),
            report.created.len(),
            report.updated.len(),
            report.removed.len()
        );
        for sub in &report.created {
            println!("  created  {sub}");
        }
        for (sub, fields) in &report.updated {
            println!("  updated  {sub}: {}", fields.join(", "));
        }
        for sub in &report.removed {
            println!("  removed  {sub}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
