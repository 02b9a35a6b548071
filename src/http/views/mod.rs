//! The JSON answers' shapes (`shared/INTERFACES.md` "HTTP", the OpenAPI schemas): views built from
//! the catalog's values, so the store's rows and the index's results can change without an answer
//! changing. Values whose JSON is their documented form as they are (offers, facets, history
//! records, probe reports) are serialized as they are. [`words`]: how catalog facts read as text (a
//! price, networks, "3 h ago"), for the pages and the MCP tools' compact answers alike.

pub mod detail;
pub mod search;
pub mod service;
pub mod words;

pub use detail::{ServiceDetail, UptimeFigure, UptimeWindows};
pub use search::{Hit, SearchResults};
pub use service::{ServiceView, ServiceWithReport};
