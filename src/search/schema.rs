//! The index schema: which fields exist, how text is analyzed, and how a stored service becomes a
//! document. Bump [`SCHEMA_VERSION`] whenever any of it changes: an index built with another
//! version is rebuilt from SQLite on start.

use super::facts::StoredFacts;
use crate::db::search_feed::{FeedOffer, FeedService};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, TantivyDocument, Term};

/// Version of the schema, the analyzer and the stored facts format.
pub const SCHEMA_VERSION: u32 = 1;

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
    /// [`StoredFacts`] as JSON: what filters, facets and sorting read (see `facts`).
    pub facts: Field,
}

/// The text fields a free-text term is matched against, with their boosts (name > tags >
/// description > schema > URL).
pub fn boosted_text_fields(fields: &Fields) -> [(Field, f32, &'static str); 6] {
    [
        (fields.name, 5.0, "name"),
        (fields.tags, 3.0, "tags"),
        (fields.description, 2.0, "description"),
        (fields.schema, 1.5, "schema"),
        (fields.url, 1.0, "url"),
        (fields.offers, 1.0, "offers"),
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

/// The document of a searchable service.
pub fn document(fields: &Fields, service: &FeedService) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_i64(fields.id, service.id);
    let mut all = Vec::new();
    let mut add = |doc: &mut TantivyDocument, field: Field, text: &str| {
        if !text.is_empty() {
            doc.add_text(field, text);
            all.push(text.to_string());
        }
    };
    add(&mut doc, fields.name, service.name.as_deref().unwrap_or_default());
    for tag in &service.tags {
        add(&mut doc, fields.tags, tag);
    }
    add(&mut doc, fields.description, service.description.as_deref().unwrap_or_default());
    add(&mut doc, fields.schema, service.schema_text.as_deref().unwrap_or_default());
    add(&mut doc, fields.url, &service.url);
    add(&mut doc, fields.offers, &offer_text(&service.offers));
    for text in all {
        doc.add_text(fields.all, text);
    }
    doc.add_text(fields.status, service.status.as_str());
    doc.add_text(fields.host, service.host.to_ascii_lowercase());
    doc.add_text(fields.has_schema, if service.has_schema { "true" } else { "false" });
    doc.add_text(fields.facts, StoredFacts::of(service).to_json());
    doc
}

/// The searchable words of a service's offers.
pub fn offer_text(offers: &[FeedOffer]) -> String {
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
