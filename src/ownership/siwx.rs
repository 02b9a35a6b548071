//! Sign-In-With-X (CAIP-122) proofs, as the x402 `sign-in-with-x` extension carries them: the
//! payload (the message's fields, the signer's address and the signature), the exact message text
//! a wallet signed (EIP-4361 for `eip155:*`, the SIWS text for `solana:*`, byte for byte what the
//! official SDK formats), and the signature check — EIP-191 `personal_sign` recovered with `k256`,
//! ed25519 verified strictly with `ed25519-dalek`. No curve code of Agora's own.
//!
//! What the message must *say* (domain, nonce, address, resources, times) is the claim's business
//! (`ownership::claim`); this module only answers "did this address sign exactly this text".

use ed25519_dalek::{Signature as EdSignature, VerifyingKey as EdKey};
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey as EcdsaKey};
use serde::{Deserialize, Serialize};
use tiny_keccak::{Hasher, Keccak};

/// Longest accepted signature text (a 65-byte hex or 64-byte base58 signature is far shorter).
const MAX_SIGNATURE_CHARS: usize = 600;

/// A signed SIWX payload: the fields of the `SIGN-IN-WITH-X` header's JSON (x402
/// `specs/extensions/sign-in-with-x.md`), camelCase as the SDKs send them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiwxPayload {
    pub domain: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    pub uri: String,
    pub version: String,
    /// CAIP-2: `eip155:<id>` or `solana:<genesis hash prefix>`.
    pub chain_id: String,
    /// `eip191` or `ed25519` (informational: the chain's namespace decides the check).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub signature_type: Option<String>,
    pub nonce: String,
    pub issued_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_scheme: Option<String>,
    pub signature: String,
}

/// The chain family a payload's `chainId` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// EVM: EIP-4361 text, EIP-191 signature.
    Evm,
    /// Solana: SIWS text, ed25519 signature.
    Solana,
}

/// Why a signature does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("chainId {0:?} is neither eip155:<id> nor solana:<reference>")]
    UnsupportedChain(String),
    #[error("the address {0:?} is not a valid address for its chain")]
    BadAddress(String),
    #[error("the signature is malformed: {0}")]
    Malformed(&'static str),
    #[error("the signature was made by {signer}, not by {address}")]
    WrongSigner { signer: String, address: String },
    #[error("the signature does not verify for {0} over this message")]
    Invalid(String),
}

impl SiwxPayload {
    /// The chain family of `chainId`.
    pub fn family(&self) -> Result<Family, SignatureError> {
        family_of(&self.chain_id)
    }

    /// The message text the signer signed, formatted as the official SDK formats it.
    pub fn message(&self) -> Result<String, SignatureError> {
        match self.family()? {
            Family::Evm => Ok(self.eip4361_text()),
            Family::Solana => Ok(self.siws_text()),
        }
    }

    /// Checks that `address` signed [`Self::message`].
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        if self.signature.len() > MAX_SIGNATURE_CHARS {
            return Err(SignatureError::Malformed("too long"));
        }
        let message = self.message()?;
        match self.family()? {
            Family::Evm => verify_eip191(&message, &self.address, &self.signature),
            Family::Solana => verify_ed25519(&message, &self.address, &self.signature),
        }
    }

    fn reference(&self) -> &str {
        self.chain_id.split_once(':').map_or("", |(_, reference)| reference)
    }

    /// EIP-4361, as `@signinwithethereum/siwe` `toMessage()` writes it (what the x402 SDK signs).
    fn eip4361_text(&self) -> String {
        let mut head = format!("{} wants you to sign in with your Ethereum account:\n{}", self.domain, self.address);
        match &self.statement {
            None => head.push_str("\n\n"),
            Some(statement) => head = format!("{head}\n\n{statement}\n"),
        }
        let mut lines = self.field_lines();
        if let Some(resources) = &self.resources {
            lines.push(resource_lines(resources));
        }
        format!("{head}\n{}", lines.join("\n"))
    }

    /// The SIWS text, as the x402 SDK's `formatSIWSMessage` writes it.
    fn siws_text(&self) -> String {
        let mut lines =
            vec![format!("{} wants you to sign in with your Solana account:", self.domain), self.address.clone()];
        lines.push(String::new());
        if let Some(statement) = self.statement.as_ref().filter(|s| !s.is_empty()) {
            lines.push(statement.clone());
            lines.push(String::new());
        }
        lines.extend(self.field_lines());
        if let Some(resources) = self.resources.as_ref().filter(|r| !r.is_empty()) {
            lines.push(resource_lines(resources));
        }
        lines.join("\n")
    }

    /// The `Key: value` lines both formats share, in their order (resources aside).
    fn field_lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("URI: {}", self.uri),
            format!("Version: {}", self.version),
            format!("Chain ID: {}", self.reference()),
            format!("Nonce: {}", self.nonce),
            format!("Issued At: {}", self.issued_at),
        ];
        self.push_optional_lines(&mut lines);
        lines
    }

    fn push_optional_lines(&self, lines: &mut Vec<String>) {
        if let Some(at) = self.expiration_time.as_ref().filter(|s| !s.is_empty()) {
            lines.push(format!("Expiration Time: {at}"));
        }
        if let Some(at) = self.not_before.as_ref().filter(|s| !s.is_empty()) {
            lines.push(format!("Not Before: {at}"));
        }
        if let Some(id) = &self.request_id {
            lines.push(format!("Request ID: {id}"));
        }
    }
}

fn resource_lines(resources: &[String]) -> String {
    std::iter::once("Resources:".to_string())
        .chain(resources.iter().map(|r| format!("- {r}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The chain family of a CAIP-2 id.
pub fn family_of(chain_id: &str) -> Result<Family, SignatureError> {
    match chain_id.split_once(':') {
        Some(("eip155", reference)) if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Family::Evm)
        }
        Some(("solana", reference))
            if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok(Family::Solana)
        }
        _ => Err(SignatureError::UnsupportedChain(chain_id.to_string())),
    }
}

/// The address as Agora compares it: EVM addresses lowercased (the EIP-55 checksum is only
/// presentation), Solana addresses exactly (base58 is case-sensitive). `None` if malformed.
pub fn address_key(family: Family, address: &str) -> Option<String> {
    match family {
        Family::Evm => {
            let hex = address.strip_prefix("0x")?;
            (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| address.to_ascii_lowercase())
        }
        Family::Solana => {
            let bytes = bs58::decode(address).into_vec().ok()?;
            (bytes.len() == 32).then(|| address.to_string())
        }
    }
}

/// The family an offer's `payTo` belongs to, judged by its form.
pub fn family_of_address(address: &str) -> Option<Family> {
    if address_key(Family::Evm, address).is_some() {
        Some(Family::Evm)
    } else if address_key(Family::Solana, address).is_some() {
        Some(Family::Solana)
    } else {
        None
    }
}

fn keccak256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    for part in parts {
        hasher.update(part);
    }
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}

/// EIP-191 version 0x45 (`personal_sign`): recovers the signer of `message` and compares it with
/// `address`. Contract wallets (EIP-1271, EIP-6492) need a chain to ask, which Agora has not.
fn verify_eip191(message: &str, address: &str, signature: &str) -> Result<(), SignatureError> {
    let expected = address_key(Family::Evm, address).ok_or_else(|| SignatureError::BadAddress(address.to_string()))?;
    let hex = signature.strip_prefix("0x").unwrap_or(signature);
    let bytes = hex::decode(hex).map_err(|_| SignatureError::Malformed("not hex"))?;
    let [rs @ .., v] = bytes.as_slice() else { return Err(SignatureError::Malformed("empty")) };
    if rs.len() != 64 {
        return Err(SignatureError::Malformed("expected 65 bytes (r, s, v)"));
    }
    let recovery = match v {
        0 | 1 => *v,
        27 | 28 => v - 27,
        _ => return Err(SignatureError::Malformed("v must be 0, 1, 27 or 28")),
    };
    let recovery = RecoveryId::from_byte(recovery).ok_or(SignatureError::Malformed("bad recovery id"))?;
    let signature = EcdsaSignature::from_slice(rs).map_err(|_| SignatureError::Malformed("r or s out of range"))?;
    let prefix = format!("\x19Ethereum Signed Message:\n{}", message.len());
    let digest = keccak256(&[prefix.as_bytes(), message.as_bytes()]);
    let key = EcdsaKey::recover_from_prehash(&digest, &signature, recovery)
        .map_err(|_| SignatureError::Invalid(address.to_string()))?;
    let point = key.to_encoded_point(false);
    let hash = keccak256(&[&point.as_bytes()[1..]]);
    let signer = format!("0x{}", hex::encode(&hash[12..]));
    if signer != expected {
        return Err(SignatureError::WrongSigner { signer, address: address.to_string() });
    }
    Ok(())
}

/// ed25519 over the message's UTF-8 bytes; the address is the base58 public key, the signature
/// base58 (as the SDK encodes it). Strict verification: no small-order keys, canonical `s`.
fn verify_ed25519(message: &str, address: &str, signature: &str) -> Result<(), SignatureError> {
    let key_bytes: [u8; 32] = bs58::decode(address)
        .into_vec()
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SignatureError::BadAddress(address.to_string()))?;
    let key = EdKey::from_bytes(&key_bytes).map_err(|_| SignatureError::BadAddress(address.to_string()))?;
    let signature: [u8; 64] = bs58::decode(signature)
        .into_vec()
        .map_err(|_| SignatureError::Malformed("not base58"))?
        .try_into()
        .map_err(|_| SignatureError::Malformed("expected 64 bytes"))?;
    key.verify_strict(message.as_bytes(), &EdSignature::from_bytes(&signature))
        .map_err(|_| SignatureError::Invalid(address.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(chain_id: &str, address: &str) -> SiwxPayload {
        SiwxPayload {
            domain: "agora.example".into(),
            address: address.into(),
            statement: Some("Prove control.".into()),
            uri: "https://agora.example/api/v1/claims".into(),
            version: "1".into(),
            chain_id: chain_id.into(),
            signature_type: None,
            nonce: "0123456789abcdef0123456789abcdef".into(),
            issued_at: "2026-12-03T18:00:00.000Z".into(),
            expiration_time: Some("2026-12-03T18:10:00.000Z".into()),
            not_before: None,
            request_id: None,
            resources: Some(vec!["https://seller.example/weather".into()]),
            signature_scheme: None,
            signature: String::new(),
        }
    }

    #[test]
    fn eip4361_text_has_the_blank_lines_of_the_spec() {
        let mut p = payload("eip155:8453", "0x00000000000000000000000000000000000000Ab");
        assert_eq!(
            p.message().expect("evm"),
            "agora.example wants you to sign in with your Ethereum account:\n0x00000000000000000000000000000000000000Ab\n\n\
             Prove control.\n\nURI: https://agora.example/api/v1/claims\nVersion: 1\nChain ID: 8453\n\
             Nonce: 0123456789abcdef0123456789abcdef\nIssued At: 2026-12-03T18:00:00.000Z\n\
             Expiration Time: 2026-12-03T18:10:00.000Z\nResources:\n- https://seller.example/weather"
        );
        p.statement = None;
        assert!(p.message().expect("evm").contains("0x00000000000000000000000000000000000000Ab\n\n\nURI: "));
    }

    #[test]
    fn malformed_signatures_and_chains_are_refused_without_panicking() {
        let mut p = payload("eip155:1", "0x00000000000000000000000000000000000000ab");
        for bad in ["", "0x", "zz", &"00".repeat(65), &format!("0x{}1b", "ff".repeat(64)), &"a".repeat(700)] {
            p.signature = bad.to_string();
            assert!(p.verify_signature().is_err(), "{bad:?}");
        }
        p.chain_id = "cosmos:hub".into();
        p.signature = "0x00".into();
        assert_eq!(p.verify_signature(), Err(SignatureError::UnsupportedChain("cosmos:hub".into())));
        let mut s = payload("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "not-base58-0OIl");
        s.signature = "1".repeat(88);
        assert!(matches!(s.verify_signature(), Err(SignatureError::BadAddress(_))));
    }

    #[test]
    fn address_keys_fold_evm_case_only() {
        assert_eq!(
            address_key(Family::Evm, "0xABCDEF0000000000000000000000000000000001").as_deref(),
            Some("0xabcdef0000000000000000000000000000000001")
        );
        assert_eq!(address_key(Family::Evm, "0xabc"), None);
        let sol = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
        assert_eq!(address_key(Family::Solana, sol).as_deref(), Some(sol));
        assert_eq!(family_of_address(sol), Some(Family::Solana));
        assert_eq!(family_of_address("merchant"), None);
    }
}
