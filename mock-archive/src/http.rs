//! HTTP for both listeners: hyper's HTTP/1.1 server on one TLS connection ([`serve`]). The
//! message listener routes `GET /health`, the inspection API and `POST <message path>`; the
//! archivist view's listener hands plain [`crate::view::Request`]s to the view and adds its
//! security headers to every answer. Every request body is read under a size limit (a
//! `Content-Length` over it is refused before reading) and a minimum rate. This is the only
//! module that touches hyper.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::conn::{Phase, Slot, Tracked};
use crate::pipeline::{self, Incoming as Message};
use crate::shared::Shared;
use crate::tls::TlsPeer;
use crate::{inspect, view};

/// Which listener a connection came in on, with what its TLS handshake established.
#[derive(Debug)]
pub(crate) enum Listener {
    /// The message listener: the client certificate's peer.
    Messages(Box<TlsPeer>),
    /// The archivist view's listener.
    View,
    /// The validation service's plain-HTTP listener (no TLS).
    Validation,
}

/// Serves one connection of either listener until the peer closes it, shutdown is requested,
/// or its owner drops it (a deadline passed). Tells `slot` when a request is being served and
/// when its answer is done, so the deadlines of [`crate::conn`] apply between requests.
pub(crate) async fn serve<S>(
    io: S,
    remote: SocketAddr,
    listener: Listener,
    slot: Arc<Slot>,
    shared: Arc<Shared>,
    graceful: Watcher,
) -> Result<(), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    slot.enter(Phase::Idle);
    let listener = Arc::new(listener);
    let io = Tracked::new(io, slot.clone());
    let service = hyper::service::service_fn(move |req| {
        let busy = Busy::enter(slot.clone());
        let slot = slot.clone();
        let listener = listener.clone();
        let shared = shared.clone();
        async move {
            let response = match &*listener {
                Listener::Messages(peer) => route(req, peer, &shared, &slot).await,
                Listener::View => view_route(req, remote, shared).await,
                Listener::Validation => validation_route(req, &shared).await,
            };
            let cut = response.extensions().get::<Cut>().is_some();
            Ok::<_, Infallible>(response.map(|body| Answer {
                body,
                cut,
                _busy: busy,
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    graceful.watch(conn).await
}

/// A request being served: the connection is busy until the answer's body is done.
struct Busy(Arc<Slot>);

impl Busy {
    fn enter(slot: Arc<Slot>) -> Self {
        slot.enter(Phase::Busy);
        Self(slot)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.enter(Phase::Idle);
    }
}

/// An answer's body, holding the connection busy until hyper is done with it.
struct Answer {
    body: Full<Bytes>,
    /// A `reset` fault: the body is shorter than its `Content-Length` header, so hyper closes
    /// the connection mid-answer (its size is then not known to hyper).
    cut: bool,
    _busy: Busy,
}

/// Marks a response whose body a `reset` fault cut ([`crate::fault`]).
#[derive(Debug, Clone, Copy)]
struct Cut;

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.cut {
            return SizeHint::default();
        }
        self.body.size_hint()
    }
}

/// The validation listener serves only the validation service.
async fn validation_route(req: Request<Incoming>, shared: &Arc<Shared>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path == crate::validation::PATH {
        return crate::validation::route(req, shared).await;
    }
    let message = format!(
        "no such path: {path} (the validation service is at {})\n",
        crate::validation::PATH
    );
    text(StatusCode::NOT_FOUND, &message)
}

/// Why a request body was not read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the limit (by its `Content-Length`, before reading, or while reading).
    TooLarge(usize),
    /// It arrived slower than the configured minimum rate.
    TooSlow(u64),
    /// The connection failed while reading it.
    Broken(hyper::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => write!(f, "request body larger than {limit} bytes"),
            BodyError::TooSlow(rate) => write!(
                f,
                "request body arriving slower than {rate} bytes per second; closing"
            ),
            BodyError::Broken(err) => write!(f, "request body unreadable: {err}"),
        }
    }
}

impl BodyError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Broken(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a request body of at most `limit` bytes. A `Content-Length` over the limit is refused
/// before a byte of the body is read; the body must keep up the configured minimum rate after
/// its grace period (see [`crate::config::ArchiveConfig::body_min_rate`]).
pub(crate) async fn read_body(
    mut body: Incoming,
    limit: usize,
    shared: &Shared,
) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge(limit));
    }
    let rate = shared.config.body_min_rate.max(1);
    let start = Instant::now() + shared.config.body_grace;
    let mut buf = BytesMut::new();
    loop {
        let deadline = start + std::time::Duration::from_secs_f64(buf.len() as f64 / rate as f64);
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TooSlow(rate)),
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(err))) => return Err(BodyError::Broken(err)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        return Err(BodyError::TooLarge(limit));
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

/// A refusal of a request whose body was not read whole: the connection is closed after it,
/// since the rest of the body may still be on its way.
fn refused_body(
    err: &BodyError,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut resp = response(err.status(), content_type, body);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

async fn view_route(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: Arc<Shared>,
) -> Response<Full<Bytes>> {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header(hyper::header::HOST);
    let mut request = view::Request {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        cookie: header(hyper::header::COOKIE),
        content_type: header(CONTENT_TYPE),
        host: host.clone(),
        origin: header(hyper::header::ORIGIN),
        remote: remote.ip(),
        body: Vec::new(),
    };
    let answer = match read_body(req.into_body(), view::MAX_FORM_BYTES, &shared).await {
        Ok(body) => {
            request.body = body.to_vec();
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
        Err(err) => view::Response {
            status: err.status().as_u16(),
            content_type: "text/plain; charset=utf-8",
            headers: vec![("connection", "close".to_owned())],
            body: format!("{err}\n").into_bytes(),
        },
    };
    let mut resp = response(
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        answer.content_type,
        answer.body,
    );
    let headers = resp.headers_mut();
    for (name, value) in view::Response::security_headers()
        .into_iter()
        .chain(view::Response::hsts(host.as_deref()))
    {
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
    slot: &Slot,
) -> Response<Full<Bytes>> {
    if shared.config.bare_baseline {
        // Read the body so keep-alive works, answer the same bytes to everything.
        let limit = shared.config.max_body_bytes;
        if let Err(err) = read_body(req.into_body(), limit, shared).await {
            return refused_body(&err, "text/plain; charset=utf-8", format!("{err}\n").into());
        }
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
        let body = match read_body(req.into_body(), inspect::MAX_CHECKLIST_BYTES, shared).await {
            Ok(body) => body,
            Err(err) => {
                let message = format!("{path}: {err}");
                return refused_body(
                    &err,
                    "application/json",
                    serde_json::to_vec(&serde_json::json!({ "error": message }))
                        .unwrap_or_default(),
                );
            }
        };
        if path == crate::fault::PATH {
            let (status, json) = shared
                .faults
                .answer(&method, authorization.as_deref(), &body);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let json = serde_json::to_vec(&json).unwrap_or_default();
            return response(status, "application/json", json);
        }
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
        let body = match read_body(req.into_body(), limit, shared).await {
            Ok(body) => body,
            Err(err) => {
                return refused_body(
                    &err,
                    "text/xml; charset=utf-8",
                    pipeline::soap_fault("soap:Client", &err.to_string()),
                );
            }
        };
        let incoming = Message {
            content_type: parts_content_type,
            body,
            tls_organisation: peer.cert.as_ref().and_then(|c| c.organisation_oid.clone()),
            received_at: time::OffsetDateTime::now_utc(),
        };
        let (answer, fault) = match crate::fault::message(shared, incoming).await {
            crate::fault::Outcome::Answer(answer) => (answer, None),
            crate::fault::Outcome::Unavailable(answer, retry_after) => {
                (answer, Some(Ok(retry_after)))
            }
            crate::fault::Outcome::Cut(answer) => (answer, Some(Err(()))),
            crate::fault::Outcome::Vanish => {
                // Answer lost: the connection closes before a byte of the answer.
                slot.abort();
                return std::future::pending().await;
            }
        };
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let full = answer.body.len();
        let mut resp = match fault {
            None => return response(status, answer.content_type, answer.body),
            Some(Ok(retry_after)) => {
                let mut resp = response(status, answer.content_type, answer.body);
                resp.headers_mut()
                    .insert(hyper::header::RETRY_AFTER, HeaderValue::from(retry_after));
                return resp;
            }
            Some(Err(())) => response(
                status,
                answer.content_type,
                answer.body[..full / 2].to_vec(),
            ),
        };
        resp.headers_mut()
            .insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(full));
        resp.extensions_mut().insert(Cut);
        return resp;
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
