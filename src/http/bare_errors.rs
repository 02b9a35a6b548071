//! Every error Agora answers is a problem document (or, for a browser, the site's error page):
//! this layer catches the errors that framework parts write in their own words — an extractor's
//! plain-text rejection (an oversized form: 413), the API docs' empty 404 for a missing file —
//! and rewrites them as problems with the same status and headers, keeping a short plain-text
//! reason as the detail. Not on `/mcp`, whose errors belong to the MCP protocol.

use super::problem::{Problem, ProblemDetail};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest framework text kept as a problem's detail.
const MAX_DETAIL_BYTES: usize = 512;

pub async fn bare_errors_as_problems(request: Request, next: Next) -> Response {
    // MCP answers its own errors in its own protocol (JSON-RPC, or the SDK's reasons): an MCP
    // client reads those, not problem documents. Agora's own refusals there are problems already.
    let mcp = request.uri().path().starts_with("/mcp");
    let response = next.run(request).await;
    if mcp {
        return response;
    }
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error || response.extensions().get::<ProblemDetail>().is_some() || is_page(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A compressed body (the compression layer sits inside this one) is not read as text.
    let encoded = parts.headers.remove(header::CONTENT_ENCODING).is_some();
    let plain = !encoded
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/plain"));
    let text = match axum::body::to_bytes(body, MAX_DETAIL_BYTES).await {
        Ok(bytes) if plain => String::from_utf8(bytes.to_vec()).unwrap_or_default(),
        _ => String::new(),
    };
    let detail = if text.trim().is_empty() { default_detail(status) } else { text.trim().to_string() };
    let mut problem = Problem::new(status, code_for(status), status.canonical_reason().unwrap_or("Error"), detail);
    problem.retry_after = parts.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok());
    let mut answer = problem.into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &parts.headers {
        answer.headers_mut().entry(name).or_insert_with(|| value.clone());
    }
    answer
}

fn is_page(response: &Response) -> bool {
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    content_type.is_some_and(|t| t.starts_with("text/html"))
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY => {
            "invalid_body"
        }
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => "timeout",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

fn default_detail(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Nothing at this address.".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_string(),
        other => format!("The request could not be served ({}).", other.canonical_reason().unwrap_or("error")),
    }
}

#[cfg(test)]
mod tests {
    use super::bare_errors_as_problems;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn framework_errors_become_problems_with_their_status_and_headers() {
        let app = Router::new()
            .route("/empty", get(|| async { StatusCode::NOT_FOUND }))
            .route(
                "/text",
                get(|| async {
                    (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], "length limit exceeded")
                }),
            )
            .route("/ok", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(bare_errors_as_problems));
        let call = |path: &'static str| {
            let app = app.clone();
            async move {
                let response =
                    app.oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("infallible");
                let status = response.status();
                let headers = response.headers().clone();
                let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
                (status, headers, String::from_utf8(body.to_vec()).expect("utf-8"))
            }
        };
        let (status, headers, body) = call("/empty").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!((json["code"].as_str(), json["status"].as_u64()), (Some("not_found"), Some(404)));

        let (status, headers, body) = call("/text").await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(headers[header::CONNECTION], "close", "the original headers are kept");
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(json["code"], "invalid_body");
        assert_eq!(json["detail"], "length limit exceeded");

        let (status, _, body) = call("/ok").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
    }
}
