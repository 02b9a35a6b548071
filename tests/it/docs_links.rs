//! The README and `docs/` stand alone: every relative link resolves to a file inside the
//! repository (a clone has nothing beside it), and no page points outside it by path.

use std::path::{Path, PathBuf};

/// The targets of the Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].trim().to_string());
        }
    }
    targets
}

fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/");
    pages.extend(docs.map(|e| e.expect("entry").path()).filter(|p| p.extension().is_some_and(|e| e == "md")));
    pages
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().expect("repository root");
    let mut checked = 0;
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).expect("a page");
        assert!(!text.contains("../shared"), "{} points outside the repository (../shared)", page.display());
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            let resolved = page.parent().expect("a folder").join(path);
            let found = resolved.canonicalize().unwrap_or_else(|_| panic!("{}: dead link {target}", page.display()));
            assert!(found.starts_with(&root), "{}: {target} leaves the repository", page.display());
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} links found: is the link reader broken?");
}
