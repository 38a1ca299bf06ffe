//! PreTokenGeneration (event version 2): role, tier, team and permissions in both the access and the ID
//! token, from the user's attributes and groups through [`token_claims`] — the very function the embedded
//! engine's claims trigger calls, so a token reads the same offline and on
//! AWS: `role` and `team` strings, `tier` the comma-joined tiers, `permissions` an array; a claim with no
//! value is left out. Groups are handed back unchanged (an empty override would strip `cognito:groups`).

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsPreTokenGenV2,
    CognitoIdTokenGenerationV2,
};
use serde_json::Value;

use crate::error::TriggerError;
use crate::triggers::{TriggerState, answer, parse};

pub use cognigate_domain::claims::token_claims;

const TRIGGER: &str = "PreTokenGeneration";

pub(crate) fn handle(event: Value, state: &TriggerState) -> Result<Value, TriggerError> {
    if event.get("version").and_then(Value::as_str).is_some_and(|version| version == "1") {
        return Err(TriggerError::Misconfigured(
            "the PreTokenGeneration trigger must be attached with LambdaVersion V2_0: version 1 events cannot carry access-token claims".to_owned(),
        ));
    }
    let mut event: CognitoEventUserPoolsPreTokenGenV2 = parse(TRIGGER, event)?;
    let pool = state.pool(event.cognito_event_user_pools_header.user_pool_id.as_deref())?;
    let attributes: BTreeMap<String, String> =
        event.request.user_attributes.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    let groups = &event.request.group_configuration.groups_to_override;
    let claims: HashMap<String, Value> =
        token_claims(state.model(), pool.kind, &attributes, groups).into_iter().collect();

    let mut id_token = CognitoIdTokenGenerationV2::default();
    id_token.claims_to_add_or_override = claims.clone();
    let mut access_token = CognitoAccessTokenGenerationV2::default();
    access_token.claims_to_add_or_override = claims;
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.group_override_details = event.request.group_configuration.clone();
    details.id_token_generation = Some(id_token);
    details.access_token_generation = Some(access_token);
    event.response.claims_and_scope_override_details = Some(details);
    answer(TRIGGER, &event)
}
