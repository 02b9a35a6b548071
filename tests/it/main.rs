//! Integration tests of the `agora` product: one test binary, one module per area.

mod cli;
mod conformance;
mod lifecycle;
mod peers;
mod support;
