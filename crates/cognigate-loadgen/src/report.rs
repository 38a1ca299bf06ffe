//! The benchmark's one table, in Markdown: requests/s, p50 and p99 per operation and server, the ratios of
//! the first server (cognigate) to each peer and the goal each ratio is held to, RSS at the end of each
//! phase, CPU per request, and the seeding times. A measurement with any failed request is printed as
//! invalid, never as a figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use serde::Deserialize;

use crate::PhaseResults;
use crate::ops::Op;

/// A latency histogram in microseconds up to `highest_us`, three significant figures: every measurement uses
/// the same recording so their percentiles compare.
pub fn latency_histogram(highest_us: u64) -> Result<hdrhistogram::Histogram<u64>> {
    hdrhistogram::Histogram::new_with_bounds(1, highest_us, 3).map_err(|error| anyhow!("histogram: {error}"))
}

/// Above this share of a core used by other processes during a measurement, its figure is marked suspect.
const DISTURBED: f64 = 0.25;

/// One line of the seeding log.
#[derive(Debug, Deserialize)]
struct Seeding {
    server: String,
    from: u64,
    to: u64,
    method: String,
    seconds: f64,
}

/// Thousands separated by commas, no decimals (one below 100).
fn rate(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn millis(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.3}")
    } else if value < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

fn ratio(value: f64) -> String {
    if value < 10.0 { format!("{value:.2}×") } else { format!("{value:.0}×") }
}

fn users(count: u64) -> String {
    if count >= 1000 && count.is_multiple_of(1000) { format!("{}k", count / 1000) } else { count.to_string() }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".to_owned(), |kib| format!("{:.0} MiB", kib as f64 / 1024.0))
}

/// The ratio a goal asks of cognigate over moto for this operation at this size, if any.
fn goal(op: Op, users: u64) -> Option<f64> {
    match op {
        Op::PasswordAuth => None,
        Op::ListUsersPrefix | Op::ListUsersExact if users >= 100_000 => Some(100.0),
        _ => Some(10.0),
    }
}

/// The report, and how many measurements are invalid (had a failed request).
pub fn render(files: &[PathBuf], seed_log: Option<&Path>, notes: &[String]) -> Result<(String, usize)> {
    let mut phases = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let phase: PhaseResults = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a bench result", file.display()))?;
        phases.push(phase);
    }
    let first = phases.first().ok_or_else(|| anyhow!("no results"))?;
    let servers: Vec<String> = first.servers.iter().map(|s| s.name.clone()).collect();
    let (subject, peers) = servers.split_first().ok_or_else(|| anyhow!("no servers"))?;
    let moto = peers.iter().find(|peer| peer.as_str() == "moto");
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "## Wire benchmark: {}\n", servers.join(" vs "))?;
    writeln!(
        w,
        "One machine, one run, one load generator (`cognigate-loadgen`: {} closed-loop HTTP/1.1 workers, \
         Cognito JSON 1.1 with `X-Amz-Target`), the same request bodies for every server; per operation and \
         server {:.0} s of warm-up, then {:.0} s measured. Latencies in ms. Ratios are requests/s of {subject} \
         over the peer. Every answer is checked (tokens present, the right user, exactly the right ListUsers \
         hits); a row with a failed request is marked invalid.\n",
        first.concurrency, first.warmup_secs, first.duration_secs
    )?;
    let mut header = String::from("| users | operation |");
    let mut rule = String::from("|---:|---|");
    for server in &servers {
        write!(header, " {server} req/s | p50 | p99 |")?;
        rule.push_str("---:|---:|---:|");
    }
    for peer in peers {
        write!(header, " {subject}/{peer} |")?;
        rule.push_str("---:|");
    }
    if moto.is_some() {
        header.push_str(" goal vs moto |");
        rule.push_str("---|");
    }
    writeln!(w, "{header}\n{rule}")?;
    let mut errors = Vec::new();
    let mut disturbed = 0;
    for phase in &phases {
        let mut ops: Vec<Op> = Vec::new();
        for m in &phase.measurements {
            if !ops.contains(&m.op) {
                ops.push(m.op);
            }
        }
        for op in ops {
            let find = |server: &str| phase.measurements.iter().find(|m| m.op == op && m.server == server);
            let valid_rate = |server: &str| {
                find(server)
                    .filter(|m| m.figures.errors == 0 && m.figures.requests > 0)
                    .map(|m| m.figures.per_second)
            };
            write!(w, "| {} | {} |", users(phase.users), op.label())?;
            for server in &servers {
                match find(server) {
                    Some(m) if m.figures.errors == 0 && m.figures.requests > 0 => {
                        let mark = if m.other_cpu_share > DISTURBED {
                            disturbed += 1;
                            " ⚠"
                        } else {
                            ""
                        };
                        write!(
                            w,
                            " {}{mark} | {} | {} |",
                            rate(m.figures.per_second),
                            millis(m.figures.p50_ms),
                            millis(m.figures.p99_ms)
                        )?;
                    }
                    Some(m) => {
                        write!(w, " INVALID ({} errors) | — | — |", m.figures.errors)?;
                        errors.push(format!(
                            "{} {} on {server}: {}",
                            users(phase.users),
                            op.label(),
                            m.figures.first_error.as_deref().unwrap_or("no request completed")
                        ));
                    }
                    None => write!(w, " — | — | — |")?,
                }
            }
            for peer in peers {
                match (valid_rate(subject), valid_rate(peer)) {
                    (Some(ours), Some(theirs)) if theirs > 0.0 => write!(w, " {} |", ratio(ours / theirs))?,
                    _ => write!(w, " — |")?,
                }
            }
            if let Some(moto) = moto {
                match (goal(op, phase.users), valid_rate(subject), valid_rate(moto)) {
                    (None, _, _) => write!(w, " none: hashes (see note) |")?,
                    (Some(goal), Some(ours), Some(theirs)) if theirs > 0.0 => {
                        let met = if ours / theirs >= goal { "met" } else { "**not met**" };
                        write!(w, " ≥{goal:.0}×: {met} |")?;
                    }
                    (Some(goal), _, _) => write!(w, " ≥{goal:.0}×: no valid figure |")?,
                }
            }
            writeln!(w)?;
        }
        write!(w, "| {} | RSS at the end |", users(phase.users))?;
        for server in &servers {
            let rss = phase.servers.iter().find(|s| &s.name == server).and_then(|s| s.rss_kib);
            write!(w, " {} | | |", mib(rss))?;
        }
        for _ in peers {
            write!(w, " |")?;
        }
        if moto.is_some() {
            write!(w, " |")?;
        }
        writeln!(w)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "USER_PASSWORD_AUTH: moto and cognito-local do not hash passwords (they keep and compare them in plain \
         text); cognigate verifies an argon2id hash on every sign-in, so that row measures the hash, not the \
         server, and no goal applies to it.\n"
    )?;
    if disturbed > 0 {
        writeln!(
            w,
            "⚠: other processes (not the servers, not the generator) used more than {DISTURBED} of a core \
             during that measurement ({disturbed} of them; see the `other` column below): the figure is suspect.\n"
        )?;
    }
    for error in &errors {
        writeln!(w, "- invalid: {error}")?;
    }
    if !errors.is_empty() {
        writeln!(w)?;
    }

    writeln!(
        w,
        "Server CPU per request (ms, warm-up included), and the CPU share (1.0 = one core) of the load \
         generator and of every other process during each measurement:\n"
    )?;
    let mut header = String::from("| users | operation |");
    let mut rule = String::from("|---:|---|");
    for server in &servers {
        write!(header, " {server} CPU ms/req | loadgen | other |")?;
        rule.push_str("---:|---:|---:|");
    }
    writeln!(w, "{header}\n{rule}")?;
    for phase in &phases {
        for m in phase.measurements.iter().filter(|m| &m.server == subject) {
            write!(w, "| {} | {} |", users(phase.users), m.op.label())?;
            for server in &servers {
                match phase.measurements.iter().find(|x| x.op == m.op && &x.server == server) {
                    Some(x) => write!(
                        w,
                        " {} | {:.2} | {:.2} |",
                        x.server_cpu_ms_per_request.map_or_else(|| "?".to_owned(), millis),
                        x.loadgen_cpu_share,
                        x.other_cpu_share
                    )?,
                    None => write!(w, " — | — | — |")?,
                }
            }
            writeln!(w)?;
        }
    }
    writeln!(w)?;

    if let Some(log) = seed_log.filter(|log| log.exists()) {
        let text = std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
        writeln!(w, "Seeding (not part of the figures above):\n")?;
        writeln!(w, "| server | users | how | seconds | users/s |\n|---|---|---|---:|---:|")?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let seeding: Seeding =
                serde_json::from_str(line).with_context(|| format!("seed log line `{line}`"))?;
            let count = seeding.to.saturating_sub(seeding.from);
            writeln!(
                w,
                "| {} | {}..{} | {} | {:.1} | {} |",
                seeding.server,
                seeding.from,
                seeding.to,
                seeding.method,
                seeding.seconds,
                rate(count as f64 / seeding.seconds.max(1e-9))
            )?;
        }
        writeln!(w)?;
    }
    for note in notes {
        writeln!(w, "- {note}")?;
    }
    let invalid = errors.len();
    Ok((out, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(rate(1_234_567.4), "1,234,567");
        assert_eq!(rate(999.6), "1,000");
        assert_eq!(rate(42.26), "42.3");
        assert_eq!(millis(0.1234), "0.123");
        assert_eq!(ratio(123.4), "123×");
        assert_eq!(users(100_000), "100k");
        assert_eq!(goal(Op::ListUsersExact, 100_000), Some(100.0));
        assert_eq!(goal(Op::ListUsersExact, 10_000), Some(10.0));
    }
}
