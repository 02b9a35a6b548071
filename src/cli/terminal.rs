//! Terminal-safe text: what the CLI prints of a seller's answer (descriptions, names, messages
//! quoting seller values) must not drive the terminal. Control characters (escape sequences, BEL,
//! NUL, carriage returns, a newline that would forge a line of the verdict) and the bidirectional
//! overrides that reorder what a reader sees are shown escaped, as `\u{1b}`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as itself.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character escaped; borrowed when there is none.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text built line by line, each line made terminal-safe as a whole: whatever a formatted value
/// holds, it stays on its own line and cannot colour, move or rewrite the output.
#[derive(Debug, Default)]
pub struct Lines(String);

impl Lines {
    pub fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let text = args.to_string();
        self.0.push_str(&safe(&text));
        self.0.push('\n');
    }

    pub fn blank(&mut self) {
        self.0.push('\n');
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::{Lines, safe};

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(safe("plain café ✓"), "plain café ✓");
        assert_eq!(safe("red\u{1b}[31m!\u{7}\0"), "red\\u{1b}[31m!\\u{7}\\u{0}");
        assert_eq!(safe("a\nLISTED\r"), "a\\u{a}LISTED\\u{d}");
        assert_eq!(safe("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(safe("c1\u{9b}2J"), "c1\\u{9b}2J");
        let mut lines = Lines::default();
        lines.line(format_args!("  {}", "x\ny"));
        lines.blank();
        assert_eq!(lines.into_string(), "  x\\u{a}y\n\n");
    }
}
