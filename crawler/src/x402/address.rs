//! Address formats per network family, for `payTo` and `asset` (PROTOCOL §2.3).
//!
//! A syntactically valid address is accepted whatever it looks like; only the format is judged,
//! plus the EIP-55 checksum when an EVM address is written in mixed case, and the all-zero
//! address for `payTo` (funds sent there burn).

use super::networks::Family;
use tiny_keccak::{Hasher, Keccak};

/// What is wrong with an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    /// Not the family's format at all (empty, a placeholder, a symbol, wrong length).
    Format,
    /// Mixed-case EVM address whose EIP-55 checksum does not match.
    Checksum,
}

/// The role of the address being checked: formats differ between payee and token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    PayTo,
    Asset,
}

/// Checks `text` as an address of `family` in `role`, returning its normalized form:
/// lower-case for EVM and Aptos hex, unchanged otherwise.
pub fn check(family: Family, role: Role, text: &str) -> Result<String, AddressError> {
    match family {
        Family::Evm => check_evm(text),
        Family::Svm => {
            check_base58_key(text)?;
            Ok(text.to_string())
        }
        Family::Aptos => check_aptos(text),
        Family::Algorand => match role {
            Role::PayTo => check_algorand_address(text).map(|()| text.to_string()),
            // Algorand assets are numeric ASA ids.
            Role::Asset => check_digits(text).map(|()| text.to_string()),
        },
        Family::Stellar => check_stellar(role, text).map(|()| text.to_string()),
        Family::Other => check_opaque(text).map(|()| text.to_string()),
    }
}

/// Whether a normalized address is the family's "zero" (burn) address.
pub fn is_zero(family: Family, normalized: &str) -> bool {
    match family {
        Family::Evm | Family::Aptos => normalized.trim_start_matches("0x").bytes().all(|b| b == b'0'),
        // The Solana system program id: 32 zero bytes in base58.
        Family::Svm => normalized == "11111111111111111111111111111111",
        _ => false,
    }
}

fn check_evm(text: &str) -> Result<String, AddressError> {
    let hex = text.strip_prefix("0x").ok_or(AddressError::Format)?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Format);
    }
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let lower = hex.to_ascii_lowercase();
    if has_lower && has_upper && eip55(&lower) != hex {
        return Err(AddressError::Checksum);
    }
    Ok(format!("0x{lower}"))
}

/// The EIP-55 mixed-case form of 40 lower-case hex digits.
pub fn eip55(lower_hex: &str) -> String {
    let mut keccak = Keccak::v256();
    keccak.update(lower_hex.as_bytes());
    let mut hash = [0u8; 32];
    keccak.finalize(&mut hash);
    lower_hex
        .char_indices()
        .map(|(i, c)| {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}

fn check_base58_key(text: &str) -> Result<(), AddressError> {
    // Length first: bounds the decoder's work on hostile input.
    if !(32..=44).contains(&text.len()) {
        return Err(AddressError::Format);
    }
    match bs58::decode(text).into_vec() {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err(AddressError::Format),
    }
}

fn check_aptos(text: &str) -> Result<String, AddressError> {
    let hex = text.strip_prefix("0x").ok_or(AddressError::Format)?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Format);
    }
    Ok(format!("0x{}", hex.to_ascii_lowercase()))
}

fn check_algorand_address(text: &str) -> Result<(), AddressError> {
    let base32 = |b: u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b);
    if text.len() == 58 && text.bytes().all(base32) { Ok(()) } else { Err(AddressError::Format) }
}

fn check_digits(text: &str) -> Result<(), AddressError> {
    let ok = !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
    if ok { Ok(()) } else { Err(AddressError::Format) }
}

fn check_stellar(role: Role, text: &str) -> Result<(), AddressError> {
    let strkey =
        |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    let second_ok = |s: &str| matches!(s.as_bytes().get(1), Some(b'A'..=b'D'));
    let ok = match role {
        // G… accounts, C… contracts, M… muxed accounts.
        Role::PayTo => {
            (text.starts_with(['G', 'C']) && second_ok(text) && strkey(text, 56))
                || (text.starts_with('M') && second_ok(text) && strkey(text, 69))
        }
        Role::Asset => text.starts_with('C') && second_ok(text) && strkey(text, 56),
    };
    if ok { Ok(()) } else { Err(AddressError::Format) }
}

/// Namespaces Agora has no format table for (and v2 fiat/custom ones, whose `payTo` may be a role
/// constant such as `merchant` and whose asset may be an ISO-4217 code): accept a sane token.
fn check_opaque(text: &str) -> Result<(), AddressError> {
    let ok = !text.is_empty() && text.len() <= 256 && text.bytes().all(|b| b.is_ascii_graphic());
    if ok { Ok(()) } else { Err(AddressError::Format) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evm_checksum_is_checked_only_in_mixed_case() {
        let checksummed = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
        let lower = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
        assert_eq!(check(Family::Evm, Role::Asset, checksummed).as_deref(), Ok(lower));
        assert_eq!(check(Family::Evm, Role::Asset, lower).as_deref(), Ok(lower));
        let upper = format!("0x{}", &lower[2..].to_ascii_uppercase());
        assert_eq!(check(Family::Evm, Role::Asset, &upper).as_deref(), Ok(lower));
        let broken = "0x833589FCD6eDb6E08f4c7C32D4f71b54bdA02913";
        assert_eq!(check(Family::Evm, Role::Asset, broken), Err(AddressError::Checksum));
        assert_eq!(eip55(&lower[2..]), &checksummed[2..]);
    }

    #[test]
    fn evm_rejects_placeholders_and_short_forms() {
        for bad in ["", "0x123", "0xYourAddress", "USDC", "833589fcd6edb6e08f4c7c32d4f71b54bda02913"] {
            assert_eq!(check(Family::Evm, Role::PayTo, bad), Err(AddressError::Format), "{bad}");
        }
        assert!(is_zero(Family::Evm, "0x0000000000000000000000000000000000000000"));
    }

    #[test]
    fn solana_keys_decode_to_32_bytes() {
        let mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
        assert!(check(Family::Svm, Role::Asset, mint).is_ok());
        assert!(check(Family::Svm, Role::PayTo, "0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl").is_err());
        assert!(check(Family::Svm, Role::PayTo, "USDC").is_err());
        assert!(is_zero(Family::Svm, "11111111111111111111111111111111"));
        assert!(check(Family::Svm, Role::PayTo, "11111111111111111111111111111111").is_ok());
    }

    #[test]
    fn other_families() {
        let stellar_asset = "CCW67TSZV3SSS2HXMBQ5JFGCKJNXKZM7UQUWUZPUTHXSTZLEO7SJMI75";
        assert!(check(Family::Stellar, Role::Asset, stellar_asset).is_ok());
        assert!(check(Family::Stellar, Role::Asset, "USDC").is_err());
        assert!(check(Family::Algorand, Role::Asset, "31566704").is_ok());
        assert!(check(Family::Algorand, Role::PayTo, "31566704").is_err());
        assert!(check(Family::Other, Role::PayTo, "merchant").is_ok());
        assert!(check(Family::Other, Role::PayTo, "has space").is_err());
        assert!(check(Family::Aptos, Role::Asset, &format!("0x{}", "ab".repeat(32))).is_ok());
    }
}
