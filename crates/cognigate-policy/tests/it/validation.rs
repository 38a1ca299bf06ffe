//! The policies are validated against the generated schema at load: a rule that cannot match is an error.

use cognigate_policy::{Authorizer, PolicyError};

use crate::corpus::shipped_config;

#[test]
fn the_shipped_rules_validate_strictly() {
    let authorizer = Authorizer::from_config(&shipped_config()).unwrap();
    assert!(authorizer.policy_ids().len() > 10);
}

#[test]
fn a_rule_naming_an_unknown_attribute_is_refused_at_load() {
    let rules = "@id(\"bad\")\nforbid (principal is Cognigate::Staff, action, resource) when { principal.clearance > 3 };";
    let error = Authorizer::with_rules(&shipped_config(), rules).unwrap_err();
    assert!(matches!(error, PolicyError::Validation(_)), "{error}");
    assert!(error.to_string().contains("clearance"), "{error}");
}

#[test]
fn a_rule_naming_an_unknown_action_is_refused_at_load() {
    let rules = "@id(\"bad\")\nforbid (principal, action == Cognigate::Action::\"user.nuke\", resource);";
    let error = Authorizer::with_rules(&shipped_config(), rules).unwrap_err();
    assert!(matches!(error, PolicyError::Validation(_)), "{error}");
}

#[test]
fn a_rule_without_an_id_or_with_a_duplicate_id_is_refused() {
    let error =
        Authorizer::with_rules(&shipped_config(), "forbid (principal, action, resource);").unwrap_err();
    assert!(matches!(error, PolicyError::MissingId { .. }), "{error}");
    let twice = "@id(\"x\")\nforbid (principal, action, resource);\n@id(\"x\")\nforbid (principal, action, resource);";
    let error = Authorizer::with_rules(&shipped_config(), twice).unwrap_err();
    assert!(matches!(error, PolicyError::DuplicateId(_)), "{error}");
}

#[test]
fn a_rule_that_does_not_parse_is_refused() {
    let error =
        Authorizer::with_rules(&shipped_config(), "@id(\"x\") forbid (principal, action").unwrap_err();
    assert!(matches!(error, PolicyError::Parse(_)), "{error}");
}
