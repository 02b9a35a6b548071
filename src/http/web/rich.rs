//! Sentences from probe reports as a page shows them: the validator writes names and values in
//! backticks (`` `accepts[0].amount` ``), which read as code on a page. [`Rich`] escapes the text
//! itself and wraps each backticked span in `<code>`, so templates render it with `|safe`.

use crate::http::views::words::clip;
use agora_crawler::Finding;
use std::fmt;

/// A sentence whose backticked spans are code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rich(String);

impl Rich {
    pub fn new(text: impl Into<String>) -> Rich {
        Rich(text.into())
    }

    /// The plain text (backticks included).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rich {
    /// HTML: every character escaped, each `` `span` `` as `<code>span</code>`; an unpaired
    /// backtick stays a backtick.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.0.split('`').collect();
        // With an even number of backticks the odd parts are spans; an odd count leaves the last
        // backtick unpaired.
        let paired = parts.len() % 2 == 1;
        for (i, part) in parts.iter().enumerate() {
            let last = i == parts.len() - 1;
            if i % 2 == 1 && (paired || !last) {
                f.write_str("<code>")?;
                escape(part, f)?;
                f.write_str("</code>")?;
            } else {
                if i % 2 == 1 {
                    f.write_str("`")?;
                }
                escape(part, f)?;
            }
        }
        Ok(())
    }
}

fn escape(text: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for c in text.chars() {
        match c {
            '&' => f.write_str("&amp;")?,
            '<' => f.write_str("&lt;")?,
            '>' => f.write_str("&gt;")?,
            '"' => f.write_str("&quot;")?,
            '\'' => f.write_str("&#39;")?,
            c => fmt::Write::write_char(f, c)?,
        }
    }
    Ok(())
}

/// A problem or warning as a page lists it: its code, where in the challenge (`accepts[0].amount`),
/// and its sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub code: String,
    pub path: Option<String>,
    pub message: Rich,
}

/// Findings as a page lists them, long texts clipped.
pub fn finding_rows(findings: &[Finding]) -> Vec<FindingRow> {
    findings
        .iter()
        .map(|f| FindingRow {
            code: clip(&f.code, 100),
            path: f.path.as_deref().map(|p| clip(p, 200)),
            message: Rich::new(clip(&f.message, 500)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Rich;

    #[test]
    fn backticked_spans_become_code_and_everything_is_escaped() {
        let html = |text: &str| Rich::new(text).to_string();
        assert_eq!(html("Set `amount` to `\"1000\"`."), "Set <code>amount</code> to <code>&quot;1000&quot;</code>.");
        assert_eq!(html("<script>`x<y>`"), "&lt;script&gt;<code>x&lt;y&gt;</code>");
        assert_eq!(html("one ` alone"), "one ` alone", "an unpaired backtick stays");
        assert_eq!(html("`a` and ` b"), "<code>a</code> and ` b");
        assert_eq!(html("no code"), "no code");
    }
}
