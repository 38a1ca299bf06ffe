//! `cognigate-authorizer`: the API Gateway REQUEST authorizer Lambda. Loads the configuration and builds
//! the verifiers once per cold start, then answers every event with an IAM policy (deny when in doubt).

use std::convert::Infallible;
use std::sync::Arc;

use cognigate_lambda::authorizer::{AuthorizerState, authorize_value};
use cognigate_token::HttpJwksSource;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    cognigate_lambda::init_logging(
        vars.iter().find(|(name, _)| name == "COGNIGATE_LOG").map(|(_, v)| v.as_str()),
    );
    let (config, environment) = cognigate_lambda::settings::load_config(&vars).inspect_err(|error| {
        tracing::error!(error = %error, "the configuration cannot be loaded");
    })?;
    let state = Arc::new(AuthorizerState::new(&config, Arc::new(HttpJwksSource::new()?))?);
    state.hydrate().await;
    tracing::info!(%environment, routes = config.routes.len(), "authorizer ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(authorize_value(event.payload, &state).await) }
    }))
    .await
}
