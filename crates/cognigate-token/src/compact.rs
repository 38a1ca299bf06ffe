//! The compact JWS format, both ways, kept strict on purpose. Parsing is where JWT libraries have been
//! fooled (JSON-vs-compact confusion, duplicate keys, lax base64, `crit` ignored), so the reader accepts
//! exactly one shape: three dot-separated base64url parts without padding, a JSON-object header with a
//! string `alg` and `kid` and no `crit`, and a JSON-object payload with no duplicate key at any depth.
//! Header fields that name other keys (`jku`, `x5u`, `jwk`, `x5c`) are never read.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{SignError, VerifyError};
use crate::key::{RS256, SigningKey, check_kid};

/// Signs `claims` as a compact RS256 JWS with the header `{"alg":"RS256","kid":"<kid>"}` (no `typ`, as
/// Cognito).
///
/// # Errors
/// [`SignError::Claims`] if the claims cannot be serialised, [`SignError::NotAnObject`] if they are not a
/// JSON object, [`SignError::Crypto`] if the RSA operation fails.
pub fn sign<C: Serialize + ?Sized>(key: &SigningKey, claims: &C) -> Result<String, SignError> {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'static str,
        kid: &'a str,
    }
    let header = serde_json::to_vec(&Header { alg: RS256, kid: key.kid() })?;
    let payload = serde_json::to_vec(claims)?;
    if payload.first() != Some(&b'{') {
        return Err(SignError::NotAnObject);
    }
    let mut token = String::with_capacity((header.len() + payload.len() + 256) * 4 / 3 + 8);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign_rs256(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}

/// The three parts of a compact JWS, still encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub header: &'a str,
    pub payload: &'a str,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: &'a str,
}

/// Splits a token into exactly three non-empty parts.
pub(crate) fn split(token: &str) -> Result<Parts<'_>, VerifyError> {
    let mut dots = token.match_indices('.').map(|(index, _)| index);
    let (Some(first), Some(second), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(VerifyError::Malformed("a token has exactly three dot-separated parts"));
    };
    let header = &token[..first];
    let payload = &token[first + 1..second];
    let signature = &token[second + 1..];
    if header.is_empty() || payload.is_empty() {
        return Err(VerifyError::Malformed("empty header or payload"));
    }
    if signature.is_empty() {
        return Err(VerifyError::Malformed("missing signature"));
    }
    Ok(Parts { header, payload, signing_input: &token[..second], signature })
}

/// Decodes base64url without padding; rejects `=`, `+`, `/`, whitespace and non-canonical trailing bits.
pub(crate) fn decode_part(part: &str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed("a part is not base64url without padding"))
}

/// The largest signature accepted, in bytes (RSA-8192).
pub(crate) const MAX_SIGNATURE_LEN: usize = 1024;

/// Decodes the signature into `buffer`, returning the used prefix.
pub(crate) fn decode_signature<'b>(
    part: &str,
    buffer: &'b mut [u8; MAX_SIGNATURE_LEN],
) -> Result<&'b [u8], VerifyError> {
    if part.len() > MAX_SIGNATURE_LEN * 4 / 3 + 3 {
        return Err(VerifyError::BadSignature);
    }
    let len = URL_SAFE_NO_PAD
        .decode_slice(part, buffer)
        .map_err(|_| VerifyError::Malformed("the signature is not base64url without padding"))?;
    buffer.get(..len).ok_or(VerifyError::BadSignature)
}

/// The header fields the verifier reads. Unknown fields (`typ`, `jku`, `x5u`, `jwk`, `x5c`, …) are ignored;
/// serde's derive rejects a known field given twice.
#[derive(serde::Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// Reads the decoded header: `alg` must be exactly `RS256` and `kid` a valid key id. Returns the `kid`.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<String, VerifyError> {
    let header: RawHeader<'_> = serde_json::from_slice(bytes)
        .map_err(|_| VerifyError::Malformed("the header is not a JSON object with a string alg and kid"))?;
    if header.crit.is_some() {
        return Err(VerifyError::Malformed("crit header parameters are not supported"));
    }
    if header.alg != RS256 {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let Some(kid) = header.kid else {
        return Err(VerifyError::Malformed("the header has no kid"));
    };
    check_kid(&kid).map_err(|_| VerifyError::Malformed("invalid kid"))?;
    Ok(kid.into_owned())
}

/// Parses the decoded payload as a JSON object, refusing duplicate keys at any depth. Objects are ordered
/// maps, so detecting a duplicate costs a logarithmic insert even for a token stuffed with keys.
pub(crate) fn parse_payload(bytes: &[u8]) -> Result<Map<String, Value>, VerifyError> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        Ok(_) => Err(VerifyError::Malformed("the payload is not a JSON object")),
        Err(_) => Err(VerifyError::Malformed("the payload is not valid JSON without duplicate keys")),
    }
}

/// A JSON value whose objects contain no duplicate key. serde_json's own recursion limit bounds nesting.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(value.into())))
    }

    fn visit_u64<E>(self, value: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(value.into())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<StrictValue, E> {
        Number::from_f64(value)
            .map(|number| StrictValue(Value::Number(number)))
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, value: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(value)))
    }

    fn visit_unit<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_none<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictValue, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let StrictValue(value) = access.next_value()?;
            if map.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(StrictValue(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_requires_three_non_empty_parts() {
        assert!(split("a.b.c").is_ok());
        for bad in ["", "a", "a.b", "a.b.c.d", "a.b.", ".b.c", "a..c", "a.b.c.", "..."] {
            assert!(matches!(split(bad), Err(VerifyError::Malformed(_))), "{bad}");
        }
        let parts = split("aa.bb.cc").unwrap();
        assert_eq!(parts.signing_input, "aa.bb");
        assert_eq!(parts.signature, "cc");
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(decode_part("e30").unwrap(), b"{}");
        for bad in ["e30=", "e3 0", "e3+0", "e3/0", "e31", "%%%"] {
            assert!(decode_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_rules() {
        assert_eq!(parse_header(br#"{"alg":"RS256","kid":"k"}"#).unwrap(), "k");
        assert_eq!(
            parse_header(
                br#"{"alg":"RS256","kid":"k","typ":"JWT","jku":"https://evil","x5u":"x","jwk":{},"x5c":[]}"#
            )
            .unwrap(),
            "k"
        );
        for alg in ["none", "None", "NONE", "nOnE", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", ""]
        {
            let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert!(
                matches!(parse_header(header.as_bytes()), Err(VerifyError::UnsupportedAlgorithm)),
                "{alg}"
            );
        }
        for bad in [
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"RS256","kid":7}"#,
            r#"{"alg":"RS256","kid":{}}"#,
            r#"{"alg":"RS256","kid":""}"#,
            r#"{"alg":"RS256","kid":"k","crit":["b64"]}"#,
            r#"{"alg":"RS256","kid":"k","crit":[]}"#,
            r#"{"alg":"RS256","alg":"RS256","kid":"k"}"#,
            r#"{"alg":null,"kid":"k"}"#,
            r#"{"kid":"k"}"#,
            r#"["RS256"]"#,
            r#"{"alg":"RS256","kid":"k"} x"#,
        ] {
            assert!(matches!(parse_header(bad.as_bytes()), Err(VerifyError::Malformed(_))), "{bad}");
        }
        let long = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(129));
        assert!(parse_header(long.as_bytes()).is_err());
        let escaped = br#"{"alg":"RS\u0032\u0035\u0036","kid":"\u006b"}"#;
        assert_eq!(parse_header(escaped).unwrap(), "k");
    }

    #[test]
    fn payload_rejects_duplicates_at_any_depth() {
        assert!(parse_payload(br#"{"sub":"a","n":{"x":[1,{"y":2}]}}"#).is_ok());
        assert!(parse_payload(br#"{"sub":"a","n":{"x":[1,{"y":2}]},"e\u0078":1,"ex":2}"#).is_err());
        assert!(parse_payload(br#"{"sub":"a","n":{"x":[1,{"y":2}]},"e\u0078":1}"#).is_ok());
        for bad in [
            r#"{"sub":"a","sub":"b"}"#,
            r#"{"n":{"x":1,"x":2}}"#,
            r#"{"n":[{"x":1,"x":2}]}"#,
            r#"[1]"#,
            r#""s""#,
            r#"{"a":1"#,
            r#"{"a":1}{}"#,
        ] {
            assert!(parse_payload(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000));
        assert!(parse_payload(deep.as_bytes()).is_err());
    }

    #[test]
    fn many_keys_are_checked_in_logarithmic_time() {
        let keys: Vec<String> = (0..5000).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let unique = format!("{{{}}}", keys.join(","));
        assert!(parse_payload(unique.as_bytes()).is_ok());
        let late_duplicate = format!("{{{},\"k4999\":0}}", keys.join(","));
        assert!(parse_payload(late_duplicate.as_bytes()).is_err());
        let early_duplicate = format!("{{{},\"k3\":0}}", keys[..10].join(","));
        assert!(parse_payload(early_duplicate.as_bytes()).is_err());
    }
}
