//! Signing keys and their public form. The embedded engine mints tokens with a [`SigningKey`] (an RSA-2048
//! key pair generated at run time by aws-lc-rs, never a key committed to the repository) and publishes the
//! public half as a [`JwkSet`] in exactly the shape Cognito serves at `/.well-known/jwks.json`, so one
//! verifier serves both real Cognito pools and the embedded engine.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{KeyError, SignError};

/// The longest `kid` accepted, in bytes, both for our keys and in token headers.
pub const MAX_KID_LEN: usize = 128;

/// The smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_MODULUS_LEN: usize = 256;

/// An RSA-2048 (or larger, when imported) private key with its key id, used to sign RS256 tokens.
///
/// `Debug` shows the `kid` only.
pub struct SigningKey {
    kid: String,
    pair: KeyPair,
    jwk: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key pair with a random `kid` (base64url of 16 random bytes).
    ///
    /// # Errors
    /// [`KeyError::Generate`] if the system random generator or aws-lc fails.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| KeyError::Generate)?;
        Self::from_pair(URL_SAFE_NO_PAD.encode(random), pair)
    }

    /// Imports a private key stored as PKCS#8 (v1) DER, with the `kid` it was published under.
    ///
    /// # Errors
    /// [`KeyError::InvalidKid`], [`KeyError::Rejected`] for a document that is not an RSA private key, and
    /// [`KeyError::TooSmall`] below 2048 bits.
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            KeyPair::from_pkcs8(der).map_err(|rejected| KeyError::Rejected(rejected.description_()))?;
        Self::from_pair(kid.into(), pair)
    }

    fn from_pair(kid: String, pair: KeyPair) -> Result<Self, KeyError> {
        check_kid(&kid).map_err(KeyError::InvalidKid)?;
        if pair.public_modulus_len() < MIN_MODULUS_LEN {
            return Err(KeyError::TooSmall);
        }
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let jwk = Jwk {
            alg: Some(RS256.to_owned()),
            e: URL_SAFE_NO_PAD.encode(&components.e),
            kid: kid.clone(),
            kty: "RSA".to_owned(),
            n: URL_SAFE_NO_PAD.encode(&components.n),
            use_: Some("sig".to_owned()),
        };
        Ok(Self { kid, pair, jwk })
    }

    /// Exports the private key as PKCS#8 (v1) DER, for the engine to store encrypted. The buffer is zeroed
    /// when dropped.
    ///
    /// # Errors
    /// [`KeyError::Export`] if aws-lc cannot serialise the key.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let der = self.pair.as_der().map_err(|_| KeyError::Export)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The key id, as published in the JWKS and written in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`alg` RS256, `use` sig).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 SHA-256.
    pub(crate) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| SignError::Crypto)?;
        Ok(signature)
    }
}

/// The only algorithm this crate signs or accepts.
pub(crate) const RS256: &str = "RS256";

/// Checks a key id: 1 to [`MAX_KID_LEN`] bytes, no control characters.
pub(crate) fn check_kid(kid: &str) -> Result<(), &'static str> {
    if kid.is_empty() {
        return Err("empty");
    }
    if kid.len() > MAX_KID_LEN {
        return Err("longer than 128 bytes");
    }
    if kid.chars().any(char::is_control) {
        return Err("contains control characters");
    }
    Ok(())
}

/// One public key in Cognito's JWKS shape:
/// `{"alg":"RS256","e":"AQAB","kid":"…","kty":"RSA","n":"…","use":"sig"}`.
///
/// Fields a foreign JWKS may omit are defaulted so that one odd key does not make the whole set unreadable;
/// the verifier refuses such keys individually.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// The algorithm the key is meant for; the verifier accepts a key whose `alg` is absent or `RS256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// The RSA public exponent, base64url without padding.
    #[serde(default)]
    pub e: String,
    /// The key id.
    #[serde(default)]
    pub kid: String,
    /// The key type; only `RSA` is usable.
    pub kty: String,
    /// The RSA modulus, base64url without padding.
    #[serde(default)]
    pub n: String,
    /// The intended use; the verifier accepts a key whose `use` is absent or `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A JSON Web Key Set, `{"keys":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The set publishing the public halves of `keys`, in order.
    pub fn from_signing_keys<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Self {
        Self { keys: keys.into_iter().map(|key| key.jwk.clone()).collect() }
    }

    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_publishes_a_cognito_shaped_jwk() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(key.kid().len(), 22);
        let json = serde_json::to_string(&JwkSet::from_signing_keys([&key])).unwrap();
        let expected_prefix =
            format!(r#"{{"keys":[{{"alg":"RS256","e":"AQAB","kid":"{}","kty":"RSA","n":""#, key.kid());
        assert!(json.starts_with(&expected_prefix), "{json}");
        assert!(json.ends_with(r#"","use":"sig"}]}"#), "{json}");
        // 2048-bit modulus: 256 bytes = 342 base64url characters.
        assert_eq!(key.jwk().n.len(), 342);
    }

    #[test]
    fn two_generated_keys_differ() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        assert_ne!(a.kid(), b.kid());
        assert_ne!(a.jwk().n, b.jwk().n);
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_public_key() {
        let key = SigningKey::generate().unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let again = SigningKey::from_pkcs8_der(key.kid(), &der).unwrap();
        assert_eq!(again.jwk(), key.jwk());
    }

    #[test]
    fn import_rejects_garbage_and_bad_kids() {
        assert!(matches!(SigningKey::from_pkcs8_der("k", b"not a key"), Err(KeyError::Rejected(_))));
        let key = SigningKey::generate().unwrap();
        let der = key.to_pkcs8_der().unwrap();
        for kid in ["", "a\nb", &"k".repeat(129)] {
            assert!(matches!(SigningKey::from_pkcs8_der(kid, &der), Err(KeyError::InvalidKid(_))));
        }
    }

    #[test]
    fn debug_never_prints_key_material() {
        let key = SigningKey::generate().unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(key.kid()));
        assert!(!debug.contains(&key.jwk().n[..40]));
        assert!(debug.len() < 100, "{debug}");
    }

    #[test]
    fn jwks_with_foreign_keys_still_parses() {
        let set: JwkSet = serde_json::from_str(
            r#"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","kid":"ec"},
                        {"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB","x5c":["..."]}]}"#,
        )
        .unwrap();
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.find("ec").unwrap().kty, "EC");
        assert!(set.find("zz").is_none());
    }
}
