//! How big a JSON document is once parsed, measured before parsing it.
//!
//! A parsed `serde_json::Value` costs tens of bytes per value, so 256 KiB of `[{},{},…]` would
//! become megabytes per probe, and that times every probe in flight. [`scan`] walks the document
//! once without allocating (serde's visitor over borrowed input) and counts its values, plus the
//! length of a top-level `accepts` array; [`parse_bounded`] parses only documents within
//! [`MAX_CHALLENGE_VALUES`], so the memory a challenge can take is bounded by construction.

use super::limits::{MAX_ACCEPTS, MAX_CHALLENGE_VALUES};
use crate::report::Finding;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;

/// What [`scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// JSON values in the document, containers included.
    pub values: usize,
    /// Entries of the top-level `accepts`, when it is an array.
    pub accepts: Option<usize>,
}

/// Counts the values of a JSON document without building it.
pub fn scan(bytes: &[u8]) -> Result<Shape, serde_json::Error> {
    let values = Cell::new(0);
    let accepts = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Counter { values: &values, top: Some(&accepts), array: None }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(Shape { values: values.get(), accepts: accepts.get() })
}

/// Parses `bytes` as JSON if it holds at most [`MAX_CHALLENGE_VALUES`] values. A larger document
/// is one problem: `accepts_too_many` when its `accepts` is what makes it large, else
/// `challenge_too_large`. `at` names where the document came from (`body`, `PAYMENT-REQUIRED`).
pub fn parse_bounded(bytes: &[u8], at: &str) -> Result<Result<Value, Finding>, serde_json::Error> {
    let shape = scan(bytes)?;
    if shape.values > MAX_CHALLENGE_VALUES {
        let finding = match shape.accepts {
            Some(entries) if entries > MAX_ACCEPTS => too_many_accepts(entries).at("accepts"),
            _ => Finding::new(
                "challenge_too_large",
                format!(
                    "The challenge holds {} JSON values; Agora reads challenges of up to {MAX_CHALLENGE_VALUES} (real ones hold a few hundred).",
                    shape.values
                ),
            )
            .at(at),
        };
        return Ok(Err(finding));
    }
    serde_json::from_slice(bytes).map(Ok)
}

/// The problem of an `accepts` array longer than Agora examines.
pub fn too_many_accepts(entries: usize) -> Finding {
    Finding::new(
        "accepts_too_many",
        format!(
            "`accepts` has {entries} entries; Agora examines challenges of up to {MAX_ACCEPTS} (one per scheme, network and asset you take)."
        ),
    )
}

/// Counts every value it visits; at the top level it also measures `accepts`.
struct Counter<'a> {
    values: &'a Cell<usize>,
    /// Set for the document's root: where to record the length of its `accepts` array.
    top: Option<&'a Cell<Option<usize>>>,
    /// Set for the root's `accepts` value: where to record its length if it is an array.
    array: Option<&'a Cell<Option<usize>>>,
}

impl Counter<'_> {
    fn bump(&self) {
        self.values.set(self.values.get() + 1);
    }

    fn nested(&self) -> Counter<'_> {
        Counter { values: self.values, top: None, array: None }
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.bump();
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.bump();
        let mut length = 0;
        while seq.next_element_seed(self.nested())?.is_some() {
            length += 1;
        }
        if let Some(array) = self.array {
            array.set(Some(length));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.bump();
        match self.top {
            // The root: keys are read (to find `accepts`), values counted.
            Some(accepts) => {
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let array = (key == "accepts").then_some(accepts);
                    map.next_value_seed(Counter { values: self.values, top: None, array })?;
                }
            }
            None => {
                while map.next_key::<IgnoredAny>()?.is_some() {
                    map.next_value_seed(self.nested())?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_values_and_the_accepts_length() {
        let shape = scan(br#"{"x402Version":1,"accepts":[{},{"a":[1,2]}],"n":null}"#).expect("json");
        // root, 1, accepts array, {}, {a:[1,2]}, [1,2], 1, 2, null
        assert_eq!(shape, Shape { values: 9, accepts: Some(2) });
        assert_eq!(scan(br#"{"accepts":{"x":[]}}"#).expect("json").accepts, None);
        assert_eq!(scan(br#"[{"accepts":[1]}]"#).expect("json").accepts, None, "only the root's accepts");
        assert!(scan(b"{\"a\":1} trailing").is_err());
        assert!(scan(b"{\"a\":").is_err());
    }

    #[test]
    fn large_documents_are_one_problem_naming_the_cause() {
        let mut body = String::from(r#"{"x402Version":1,"accepts":["#);
        body.push_str(&vec!["{}"; MAX_CHALLENGE_VALUES].join(","));
        body.push_str("]}");
        let finding = parse_bounded(body.as_bytes(), "body").expect("json").expect_err("too large");
        assert_eq!(finding.code, "accepts_too_many");

        let mut padded = String::from(r#"{"x402Version":1,"accepts":[],"pad":["#);
        padded.push_str(&vec!["0"; MAX_CHALLENGE_VALUES].join(","));
        padded.push_str("]}");
        let finding = parse_bounded(padded.as_bytes(), "body").expect("json").expect_err("too large");
        assert_eq!((finding.code.as_str(), finding.path.as_deref()), ("challenge_too_large", Some("body")));

        let fine = parse_bounded(br#"{"accepts":[{}]}"#, "body").expect("json").expect("parsed");
        assert_eq!(fine["accepts"].as_array().map(Vec::len), Some(1));
    }
}
