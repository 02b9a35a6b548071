//! The search page's line about what Agora read into the query ("Read “cheap” as cheapest first,
//! “on polygon” as network polygon"), so a person sees it and can undo it (`interpret=false`).

use crate::search::understand::Interpretation;

/// One sentence for the words that were read, or `None` when none was.
pub fn sentence(interpretation: Option<&Interpretation>) -> Option<String> {
    let readings: Vec<String> = interpretation?
        .read
        .iter()
        .map(|r| {
            let meaning = match r.param.split_once('=') {
                Some(("sort", _)) => "cheapest first".to_string(),
                Some(("max_usd", usd)) => format!("at most ${usd} per call"),
                Some(("scheme", scheme)) => format!("scheme {scheme} (usage-based)"),
                Some(("testnet", _)) => "testnets only".to_string(),
                Some(("format", format)) => format!("{format} output"),
                Some((name, value)) => format!("{name} {value}"),
                None => r.param.clone(),
            };
            let overridden = if r.applied { "" } else { " (your filter wins)" };
            format!("“{}” as {meaning}{overridden}", r.words)
        })
        .collect();
    (!readings.is_empty()).then(|| format!("Read {}.", readings.join(", ")))
}
