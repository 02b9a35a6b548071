//! Integration tests of the `agora` product: one test binary, one module per area.

mod api;
mod bazaar;
mod bounds;
mod browser;
mod catalog;
mod cli;
mod conformance;
mod connections;
mod contract;
mod crash;
mod docs_links;
mod front_door;
mod lifecycle;
mod openapi;
mod operations;
mod peers;
mod politeness;
mod problem_params;
mod registration;
mod search;
mod search_sync;
mod serve;
mod support;
mod web;
mod web_in_browser;
mod web_snapshots;
