//! `cognigate-triggers`: one Lambda for the Cognito triggers of both pools (PreSignUp, PostConfirmation,
//! PreTokenGeneration V2_0, PostAuthentication). Loads the configuration and connects the identity
//! providers once per cold start; a refused event is returned as the error Cognito shows.

use std::sync::Arc;

use cognigate_lambda::triggers::{TriggerState, handle};
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
    let state = Arc::new(TriggerState::connect(config, environment).await?);
    tracing::info!(%environment, "triggers ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            let request_id = event.context.request_id.clone();
            handle(event.payload, &state, Some(&request_id)).await.map_err(|error| {
                tracing::warn!(request_id = %request_id, error = %error, "trigger refused or failed");
                lambda_runtime::Error::from(error)
            })
        }
    }))
    .await
}
