//! The OpenAPI 3.1 document (`GET /openapi.json`), generated from the handlers' `#[utoipa::path]`
//! annotations and the answer types' `ToSchema` derives, and the Swagger UI over it at `/docs`
//! (its assets are compiled in, so it works offline).
//!
//! The problem answers every operation can give (400, 404, 429, 503, ...) are added here, in
//! one place, rather than repeated on each handler.

use super::api::{admin, changes, claims, demand, detail, export, owner, recrawl, register, search, sources};
use super::{discovery, health};
use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::{ContentBuilder, HttpMethod, OpenApi as Document, Ref, RefOr, ResponseBuilder, path::Operation};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Agora",
        description = "An open discovery catalog for x402 paid APIs: search the catalog, register endpoints, \
                       follow changes. Free, no key. Errors are RFC 9457 problem details with a stable `code`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        search::services,
        detail::service,
        register::create,
        register::lookup,
        recrawl::recrawl,
        changes::changes,
        demand::demand,
        export::export,
        discovery::resources,
        discovery::search_resources,
        health::healthz,
        sources::create,
        sources::list,
        sources::one,
        claims::challenge,
        claims::prove,
        owner::overview,
        owner::recrawl,
        owner::delist,
        owner::relist,
        owner::pin,
        owner::rotate,
        owner::revoke,
        admin::hide,
        admin::unhide,
        admin::blocks,
        admin::block,
        admin::unblock,
        admin::audit,
    ),
    components(schemas(super::problem::Wire)),
    tags(
        (name = "catalog", description = "Search and read the catalog"),
        (name = "sellers", description = "Register endpoints and see why they are (not) listed"),
        (name = "bazaar", description = "The x402 Bazaar discovery API, for the official SDK clients"),
        (name = "owners", description = "Prove control of a service and manage its listing (docs/OWNERSHIP.md)"),
        (name = "operators", description = "Moderate the catalog (operator token)"),
        (name = "operations", description = "Health"),
    )
)]
struct ApiDoc;

/// The whole document, problem answers included.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                add_problems(path, method, operation);
            }
        }
    }
    doc
}

/// `GET /openapi.json` and the Swagger UI at `/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", document()))
}

fn add_problems(path: &str, method: HttpMethod, operation: &mut Operation) {
    if path == "/healthz" {
        return add(operation, 503, "The database cannot be read");
    }
    add(operation, 400, "A parameter is malformed or unknown (`invalid_parameter`, naming `param`)");
    if path.starts_with("/api/v1/owner") || path.starts_with("/api/v1/admin") {
        add(operation, 401, "No valid token in `Authorization: Bearer …` (`unauthorized`)");
        add(operation, 403, "The owner token does not cover this service (`forbidden`)");
    }
    if path.starts_with("/api/v1/claims") {
        add(
            operation,
            422,
            "The body is not a claim (`invalid_body`), or the proof does not hold (its `code` names \
             why: `unknown_nonce`, `nonce_used`, `expired`, `wrong_domain`, `wrong_address`, \
             `message_altered`, `bad_signature`, `proof_unreachable`, `proof_mismatch`, `pay_to_not_paid`, \
             `not_registered`)",
        );
    }
    if path.contains("{id}") {
        add(operation, 404, "No service with this id (`not_found`)");
    }
    if method == HttpMethod::Post && operation.request_body.is_some() {
        add(operation, 413, "The body is larger than 16 KiB");
        add(operation, 415, "The body is not `application/json` (`invalid_body`)");
        add(
            operation,
            422,
            "The body is not a registration (`invalid_body`), or the URL is refused \
                             (`registration_refused`, with the probe's codes in `reasons`)",
        );
    }
    add(operation, 429, "Rate limited (`rate_limited`, `recrawl_too_soon`); see `Retry-After`");
    add(operation, 500, "A failure on Agora's side (`internal`), logged under the request id");
    add(operation, 503, "Shutting down (`shutting_down`) or out of time (`timeout`)");
}

fn add(operation: &mut Operation, status: u16, description: &str) {
    let content = ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("Problem")))).build();
    let response = ResponseBuilder::new().description(description).content("application/problem+json", content);
    operation.responses.responses.entry(status.to_string()).or_insert_with(|| RefOr::T(response.build()));
}
