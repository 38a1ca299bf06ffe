//! Console sessions: an opaque random id in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), and
//! everything else on the server. The browser never holds a token: the staff member's access and refresh
//! tokens stay here, so a stolen cookie is the only thing to protect, and it dies after the idle timeout.
//!
//! Each session carries its own CSRF token, checked on every form; the id is replaced at sign-in so a
//! session fixed before sign-in is worth nothing after it. Sessions live in this process's memory: a
//! restart signs everyone out (a multi-instance deployment needs sticky sessions; see ARCHITECTURE.md).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore as _;

/// The cookie's name.
pub const COOKIE: &str = "cognigate_console";

/// Anonymous sessions kept at most (the login form's CSRF token); when full, the oldest anonymous one goes.
const MAX_ANONYMOUS: usize = 10_000;
/// Sessions past the password (a challenge, or signed in) kept at most. They are made only with a correct
/// password, so no stranger can fill them; when full, an idle or half-done one goes, never a signed-in one.
const MAX_MEMBERS: usize = 10_000;

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

/// The sessions of this process, in two pools: anonymous ones, which anybody can make by loading the login
/// page, and those past the password. A flood of anonymous requests only ever pushes out other anonymous
/// sessions: a signed-in staff member is never evicted to make room (the 2026-12-07 audit's F7).
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    pools: Mutex<Pools>,
}

#[derive(Debug, Default)]
struct Pools {
    anonymous: HashMap<String, Session>,
    /// Anonymous ids in creation order, for evicting the oldest without a scan (ids no longer anonymous
    /// are skipped, and pruned when they pile up).
    arrivals: VecDeque<String>,
    /// Past the password: a challenge in progress, or signed in.
    members: HashMap<String, Session>,
}

impl Pools {
    fn take(&mut self, id: &str) -> Option<Session> {
        self.members.remove(id).or_else(|| self.anonymous.remove(id))
    }

    fn find(&mut self, id: &str) -> Option<&mut Session> {
        match self.members.get_mut(id) {
            Some(session) => Some(session),
            None => self.anonymous.get_mut(id),
        }
    }

    fn add_anonymous(&mut self, session: Session) {
        while self.anonymous.len() >= MAX_ANONYMOUS {
            let Some(oldest) = self.arrivals.pop_front() else { break };
            self.anonymous.remove(&oldest);
        }
        if self.arrivals.len() > 2 * MAX_ANONYMOUS {
            let anonymous = &self.anonymous;
            self.arrivals.retain(|id| anonymous.contains_key(id));
        }
        self.arrivals.push_back(session.id.clone());
        self.anonymous.insert(session.id.clone(), session);
    }

    /// Adds a session past the password, making room from idle and half-done ones; `false` (and the
    /// session is not kept) when every place holds a live signed-in member.
    fn add_member(&mut self, session: Session, idle: Duration) -> bool {
        if self.members.len() >= MAX_MEMBERS {
            self.members.retain(|_, s| s.last_seen.elapsed() <= idle);
        }
        if self.members.len() >= MAX_MEMBERS {
            let oldest_challenge = self
                .members
                .values()
                .filter(|s| matches!(s.stage, Stage::Challenge { .. }))
                .min_by_key(|s| s.last_seen)
                .map(|s| s.id.clone());
            match oldest_challenge {
                Some(id) => {
                    self.members.remove(&id);
                }
                None => {
                    tracing::warn!(
                        "console: every session place holds a signed-in member; a sign-in is refused"
                    );
                    return false;
                }
            }
        }
        self.members.insert(session.id.clone(), session);
        true
    }

    fn add(&mut self, session: Session, idle: Duration) -> bool {
        if matches!(session.stage, Stage::Anonymous) {
            self.add_anonymous(session);
            true
        } else {
            self.add_member(session, idle)
        }
    }
}

impl Sessions {
    /// Sessions that end after `idle` without a request (the staff access token's lifetime).
    pub fn new(idle: Duration) -> Self {
        Self { idle, pools: Mutex::new(Pools::default()) }
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live session with this id, touched; `None` when unknown or idle too long (then it is gone).
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut pools = self.pools();
        let session = pools.find(id)?;
        if session.last_seen.elapsed() > self.idle {
            pools.take(id);
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
        self.pools().add_anonymous(session.clone());
        session
    }

    /// Stores a changed session, in the pool its stage belongs to. `false` when a session past the password
    /// found no place (it stays as it was).
    pub fn save(&self, session: &Session) -> bool {
        let mut pools = self.pools();
        let Some(mut stored) = pools.take(&session.id) else { return false };
        let previous = stored.clone();
        stored.stage = session.stage.clone();
        stored.flash = session.flash.clone();
        if pools.add(stored, self.idle) {
            true
        } else {
            pools.add(previous, self.idle);
            false
        }
    }

    /// Replaces the session's id and CSRF token, keeping its contents (at sign-in).
    pub fn rotate(&self, session: &Session) -> Session {
        let mut pools = self.pools();
        pools.take(&session.id);
        let rotated = Session {
            id: random_token(),
            csrf: random_token(),
            stage: session.stage.clone(),
            flash: session.flash.clone(),
            last_seen: Instant::now(),
        };
        pools.add(rotated.clone(), self.idle);
        rotated
    }

    pub fn remove(&self, id: &str) {
        self.pools().take(id);
    }

    /// Takes the flash message out of the stored session.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.pools().find(id).and_then(|s| s.flash.take())
    }

    /// Sets the flash message of the stored session.
    pub fn flash(&self, id: &str, kind: FlashKind, text: impl Into<String>) {
        if let Some(session) = self.pools().find(id) {
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

    /// F7 of the 2026-12-07 audit: 12,000 anonymous requests signed every staff member out.
    #[test]
    fn anonymous_floods_never_evict_a_signed_in_member() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let mut member = sessions.create();
        member.stage = Stage::SignedIn(SignedIn {
            sub: "s".into(),
            email: "admin@example.com".into(),
            username: "s".into(),
            access_token: "a".into(),
            refresh_token: None,
        });
        assert!(sessions.save(&member));
        let member = sessions.rotate(&member);
        let first_anonymous = sessions.create();
        for _ in 0..(MAX_ANONYMOUS * 2 + 10) {
            sessions.create();
        }
        assert!(matches!(sessions.get(&member.id).map(|s| s.stage), Some(Stage::SignedIn(_))));
        assert!(sessions.get(&first_anonymous.id).is_none(), "the oldest anonymous ones made room");
        assert!(sessions.pools().anonymous.len() <= MAX_ANONYMOUS);
        assert!(sessions.pools().arrivals.len() <= 2 * MAX_ANONYMOUS + 1);
    }

    #[test]
    fn members_make_room_from_half_done_sign_ins_but_never_from_signed_in_ones() {
        let sessions = Sessions::new(Duration::from_secs(600));
        let stage = |signed: bool| {
            if signed {
                Stage::SignedIn(SignedIn {
                    sub: "s".into(),
                    email: "e".into(),
                    username: "s".into(),
                    access_token: "a".into(),
                    refresh_token: None,
                })
            } else {
                Stage::Challenge {
                    email: "e".into(),
                    challenge: "SOFTWARE_TOKEN_MFA".into(),
                    session: "x".into(),
                    enrolment: None,
                }
            }
        };
        let mut challenge = sessions.create();
        challenge.stage = stage(false);
        assert!(sessions.save(&challenge));
        for _ in 0..MAX_MEMBERS - 1 {
            let mut session = sessions.create();
            session.stage = stage(true);
            assert!(sessions.save(&session));
        }
        let mut late = sessions.create();
        late.stage = stage(true);
        assert!(sessions.save(&late), "the half-done sign-in made room");
        assert!(sessions.get(&challenge.id).is_none());
        let mut refused = sessions.create();
        refused.stage = stage(true);
        assert!(!sessions.save(&refused), "every place holds a signed-in member: refused, nobody evicted");
        assert!(matches!(sessions.get(&refused.id).map(|s| s.stage), Some(Stage::Anonymous)));
        assert_eq!(sessions.pools().members.len(), MAX_MEMBERS);
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
