//! The operations, grouped as Cognito's API reference groups them. Each is an `impl Engine` block; the
//! names follow Cognito's (snake_case), and so do the errors.

mod auth;
mod groups;
mod pools;
mod users;

pub use auth::{MfaPreference, totp};
pub use pools::{KNOWN_FLOWS, NewClient, NewPool};
pub(crate) use users::describe;
pub use users::{MessageAction, parse_filter};
