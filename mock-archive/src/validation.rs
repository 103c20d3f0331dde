//! The validation service (DESIGN §3.7): Kanta's test validation service's public shape,
//! answered by the same checks as the archive ([`crate::validate`]) with nothing stored.
//!
//! `POST /shark-validointi/validoi/asiakirja/tulos` with JSON `{"messageId", "palveluPyynto",
//! "level", "siirtokehysXml", "asiakirjaXml"}`:
//! - a valid message: HTTP 200 with an empty body;
//! - problems: HTTP 400 `{"description": "1: <problem>; 2: <problem>"}`, each problem in Finnish,
//!   starting with our stable code and naming its location \[conv: the status code; the public
//!   client treats any non-empty answer as problems\];
//! - a request that is not such JSON (bad JSON, a missing field, an unknown service request
//!   code, too large): HTTP 400 `{"description": "<what is wrong>"}`.
//!
//! `level` is accepted whatever its value \[conv: the public client always sends `"1"`; we
//! run every check at every level\]. `messageId` must be present and is not remembered.
//!
//! Served on its own plain-HTTP listener (`--validation-listen`, loopback by default) and on
//! the mutual-TLS message listener. The plain-HTTP listener's connections are accepted by the
//! archive's one accept loop, under the same connection cap and deadlines as the others, and
//! a body is read like the others: a `Content-Length` over the limit is refused before a byte
//! is read, and a body must keep up the minimum rate.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;

use crate::format::codes;
use crate::pipeline::Pipeline;
use crate::shared::Shared;
use crate::validate;

/// The path of the validation service.
pub const PATH: &str = "/shark-validointi/validoi/asiakirja/tulos";

/// The largest request accepted, in bytes (two XML texts of up to 8 MiB each, JSON-escaped).
pub const MAX_REQUEST_BYTES: usize = 20 * 1024 * 1024;

/// The service request codes (`palveluPyynto`) this archive knows: both seen in public
/// material (`SP1` for a client relationship document, `SP17` "Asiakasasiakirjan arkistointi").
pub const SERVICE_REQUESTS: &[&str] = &[
    codes::SERVICE_REQUEST_SP1.code,
    codes::SERVICE_REQUEST_SP17.code,
];

/// The request body, as the public client sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationRequest {
    message_id: String,
    palvelu_pyynto: String,
    /// Accepted whatever its value (see the module documentation).
    #[allow(dead_code)]
    level: serde_json::Value,
    siirtokehys_xml: String,
    asiakirja_xml: String,
}

/// What to answer: a status and a body (empty for a valid message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationAnswer {
    /// HTTP status.
    pub status: u16,
    /// The body: empty, or JSON `{"description": …}`.
    pub body: Vec<u8>,
}

impl ValidationAnswer {
    fn description(text: &str) -> Self {
        Self {
            status: 400,
            body: serde_json::to_vec(&serde_json::json!({ "description": text }))
                .unwrap_or_default(),
        }
    }
}

/// Answers one validation request body. Pure apart from the CPU: nothing is stored.
pub fn answer(pipeline: &Pipeline, body: &[u8]) -> ValidationAnswer {
    if body.len() > MAX_REQUEST_BYTES {
        return ValidationAnswer::description(&format!(
            "Pyyntö on liian suuri: yli {MAX_REQUEST_BYTES} tavua (the request is larger than {MAX_REQUEST_BYTES} bytes)"
        ));
    }
    let request: ValidationRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(err) => {
            return ValidationAnswer::description(&format!(
                "Pyyntö ei ole odotettua JSONia (the request is not the expected JSON): {err}"
            ));
        }
    };
    if request.message_id.trim().is_empty() {
        return ValidationAnswer::description("messageId on tyhjä (messageId is empty)");
    }
    if !SERVICE_REQUESTS.contains(&request.palvelu_pyynto.as_str()) {
        return ValidationAnswer::description(&format!(
            "Tuntematon palvelupyyntö {:?}; tunnetut: {} (unknown service request code)",
            request.palvelu_pyynto,
            SERVICE_REQUESTS.join(", ")
        ));
    }
    let details = pipeline.validate_parts(
        request.siirtokehys_xml.as_bytes(),
        request.asiakirja_xml.as_bytes(),
    );
    if details.is_empty() {
        ValidationAnswer {
            status: 200,
            body: Vec::new(),
        }
    } else {
        ValidationAnswer::description(&validate::description(&details))
    }
}

/// Answers a validation request arriving on either listener.
pub(crate) async fn route(req: Request<Incoming>, shared: &Arc<Shared>) -> Response<Full<Bytes>> {
    if req.method() != Method::POST {
        return to_response(ValidationAnswer {
            status: 405,
            body: serde_json::to_vec(&serde_json::json!({
                "description": format!("käytä POST {PATH} (use POST {PATH})")
            }))
            .unwrap_or_default(),
        });
    }
    let body = match crate::http::read_body(req.into_body(), MAX_REQUEST_BYTES, shared).await {
        Ok(body) => body,
        Err(err) => {
            // The rest of the body may still be on its way: the connection closes after this.
            let (status, text) = match err {
                crate::http::BodyError::TooLarge(_) => (
                    400,
                    format!(
                        "Pyyntö on liian suuri: yli {MAX_REQUEST_BYTES} tavua (the request is larger than {MAX_REQUEST_BYTES} bytes)"
                    ),
                ),
                crate::http::BodyError::TooSlow(rate) => (
                    err.status().as_u16(),
                    format!(
                        "Pyyntö saapuu liian hitaasti: alle {rate} tavua sekunnissa (the request arrives slower than {rate} bytes per second)"
                    ),
                ),
                crate::http::BodyError::Broken(_) => (
                    400,
                    format!("Pyyntöä ei voitu lukea (the request could not be read): {err}"),
                ),
            };
            let mut resp = to_response(ValidationAnswer {
                status,
                ..ValidationAnswer::description(&text)
            });
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    // The same checks as a message's: on the bounded CPU pool, off the async workers.
    let job_shared = shared.clone();
    let answer = shared
        .pipeline
        .pool()
        .run(move || answer(&job_shared.pipeline, &body))
        .await;
    to_response(answer)
}

fn to_response(answer: ValidationAnswer) -> Response<Full<Bytes>> {
    let empty = answer.body.is_empty();
    let mut resp = Response::new(Full::new(Bytes::from(answer.body)));
    *resp.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !empty {
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    resp
}
