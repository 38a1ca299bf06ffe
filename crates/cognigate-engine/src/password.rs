//! Password hashing with argon2id, and Cognito's password policy.
//!
//! Hashing is the most expensive thing the engine does (≈15 ms at the OWASP parameters here), so it runs on
//! a dedicated pool of `concurrency` threads (memory = concurrency × m), each keeping its argon2 memory for
//! every hash instead of allocating it per hash; async callers wait on a oneshot, never blocking the runtime. Unknown users are checked against a dummy
//! hash with the same parameters, so the time an answer takes does not say whether the user exists.

use std::cell::RefCell;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::EngineError;
use crate::clock::Entropy;
use crate::model::PasswordPolicy;

/// argon2id parameters: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's second recommended set (m = 19 MiB, t = 2, p = 1).
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

thread_local! {
    /// The argon2 working memory of this hashing thread, reused between hashes.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One hash to compute, and where to send the result.
struct Job {
    params: HashParams,
    password: Zeroizing<Vec<u8>>,
    salt: Vec<u8>,
    reply: oneshot::Sender<Result<[u8; OUTPUT_LEN], EngineError>>,
}

/// Hashes and verifies passwords on a dedicated, bounded pool of threads.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
    jobs: SyncSender<Job>,
    /// One permit per hash queued or running. When none is left the hasher is saturated and a caller is
    /// answered at once (TooManyRequests) instead of waiting in an unbounded line: a flood of sign-ins can
    /// then cost its senders refusals, never every legitimate caller a second of latency.
    admission: Arc<tokio::sync::Semaphore>,
    dummy: Arc<String>,
    /// Hashes computed so far: how tests prove that an unknown user costs what a wrong password costs.
    computed: Arc<std::sync::atomic::AtomicU64>,
}

/// Runs jobs until every sender is gone.
fn worker(jobs: Arc<Mutex<Receiver<Job>>>) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        let result = raw_hash(job.params, &job.password, &job.salt);
        // The caller may have gone away (request cancelled); nothing to do then.
        let _ = job.reply.send(result);
    }
}

const OUTPUT_LEN: usize = 32;

/// Hashes waiting or running per hashing thread before callers are refused: about a second of work at the
/// OWASP parameters, enough to absorb the bursts of an open-loop load at the brief's rates.
const QUEUED_PER_THREAD: usize = 64;

fn argon(params: HashParams) -> Result<Argon2<'static>, EngineError> {
    let params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(OUTPUT_LEN))
        .map_err(|error| EngineError::Internal(format!("argon2 parameters: {error}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Computes the raw hash with this thread's reused memory.
fn raw_hash(params: HashParams, password: &[u8], salt: &[u8]) -> Result<[u8; OUTPUT_LEN], EngineError> {
    let hasher = argon(params)?;
    let blocks_needed =
        Params::new(params.memory_kib, params.iterations, params.parallelism, Some(OUTPUT_LEN))
            .map_err(|error| EngineError::Internal(error.to_string()))?
            .block_count();
    let mut out = [0u8; OUTPUT_LEN];
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() != blocks_needed {
            blocks.resize(blocks_needed, Block::new());
        }
        hasher
            .hash_password_into_with_memory(password, salt, &mut out, blocks.as_mut_slice())
            .map_err(|error| EngineError::Internal(format!("argon2: {error}")))
    })?;
    Ok(out)
}

fn encode(params: HashParams, salt: &[u8], hash: &[u8]) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    )
}

/// Parses a PHC string this module wrote.
fn decode(phc: &str) -> Option<(HashParams, Vec<u8>, Vec<u8>)> {
    let mut parts = phc.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(settings), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let mut params = HashParams { memory_kib: 0, iterations: 0, parallelism: 0 };
    for setting in settings.split(',') {
        let (name, value) = setting.split_once('=')?;
        let value: u32 = value.parse().ok()?;
        match name {
            "m" => params.memory_kib = value,
            "t" => params.iterations = value,
            "p" => params.parallelism = value,
            _ => return None,
        }
    }
    Some((params, STANDARD_NO_PAD.decode(salt).ok()?, STANDARD_NO_PAD.decode(hash).ok()?))
}

impl PasswordHasher {
    /// Starts `concurrency` hashing threads: the bound on hashes in flight (and so memory: concurrency × m
    /// KiB). They stop when the last clone of the hasher is dropped.
    pub fn new(params: HashParams, concurrency: usize, entropy: &dyn Entropy) -> Result<Self, EngineError> {
        argon(params)?;
        let mut salt = [0u8; 16];
        entropy.fill(&mut salt);
        let dummy_hash = raw_hash(params, b"cognigate dummy password", &salt)?;
        let threads = concurrency.max(1);
        let (jobs, receiver) = sync_channel::<Job>(threads * QUEUED_PER_THREAD);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || worker(receiver))
                .map_err(|error| EngineError::Internal(format!("cannot start a hashing thread: {error}")))?;
        }
        Ok(Self {
            params,
            jobs,
            admission: Arc::new(tokio::sync::Semaphore::new(threads * QUEUED_PER_THREAD)),
            dummy: Arc::new(encode(params, &salt, &dummy_hash)),
            computed: Arc::default(),
        })
    }

    /// Computes one raw hash on the pool, in arrival order, or refuses at once when the pool is saturated.
    async fn compute(
        &self,
        params: HashParams,
        password: &[u8],
        salt: Vec<u8>,
    ) -> Result<[u8; OUTPUT_LEN], EngineError> {
        let _admitted =
            self.admission.clone().try_acquire_owned().map_err(|_| EngineError::TooManyRequests)?;
        self.computed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let job = Job { params, password: Zeroizing::new(password.to_vec()), salt, reply };
        // There is never more admitted work than the queue holds, so the queue has room.
        self.jobs.try_send(job).map_err(|error| match error {
            std::sync::mpsc::TrySendError::Full(_) => EngineError::TooManyRequests,
            std::sync::mpsc::TrySendError::Disconnected(_) => {
                EngineError::Internal("the hashing pool has stopped".to_owned())
            }
        })?;
        answer.await.map_err(|_| EngineError::Internal("a hashing thread stopped".to_owned()))?
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    /// How many hashes this hasher has computed (verifications included).
    pub fn hashes_computed(&self) -> u64 {
        self.computed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str, entropy: &dyn Entropy) -> Result<String, EngineError> {
        let mut salt = [0u8; 16];
        entropy.fill(&mut salt);
        let hash = self.compute(self.params, password.as_bytes(), salt.to_vec()).await?;
        Ok(encode(self.params, &salt, &hash))
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is none, so both cost
    /// the same. Returns false for a malformed stored hash.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, EngineError> {
        let exists = stored.is_some();
        let phc = stored.unwrap_or(self.dummy.as_str());
        let Some((params, salt, expected)) = decode(phc) else {
            // A malformed stored hash still costs one hash, like any other answer.
            self.compute(self.params, password.as_bytes(), vec![0u8; 16]).await?;
            return Ok(false);
        };
        let actual = self.compute(params, password.as_bytes(), salt).await?;
        let matches = aws_lc_rs::constant_time::verify_slices_are_equal(&actual, &expected).is_ok();
        Ok(exists && matches)
    }
}

/// Cognito's symbol set for `RequireSymbols`.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// Checks a password against the pool's policy; the error names every rule it breaks.
pub fn check_policy(policy: &PasswordPolicy, password: &str) -> Result<(), EngineError> {
    let mut broken = Vec::new();
    if password.chars().count() < policy.minimum_length as usize {
        broken.push(format!("Password not long enough (minimum {})", policy.minimum_length));
    }
    if password.chars().count() > 256 {
        broken.push("Password is too long (maximum 256)".to_owned());
    }
    if policy.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
        broken.push("Password must have lowercase characters".to_owned());
    }
    if policy.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
        broken.push("Password must have uppercase characters".to_owned());
    }
    if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        broken.push("Password must have numeric characters".to_owned());
    }
    if policy.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
        broken.push("Password must have symbol characters".to_owned());
    }
    if password.starts_with(' ') || password.ends_with(' ') {
        broken.push("Password must not start or end with a space".to_owned());
    }
    if broken.is_empty() { Ok(()) } else { Err(EngineError::InvalidPassword(broken.join("; "))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    fn fast() -> HashParams {
        HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 }
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let hasher = PasswordHasher::new(fast(), 2, &OsEntropy).unwrap();
        let first = hasher.hash("Correct horse 1", &OsEntropy).await.unwrap();
        let second = hasher.hash("Correct horse 1", &OsEntropy).await.unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("Correct horse 1", Some(&first)).await.unwrap());
        assert!(!hasher.verify("correct horse 1", Some(&first)).await.unwrap());
        assert!(!hasher.verify("anything", None).await.unwrap(), "no stored hash never verifies");
        assert!(!hasher.verify("x", Some("$argon2id$garbage")).await.unwrap());
    }

    /// F11 of the 2026-12-07 audit: one client's flood queued without bound and made every legitimate
    /// sign-in wait. A saturated hasher now refuses at once; what it admits, it computes.
    #[tokio::test]
    async fn a_saturated_hasher_refuses_at_once_instead_of_queueing() {
        let hasher = PasswordHasher::new(
            HashParams { memory_kib: 8192, iterations: 2, parallelism: 1 },
            1,
            &OsEntropy,
        )
        .unwrap();
        let flood: Vec<_> = (0..QUEUED_PER_THREAD * 3).map(|_| hasher.verify("guess", None)).collect();
        let results = futures_join(flood).await;
        let refused = results.iter().filter(|r| matches!(r, Err(EngineError::TooManyRequests))).count();
        let computed = results.iter().filter(|r| matches!(r, Ok(false))).count();
        assert!(refused > 0, "a flood beyond the queue is refused");
        assert_eq!(refused + computed, results.len(), "nothing else goes wrong");
        assert!(computed >= QUEUED_PER_THREAD, "the queue's worth is admitted");
        // Once the flood is over, a legitimate call goes through.
        assert!(!hasher.verify("guess", None).await.unwrap());
    }

    /// Polls every future at once (each takes its place in the queue on first poll), then awaits them.
    async fn futures_join<T>(futures: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
        let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
        let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
        let mut results: Vec<Option<T>> = pending.iter().map(|_| None).collect();
        std::future::poll_fn(|context| {
            let mut done = true;
            for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
                if let Some(future) = slot {
                    match future.as_mut().poll(context) {
                        std::task::Poll::Ready(value) => {
                            *result = Some(value);
                            *slot = None;
                        }
                        std::task::Poll::Pending => done = false,
                    }
                }
            }
            if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
        })
        .await;
        results.into_iter().flatten().collect()
    }

    #[tokio::test]
    async fn default_parameters_are_owasps() {
        let hasher = PasswordHasher::new(HashParams::default(), 1, &OsEntropy).unwrap();
        let phc = hasher.hash("pw", &OsEntropy).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    #[test]
    fn policy_names_every_broken_rule() {
        let policy = PasswordPolicy {
            minimum_length: 10,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: true,
        };
        let error = check_policy(&policy, "short").unwrap_err().to_string();
        for rule in ["long enough", "uppercase", "numeric", "symbol"] {
            assert!(error.contains(rule), "{error}");
        }
        assert!(check_policy(&policy, "Long-enough-1").is_ok());
    }
}
