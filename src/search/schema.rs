//! The index schema: which fields exist, how text is analyzed, and how a stored service becomes a
//! document. Bump [`SCHEMA_VERSION`] whenever any of it changes: an index built with another
//! version is rebuilt from SQLite on start.

use super::facts::StoredFacts;
use crate::db::search_feed::FeedService;
use crate::db::services::ServiceRow;
use agora_crawler::Offer;
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, TantivyDocument, Term};

/// Version of the schema, the analyzer and the stored facts format.
pub const SCHEMA_VERSION: u32 = 6;

/// The analyzer of every text field and of query text.
pub const ANALYZER: &str = "agora";

/// Words longer than this (bytes) are dropped; addresses (≤ 64) still fit.
const MAX_TOKEN_BYTES: usize = 64;

/// Split on anything not alphanumeric, lower-case, fold accents: `Météo-API` → `meteo`, `api`.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Every field, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The service id (indexed for deletes).
    pub id: Field,
    pub name: Field,
    pub tags: Field,
    pub description: Field,
    /// Field names and descriptions of the input/output schema.
    pub schema: Field,
    /// URL (host and path words).
    pub url: Field,
    /// Networks (CAIP-2 and v1 names), asset symbols and addresses, schemes, payTo addresses.
    pub offers: Field,
    /// Everything above in one field: the target of the fuzzy and prefix queries, which score a
    /// constant and so need no per-field boost.
    pub all: Field,
    /// `listed` or `degraded` (raw).
    pub status: Field,
    /// The host, lower-case (raw).
    pub host: Field,
    /// `true` when the listing has a trusted input/output schema (raw).
    pub has_schema: Field,
    /// `http` or `mcp` (raw).
    pub service_type: Field,
    /// The output format its `mimeType` declares (`formats`; raw, absent when none).
    pub format: Field,
    /// Ids of the sources listing it (raw, one value each).
    pub sources: Field,
    /// `true` when someone proved control of it (`db::claims`; raw).
    pub verified: Field,
    /// [`StoredFacts`] as JSON: what filters, facets and sorting read (see `facts`).
    pub facts: Field,
}

/// Names of the boosted text fields, in [`boosted_text_fields`] order (as hits report them).
pub const FIELD_NAMES: [&str; 6] = ["name", "tags", "description", "schema", "url", "offers"];

/// The text fields a free-text term is matched against, with their boosts (name > tags >
/// description > schema > URL).
pub fn boosted_text_fields(fields: &Fields) -> [(Field, f32); 6] {
    [
        (fields.name, 5.0),
        (fields.tags, 3.0),
        (fields.description, 2.0),
        (fields.schema, 1.5),
        (fields.url, 1.0),
        (fields.offers, 1.0),
    ]
}

pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |record| {
        TextOptions::default()
            .set_indexing_options(TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(record))
    };
    let fields = Fields {
        id: builder.add_i64_field("id", INDEXED),
        name: builder.add_text_field("name", text(IndexRecordOption::WithFreqs)),
        tags: builder.add_text_field("tags", text(IndexRecordOption::WithFreqs)),
        description: builder.add_text_field("description", text(IndexRecordOption::WithFreqs)),
        schema: builder.add_text_field("schema", text(IndexRecordOption::WithFreqs)),
        url: builder.add_text_field("url", text(IndexRecordOption::WithFreqs)),
        offers: builder.add_text_field("offers", text(IndexRecordOption::WithFreqs)),
        all: builder.add_text_field("all", text(IndexRecordOption::Basic)),
        status: builder.add_text_field("status", STRING),
        host: builder.add_text_field("host", STRING),
        has_schema: builder.add_text_field("has_schema", STRING),
        service_type: builder.add_text_field("service_type", STRING),
        sources: builder.add_text_field("sources", STRING),
        verified: builder.add_text_field("verified", STRING),
        format: builder.add_text_field("format", STRING),
        facts: builder.add_text_field("facts", STORED),
    };
    (builder.build(), fields)
}

/// Registers [`ANALYZER`] on an opened or created index.
pub fn register_analyzer(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// The term that identifies a service's document (for deletes).
pub fn id_term(fields: &Fields, id: i64) -> Term {
    Term::from_field_i64(fields.id, id)
}

/// The text of each boosted field, in [`boosted_text_fields`] order (what is indexed, and what
/// a hit's `matched` is computed from).
pub fn field_texts(service: &ServiceRow, offers: &[Offer]) -> [Vec<String>; 6] {
    let optional = |text: &Option<String>| text.iter().cloned().collect::<Vec<_>>();
    [
        optional(&service.name),
        service.tags.clone(),
        optional(&service.description),
        optional(&service.schema_text),
        vec![service.url.clone()],
        vec![offer_text(offers)],
    ]
}

/// The document of a searchable service.
pub fn document(fields: &Fields, feed: &FeedService) -> TantivyDocument {
    let service = &feed.service;
    let mut doc = TantivyDocument::new();
    doc.add_i64(fields.id, service.id);
    let texts = field_texts(service, &feed.offers);
    for ((field, _), values) in boosted_text_fields(fields).into_iter().zip(&texts) {
        for text in values.iter().filter(|t| !t.is_empty()) {
            doc.add_text(field, text);
            doc.add_text(fields.all, text);
        }
    }
    doc.add_text(fields.status, service.status.as_str());
    doc.add_text(fields.host, service.host.to_ascii_lowercase());
    doc.add_text(fields.has_schema, if service.has_schema { "true" } else { "false" });
    doc.add_text(fields.service_type, &service.service_type);
    if let Some(format) = super::formats::of_mime(service.mime_type.as_deref()) {
        doc.add_text(fields.format, format);
    }
    for source in &feed.sources {
        doc.add_text(fields.sources, source.to_string());
    }
    doc.add_text(fields.verified, if feed.verified { "true" } else { "false" });
    doc.add_text(fields.facts, StoredFacts::of(feed).to_json());
    doc
}

/// The searchable words of a service's offers.
fn offer_text(offers: &[Offer]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for offer in offers {
        for word in [Some(offer.network.as_str()), offer.network_v1.as_deref(), offer.asset_symbol.as_deref()]
            .into_iter()
            .flatten()
            .chain([offer.asset.as_str(), offer.scheme.as_str(), offer.pay_to.as_str()])
        {
            if !words.contains(&word) {
                words.push(word);
            }
        }
    }
    words.join(" ")
}
