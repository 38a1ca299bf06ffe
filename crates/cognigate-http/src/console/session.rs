//! Console sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), and
//! everything else on the server. The browser never holds a token: the staff member's access and refresh
//! tokens stay here, so a stolen cookie is the only thing to protect, and it dies after the idle timeout.
//!
//! Each session carries its own CSRF token, checked on every form; the id is replaced at sign-in so a
//! session fixed before sign-in is worth nothing after it. Sessions live in this process's memory: a
//! restart signs everyone out (a multi-instance deployment needs sticky sessions; see ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore as _;

/// The cookie's name.
pub const COOKIE: &str = "cognigate_console";

/// At most this many sessions are kept; the oldest idle ones go first when full.
const MAX_SESSIONS: usize = 10_000;

/// Where a sign-in stands.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Not signed in (the session exists for the login form's CSRF token).
    Anonymous,
    /// Password accepted; a challenge (`SOFTWARE_TOKEN_MFA`, `NEW_PASSWORD_REQUIRED`, `MFA_SETUP`) stands
    /// between the staff member and the console.
    Challenge { email: String, challenge: String, session: String, enrolment: Option<Enrolment> },
    /// Signed in.
    SignedIn(SignedIn),
}

/// What the MFA setup page shows, kept so a reload does not start the enrolment over.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_png_base64: String,
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub sub: String,
    pub email: String,
    pub username: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// A one-time message for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
}

impl FlashKind {
    pub fn css(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub csrf: String,
    pub stage: Stage,
    pub flash: Option<Flash>,
    last_seen: Instant,
}

/// The sessions of this process.
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Sessions that end after `idle` without a request (the staff access token's lifetime).
    pub fn new(idle: Duration) -> Self {
        Self { idle, sessions: Mutex::new(HashMap::new()) }
    }

    /// The live session with this id, touched; `None` when unknown or idle too long (then it is gone).
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let session = sessions.get_mut(id)?;
        if session.last_seen.elapsed() > self.idle {
            sessions.remove(id);
            return None;
        }
        session.last_seen = Instant::now();
        Some(session.clone())
    }

    /// A new anonymous session.
    pub fn create(&self) -> Session {
        let session = Session {
            id: random_token(),
            csrf: random_token(),
            stage: Stage::Anonymous,
            flash: None,
            last_seen: Instant::now(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= MAX_SESSIONS {
            let idle = self.idle;
            sessions.retain(|_, s| s.last_seen.elapsed() <= idle);
            if sessions.len() >= MAX_SESSIONS
                && let Some(oldest) = sessions.values().min_by_key(|s| s.last_seen).map(|s| s.id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// Stores a changed session.
    pub fn save(&self, session: &Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stored) = sessions.get_mut(&session.id) {
            stored.stage = session.stage.clone();
            stored.flash = session.flash.clone();
        }
    }

    /// Replaces the session's id and CSRF token, keeping its contents (at sign-in).
    pub fn rotate(&self, session: &Session) -> Session {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.remove(&session.id);
        let rotated = Session {
            id: random_token(),
            csrf: random_token(),
            stage: session.stage.clone(),
            flash: session.flash.clone(),
            last_seen: Instant::now(),
        };
        sessions.insert(rotated.id.clone(), rotated.clone());
        rotated
    }

    pub fn remove(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Takes the flash message out of the stored session.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id).and_then(|s| s.flash.take())
    }

    /// Sets the flash message of the stored session.
    pub fn flash(&self, id: &str, kind: FlashKind, text: impl Into<String>) {
        if let Some(session) = self.sessions.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id) {
            session.flash = Some(Flash { kind, text: text.into() });
        }
    }
}

/// 256 random bits, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares a submitted CSRF token with the session's without an early exit on the first difference.
pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    expected.len() == submitted.len()
        && expected.bytes().zip(submitted.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The `Set-Cookie` value for a session id.
pub fn cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict{secure}")
}

/// The session id in a `Cookie` header.
pub fn id_from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(COOKIE)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens_are_random_and_long() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let a = sessions.create();
        let b = sessions.create();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_eq!(a.id.len(), 43);
    }

    #[test]
    fn idle_sessions_end() {
        let sessions = Sessions::new(Duration::from_millis(0));
        let session = sessions.create();
        std::thread::sleep(Duration::from_millis(5));
        assert!(sessions.get(&session.id).is_none());
        assert!(sessions.get(&session.id).is_none(), "and stay ended");
    }

    #[test]
    fn rotation_forgets_the_old_id() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let session = sessions.create();
        let rotated = sessions.rotate(&session);
        assert!(sessions.get(&session.id).is_none());
        assert!(sessions.get(&rotated.id).is_some());
        assert_ne!(session.csrf, rotated.csrf);
    }

    #[test]
    fn flash_is_shown_once() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let session = sessions.create();
        sessions.flash(&session.id, FlashKind::Success, "done");
        assert_eq!(sessions.take_flash(&session.id).map(|f| f.text), Some("done".to_owned()));
        assert_eq!(sessions.take_flash(&session.id), None);
    }

    #[test]
    fn csrf_comparison() {
        assert!(csrf_matches("abc", "abc"));
        assert!(!csrf_matches("abc", "abd"));
        assert!(!csrf_matches("abc", "ab"));
        assert!(!csrf_matches("abc", ""));
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie("x", false), "cognigate_console=x; Path=/console; HttpOnly; SameSite=Strict");
        assert!(cookie("x", true).ends_with("; Secure"));
        assert_eq!(id_from_cookie_header("a=1; cognigate_console=abc; b=2"), Some("abc"));
        assert_eq!(id_from_cookie_header("cognigate_consolex=abc"), None);
        assert_eq!(id_from_cookie_header("a=1"), None);
    }
}
