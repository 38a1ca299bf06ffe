//! The hand-written rules as data, for exports and docs: each policy's id, effect, and the comment above it.

use serde::Serialize;

/// One hand-written policy, described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: String,
    /// The comment block written above the policy in `policies/rules.cedar`.
    pub description: String,
}

/// Reads the rules file: a comment block describes the policies that follow it, up to the next block.
pub fn rules(text: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    let mut comment_closed = false;
    let mut pending_id: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(remark) = line.strip_prefix("//") {
            if comment_closed {
                comment.clear();
                comment_closed = false;
            }
            comment.push(remark.trim());
        } else if let Some(id) = line.strip_prefix("@id(\"").and_then(|rest| rest.strip_suffix("\")")) {
            comment_closed = true;
            pending_id = Some(id.to_owned());
        } else if let Some(id) = pending_id.take() {
            let effect = if line.starts_with("permit") { "permit" } else { "forbid" };
            rules.push(Rule { id, effect: effect.to_owned(), description: comment.join(" ") });
        } else if line.is_empty() {
            comment_closed = true;
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_is_described() {
        let rules = rules(crate::RULES);
        assert!(rules.len() >= 9);
        for rule in &rules {
            assert!(!rule.description.is_empty(), "{} has no comment", rule.id);
            assert_eq!(rule.effect, "forbid", "hand-written rules only narrow: {}", rule.id);
        }
        let shared: Vec<&Rule> =
            rules.iter().filter(|r| r.id.ends_with("above_rank") && r.id.contains("_grant_")).collect();
        assert_eq!(shared.len(), 1);
        let invite = rules.iter().find(|r| r.id == "staff.no_invite_above_rank").unwrap();
        assert_eq!(
            invite.description, shared[0].description,
            "a comment describes every policy up to the next one"
        );
    }
}
