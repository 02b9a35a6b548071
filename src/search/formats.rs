//! Output formats: what a service answers with, read from the `mimeType` its challenge declares,
//! as one of a few plain words an agent asks for ("json", "csv", "image"). Indexed as a raw field
//! for the `format` filter, and the words query understanding reads ("translate to French, JSON
//! output" → `format=json`).

/// Every format, in the order documentation lists them.
pub const FORMATS: &[&str] = &["json", "csv", "xml", "html", "text", "pdf", "image", "audio", "video", "binary"];

/// The format of a declared MIME type (`application/json; charset=utf-8` → `json`), or `None`
/// when it is missing or none of [`FORMATS`].
pub fn of_mime(mime: Option<&str>) -> Option<&'static str> {
    let essence = mime?.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    let format = match (kind, subtype) {
        ("image", _) => "image",
        ("audio", _) => "audio",
        ("video", _) => "video",
        (_, "json" | "x-ndjson" | "ndjson" | "jsonl") => "json",
        (_, json) if json.ends_with("+json") => "json",
        ("text", "csv") | ("application", "csv") => "csv",
        (_, "xml") => "xml",
        (_, xml) if xml.ends_with("+xml") => "xml",
        ("text", "html") | ("application", "xhtml+xml") => "html",
        ("text", "plain" | "markdown") => "text",
        ("application", "pdf") => "pdf",
        ("application", "octet-stream") => "binary",
        _ => return None,
    };
    Some(format)
}

/// The format a query word names, if any: the format itself, or a common file type of it.
pub fn of_word(word: &str) -> Option<&'static str> {
    let format = match word {
        "json" | "jsonl" | "ndjson" => "json",
        "csv" => "csv",
        "xml" => "xml",
        "html" => "html",
        "pdf" => "pdf",
        "image" | "images" | "png" | "jpeg" | "jpg" | "webp" => "image",
        "audio" | "mp3" | "wav" => "audio",
        "video" | "mp4" => "video",
        _ => return None,
    };
    Some(format)
}

/// Words before a format that make it one ("as json", "returns csv").
const LEADS: &[&str] = &["as", "returns", "returning", "return", "outputs", "output", "outputting", "in"];
/// Words after a format that make it one ("json output", "csv format").
const TAILS: &[&str] = &["output", "outputs", "format", "formatted", "response", "responses", "results"];

/// A format phrase at the start of `words` (analyzed, lower-case): the words it spans and the
/// format. `used_in_text(word)` says whether a service's name, tags or description holds it: a
/// format word alone is read only when none does ("JSON Formatter" keeps its name).
pub fn phrase(words: &[String], used_in_text: &dyn Fn(&str) -> bool) -> Option<(usize, &'static str)> {
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let tail = |i: usize| usize::from(TAILS.contains(&word(i)));
    if LEADS.contains(&word(0))
        && let Some(format) = of_word(word(1))
        // "in image" or "in audio" is not how anyone asks for a format.
        && (word(0) != "in" || read_alone(format) || matches!(format, "html" | "pdf"))
    {
        return Some((2 + tail(2), format));
    }
    let format = of_word(word(0))?;
    if tail(1) == 1 {
        return Some((2, format));
    }
    (read_alone(format) && !used_in_text(word(0))).then_some((1, format))
}

/// Formats whose name alone, unused by any service's text, reads as the format: a bare "image" or
/// "audio" asks for image or audio *services* far more often than for an output type.
pub fn read_alone(format: &str) -> bool {
    matches!(format, "json" | "csv" | "xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_name_formats_and_words_services_use_stay_text() {
        let read = |q: &str, used: &[&str]| {
            let words: Vec<String> = q.split(' ').map(String::from).collect();
            phrase(&words, &|w| used.contains(&w))
        };
        assert_eq!(read("json output", &["json"]), Some((2, "json")), "a phrase is read always");
        assert_eq!(read("as csv", &[]), Some((2, "csv")));
        assert_eq!(read("returns json results", &[]), Some((3, "json")));
        assert_eq!(read("png format", &[]), Some((2, "image")));
        assert_eq!(read("in pdf", &[]), Some((2, "pdf")));
        assert_eq!(read("json", &[]), Some((1, "json")));
        // A service called "JSON Formatter": the word is its name.
        assert_eq!(read("json formatter", &["json"]), None);
        // "image" or "audio" alone names a kind of service, not an output.
        assert_eq!(read("image resize", &[]), None);
        assert_eq!(read("audio", &[]), None);
        assert_eq!(read("in image", &[]), None);
        assert_eq!(read("as", &[]), None);
    }

    #[test]
    fn mime_types_become_formats() {
        for (mime, format) in [
            ("application/json", "json"),
            ("application/json; charset=utf-8", "json"),
            ("application/problem+json", "json"),
            ("TEXT/CSV", "csv"),
            ("image/png", "image"),
            ("image/svg+xml", "image"),
            ("audio/mpeg", "audio"),
            ("text/html", "html"),
            ("text/plain", "text"),
            ("application/pdf", "pdf"),
            ("application/xml", "xml"),
        ] {
            assert_eq!(of_mime(Some(mime)), Some(format), "{mime}");
        }
        for mime in [None, Some(""), Some("json"), Some("application/x-unknown"), Some("/")] {
            assert_eq!(of_mime(mime), None, "{mime:?}");
        }
        assert!(FORMATS.iter().all(|f| of_word(f).is_none_or(|w| w == *f)));
    }
}
