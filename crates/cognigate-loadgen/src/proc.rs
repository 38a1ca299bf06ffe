//! What Linux's /proc says about a process: its CPU time (user + system) and its resident set size. The
//! benchmark reads them for each server to report CPU per request and memory at the end of a run.

use anyhow::{Context as _, Result, anyhow};

/// Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on every Linux the benchmark runs on).
const TICKS_PER_SECOND: f64 = 100.0;

fn cpu_from_stat(path: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at 3.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or_else(|| anyhow!("odd {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<f64> {
        let text = fields.get(n - 3).ok_or_else(|| anyhow!("{path} has no field {n}"))?;
        Ok(text.parse::<u64>().with_context(|| format!("field {n} of {path}"))? as f64)
    };
    // Fields 14 and 15: utime and stime.
    Ok((field(14)? + field(15)?) / TICKS_PER_SECOND)
}

/// The CPU seconds a process has used so far.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    cpu_from_stat(&format!("/proc/{pid}/stat"))
}

/// The CPU seconds this process has used so far.
pub fn own_cpu_seconds() -> Result<f64> {
    cpu_from_stat("/proc/self/stat")
}

/// VmRSS in KiB, if the process still exists.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds the whole machine has spent running something so far: user, nice, system, irq and softirq
/// of /proc/stat's `cpu` line (guest time is inside user time; idle, iowait and steal are not counted).
pub fn machine_busy_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat.lines().find(|line| line.starts_with("cpu ")).ok_or_else(|| anyhow!("no cpu line"))?;
    let ticks: Vec<u64> = line.split_whitespace().skip(1).map(|field| field.parse().unwrap_or(0)).collect();
    // user nice system idle iowait irq softirq steal guest guest_nice
    let busy: u64 = [0, 1, 2, 5, 6].iter().filter_map(|i| ticks.get(*i)).sum();
    Ok(busy as f64 / TICKS_PER_SECOND)
}
