//! Walks the configuration's JSON schema (generated from the doc comments of `cognigate-config`) into a
//! flat list of keys, so the configuration reference and the environment-variable table can never list a
//! key that does not exist or miss one that does.

use cognigate_config::Config;
use serde_json::Value;

/// One configuration key as documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    /// Dotted key; `<name>` stands for a key the user chooses, `[]` for each element of an array.
    pub key: String,
    /// A short type description: `string`, `boolean`, `duration`, one of `a`, `b`...
    pub kind: String,
    pub required: bool,
    pub default: Option<String>,
    pub description: String,
    /// Whether the key is a table of further keys (a section), rather than a value.
    pub section: bool,
    /// Whether the key sits inside an array element (and so has no environment variable of its own).
    pub in_array: bool,
}

/// Every key of the configuration, in declaration order.
pub fn config_keys() -> Vec<ConfigKey> {
    let schema = schemars::schema_for!(Config);
    let root = schema.as_value();
    let mut keys = Vec::new();
    walk(root, root, "", &mut keys, false);
    keys
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => root.get("$defs").and_then(|defs| defs.get(name)).unwrap_or(node),
        None => node,
    }
}

fn ref_name(node: &Value) -> Option<&str> {
    node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
}

/// Strips `Option`'s `null` alternative: `anyOf: [X, {type: null}]` or `type: [t, "null"]`.
fn non_null(node: &Value) -> &Value {
    if let Some(options) = node.get("anyOf").and_then(Value::as_array) {
        let real: Vec<&Value> =
            options.iter().filter(|o| o.get("type").and_then(Value::as_str) != Some("null")).collect();
        if let [only] = real.as_slice() {
            return only;
        }
    }
    node
}

fn describe_type(root: &Value, node: &Value) -> String {
    let node = non_null(node);
    match ref_name(node) {
        Some("Duration") => return "duration".to_owned(),
        Some("SecretRef") => return "secret reference".to_owned(),
        _ => {}
    }
    let target = resolve(root, non_null(node));
    if let Some(choices) = target.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = choices
            .iter()
            .filter_map(|c| c.get("const").or_else(|| c.get("enum").and_then(|e| e.get(0))))
            .filter_map(Value::as_str)
            .map(|s| format!("`{s}`"))
            .collect();
        if !names.is_empty() {
            return format!("one of {}", names.join(", "));
        }
    }
    if let Some(values) = target.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values.iter().filter_map(Value::as_str).map(|s| format!("`{s}`")).collect();
        return format!("one of {}", names.join(", "));
    }
    match target.get("type") {
        Some(Value::String(kind)) if kind == "array" => {
            let items = target.get("items").map(|i| describe_type(root, i)).unwrap_or_else(|| "value".into());
            format!("list of {items}")
        }
        Some(Value::String(kind)) if kind == "object" => "table".to_owned(),
        Some(Value::String(kind)) if kind == "integer" => "integer".to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => {
            kinds.iter().filter_map(Value::as_str).filter(|k| *k != "null").collect::<Vec<_>>().join(" or ")
        }
        _ => "value".to_owned(),
    }
}

fn description(node: &Value, target: &Value) -> String {
    node.get("description")
        .or_else(|| target.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .replace('\n', " ")
}

fn default_text(node: &Value) -> Option<String> {
    match node.get("default")? {
        Value::Null => None,
        Value::String(text) => Some(format!("\"{text}\"")),
        Value::Object(map) if map.values().all(|v| v.as_object().is_some_and(|m| m.is_empty())) => None,
        Value::Array(items) if items.is_empty() => None,
        other => Some(other.to_string()),
    }
}

fn walk(root: &Value, node: &Value, key: &str, keys: &mut Vec<ConfigKey>, in_array: bool) {
    let node_inner = non_null(node);
    let target = resolve(root, node_inner);
    let is_leaf_ref = matches!(ref_name(node_inner), Some("Duration" | "SecretRef"));
    let properties = target.get("properties").and_then(Value::as_object);
    let map_values = target.get("additionalProperties").filter(|v| v.is_object());
    let items = (target.get("type").and_then(Value::as_str) == Some("array"))
        .then(|| target.get("items"))
        .flatten()
        .map(|items| resolve(root, items))
        .filter(|items| items.get("properties").is_some());

    if !is_leaf_ref && let Some(properties) = properties {
        if !key.is_empty() {
            keys.push(entry(root, node, target, key, true, in_array, false));
        }
        let required: Vec<&str> = target
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, child) in properties {
            let child_key = if key.is_empty() { name.clone() } else { format!("{key}.{name}") };
            let before = keys.len();
            walk(root, child, &child_key, keys, in_array);
            if let Some(first) = keys.get_mut(before) {
                first.required = required.contains(&name.as_str());
            }
        }
    } else if let Some(values) = map_values {
        keys.push(entry(root, node, target, key, true, in_array, false));
        walk(root, values, &format!("{key}.<name>"), keys, in_array);
    } else if let Some(items) = items {
        keys.push(entry(root, node, target, key, true, in_array, false));
        walk(root, items, &format!("{key}[]"), keys, true);
    } else {
        keys.push(entry(root, node, target, key, false, in_array, false));
    }
}

fn entry(
    root: &Value,
    node: &Value,
    target: &Value,
    key: &str,
    section: bool,
    in_array: bool,
    required: bool,
) -> ConfigKey {
    let kind = if section && target.get("type").and_then(Value::as_str) == Some("array") {
        "list of tables".to_owned()
    } else if section && target.get("additionalProperties").is_some_and(Value::is_object) {
        let values = target.get("additionalProperties").map(|v| describe_type(root, v)).unwrap_or_default();
        if values == "table" { "table of tables".to_owned() } else { format!("table of {values}") }
    } else {
        describe_type(root, node)
    };
    ConfigKey {
        key: key.to_owned(),
        kind,
        required,
        default: default_text(node),
        description: description(node, target),
        section,
        in_array,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_nested_map_and_array_keys_with_their_docs() {
        let keys = config_keys();
        let find = |key: &str| keys.iter().find(|k| k.key == key).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(find("pools.staff.mfa.mode").kind, "one of `off`, `optional`, `required`");
        assert_eq!(find("pools.customer.tokens.access").kind, "duration");
        assert!(find("pools.customer.tokens.access").description.contains("5 minutes to 1 day"));
        assert_eq!(find("pools.customer.cognito.client_secret").kind, "secret reference");
        assert!(find("roles.staff.<name>.rank").description.contains("seniority"));
        assert!(find("routes[].permission").in_array);
        assert!(find("service.name").required);
        assert!(!find("store.cache_url").required);
        assert!(
            keys.iter().all(|k| !k.description.is_empty() || k.key.contains("<name>") || k.section),
            "{:?}",
            keys.iter()
                .filter(|k| k.description.is_empty() && !k.section && !k.key.contains("<name>"))
                .map(|k| &k.key)
                .collect::<Vec<_>>()
        );
    }
}
