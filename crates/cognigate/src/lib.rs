//! The wiring behind the `cognigate` command, as a library so integration tests can start the same parts
//! with a test clock or a failing store: [`runtime`] starts the store, the engine and the identity
//! providers; [`services`] builds the auth API over them; [`app`] assembles what the HTTP edge serves;
//! [`seed`] fills an empty dev installation. Nothing here decides anything.

pub mod app;
pub mod mail;
pub mod runtime;
pub mod seed;
pub mod services;
