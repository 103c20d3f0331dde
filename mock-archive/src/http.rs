//! HTTP for both listeners: hyper's HTTP/1.1 server on one TLS connection. The message
//! listener routes `GET /health`, the inspection API and `POST <message path>`; the archivist
//! view's listener hands plain [`crate::view::Request`]s to the view and adds its security
//! headers to every answer. This is the only module that touches hyper.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::pipeline::{self, Incoming as Message};
use crate::server::Shared;
use crate::tls::TlsPeer;
use crate::{inspect, view};

/// Serves one connection until the peer closes it or shutdown is requested.
pub(crate) async fn serve_connection<S>(
    io: S,
    peer: TlsPeer,
    shared: Arc<Shared>,
    graceful: Watcher,
) -> Result<(), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let peer = Arc::new(peer);
    let service = hyper::service::service_fn(move |req| {
        let peer = peer.clone();
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(route(req, &peer, &shared).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    graceful.watch(conn).await
}

/// Serves one connection of the archivist view's listener.
pub(crate) async fn serve_view_connection<S>(
    io: S,
    shared: Arc<Shared>,
    graceful: Watcher,
) -> Result<(), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(view_route(req, shared).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    graceful.watch(conn).await
}

async fn view_route(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut request = view::Request {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        cookie: header(hyper::header::COOKIE),
        content_type: header(CONTENT_TYPE),
        host: header(hyper::header::HOST),
        origin: header(hyper::header::ORIGIN),
        body: Vec::new(),
    };
    let answer = match Limited::new(req.into_body(), view::MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => {
            request.body = collected.to_bytes().to_vec();
            tokio::task::spawn_blocking(move || match &shared.view {
                Some(view) => view.handle(&shared.pipeline, &request),
                None => view::Response {
                    status: 404,
                    content_type: "text/plain; charset=utf-8",
                    headers: Vec::new(),
                    body: b"the archivist view is off\n".to_vec(),
                },
            })
            .await
            .unwrap_or_else(|e| view::Response {
                status: 500,
                content_type: "text/plain; charset=utf-8",
                headers: Vec::new(),
                body: format!("the archivist view failed: {e}\n").into_bytes(),
            })
        }
        Err(_) => view::Response {
            status: 413,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: format!(
                "request body larger than {} bytes or unreadable\n",
                view::MAX_FORM_BYTES
            )
            .into_bytes(),
        },
    };
    let mut resp = response(
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        answer.content_type,
        answer.body,
    );
    let headers = resp.headers_mut();
    for (name, value) in view::Response::security_headers() {
        headers.insert(name, HeaderValue::from_static(value));
    }
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    resp
}

/// The benchmark baseline's fixed answer.
const BASELINE_BODY: &[u8] = b"{\"status\":\"ok\"}";

async fn route(
    req: Request<Incoming>,
    peer: &TlsPeer,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    if shared.config.bare_baseline {
        // Drain the body so keep-alive works, answer the same bytes to everything.
        let _ = req.into_body().collect().await;
        return response(StatusCode::OK, "application/json", BASELINE_BODY.to_vec());
    }
    let path = req.uri().path();
    if path == "/health" {
        return match *req.method() {
            Method::GET | Method::HEAD => health(peer, shared),
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "use GET /health\n"),
        };
    }
    if path == crate::validation::PATH {
        return crate::validation::route(req, shared).await;
    }
    if path.starts_with(inspect::PREFIX) {
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path = path.to_owned();
        let method = req.method().as_str().to_owned();
        let body = match Limited::new(req.into_body(), inspect::MAX_CHECKLIST_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                let message = format!(
                    "{path}: request body larger than {} bytes or unreadable",
                    inspect::MAX_CHECKLIST_BYTES
                );
                return response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "application/json",
                    serde_json::to_vec(&serde_json::json!({ "error": message }))
                        .unwrap_or_default(),
                );
            }
        };
        let shared = shared.clone();
        let (status, json) = tokio::task::spawn_blocking(move || {
            inspect::answer_request(
                &shared.pipeline,
                &method,
                authorization.as_deref(),
                &path,
                &body,
            )
        })
        .await
        .unwrap_or_else(|e| (500, serde_json::json!({ "error": e.to_string() })));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return response(
            status,
            "application/json",
            serde_json::to_vec(&json).unwrap_or_default(),
        );
    }
    if path == shared.config.message_path {
        if req.method() != Method::POST {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("messages are POSTed to {path}\n"),
            );
        }
        let parts_content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = shared.config.max_body_bytes;
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/xml; charset=utf-8",
                    pipeline::soap_fault(
                        "soap:Client",
                        &format!("request body larger than {limit} bytes or unreadable"),
                    ),
                );
            }
        };
        let incoming = Message {
            content_type: parts_content_type,
            body,
            tls_organisation: peer.cert.as_ref().and_then(|c| c.organisation_oid.clone()),
            received_at: time::OffsetDateTime::now_utc(),
        };
        let answer = shared.pipeline.handle(incoming).await;
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return response(status, answer.content_type, answer.body);
    }
    text(StatusCode::NOT_FOUND, &format!("no such path: {path}\n"))
}

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    service: &'static str,
    version: &'static str,
    client: HealthClient<'a>,
    tls: HealthTls<'a>,
}

#[derive(Serialize)]
struct HealthClient<'a> {
    organisation_oid: Option<&'a str>,
    organisation: Option<&'a str>,
    common_name: Option<&'a str>,
    subject: Option<&'a str>,
}

#[derive(Serialize)]
struct HealthTls<'a> {
    version: &'a str,
    cipher: &'a str,
}

fn health(peer: &TlsPeer, _shared: &Shared) -> Response<Full<Bytes>> {
    let cert = peer.cert.as_ref();
    let body = Health {
        status: "ok",
        service: "kantakoe mock-archive",
        version: env!("CARGO_PKG_VERSION"),
        client: HealthClient {
            organisation_oid: cert.and_then(|c| c.organisation_oid.as_deref()),
            organisation: cert.and_then(|c| c.organisation.as_deref()),
            common_name: cert.and_then(|c| c.common_name.as_deref()),
            subject: cert.map(|c| c.subject.as_str()),
        },
        tls: HealthTls {
            version: &peer.version,
            cipher: &peer.cipher,
        },
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    response(StatusCode::OK, "application/json", json)
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    response(
        status,
        "text/plain; charset=utf-8",
        body.as_bytes().to_vec(),
    )
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
