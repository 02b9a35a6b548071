//! How much of a seller's challenge Agora examines and keeps: the caps that make every report,
//! stored row and answer bounded whatever a seller sends (docs/LIMITS.md has the whole table).
//!
//! Each cap sits well above what real sellers send (the reason is beside each value), so only a
//! broken or hostile challenge meets one. What meets a cap either makes the challenge invalid with
//! one problem saying so (a structure no client could use), or is clipped or dropped with a warning
//! (display text and metadata, which never decide whether an endpoint can be paid).

/// `accepts` entries examined. Real sellers send one entry per (scheme, network, asset) they take:
/// a handful, a few dozen for a seller taking every stablecoin on every network Agora knows. A
/// longer array is invalid (`accepts_too_many`) and none of its entries is examined.
pub const MAX_ACCEPTS: usize = 64;

/// JSON values (objects, arrays, strings, numbers… each counts one) in a challenge document.
/// A real challenge holds a few hundred, a few thousand with large schemas. A larger one is one
/// problem (`challenge_too_large`, or `accepts_too_many` when `accepts` is what makes it large)
/// and is never parsed: parsed JSON takes tens of bytes per value (`x402::shape`).
pub const MAX_CHALLENGE_VALUES: usize = 20_000;

/// Characters of a `scheme` name. Registered schemes are up to 16 (`batch-settlement`).
pub const MAX_SCHEME_CHARS: usize = 32;

/// Serialized bytes of one entry's `extra`. Real ones hold an EIP-712 domain, a fee payer, a
/// facilitator address, a payment flow: under 300 bytes. Larger is invalid (`extra_too_large`).
pub const MAX_EXTRA_BYTES: usize = 1024;

/// Characters of the resource description kept (clipped beyond, with `description_clipped`).
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Bytes of a `mimeType` kept (RFC 6838 allows 127 for each of type and subtype); a longer one
/// is dropped with `mime_type_invalid`.
pub const MAX_MIME_TYPE_BYTES: usize = 255;

/// Serialized bytes of the discovery `input` and `output` kept together. Real request and answer
/// schemas are a few kilobytes; larger ones are dropped (`discovery_too_large`) and the listing
/// stays valid without them.
pub const MAX_DISCOVERY_BYTES: usize = 16 * 1024;

/// Serialized bytes of the raw challenge kept in a report for display (`challenge_not_stored`
/// beyond). The normalized listing is always kept.
pub const MAX_STORED_CHALLENGE_BYTES: usize = 64 * 1024;

/// Serialized bytes of a whole probe report. Not a cap of its own: the caps above and
/// `findings::MAX_FINDINGS_KEPT` keep the widest report Agora can produce under it (tested with
/// `testkit::widest_valid_challenge`); stores use it as a last guard.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;

/// `text` cut to at most `max_chars` characters; `None` when it already fits.
pub fn clip_chars(text: &str, max_chars: usize) -> Option<String> {
    let (cut, _) = text.char_indices().nth(max_chars)?;
    Some(text[..cut].to_string())
}

#[cfg(test)]
mod tests {
    use super::clip_chars;

    #[test]
    fn clips_on_character_boundaries() {
        assert_eq!(clip_chars("héllo", 5), None);
        assert_eq!(clip_chars("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(clip_chars("", 0), None);
        assert_eq!(clip_chars("ab", 0).as_deref(), Some(""));
    }
}
