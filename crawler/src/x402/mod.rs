//! x402 wire formats and rules: decoding a 402 answer, the strict validation procedure, the pinned
//! network table and exact pricing. Pure functions of their input; no I/O.

pub mod accepts;
pub mod address;
pub mod decode;
pub mod discovery;
pub mod findings;
pub mod limits;
pub mod networks;
pub mod price;
pub mod schema_text;
pub mod shape;
pub mod validate;
