//! `/console`: the staff console, server-rendered (askama templates in `templates/console/`), no JavaScript.
//!
//! The console is a front end of `cognigate_service::admin::AdminService`, the same one the admin API uses:
//! every page and every form asks it, so Cedar decides and the audit log records exactly as for the API.
//! Pages only offer what the signed-in staff member may do (the service says which operations are allowed
//! on an account); a forced request is still refused by the service. Sign-in goes through the staff pool's
//! auth flows (password, then TOTP, or the forced new password and MFA setup of an invited member).
//!
//! Every response carries a strict Content-Security-Policy (no scripts at all), `X-Frame-Options: DENY`
//! and `Cache-Control: no-store`; every form carries the session's CSRF token.

mod session;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use askama::Template;
use axum::extract::{Extension, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use cognigate_config::{Environment, PoolKind};
use cognigate_domain::authz::AdminAction;
use cognigate_domain::errors::ErrorCode;
use cognigate_domain::onboarding::OnboardingState;
use cognigate_service::ServiceError;
use cognigate_service::admin::{
    Actor, AdminService, AssignTeamRequest, AuditFilter, ChangeRoleRequest, ChangeTierRequest,
    ConnectionReport, NewCustomer, NewTeam, SetPasswordRequest, StatusReport, TeamView, UserCommand,
    UserDetail, UserFilter, UserSummary,
};
use cognigate_service::auth::{
    ChallengeRequest, Invitation, LoginOutcome, LoginRequest, RefreshRequest, TotpSetupRequest,
    TotpVerifyOutcome, TotpVerifyRequest,
};
use cognigate_service::ports::AuditOutcome;

use self::session::{Enrolment, Flash, FlashKind, Session, Sessions, SignedIn, Stage};
use crate::AppState;
use crate::auth::Meta;

/// The console's routes. Sessions end after the staff access token's lifetime without a request.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let idle: Duration = state.config.pools.staff.tokens.access.0;
    let console = Arc::new(Console {
        sessions: Sessions::new(idle),
        secure: state.config.service.public_url.starts_with("https://"),
    });
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/login", get(login_page).post(login))
        .route("/console/login/mfa", get(mfa_page).post(mfa))
        .route("/console/login/recovery", get(recovery_page).post(recovery))
        .route("/console/login/new-password", get(new_password_page).post(new_password))
        .route("/console/login/mfa-setup", get(mfa_setup_page).post(mfa_setup))
        .route("/console/logout", post(logout))
        .route("/console/users", get(users))
        .route("/console/users/{pool}/{sub}", get(user).post(user_action))
        .route("/console/approvals", get(approvals))
        .route("/console/teams", get(teams).post(create_team))
        .route("/console/teams/assign", post(assign_team))
        .route("/console/audit", get(audit))
        .route("/console/audit/export", get(audit_export))
        .route("/console/status", get(status))
        .route("/console/status/test", post(test_connection))
        .route("/console/outbox", get(outbox))
        .route("/console/invite", get(invite_page).post(invite))
        .route("/console/customers/new", get(new_customer_page).post(new_customer))
        .layer(middleware::from_fn(security_headers))
        .layer(Extension(console))
}

#[derive(Debug)]
struct Console {
    sessions: Sessions,
    /// Served over HTTPS: cookies are `Secure`.
    secure: bool,
}

type Ext = Extension<Arc<Console>>;

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../assets/console.css"))
        .into_response()
}

// ----- layout -----

#[derive(Debug, Clone)]
struct Who {
    email: String,
    role: String,
    team: Option<String>,
}

#[derive(Debug, Clone)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Debug, Clone)]
struct Layout {
    title: String,
    csrf: String,
    flash: Option<Flash>,
    who: Option<Who>,
    nav: Vec<NavItem>,
}

/// A signed-in request: the session and the staff member behind it.
struct Signed {
    session: Session,
    actor: Actor,
    email: String,
}

impl Signed {
    fn layout(
        &self,
        console: &Console,
        admin: &AdminService,
        state: &AppState,
        title: &str,
        here: &str,
    ) -> Layout {
        let may = |action| admin.may_ever(&self.actor, action);
        let mut nav = Vec::new();
        let mut add = |href: &'static str, label: &'static str, shown: bool| {
            if shown {
                nav.push(NavItem { href, label, current: here == href });
            }
        };
        add("/console/users", "Users", may(AdminAction::ReadUser));
        add("/console/approvals", "Approvals", may(AdminAction::Approve));
        add("/console/teams", "Teams", may(AdminAction::ReadUser));
        add("/console/audit", "Audit log", may(AdminAction::ReadAudit));
        add("/console/status", "Status", may(AdminAction::ReadStatus));
        // The outbox holds other people's codes and temporary passwords: only those who may see the system's
        // status (system_config: super_admins) read it.
        add(
            "/console/outbox",
            "Outbox",
            state.environment == Environment::Dev && may(AdminAction::ReadStatus),
        );
        Layout {
            title: title.to_owned(),
            csrf: self.session.csrf.clone(),
            flash: console.sessions.take_flash(&self.session.id),
            who: Some(Who {
                email: self.email.clone(),
                role: self.actor.role().to_owned(),
                team: self.actor.team().map(str::to_owned),
            }),
            nav,
        }
    }
}

fn anonymous_layout(console: &Console, session: &Session, title: &str) -> Layout {
    Layout {
        title: title.to_owned(),
        csrf: session.csrf.clone(),
        flash: console.sessions.take_flash(&session.id),
        who: None,
        nav: Vec::new(),
    }
}

fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "a console page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.").into_response()
        }
    }
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `page`, setting the session cookie when the request had none yet.
fn with_cookie_if_new(page: Response, cookie: Option<String>) -> Response {
    match cookie {
        Some(cookie) => with_cookie(page, &cookie),
        None => page,
    }
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
}

/// A page that says what went wrong (a refusal, a missing account), with the right status.
fn message_page(layout: Layout, status: StatusCode, heading: &str, text: &str) -> Response {
    let mut response = render(&MessagePage { layout, heading: heading.to_owned(), text: text.to_owned() });
    *response.status_mut() = status;
    response
}

fn error_page(layout: Layout, error: &ServiceError) -> Response {
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let heading = match error.code {
        ErrorCode::Forbidden => "Not allowed",
        ErrorCode::NotFound => "Not found",
        _ => "Something went wrong",
    };
    message_page(layout, status, heading, &error.message)
}

// ----- sessions and sign-in state -----

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::id_from_cookie_header)
        .map(str::to_owned)
}

fn current_session(console: &Console, headers: &HeaderMap) -> Option<Session> {
    session_id(headers).and_then(|id| console.sessions.get(&id))
}

/// The session for an anonymous page, creating one (and its cookie) when there is none.
fn anonymous_session(console: &Console, headers: &HeaderMap) -> (Session, Option<String>) {
    match current_session(console, headers) {
        Some(session) => (session, None),
        None => {
            let session = console.sessions.create();
            let cookie = session::cookie(&session.id, console.secure);
            (session, Some(cookie))
        }
    }
}

/// Sends the browser to the sign-in page with a message, in a fresh session.
fn to_login(console: &Console, kind: FlashKind, text: &str) -> Response {
    let session = console.sessions.create();
    console.sessions.flash(&session.id, kind, text);
    with_cookie(redirect("/console/login"), &session::cookie(&session.id, console.secure))
}

/// The signed-in staff member, or the response that sends them to sign in. An expired access token is
/// renewed with the refresh token; a revoked one, or a staff member no longer active, ends the session.
async fn signed_in(
    state: &AppState,
    console: &Console,
    meta: &Meta,
    headers: &HeaderMap,
) -> Result<Signed, Response> {
    let admin = crate::admin::admin(state).map_err(|e| service_unavailable(&e))?;
    let Some(mut session) = current_session(console, headers) else {
        return Err(to_login(console, FlashKind::Error, "Please sign in."));
    };
    let Stage::SignedIn(mut signed) = session.stage.clone() else {
        return Err(redirect("/console/login"));
    };
    let mut answer = admin.authenticate(&signed.access_token).await;
    if answer.as_ref().is_err_and(|e| e.code == ErrorCode::AuthFailed)
        && let Some(refresh_token) = signed.refresh_token.clone()
    {
        let request = RefreshRequest { refresh_token, username: Some(signed.username.clone()) };
        if let Ok(tokens) = admin.staff().refresh(&meta.0, request).await {
            signed.access_token = tokens.access_token;
            if tokens.refresh_token.is_some() {
                signed.refresh_token = tokens.refresh_token;
            }
            session.stage = Stage::SignedIn(signed.clone());
            console.sessions.save(&session);
            answer = admin.authenticate(&signed.access_token).await;
        }
    }
    match answer {
        // The tokens must still be the signed-in member's own.
        Ok(actor) if actor.sub() == signed.sub => Ok(Signed { session, actor, email: signed.email }),
        Ok(_) => {
            console.sessions.remove(&session.id);
            Err(to_login(console, FlashKind::Error, "Your session has ended. Please sign in again."))
        }
        Err(error) => {
            console.sessions.remove(&session.id);
            let text = if error.code == ErrorCode::Forbidden {
                error.message
            } else {
                "Your session has ended. Please sign in again.".to_owned()
            };
            Err(to_login(console, FlashKind::Error, &text))
        }
    }
}

/// A signed-in member's request: the admin service and who asks, or the response that sends them away.
async fn member<'s>(
    state: &'s AppState,
    console: &Console,
    meta: &Meta,
    headers: &HeaderMap,
) -> Result<(&'s AdminService, Signed), Response> {
    let signed = signed_in(state, console, meta, headers).await?;
    let admin = crate::admin::admin(state).map_err(|e| service_unavailable(&e))?;
    Ok((admin, signed))
}

/// A signed-in member's form: as [`member`], and the form must carry the session's CSRF token.
async fn member_form<'s>(
    state: &'s AppState,
    console: &Console,
    meta: &Meta,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(&'s AdminService, Signed), Response> {
    let (admin, signed) = member(state, console, meta, headers).await?;
    if !csrf_ok(&signed.session, form) {
        return Err(csrf_refused(console));
    }
    Ok((admin, signed))
}

fn service_unavailable(error: &ServiceError) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, error.message.clone()).into_response()
}

/// Checks a form's CSRF token against the session's.
fn csrf_ok(session: &Session, form: &HashMap<String, String>) -> bool {
    form.get("csrf").is_some_and(|submitted| session::csrf_matches(&session.csrf, submitted))
}

/// The session of a sign-in form, when the form carries the session's CSRF token.
fn session_form(console: &Console, headers: &HeaderMap, form: &HashMap<String, String>) -> Option<Session> {
    current_session(console, headers).filter(|session| csrf_ok(session, form))
}

fn csrf_refused(console: &Console) -> Response {
    to_login(console, FlashKind::Error, "The form had expired. Please try again.")
}

fn field<'f>(form: &'f HashMap<String, String>, name: &str) -> &'f str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

// ----- home and sign-in -----

async fn home(State(state): State<AppState>, Extension(console): Ext, headers: HeaderMap) -> Response {
    let _ = state;
    match current_session(&console, &headers).map(|s| s.stage) {
        Some(Stage::SignedIn(_)) => redirect("/console/users"),
        _ => redirect("/console/login"),
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
}

async fn login_page(Extension(console): Ext, headers: HeaderMap) -> Response {
    let (mut session, cookie) = anonymous_session(&console, &headers);
    if matches!(session.stage, Stage::SignedIn(_)) {
        return redirect("/console/users");
    }
    // Coming back to the form starts the sign-in over.
    session.stage = Stage::Anonymous;
    console.sessions.save(&session);
    let page =
        render(&LoginPage { layout: anonymous_layout(&console, &session, "Sign in"), email: String::new() });
    with_cookie_if_new(page, cookie)
}

async fn login(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session_form(&console, &headers, &form) else { return csrf_refused(&console) };
    let Ok(admin) = crate::admin::admin(&state) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "The console is not available.").into_response();
    };
    let email = field(&form, "email").trim().to_owned();
    let request = LoginRequest {
        email: email.clone(),
        password: field(&form, "password").to_owned(),
        recovery_code: None,
    };
    let outcome = admin.staff().login(&meta.0, request).await;
    after_sign_in_step(&console, session, &email, outcome)
}

/// Where a sign-in step leads: the console, the next challenge, or back to the form with the reason.
fn after_sign_in_step(
    console: &Console,
    mut session: Session,
    email: &str,
    outcome: Result<LoginOutcome, ServiceError>,
) -> Response {
    match outcome {
        Ok(LoginOutcome::Tokens(tokens)) => {
            session.stage = Stage::SignedIn(SignedIn {
                sub: tokens.user.sub.clone(),
                email: tokens.user.email.clone(),
                username: tokens.user.username.clone(),
                access_token: tokens.access_token.clone(),
                refresh_token: tokens.refresh_token.clone(),
            });
            if !console.sessions.save(&session) {
                console.sessions.flash(
                    &session.id,
                    FlashKind::Error,
                    "The console is at its limit of signed-in sessions; try again in a few minutes.",
                );
                return redirect("/console/login");
            }
            // A new id at sign-in: a session id planted before it is worth nothing after it.
            let rotated = console.sessions.rotate(&session);
            let text = match &tokens.recovery_codes {
                Some(codes) => format!(
                    "Signed in as {}. Your authenticator is set up. Keep these one-time recovery codes somewhere \
                     safe (each signs you in once if the authenticator is lost; they are not shown again): {}",
                    tokens.user.email,
                    codes.join("  ")
                ),
                None => format!("Signed in as {}.", tokens.user.email),
            };
            console.sessions.flash(&rotated.id, FlashKind::Success, text);
            with_cookie(redirect("/console/users"), &session::cookie(&rotated.id, console.secure))
        }
        Ok(LoginOutcome::Challenge(challenge)) => {
            let page = match challenge.challenge.as_str() {
                "SOFTWARE_TOKEN_MFA" => "/console/login/mfa",
                "NEW_PASSWORD_REQUIRED" => "/console/login/new-password",
                "MFA_SETUP" => "/console/login/mfa-setup",
                other => {
                    tracing::warn!(challenge = other, "a sign-in challenge the console does not answer");
                    console.sessions.flash(
                        &session.id,
                        FlashKind::Error,
                        "This sign-in needs a step the console does not support (SMS). Use an authenticator app.",
                    );
                    return redirect("/console/login");
                }
            };
            session.stage = Stage::Challenge {
                email: email.to_owned(),
                challenge: challenge.challenge,
                session: challenge.session,
                enrolment: None,
            };
            console.sessions.save(&session);
            redirect(page)
        }
        Err(error) => {
            let back = match (&session.stage, error.code) {
                // A wrong code can be retried in the same challenge.
                (Stage::Challenge { challenge, .. }, ErrorCode::CodeMismatch) => match challenge.as_str() {
                    "SOFTWARE_TOKEN_MFA" => "/console/login/mfa",
                    "MFA_SETUP" => "/console/login/mfa-setup",
                    _ => "/console/login/new-password",
                },
                (Stage::Challenge { challenge, .. }, ErrorCode::PasswordPolicy | ErrorCode::Validation)
                    if challenge == "NEW_PASSWORD_REQUIRED" =>
                {
                    "/console/login/new-password"
                }
                _ => {
                    session.stage = Stage::Anonymous;
                    console.sessions.save(&session);
                    "/console/login"
                }
            };
            let text = match error.code {
                ErrorCode::AuthFailed => "Wrong email or password.".to_owned(),
                ErrorCode::CodeMismatch => "That code is not right. Try the current one.".to_owned(),
                _ => error.message,
            };
            console.sessions.flash(&session.id, FlashKind::Error, text);
            redirect(back)
        }
    }
}

/// The session's challenge, if it is `name`.
fn challenge_of(session: &Session, name: &str) -> Option<(String, String, Option<Enrolment>)> {
    match &session.stage {
        Stage::Challenge { email, challenge, session, enrolment } if challenge == name => {
            Some((email.clone(), session.clone(), enrolment.clone()))
        }
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "console/mfa.html")]
struct MfaPage {
    layout: Layout,
}

async fn mfa_page(Extension(console): Ext, headers: HeaderMap) -> Response {
    match current_session(&console, &headers) {
        Some(session) if challenge_of(&session, "SOFTWARE_TOKEN_MFA").is_some() => {
            render(&MfaPage { layout: anonymous_layout(&console, &session, "Two-step verification") })
        }
        _ => redirect("/console/login"),
    }
}

async fn mfa(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session_form(&console, &headers, &form) else { return csrf_refused(&console) };
    let Some((email, challenge_session, _)) = challenge_of(&session, "SOFTWARE_TOKEN_MFA") else {
        return redirect("/console/login");
    };
    let Ok(admin) = crate::admin::admin(&state) else { return redirect("/console/login") };
    let request = ChallengeRequest {
        email: email.clone(),
        challenge: "SOFTWARE_TOKEN_MFA".to_owned(),
        session: challenge_session,
        code: Some(field(&form, "code").trim().to_owned()),
        new_password: None,
        attributes: BTreeMap::new(),
    };
    let outcome = admin.staff().respond(&meta.0, request).await;
    after_sign_in_step(&console, session, &email, outcome)
}

#[derive(Template)]
#[template(path = "console/recovery.html")]
struct RecoveryPage {
    layout: Layout,
}

async fn recovery_page(Extension(console): Ext, headers: HeaderMap) -> Response {
    let (session, cookie) = anonymous_session(&console, &headers);
    let page = render(&RecoveryPage { layout: anonymous_layout(&console, &session, "Lost authenticator") });
    with_cookie_if_new(page, cookie)
}

/// A sign-in with the password and a one-time recovery code: the lost authenticator is removed, and the
/// sign-in continues with the enrolment of a new one.
async fn recovery(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session_form(&console, &headers, &form) else { return csrf_refused(&console) };
    let Ok(admin) = crate::admin::admin(&state) else { return redirect("/console/login") };
    let email = field(&form, "email").trim().to_owned();
    let request = LoginRequest {
        email: email.clone(),
        password: field(&form, "password").to_owned(),
        recovery_code: Some(field(&form, "recovery_code").trim().to_owned()),
    };
    let outcome = admin.staff().login(&meta.0, request).await;
    if let Err(error) = &outcome {
        // Back to this page, not the password form: the person holds a recovery code, not an authenticator.
        let text = match error.code {
            ErrorCode::AuthFailed => "Wrong email, password or recovery code.".to_owned(),
            _ => error.message.clone(),
        };
        console.sessions.flash(&session.id, FlashKind::Error, text);
        return redirect("/console/login/recovery");
    }
    after_sign_in_step(&console, session, &email, outcome)
}

#[derive(Template)]
#[template(path = "console/new_password.html")]
struct NewPasswordPage {
    layout: Layout,
    policy: String,
}

async fn new_password_page(
    State(state): State<AppState>,
    Extension(console): Ext,
    headers: HeaderMap,
) -> Response {
    match current_session(&console, &headers) {
        Some(session) if challenge_of(&session, "NEW_PASSWORD_REQUIRED").is_some() => {
            let password = &state.config.pools.staff.password;
            let mut rules = vec![format!("At least {} characters", password.min_length)];
            for (on, text) in [
                (password.require_lowercase, "a lowercase letter"),
                (password.require_uppercase, "an uppercase letter"),
                (password.require_digits, "a digit"),
                (password.require_symbols, "a symbol"),
            ] {
                if on {
                    rules.push(text.to_owned());
                }
            }
            render(&NewPasswordPage {
                layout: anonymous_layout(&console, &session, "Choose your password"),
                policy: format!("{}.", rules.join(", ")),
            })
        }
        _ => redirect("/console/login"),
    }
}

async fn new_password(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session_form(&console, &headers, &form) else { return csrf_refused(&console) };
    let Some((email, challenge_session, _)) = challenge_of(&session, "NEW_PASSWORD_REQUIRED") else {
        return redirect("/console/login");
    };
    if field(&form, "password") != field(&form, "confirm") {
        console.sessions.flash(&session.id, FlashKind::Error, "The two passwords differ.");
        return redirect("/console/login/new-password");
    }
    let Ok(admin) = crate::admin::admin(&state) else { return redirect("/console/login") };
    let request = ChallengeRequest {
        email: email.clone(),
        challenge: "NEW_PASSWORD_REQUIRED".to_owned(),
        session: challenge_session,
        code: None,
        new_password: Some(field(&form, "password").to_owned()),
        attributes: BTreeMap::new(),
    };
    let outcome = admin.staff().respond(&meta.0, request).await;
    after_sign_in_step(&console, session, &email, outcome)
}

#[derive(Template)]
#[template(path = "console/mfa_setup.html")]
struct MfaSetupPage {
    layout: Layout,
    secret: String,
    qr_png_base64: String,
}

async fn mfa_setup_page(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let Some(mut session) = current_session(&console, &headers) else { return redirect("/console/login") };
    let Some((email, challenge_session, enrolment)) = challenge_of(&session, "MFA_SETUP") else {
        return redirect("/console/login");
    };
    let enrolment = match enrolment {
        Some(enrolment) => enrolment,
        None => {
            let Ok(admin) = crate::admin::admin(&state) else { return redirect("/console/login") };
            let request =
                TotpSetupRequest { session: Some(challenge_session), ..TotpSetupRequest::default() };
            match admin.staff().totp_setup(&meta.0, None, request).await {
                Ok(setup) => {
                    let enrolment = Enrolment {
                        secret: setup.secret,
                        otpauth_uri: setup.otpauth_uri,
                        qr_png_base64: setup.qr_png_base64,
                    };
                    session.stage = Stage::Challenge {
                        email,
                        challenge: "MFA_SETUP".to_owned(),
                        session: setup.session.unwrap_or_default(),
                        enrolment: Some(enrolment.clone()),
                    };
                    console.sessions.save(&session);
                    enrolment
                }
                Err(error) => {
                    session.stage = Stage::Anonymous;
                    console.sessions.save(&session);
                    console.sessions.flash(&session.id, FlashKind::Error, error.message);
                    return redirect("/console/login");
                }
            }
        }
    };
    let _ = &enrolment.otpauth_uri;
    render(&MfaSetupPage {
        layout: anonymous_layout(&console, &session, "Set up two-step verification"),
        secret: enrolment.secret,
        qr_png_base64: enrolment.qr_png_base64,
    })
}

async fn mfa_setup(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session_form(&console, &headers, &form) else { return csrf_refused(&console) };
    let Some((email, challenge_session, Some(_))) = challenge_of(&session, "MFA_SETUP") else {
        return redirect("/console/login/mfa-setup");
    };
    let Ok(admin) = crate::admin::admin(&state) else { return redirect("/console/login") };
    let request = TotpVerifyRequest {
        code: field(&form, "code").trim().to_owned(),
        session: Some(challenge_session),
        email: Some(email.clone()),
    };
    let outcome = match admin.staff().totp_verify(&meta.0, None, request).await {
        Ok(TotpVerifyOutcome::SignedIn(outcome)) => Ok(outcome),
        Ok(TotpVerifyOutcome::Enabled(_)) => Err(ServiceError::new(
            ErrorCode::Validation,
            "The enrolment did not finish the sign-in; sign in again.",
        )),
        Err(error) => Err(error),
    };
    after_sign_in_step(&console, session, &email, outcome)
}

async fn logout(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = current_session(&console, &headers) else { return redirect("/console/login") };
    if !csrf_ok(&session, &form) {
        return csrf_refused(&console);
    }
    if let (Stage::SignedIn(signed), Ok(admin)) = (&session.stage, crate::admin::admin(&state))
        && let Err(error) = admin.staff().sign_out(&meta.0, &signed.access_token).await
    {
        tracing::debug!(error = %error, "the console session's tokens could not be revoked");
    }
    console.sessions.remove(&session.id);
    let fresh = console.sessions.create();
    console.sessions.flash(&fresh.id, FlashKind::Success, "Signed out.");
    with_cookie(redirect("/console/login"), &session::cookie(&fresh.id, console.secure))
}

// ----- users -----

#[derive(Debug, Default)]
struct UserFilterForm {
    pool: String,
    role: String,
    tier: String,
    team: String,
    status: String,
    onboarding: String,
    email: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    layout: Layout,
    filter: UserFilterForm,
    roles: Vec<String>,
    teams: Vec<String>,
    states: Vec<String>,
    users: Vec<UserSummary>,
    next: Option<String>,
    can_invite: bool,
    can_create: bool,
}

fn parse_pool(text: &str) -> Option<PoolKind> {
    match text {
        "customer" => Some(PoolKind::Customer),
        "staff" => Some(PoolKind::Staff),
        _ => None,
    }
}

async fn users(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let form = UserFilterForm {
        pool: text("pool"),
        role: text("role"),
        tier: text("tier"),
        team: text("team"),
        status: text("status"),
        onboarding: text("onboarding"),
        email: text("email"),
    };
    let filter = UserFilter {
        pool: parse_pool(&form.pool),
        role: Some(form.role.clone()),
        tier: Some(form.tier.clone()),
        team: Some(form.team.clone()),
        status: Some(form.status.clone()),
        onboarding: Some(form.onboarding.clone()),
        email: Some(form.email.clone()),
        after: query.get("after").cloned(),
        limit: Some(50),
    };
    let layout = signed.layout(&console, admin, &state, "Users", "/console/users");
    let page = match admin.list_users(&signed.actor, &filter).await {
        Ok(page) => page,
        Err(error) => return error_page(layout, &error),
    };
    let next = page.next.map(|after| {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "after")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("after".to_owned(), after));
        format!("/console/users?{}", encode_query(&pairs))
    });
    let model = state.authorizer.model();
    let mut roles: Vec<String> = model.pool(PoolKind::Customer).roles.keys().cloned().collect();
    roles.extend(model.pool(PoolKind::Staff).roles.keys().cloned());
    render(&UsersPage {
        layout,
        filter: form,
        roles,
        teams: admin.team_names(&signed.actor).await.unwrap_or_default(),
        states: OnboardingState::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        users: page.users,
        next,
        can_invite: admin.may_ever(&signed.actor, AdminAction::InviteStaff),
        can_create: admin.may_ever(&signed.actor, AdminAction::CreateUser),
    })
}

/// A query string of the non-empty pairs (for "next page" and export links that keep the filters).
fn encode_query(pairs: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = pairs.iter().filter(|(_, value)| !value.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

#[derive(Debug, Clone)]
struct ActionButton {
    op: &'static str,
    label: &'static str,
    style: &'static str,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    layout: Layout,
    detail: UserDetail,
    base: String,
    actions: Vec<ActionButton>,
    teams: Vec<String>,
    can_tier: bool,
    can_team: bool,
    can_password: bool,
    can_delete: bool,
    created: String,
    last_login: Option<String>,
    sessions: Option<Vec<SessionRow>>,
}

#[derive(Debug)]
struct SessionRow {
    signed_in: String,
    refreshed: String,
    expires: String,
}

fn button_for(action: AdminAction) -> Option<ActionButton> {
    let (command, label, style) = match action {
        AdminAction::Approve => (UserCommand::Approve, "Approve", ""),
        AdminAction::Reject => (UserCommand::Reject, "Reject", "danger"),
        AdminAction::EnableUser => (UserCommand::Enable, "Enable", ""),
        AdminAction::DisableUser => (UserCommand::Disable, "Disable", "danger"),
        AdminAction::ResetPassword => (UserCommand::ResetPassword, "Reset password", "secondary"),
        AdminAction::SignOutUser => (UserCommand::SignOut, "Sign out everywhere", "secondary"),
        AdminAction::RequireMfa => (UserCommand::RequireMfa, "Require MFA", "secondary"),
        AdminAction::ResetMfa => (UserCommand::ResetMfa, "Reset MFA", "secondary"),
        _ => return None,
    };
    Some(ActionButton { op: command.as_str(), label, style })
}

async fn user(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Path((pool, sub)): Path<(String, String)>,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "User", "/console/users");
    let Some(pool) = parse_pool(&pool) else {
        return message_page(layout, StatusCode::NOT_FOUND, "Not found", "No such pool.");
    };
    let detail = match admin.user_detail(&signed.actor, pool, &sub).await {
        Ok(detail) => detail,
        Err(error) => return error_page(layout, &error),
    };
    let allowed = |action| detail.allowed_actions.contains(&action);
    let actions = detail.allowed_actions.iter().copied().filter_map(button_for).collect();
    let page = UserPage {
        layout: Layout { title: detail.user.email.clone(), ..layout },
        base: format!("/console/users/{}/{}", pool.as_str(), detail.user.sub),
        actions,
        teams: admin.team_names(&signed.actor).await.unwrap_or_default(),
        can_tier: allowed(AdminAction::ChangeTier),
        can_team: allowed(AdminAction::ManageTeam),
        can_password: allowed(AdminAction::SetPassword),
        can_delete: allowed(AdminAction::DeleteUser),
        created: format_ms(detail.user.created_at),
        last_login: detail.user.last_login_at.map(format_ms),
        sessions: detail.sessions.as_ref().map(|sessions| {
            sessions
                .iter()
                .map(|s| SessionRow {
                    signed_in: format_ms(s.signed_in_at),
                    refreshed: format_ms(s.refreshed_at),
                    expires: format_ms(s.expires_at),
                })
                .collect()
        }),
        detail,
    };
    render(&page)
}

/// Performs one operation on an account and says how it went on the next page.
async fn user_action(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Path((pool, sub)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member_form(&state, &console, &meta, &headers, &form).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let Some(pool) = parse_pool(&pool) else {
        let layout = signed.layout(&console, admin, &state, "User", "/console/users");
        return message_page(layout, StatusCode::NOT_FOUND, "Not found", "No such pool.");
    };
    let page = format!("/console/users/{}/{sub}", pool.as_str());
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/console/") && !b.starts_with("//") && !b.contains(':'))
        .cloned()
        .unwrap_or_else(|| page.clone());
    let actor = &signed.actor;
    let op = field(&form, "op");
    let result: Result<(String, String), ServiceError> = match op {
        "delete" => {
            if field(&form, "confirm") != "yes" {
                Err(ServiceError::validation("Tick the box to confirm the deletion."))
            } else {
                admin
                    .delete_user(&meta.0, actor, pool, &sub)
                    .await
                    .map(|()| ("The account was deleted.".to_owned(), "/console/users".to_owned()))
            }
        }
        "password" => {
            let request = SetPasswordRequest {
                password: field(&form, "password").to_owned(),
                permanent: field(&form, "permanent") == "true",
            };
            admin.set_password(&meta.0, actor, pool, &sub, request).await.map(|u| {
                let kind = if u.status == "CONFIRMED" { "permanent" } else { "temporary" };
                (format!("A {kind} password was set for {}.", u.email), back.clone())
            })
        }
        "role" => {
            let request = ChangeRoleRequest { role: field(&form, "role").to_owned() };
            admin
                .change_role(&meta.0, actor, pool, &sub, request)
                .await
                .map(|u| (format!("{} is now {}.", u.email, u.role), back.clone()))
        }
        "tier" => {
            let request = ChangeTierRequest { premium: field(&form, "premium") == "true" };
            admin.change_tier(&meta.0, actor, pool, &sub, request).await.map(|u| {
                let tier = if u.premium { "premium" } else { "standard" };
                (format!("{} is now {tier}.", u.email), back.clone())
            })
        }
        "team" => {
            let team = Some(field(&form, "team").to_owned()).filter(|t| !t.is_empty());
            admin.assign_team(&meta.0, actor, pool, &sub, AssignTeamRequest { team }).await.map(|u| {
                let text = match &u.team {
                    Some(team) => format!("{} is now in team {team}.", u.email),
                    None => format!("{} is in no team now.", u.email),
                };
                (text, back.clone())
            })
        }
        other => match UserCommand::parse(other) {
            Some(command) => admin
                .run(&meta.0, actor, pool, &sub, command)
                .await
                .map(|u| (done_message(command, &u), back.clone())),
            None => Err(ServiceError::validation("Unknown operation.")),
        },
    };
    match result {
        Ok((text, to)) => {
            console.sessions.flash(&signed.session.id, FlashKind::Success, text);
            redirect(&to)
        }
        Err(error) => {
            console.sessions.flash(&signed.session.id, FlashKind::Error, error.message);
            redirect(if error.code == ErrorCode::NotFound { "/console/users" } else { &back })
        }
    }
}

fn done_message(command: UserCommand, user: &UserSummary) -> String {
    let email = &user.email;
    match command {
        UserCommand::Enable => format!("{email} was enabled."),
        UserCommand::Disable => format!("{email} was disabled and signed out everywhere."),
        UserCommand::ResetPassword => format!("{email} must reset their password; a code was sent."),
        UserCommand::SignOut => format!("{email} was signed out everywhere."),
        UserCommand::Approve => format!("{email} was approved."),
        UserCommand::Reject => format!("{email} was rejected."),
        UserCommand::RequireMfa => format!("{email} must use MFA at every sign-in."),
        UserCommand::ResetMfa => format!("{email}'s MFA was reset."),
    }
}

// ----- approvals, teams -----

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    users: Vec<UserSummary>,
    team: Option<String>,
}

async fn approvals(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Approvals", "/console/approvals");
    let filter = UserFilter {
        onboarding: Some(OnboardingState::PendingApproval.as_str().to_owned()),
        limit: Some(cognigate_service::admin::MAX_PAGE),
        ..UserFilter::default()
    };
    match admin.list_users(&signed.actor, &filter).await {
        Ok(page) => {
            render(&ApprovalsPage { layout, users: page.users, team: signed.actor.team().map(str::to_owned) })
        }
        Err(error) => error_page(layout, &error),
    }
}

#[derive(Template)]
#[template(path = "console/teams.html")]
struct TeamsPage {
    layout: Layout,
    teams: Vec<TeamView>,
    team_names: Vec<String>,
    can_manage: bool,
}

async fn teams(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Teams", "/console/teams");
    match admin.list_teams(&signed.actor).await {
        Ok(teams) => {
            let team_names = teams.iter().map(|t| t.name.clone()).collect();
            render(&TeamsPage {
                layout,
                teams,
                team_names,
                can_manage: admin.may_ever(&signed.actor, AdminAction::ManageTeam),
            })
        }
        Err(error) => error_page(layout, &error),
    }
}

async fn create_team(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member_form(&state, &console, &meta, &headers, &form).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let request = NewTeam {
        name: field(&form, "name").to_owned(),
        description: field(&form, "description").to_owned(),
    };
    match admin.create_team(&meta.0, &signed.actor, request).await {
        Ok(team) => console.sessions.flash(
            &signed.session.id,
            FlashKind::Success,
            format!("Team {} created.", team.name),
        ),
        Err(error) => console.sessions.flash(&signed.session.id, FlashKind::Error, error.message),
    }
    redirect("/console/teams")
}

async fn assign_team(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member_form(&state, &console, &meta, &headers, &form).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let result = async {
        let pool =
            parse_pool(field(&form, "pool")).ok_or_else(|| ServiceError::validation("Choose a pool."))?;
        let sub = admin.find_by_email(&signed.actor, pool, field(&form, "email")).await?;
        let team = Some(field(&form, "team").to_owned()).filter(|t| !t.is_empty());
        admin.assign_team(&meta.0, &signed.actor, pool, &sub, AssignTeamRequest { team }).await
    }
    .await;
    match result {
        Ok(user) => console.sessions.flash(
            &signed.session.id,
            FlashKind::Success,
            format!("{} is now in team {}.", user.email, user.team.unwrap_or_default()),
        ),
        Err(error) => console.sessions.flash(&signed.session.id, FlashKind::Error, error.message),
    }
    redirect("/console/teams")
}

// ----- audit -----

#[derive(Debug, Default)]
struct AuditFilterForm {
    actor: String,
    target: String,
    action: String,
    outcome: String,
    pool: String,
    from: String,
    to: String,
}

#[derive(Debug)]
struct AuditRow {
    when: String,
    action: String,
    outcome: String,
    actor: String,
    target: String,
    detail: String,
    address: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPageView {
    layout: Layout,
    filter: AuditFilterForm,
    events: Vec<AuditRow>,
    next: Option<String>,
    query: String,
    can_export: bool,
}

/// The audit filter from the console's query: dates are whole UTC days.
fn audit_filter(query: &HashMap<String, String>) -> Result<(AuditFilterForm, AuditFilter), ServiceError> {
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let form = AuditFilterForm {
        actor: text("actor"),
        target: text("target"),
        action: text("action"),
        outcome: text("outcome"),
        pool: text("pool"),
        from: text("from"),
        to: text("to"),
    };
    let outcome = match form.outcome.as_str() {
        "" => None,
        "success" => Some(AuditOutcome::Success),
        "failure" => Some(AuditOutcome::Failure),
        "denied" => Some(AuditOutcome::Denied),
        _ => return Err(ServiceError::validation("Outcome must be success, failure or denied.")),
    };
    let day = |text: &str| -> Result<Option<i64>, ServiceError> {
        if text.is_empty() {
            return Ok(None);
        }
        let at = humantime::parse_rfc3339(&format!("{text}T00:00:00Z"))
            .map_err(|_| ServiceError::validation("Dates are YYYY-MM-DD."))?;
        Ok(Some(
            at.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        ))
    };
    let filter = AuditFilter {
        pool: parse_pool(&form.pool),
        actor: Some(form.actor.clone()),
        target: Some(form.target.clone()),
        action: Some(form.action.clone()),
        outcome,
        from: day(&form.from)?,
        // "Until" includes the whole day.
        to: day(&form.to)?.map(|start| start + 86_400_000),
        before: query.get("before").cloned(),
        limit: Some(100),
    };
    Ok((form, filter))
}

async fn audit(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Audit log", "/console/audit");
    let (form, filter) = match audit_filter(&query) {
        Ok(parsed) => parsed,
        Err(error) => return error_page(layout, &error),
    };
    let page = match admin.audit_page(&meta.0, &signed.actor, &filter).await {
        Ok(page) => page,
        Err(error) => return error_page(layout, &error),
    };
    let pairs: Vec<(String, String)> =
        query.iter().filter(|(k, _)| k.as_str() != "before").map(|(k, v)| (k.clone(), v.clone())).collect();
    let next = page.next.map(|before| {
        let mut pairs = pairs.clone();
        pairs.push(("before".to_owned(), before));
        format!("/console/audit?{}", encode_query(&pairs))
    });
    let events = page
        .events
        .into_iter()
        .map(|e| AuditRow {
            when: format_ms(e.at),
            action: e.action,
            outcome: e.outcome.as_str().to_owned(),
            actor: [e.actor.unwrap_or_default(), e.actor_role.map(|r| format!("({r})")).unwrap_or_default()]
                .join(" ")
                .trim()
                .to_owned(),
            target: e.target.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
            address: e.address.unwrap_or_default(),
        })
        .collect();
    render(&AuditPageView {
        layout,
        filter: form,
        events,
        next,
        query: encode_query(&pairs),
        can_export: admin.may_ever(&signed.actor, AdminAction::ExportAudit),
    })
}

async fn audit_export(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let filter = match audit_filter(&query) {
        Ok((_, filter)) => AuditFilter { before: None, ..filter },
        Err(error) => {
            let layout = signed.layout(&console, admin, &state, "Audit log", "/console/audit");
            return error_page(layout, &error);
        }
    };
    match crate::admin::ndjson_export(admin, &meta, &signed.actor, &filter).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

// ----- status, outbox -----

#[derive(Template)]
#[template(path = "console/status.html")]
struct StatusPage {
    layout: Layout,
    report: StatusReport,
    connection: Option<ConnectionReport>,
}

async fn status(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    status_view(state, console, meta, headers, false).await
}

async fn test_connection(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match current_session(&console, &headers) {
        Some(session) if csrf_ok(&session, &form) => status_view(state, console, meta, headers, true).await,
        _ => csrf_refused(&console),
    }
}

async fn status_view(
    state: AppState,
    console: Arc<Console>,
    meta: Meta,
    headers: HeaderMap,
    test: bool,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Status", "/console/status");
    let report = match admin.status(&signed.actor).await {
        Ok(report) => report,
        Err(error) => return error_page(layout, &error),
    };
    let connection = if test {
        match admin.test_connection(&meta.0, &signed.actor).await {
            Ok(connection) => Some(connection),
            Err(error) => return error_page(layout, &error),
        }
    } else {
        None
    };
    render(&StatusPage { layout, report, connection })
}

#[derive(Debug)]
struct OutboxRow {
    when: String,
    channel: String,
    recipient: String,
    kind: String,
    subject: String,
    body: String,
}

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage {
    layout: Layout,
    messages: Vec<OutboxRow>,
}

async fn outbox(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Outbox", "/console/outbox");
    let (Environment::Dev, Some(engine)) = (state.environment, &state.engine) else {
        return message_page(
            layout,
            StatusCode::NOT_FOUND,
            "Not found",
            "The outbox is shown in the dev environment only.",
        );
    };
    if !admin.may_ever(&signed.actor, AdminAction::ReadStatus) {
        return message_page(layout, StatusCode::FORBIDDEN, "Not allowed", "You may not read the outbox.");
    }
    match engine.outbox(None, 100).await {
        Ok(messages) => render(&OutboxPage {
            layout,
            messages: messages
                .into_iter()
                .map(|m| OutboxRow {
                    when: format_ms(m.created_ms),
                    channel: m.channel,
                    recipient: m.recipient,
                    kind: m.kind,
                    subject: m.subject,
                    body: m.body,
                })
                .collect(),
        }),
        Err(error) => {
            tracing::error!(error = %error, "the outbox could not be read");
            message_page(
                layout,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The outbox could not be read.",
            )
        }
    }
}

// ----- creating accounts -----

#[derive(Template)]
#[template(path = "console/invite.html")]
struct InvitePage {
    layout: Layout,
    roles: Vec<String>,
    teams: Vec<String>,
    team_locked: bool,
}

async fn invite_page(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Invite staff", "/console/users");
    if !admin.may_ever(&signed.actor, AdminAction::InviteStaff) {
        return message_page(layout, StatusCode::FORBIDDEN, "Not allowed", "You may not invite staff.");
    }
    let (teams, team_locked) = teams_for_forms(admin, &signed.actor).await;
    render(&InvitePage { layout, roles: admin.invitable_roles(&signed.actor), teams, team_locked })
}

/// The teams a form offers: a team-scoped actor's own team only.
async fn teams_for_forms(admin: &AdminService, actor: &Actor) -> (Vec<String>, bool) {
    match (admin.is_team_scoped(actor), actor.team()) {
        (true, Some(team)) => (vec![team.to_owned()], true),
        (true, None) => (Vec::new(), true),
        (false, _) => (admin.team_names(actor).await.unwrap_or_default(), false),
    }
}

async fn invite(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member_form(&state, &console, &meta, &headers, &form).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let invitation = Invitation {
        email: field(&form, "email").to_owned(),
        role: field(&form, "role").to_owned(),
        team: Some(field(&form, "team").to_owned()).filter(|t| !t.is_empty()),
        attributes: BTreeMap::new(),
        temporary_password: None,
    };
    match admin.invite_staff(&meta.0, &signed.actor, invitation).await {
        Ok(user) => {
            console.sessions.flash(
                &signed.session.id,
                FlashKind::Success,
                format!(
                    "{} was invited as {}; the invitation email carries a temporary password.",
                    user.email, user.role
                ),
            );
            redirect(&format!("/console/users/staff/{}", user.sub))
        }
        Err(error) => {
            console.sessions.flash(&signed.session.id, FlashKind::Error, error.message);
            redirect("/console/invite")
        }
    }
}

#[derive(Template)]
#[template(path = "console/customer_new.html")]
struct NewCustomerPage {
    layout: Layout,
    bases: Vec<String>,
    teams: Vec<String>,
    team_locked: bool,
    can_premium: bool,
}

async fn new_customer_page(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let (admin, signed) = match member(&state, &console, &meta, &headers).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let layout = signed.layout(&console, admin, &state, "Create customer", "/console/users");
    if !admin.may_ever(&signed.actor, AdminAction::CreateUser) {
        return message_page(layout, StatusCode::FORBIDDEN, "Not allowed", "You may not create customers.");
    }
    let (teams, team_locked) = teams_for_forms(admin, &signed.actor).await;
    render(&NewCustomerPage {
        layout,
        bases: state.authorizer.model().pool(PoolKind::Customer).roles.keys().cloned().collect(),
        teams,
        team_locked,
        can_premium: admin.may_ever(&signed.actor, AdminAction::ChangeTier),
    })
}

async fn new_customer(
    State(state): State<AppState>,
    Extension(console): Ext,
    meta: Meta,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (admin, signed) = match member_form(&state, &console, &meta, &headers, &form).await {
        Ok(member) => member,
        Err(response) => return response,
    };
    let request = NewCustomer {
        email: field(&form, "email").to_owned(),
        base_type: field(&form, "base_type").to_owned(),
        team: Some(field(&form, "team").to_owned()).filter(|t| !t.is_empty()),
        premium: field(&form, "premium") == "true",
    };
    match admin.create_customer(&meta.0, &signed.actor, request).await {
        Ok(user) => {
            console.sessions.flash(
                &signed.session.id,
                FlashKind::Success,
                format!("{} was created; the invitation email carries a temporary password.", user.email),
            );
            redirect(&format!("/console/users/customer/{}", user.sub))
        }
        Err(error) => {
            console.sessions.flash(&signed.session.id, FlashKind::Error, error.message);
            redirect("/console/customers/new")
        }
    }
}

/// Milliseconds since the epoch as `2026-12-05 01:02:03 UTC`.
fn format_ms(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let text = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} UTC", text.trim_end_matches('Z').replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_readable_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_ms(1_764_896_523_000), "2025-12-05 01:02:03 UTC");
    }

    #[test]
    fn query_encoding() {
        let pairs = vec![("email".to_owned(), "a b&c".to_owned()), ("pool".to_owned(), String::new())];
        assert_eq!(encode_query(&pairs), "email=a+b%26c");
    }

    #[test]
    fn audit_days_cover_the_whole_day() {
        let query = HashMap::from([
            ("from".to_owned(), "2026-12-01".to_owned()),
            ("to".to_owned(), "2026-12-01".to_owned()),
        ]);
        let (_, filter) = audit_filter(&query).unwrap();
        assert_eq!(filter.to.unwrap() - filter.from.unwrap(), 86_400_000);
        let bad = HashMap::from([("from".to_owned(), "yesterday".to_owned())]);
        assert!(audit_filter(&bad).is_err());
    }
}
