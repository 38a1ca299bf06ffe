//! Durations written the way people write them ("15m", "1h", "30d"), so lifetimes read at a glance.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in a configuration value, written like `"90s"`, `"15m"`, `"1h"` or `"30d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub const fn as_secs(self) -> u64 {
        self.0.as_secs()
    }
}

/// Prints the way the file writes it: the largest unit that divides the value exactly (`30d`, `12h`, `90m`).
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        if self.0.subsec_nanos() != 0 {
            return write!(f, "{}", humantime::format_duration(self.0));
        }
        match secs {
            0 => write!(f, "0s"),
            _ if secs.is_multiple_of(86_400) => write!(f, "{}d", secs / 86_400),
            _ if secs.is_multiple_of(3600) => write!(f, "{}h", secs / 3600),
            _ if secs.is_multiple_of(60) => write!(f, "{}m", secs / 60),
            _ => write!(f, "{secs}s"),
        }
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(text.trim()).map(HumanDuration).map_err(|error| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({error}); write it like \"90s\", \"15m\", \"1h\" or \"30d\""
            ))
        })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration such as \"90s\", \"15m\", \"1h\" or \"30d\".",
            "pattern": "^[0-9]+ ?[a-z]+( ?[0-9]+ ?[a-z]+)*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_usual_forms() {
        for (text, secs) in [("90s", 90), ("15m", 900), ("1h", 3600), ("30d", 2_592_000), ("1h 30m", 5400)] {
            let parsed: HumanDuration = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(parsed.as_secs(), secs, "{text}");
        }
        assert_eq!(HumanDuration::from_secs(900).to_string(), "15m");
        assert_eq!(HumanDuration::from_secs(2_592_000).to_string(), "30d");
        assert_eq!(HumanDuration::from_secs(5400).to_string(), "90m");
        assert_eq!(HumanDuration::from_secs(61).to_string(), "61s");
    }

    #[test]
    fn rejects_a_bare_number_with_a_hint() {
        let error = serde_json::from_value::<HumanDuration>(serde_json::json!("15")).unwrap_err();
        assert!(error.to_string().contains("write it like"), "{error}");
    }
}
