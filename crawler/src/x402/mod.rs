//! x402 wire formats and rules: decoding a 402 answer, the strict validation procedure, the pinned
//! network table and exact pricing. Pure functions of their input; no I/O.

pub mod accepts;
pub mod address;
pub mod decode;
pub mod discovery;
pub mod fiat;
pub mod findings;
pub mod flow;
pub mod limits;
pub mod neighbours;
pub mod networks;
pub mod price;
pub mod resource;
pub mod resource_meta;
pub mod schema_text;
pub mod scheme_extra;
pub mod shape;
pub mod validate;
