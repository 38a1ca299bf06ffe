//! Sealing secrets at rest (TOTP secrets, signing keys, client secrets) with AES-256-GCM.
//!
//! The sealing key comes from outside the store (a key file under the data directory, created on first start
//! with owner-only permissions), so a copy of the database alone reveals none of these secrets. Instances
//! that share one store will need the key from a secret reference instead; that comes with scale-out.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::EngineError;
use crate::clock::Entropy;

/// Encrypts and decrypts small secrets. Each sealed value is `nonce || ciphertext || tag`, bound to a
/// purpose string so a value sealed for one use cannot be passed off as another.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub const KEY_LEN: usize = 32;

    pub fn new(key: &[u8]) -> Result<Self, EngineError> {
        let key = Zeroizing::new(key.to_vec());
        let unbound = UnboundKey::new(&AES_256_GCM, &key)
            .map_err(|_| EngineError::Internal("the sealing key must be 32 bytes".to_owned()))?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    pub fn seal(
        &self,
        purpose: &str,
        plaintext: &[u8],
        entropy: &dyn Entropy,
    ) -> Result<Vec<u8>, EngineError> {
        let mut nonce = [0u8; NONCE_LEN];
        entropy.fill(&mut nonce);
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| EngineError::Internal("sealing failed".to_owned()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(sealed)
    }

    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, EngineError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or_else(|| EngineError::Internal("sealed value too short".to_owned()))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| EngineError::Internal("bad nonce".to_owned()))?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buffer)
            .map_err(|_| EngineError::Internal("a sealed secret does not open with this key".to_owned()))?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    #[test]
    fn seals_and_opens_only_for_the_same_purpose_and_key() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = sealer.seal("totp", b"JBSWY3DPEHPK3PXP", &OsEntropy).unwrap();
        assert!(
            !sealed.windows(16).any(|w| w == b"JBSWY3DPEHPK3PXP"),
            "the plaintext is not in the sealed value"
        );
        assert_eq!(sealer.open("totp", &sealed).unwrap().as_slice(), b"JBSWY3DPEHPK3PXP");
        assert!(sealer.open("signing-key", &sealed).is_err());
        assert!(Sealer::new(&[8u8; 32]).unwrap().open("totp", &sealed).is_err());
        assert!(sealer.open("totp", &sealed[..5]).is_err());
    }
}
