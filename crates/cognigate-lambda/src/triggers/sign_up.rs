//! PreSignUp: the rule is `cognigate_domain::sign_up` (the same one the embedded engine runs in-process);
//! this handler reads the event, asks it, and answers Cognito. A PreSignUp response cannot change
//! attributes, so the customer base type's default is written at PostConfirmation, once the account exists.

use aws_lambda_events::cognito::{
    CognitoEventUserPoolsPreSignup, CognitoEventUserPoolsPreSignupTriggerSource,
};
pub use cognigate_domain::sign_up::{AttributeRules, SignUpDecision, SignUpSource, check_sign_up};
use serde_json::Value;

use crate::error::TriggerError;
use crate::triggers::{TriggerState, answer, parse};

const TRIGGER: &str = "PreSignUp";

pub(crate) fn handle(event: Value, state: &TriggerState) -> Result<Value, TriggerError> {
    let mut event: CognitoEventUserPoolsPreSignup = parse(TRIGGER, event)?;
    let header = &event.cognito_event_user_pools_header;
    let pool = state.pool(header.user_pool_id.as_deref())?;
    let source = match header.trigger_source {
        Some(CognitoEventUserPoolsPreSignupTriggerSource::SignUp) => SignUpSource::SelfService,
        Some(CognitoEventUserPoolsPreSignupTriggerSource::AdminCreateUser) => SignUpSource::Administrator,
        Some(CognitoEventUserPoolsPreSignupTriggerSource::ExternalProvider) => SignUpSource::ExternalProvider,
        _ => {
            return Err(TriggerError::Malformed {
                trigger: TRIGGER,
                message: "unknown triggerSource".to_owned(),
            });
        }
    };
    let decision = check_sign_up(
        pool.kind,
        state.settings(pool.kind),
        &pool.rules,
        state.model(),
        state.environment(),
        source,
        &event.request.user_attributes,
    )
    .map_err(TriggerError::Refused)?;
    event.response.auto_confirm_user = decision.auto_confirm;
    event.response.auto_verify_email = decision.auto_verify_email;
    event.response.auto_verify_phone = false;
    answer(TRIGGER, &event)
}
