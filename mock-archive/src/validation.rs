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
//! the mutual-TLS message listener.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::format::codes;
use crate::pipeline::Pipeline;
use crate::shared::Shared;
use crate::validate;

/// The path of the validation service.
pub const PATH: &str = "/shark-validointi/validoi/asiakirja/tulos";

/// The largest request accepted, in bytes (two XML texts of up to 8 MiB each, JSON-escaped).
pub const MAX_REQUEST_BYTES: usize = 20 * 1024 * 1024;

/// The service request codes (`palveluPyynto`) this archive knows.
pub const SERVICE_REQUESTS: &[&str] = &[codes::SERVICE_REQUEST_SP1.code];

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
    let body = match Limited::new(req.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return to_response(ValidationAnswer::description(&format!(
                "Pyyntö on liian suuri tai sitä ei voitu lukea: yli {MAX_REQUEST_BYTES} tavua (the request is larger than {MAX_REQUEST_BYTES} bytes or unreadable)"
            )));
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

/// The plain-HTTP validation listener's accept loop, until `stop` turns true. Serves only
/// [`PATH`]; everything else is a 404.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    graceful: &GracefulShutdown,
) {
    loop {
        let (tcp, _remote): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!("validation accept failed: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|stop| *stop).await; } => break,
        };
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let shared = shared.clone();
            async move {
                let resp = if req.uri().path() == PATH {
                    route(req, &shared).await
                } else {
                    let path = req.uri().path().to_owned();
                    let mut r = Response::new(Full::new(Bytes::from(format!(
                        "no such path: {path} (the validation service is at {PATH})\n"
                    ))));
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    r
                };
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!("validation connection ended: {err}");
            }
        });
    }
}
