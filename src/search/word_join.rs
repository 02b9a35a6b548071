//! A query's words joined over their matches (`word_cache`): each word's (document, score) list
//! in a segment is flat and sorted, so which documents the query matches, and their summed
//! scores, are found by walking those arrays directly — intersections for the words a match must
//! hold (those about as long as the shortest marked in a dense tally, much longer ones galloped
//! over), and one dense tally for long queries ("at least half of these words") — instead of
//! through tantivy's general boolean scorers, whose per-document virtual calls and heap of
//! scorers were most of a cached search's cost. The answer is the same: the documents
//! tantivy's `BooleanQuery` of these words would match, each scored by the sum of its words'
//! scores (summed in another order, so a score can differ in its last bit).

use super::word_cache::{CachedScorer, CachedWord, CachedWordWeight, Matches, gallop};
use std::cell::RefCell;
use std::sync::Arc;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, Score, SegmentReader};

/// How a word takes part in a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every match holds it.
    Required,
    /// Adds its score where present.
    Optional,
    /// A match holds at least `min_counted` of the counted words.
    Counted,
}

/// The words of a query, each with its role.
#[derive(Debug, Clone)]
pub struct JoinedWords {
    parts: Vec<(CachedWord, Role)>,
    min_counted: usize,
}

impl JoinedWords {
    /// With no required word, a match holds at least `min_counted` (≥ 1) of the counted ones.
    pub fn new(parts: Vec<(CachedWord, Role)>, min_counted: usize) -> JoinedWords {
        JoinedWords { parts, min_counted: min_counted.max(1) }
    }
}

impl Query for JoinedWords {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let parts = self
            .parts
            .iter()
            .map(|(word, role)| Ok((word.cached_weight(scoring)?, *role)))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(JoinedWeight { parts, min_counted: self.min_counted }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        for (word, _) in &self.parts {
            word.query_terms(visitor);
        }
    }
}

struct JoinedWeight {
    parts: Vec<(CachedWordWeight, Role)>,
    min_counted: usize,
}

impl JoinedWeight {
    fn joined(&self, reader: &SegmentReader) -> tantivy::Result<Arc<Matches>> {
        let lists = self
            .parts
            .iter()
            .map(|(weight, role)| Ok((weight.matches(reader)?, *role)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(join(&lists, self.min_counted, reader.max_doc()))
    }
}

impl Weight for JoinedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(CachedScorer::new(self.joined(reader)?, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let joined = self.joined(reader)?;
        match joined.docs.binary_search(&doc) {
            Ok(at) => Ok(Explanation::new("words (joined)", joined.scores[at])),
            Err(_) => Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match"))),
        }
    }
}

/// The documents of a segment (below `max_doc`) that `lists` match together, with summed scores.
pub fn join(lists: &[(Arc<Matches>, Role)], min_counted: usize, max_doc: DocId) -> Arc<Matches> {
    // One word the matches must hold and nothing else: its own list is the answer (a one-word
    // query of a broad word would otherwise copy tens of thousands of pairs).
    if let [(only, Role::Required)] = lists {
        return Arc::clone(only);
    }
    Arc::new(joined(lists, min_counted, max_doc))
}

fn joined(lists: &[(Arc<Matches>, Role)], min_counted: usize, max_doc: DocId) -> Matches {
    let of = |role: Role| -> Vec<&Matches> { lists.iter().filter(|(_, r)| *r == role).map(|(m, _)| &**m).collect() };
    let (mut required, mut counted, optional) = (of(Role::Required), of(Role::Counted), of(Role::Optional));
    if required.is_empty() && counted.is_empty() {
        // Only optional words: any of them (tantivy's pure disjunction).
        return tally(&optional, 1, &[], max_doc);
    }
    if required.is_empty() {
        return tally(&counted, min_counted, &optional, max_doc);
    }
    required.sort_by_key(|m| m.docs.len());
    if counted.len() > 1 {
        counted.sort_by_key(|m| m.docs.len());
    }
    let (lead, others) = required.split_first().expect("at least one required list");
    // Lists about as long as the lead are marked in a per-document tally first, so each lead
    // document is one look instead of a gallop; much longer ones are galloped over (marking
    // them would cost more than the lead's seeks into them).
    let (near, far): (Vec<&Matches>, Vec<&Matches>) =
        others.iter().partition(|m| m.docs.len() <= lead.docs.len().saturating_mul(MARK_RATIO));
    if near.is_empty() {
        return intersect(lead, &far, &counted, min_counted, &optional);
    }
    let narrowed = narrow(lead, &near, max_doc);
    intersect(&narrowed, &far, &counted, min_counted, &optional)
}

/// Required lists up to this many times the lead's length are marked in the tally
/// (`narrow`) rather than galloped over.
const MARK_RATIO: usize = 8;

/// The documents of `lead` that every one of `lists` holds, scored by all of them.
fn narrow(lead: &Matches, lists: &[&Matches], max_doc: DocId) -> Matches {
    let size = max_doc as usize;
    if let [list] = lists {
        return narrow_by_one(lead, list, size);
    }
    let all = u8::try_from(lists.len()).unwrap_or(u8::MAX);
    with_marked(lists, size, |held, scores| {
        let mut out = Matches::with_capacity(lead.docs.len());
        for (doc, score) in in_segment(lead, size) {
            if held[*doc as usize] == all {
                out.docs.push(*doc);
                out.scores.push(score + scores[*doc as usize]);
            }
        }
        out
    })
}

/// [`narrow`] by one list (a query of two broad words): its scores alone are marked, in a
/// dense array where [`ABSENT`] means "not held" — half the memory traffic of marking counts
/// and scores.
fn narrow_by_one(lead: &Matches, list: &Matches, size: usize) -> Matches {
    SCORES.with_borrow_mut(|scores| {
        if scores.len() < size {
            scores.resize(size, ABSENT);
        }
        for (doc, score) in in_segment(list, size) {
            scores[*doc as usize] = *score;
        }
        let mut out = Matches::with_capacity(lead.docs.len().min(list.docs.len()));
        for (doc, score) in in_segment(lead, size) {
            let other = scores[*doc as usize];
            if other > ABSENT {
                out.docs.push(*doc);
                out.scores.push(score + other);
            }
        }
        for (doc, _) in in_segment(list, size) {
            scores[*doc as usize] = ABSENT;
        }
        out
    })
}

/// A document the marked list does not hold (below any score a list has).
const ABSENT: Score = Score::NEG_INFINITY;

/// Documents in `lead` and every one of `others`, in at least `min_counted` of the `counted`
/// lists (when there are any), plus the `optional` lists' scores.
fn intersect(
    lead: &Matches,
    others: &[&Matches],
    counted: &[&Matches],
    min_counted: usize,
    optional: &[&Matches],
) -> Matches {
    let mut at_other = vec![0; others.len()];
    let mut at_counted = vec![0; counted.len()];
    let mut at_optional = vec![0; optional.len()];
    let mut out = Matches::with_capacity(lead.docs.len());
    let mut i = 0;
    'lead: while i < lead.docs.len() {
        let doc = lead.docs[i];
        let mut score = lead.scores[i];
        for (other, at) in others.iter().zip(&mut at_other) {
            *at = gallop(&other.docs, *at, doc);
            match other.docs.get(*at) {
                None => break 'lead,
                Some(found) if *found == doc => score += other.scores[*at],
                // Leapfrog: the lead jumps to the first document this list still has.
                Some(found) => {
                    i = gallop(&lead.docs, i, *found);
                    continue 'lead;
                }
            }
        }
        if !counted.is_empty() {
            let mut held = 0;
            for (list, at) in counted.iter().zip(&mut at_counted) {
                *at = gallop(&list.docs, *at, doc);
                if list.docs.get(*at) == Some(&doc) {
                    held += 1;
                    score += list.scores[*at];
                }
            }
            if held < min_counted {
                i += 1;
                continue;
            }
        }
        for (list, at) in optional.iter().zip(&mut at_optional) {
            *at = gallop(&list.docs, *at, doc);
            if list.docs.get(*at) == Some(&doc) {
                score += list.scores[*at];
            }
        }
        out.docs.push(doc);
        out.scores.push(score);
        i += 1;
    }
    out
}

thread_local! {
    /// Per document of a segment: words held, summed score (kept zeroed between uses).
    static TALLY: RefCell<(Vec<u8>, Vec<Score>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    /// Per document of a segment: the one marked list's score, [`ABSENT`] between uses.
    static SCORES: RefCell<Vec<Score>> = const { RefCell::new(Vec::new()) };
}

/// Adds `lists` into the per-document tally of a segment of `size` documents, lets `read` see
/// it (words held, summed scores), then sets back to zero only what the lists touched.
fn with_marked<R>(lists: &[&Matches], size: usize, read: impl FnOnce(&[u8], &[Score]) -> R) -> R {
    TALLY.with_borrow_mut(|(held, scores)| {
        if held.len() < size {
            held.resize(size, 0);
            scores.resize(size, 0.0);
        }
        for list in lists {
            for (doc, score) in in_segment(list, size) {
                let doc = *doc as usize;
                held[doc] = held[doc].saturating_add(1);
                scores[doc] += score;
            }
        }
        let answer = read(&held[..size], &scores[..size]);
        for list in lists {
            for (doc, _) in in_segment(list, size) {
                held[*doc as usize] = 0;
                scores[*doc as usize] = 0.0;
            }
        }
        answer
    })
}

/// Documents in at least `min` of the `counted` lists, scored by those lists and the `optional`
/// ones: the counted lists are added into a dense per-document tally, read back in document
/// order; the optional lists are then looked up at those documents only (a long query's optional
/// words are the common ones, "api", "the": walking their whole lists cost more than the rest).
fn tally(counted: &[&Matches], min: usize, optional: &[&Matches], max_doc: DocId) -> Matches {
    let min = u8::try_from(min).unwrap_or(u8::MAX);
    let mut out = with_marked(counted, max_doc as usize, |held, scores| {
        let mut out = Matches::default();
        for (doc, count) in held.iter().enumerate() {
            if *count >= min {
                out.docs.push(doc as DocId);
                out.scores.push(scores[doc]);
            }
        }
        out
    });
    for list in optional {
        let mut at = 0;
        for (doc, score) in out.docs.iter().zip(&mut out.scores) {
            at = gallop(&list.docs, at, *doc);
            if list.docs.get(at) == Some(doc) {
                *score += list.scores[at];
            }
        }
    }
    out
}

/// The pairs of `list` that fall inside a segment of `size` documents.
fn in_segment(list: &Matches, size: usize) -> impl Iterator<Item = (&DocId, &Score)> {
    list.docs.iter().zip(&list.scores).filter(move |(doc, _)| (**doc as usize) < size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(DocId, Score)]) -> Arc<Matches> {
        Arc::new(Matches { docs: pairs.iter().map(|p| p.0).collect(), scores: pairs.iter().map(|p| p.1).collect() })
    }

    /// What a boolean query of these lists matches, document by document (the reference).
    fn naive(lists: &[(Arc<Matches>, Role)], min_counted: usize, max_doc: DocId) -> Vec<(DocId, Score)> {
        let has_required = lists.iter().any(|(_, r)| *r == Role::Required);
        let has_counted = lists.iter().any(|(_, r)| *r == Role::Counted);
        (0..max_doc)
            .filter_map(|doc| {
                let mut score = 0.0;
                let (mut required_ok, mut counted, mut any) = (true, 0, false);
                for (list, role) in lists {
                    let at = list.docs.binary_search(&doc).ok();
                    if let Some(at) = at {
                        score += list.scores[at];
                        any = true;
                    }
                    match role {
                        Role::Required => required_ok &= at.is_some(),
                        Role::Counted => counted += usize::from(at.is_some()),
                        Role::Optional => {}
                    }
                }
                let matches = if has_required || has_counted {
                    required_ok && (!has_counted || counted >= min_counted)
                } else {
                    any
                };
                matches.then_some((doc, score))
            })
            .collect()
    }

    fn pairs(matches: &Matches) -> Vec<(DocId, Score)> {
        matches.docs.iter().copied().zip(matches.scores.iter().copied()).collect()
    }

    #[test]
    fn joins_like_a_boolean_query_of_the_words() {
        let mut rng = fastrand::Rng::with_seed(23);
        let max_doc = 2_000;
        for round in 0..300 {
            let words = 1 + rng.usize(..6);
            let lists: Vec<(Arc<Matches>, Role)> = (0..words)
                .map(|_| {
                    let density = [0.002, 0.05, 0.3, 0.9][rng.usize(..4)];
                    // Scores in quarters: sums are exact in any order.
                    let mut docs: Vec<(DocId, Score)> = Vec::new();
                    for doc in 0..max_doc {
                        if rng.f64() < density {
                            docs.push((doc, f32::from(rng.u8(1..40)) / 4.0));
                        }
                    }
                    let role = match round % 3 {
                        0 => [Role::Required, Role::Optional][rng.usize(..2)],
                        1 => [Role::Counted, Role::Optional][rng.usize(..2)],
                        _ => [Role::Required, Role::Counted, Role::Optional][rng.usize(..3)],
                    };
                    (list(&docs), role)
                })
                .collect();
            let min = 1 + rng.usize(..3);
            assert_eq!(pairs(&join(&lists, min, max_doc)), naive(&lists, min, max_doc), "round {round}");
        }
    }

    #[test]
    fn the_tally_is_left_clean_and_ignores_documents_beyond_the_segment() {
        let a = list(&[(1, 1.0), (5, 1.0), (9, 1.0)]);
        let b = list(&[(5, 2.0), (9, 2.0), (70, 2.0)]);
        let counted = [(Arc::clone(&a), Role::Counted), (Arc::clone(&b), Role::Counted)];
        assert_eq!(pairs(&join(&counted, 2, 10)), [(5, 3.0), (9, 3.0)]);
        // Nothing left over from the first tally.
        assert_eq!(pairs(&join(&counted, 1, 10)), [(1, 1.0), (5, 3.0), (9, 3.0)]);
        let alone = join(&[(Arc::clone(&b), Role::Required)], 1, 100);
        assert_eq!(pairs(&alone), [(5, 2.0), (9, 2.0), (70, 2.0)]);
        assert!(Arc::ptr_eq(&alone, &b), "one required word alone is its own list, not a copy");
        // Two required words of about one length: one marked by its scores, then cleared.
        let required = [(Arc::clone(&a), Role::Required), (Arc::clone(&b), Role::Required)];
        assert_eq!(pairs(&join(&required, 1, 10)), [(5, 3.0), (9, 3.0)]);
        let c = list(&[(1, 4.0), (9, 4.0)]);
        let required = [(Arc::clone(&c), Role::Required), (Arc::clone(&a), Role::Required)];
        assert_eq!(pairs(&join(&required, 1, 10)), [(1, 5.0), (9, 5.0)], "nothing left of b's marks");
        SCORES.with_borrow(|scores| assert!(scores.iter().all(|s| *s == ABSENT)));
    }
}
