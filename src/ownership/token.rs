//! Secrets Agora hands out or is configured with: owner tokens (shown once, stored as a SHA-256
//! hash, compared in constant time), challenge nonces, and the operator token check. Tokens carry
//! their claim's id in clear (`agora_owner_<id>_<secret>`), so a check reads one row and compares
//! one hash: no lookup by secret, no timing that depends on how much of a guess was right.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const OWNER_PREFIX: &str = "agora_owner_";

/// Random bytes from the operating system.
fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is unrecoverable for a service that hands out secrets.
    getrandom::fill(&mut bytes).unwrap_or_else(|error| panic!("the OS random source failed: {error}"));
    bytes
}

/// 128 random bits as 32 lowercase hex characters (the SIWX nonce form the x402 spec uses).
pub fn nonce() -> String {
    hex::encode(random::<16>())
}

/// The hex SHA-256 of a secret, as stored.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new owner secret and the hash to store; the token shown is [`owner_token`] of it, once the
/// claim's id is known.
pub fn owner_secret() -> (String, String) {
    let secret = hex::encode(random::<32>());
    let stored = hash(&secret);
    (secret, stored)
}

/// The owner token of claim `claim_id` with `secret`.
pub fn owner_token(claim_id: i64, secret: &str) -> String {
    format!("{OWNER_PREFIX}{claim_id}_{secret}")
}

/// The claim id and secret of an owner token, if it has the token's form.
pub fn parse_owner_token(token: &str) -> Option<(i64, &str)> {
    let rest = token.strip_prefix(OWNER_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// Whether `secret` hashes to `stored_hash`, in time independent of where they differ.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// The operator token as configured: only its hash is kept in memory.
#[derive(Clone)]
pub struct OperatorToken {
    hash: [u8; 32],
}

/// Shortest operator token accepted (so a weak one is refused at startup, not guessed later).
pub const MIN_OPERATOR_TOKEN_CHARS: usize = 32;

impl OperatorToken {
    /// The configured token, or why it cannot be used.
    pub fn new(token: &str) -> Result<OperatorToken, String> {
        let token = token.trim();
        if token.chars().count() < MIN_OPERATOR_TOKEN_CHARS {
            return Err(format!("the operator token must be at least {MIN_OPERATOR_TOKEN_CHARS} characters"));
        }
        Ok(OperatorToken { hash: Sha256::digest(token.as_bytes()).into() })
    }

    /// Whether `presented` is the operator token (constant time: both sides hashed first, so
    /// neither content nor length leaks).
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        presented.ct_eq(&self.hash).into()
    }
}

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorToken(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_tokens_round_trip_and_only_their_secret_matches() {
        let (secret, stored) = owner_secret();
        let token = owner_token(42, &secret);
        let (id, secret) = parse_owner_token(&token).expect("own form");
        assert_eq!(id, 42);
        assert!(secret_matches(secret, &stored));
        let (_, other) = owner_secret();
        assert!(!secret_matches(secret, &other), "another token's hash");
        assert!(!token.contains(&stored), "the stored hash is not in the token");
        for bad in ["", "agora_owner_", "agora_owner_0_ab", "agora_owner_x_00", "agora_owner_1_zz", "bearer"] {
            assert_eq!(parse_owner_token(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn operator_tokens_must_be_long_and_match_exactly() {
        assert!(OperatorToken::new("short").is_err());
        let token = OperatorToken::new(&"z".repeat(40)).expect("long enough");
        assert!(token.matches(&"z".repeat(40)));
        assert!(!token.matches(&"z".repeat(39)));
        assert!(!format!("{token:?}").contains('z'));
        assert_eq!(nonce().len(), 32);
        assert_ne!(nonce(), nonce());
    }
}
