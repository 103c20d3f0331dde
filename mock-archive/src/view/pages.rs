//! The view's routes and pages: each handler reads one register holder's data from the store
//! and fills an askama template (which escapes every value). Every page but sign-in and the
//! stylesheet needs a session; a data page without one answers 401 with the sign-in form.

use askama::Template;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::clock;
use super::i18n::{Lang, Texts, document_group_name};
use super::session::{self, COOKIE, LIFETIME, Session};
use super::{
    MAX_FORM_BYTES, Request, Response, SignInRefused, View, form_pairs, narrative, percent_decode,
};
use crate::ack::AckCode;
use crate::format::{Limits, read_cda};
use crate::orgs::Registry;
use crate::pipeline::Pipeline;
use crate::rules::ReplaceReason;
use crate::store::{Checklist, Confirmation, DocumentFilter, DocumentMeta, DocumentStatus};

/// The stylesheet, served from `/style.css` (CSP `style-src 'self'`).
const STYLE: &str = include_str!("../../templates/style.css");

/// How many audit entries the request log shows.
const AUDIT_LIMIT: u32 = 500;

/// The language cookie's name.
const LANG_COOKIE: &str = "kantakoe-lang";

/// The signed-in archivist as the page header shows them.
pub(crate) struct User {
    name: String,
    holder_name: String,
    holder_oid: String,
    csrf: String,
}

/// What every page shares (the layout in `base.html`).
pub(crate) struct Frame {
    t: &'static Texts,
    lang: &'static str,
    title: String,
    user: Option<User>,
    /// The current path, for the language links.
    path: String,
    /// Which navigation entry is current.
    active: &'static str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    frame: Frame,
    /// What to say; `None` on the plain sign-in page, whose heading says it all.
    message: Option<String>,
    sign_in: bool,
    /// On the sign-in page: the file of the CA that issued the view's certificate, for the
    /// hint on how to trust it.
    ca_file: Option<String>,
}

struct Choice {
    code: String,
    name: String,
    selected: bool,
    count: u32,
}

struct DocRow {
    id: String,
    title: String,
    document_type: String,
    client: String,
    service_unit: String,
    author: String,
    time: String,
    version: u32,
    status: &'static str,
    status_class: &'static str,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    frame: Frame,
    clients: Vec<Choice>,
    types: Vec<Choice>,
    from: String,
    until: String,
    documents: Vec<DocRow>,
}

struct VersionRow {
    id: String,
    version: u32,
    status: &'static str,
    status_class: &'static str,
    change: String,
    time: String,
    stored_at: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    frame: Frame,
    metadata: Vec<(&'static str, String)>,
    versions: Vec<VersionRow>,
    signature_verdict: String,
    signer: String,
    signed_at: String,
    paragraphs: Vec<String>,
    source: Option<String>,
}

struct CodeText {
    code: &'static str,
    /// The code's text in the page's language.
    text: &'static str,
}

struct AuditRow {
    at: String,
    outcome: &'static str,
    replayed: bool,
    codes: Vec<CodeText>,
    message_id: String,
    document_id: Option<String>,
    /// A query's operation name and what it returned (issue 16).
    query: Option<String>,
    tls_peer: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    entries: Vec<AuditRow>,
}

struct CheckpointRow {
    id: String,
    label: String,
    expected: String,
    confirmed: Option<String>,
}

struct StepRow {
    /// 1-based position, also the page anchor `step-<n>` and the value a whole-step
    /// confirmation posts.
    n: usize,
    /// The step's id in the case (`data-step` for scripts and tests; not shown).
    step: String,
    title: String,
    document_id: Option<String>,
    checkpoints: Vec<CheckpointRow>,
    /// Whether some checkpoint still waits for a confirmation.
    open: bool,
}

struct ChecklistView {
    title: String,
    done: usize,
    total: usize,
    steps: Vec<StepRow>,
}

#[derive(Template)]
#[template(path = "checklist.html")]
struct ChecklistPage {
    frame: Frame,
    csrf: String,
    checklist: Option<ChecklistView>,
}

/// One request's context: language, session, registry.
struct Ctx<'a> {
    view: &'a View,
    pipeline: &'a Pipeline,
    request: &'a Request,
    lang: Lang,
    /// Set when `?lang=` chose a language: the cookie to remember it.
    lang_cookie: Option<String>,
    session: Option<(String, Session)>,
}

impl Ctx<'_> {
    fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    fn registry(&self) -> &Registry {
        self.pipeline.registry()
    }

    /// A time as people read it in the page's language, in Finnish time.
    fn time(&self, t: OffsetDateTime) -> String {
        clock::shown(t, self.lang)
    }

    fn frame(&self, title: impl Into<String>, active: &'static str) -> Frame {
        let user = self.session.as_ref().map(|(_, s)| User {
            name: s.name.clone(),
            holder_name: self
                .registry()
                .organisation(&s.register_holder)
                .map_or_else(|| s.register_holder.clone(), |o| o.name.clone()),
            holder_oid: s.register_holder.clone(),
            csrf: s.csrf.clone(),
        });
        Frame {
            t: self.t(),
            lang: self.lang.code(),
            title: title.into(),
            user,
            path: self.request.path.clone(),
            active,
        }
    }

    fn html(&self, status: u16, page: Result<String, askama::Error>) -> Response {
        match page {
            Ok(body) => {
                let mut response = Response {
                    status,
                    content_type: "text/html; charset=utf-8",
                    headers: Vec::new(),
                    body: body.into_bytes(),
                };
                if let Some(cookie) = &self.lang_cookie {
                    response.headers.push(("set-cookie", cookie.clone()));
                }
                response
            }
            Err(err) => {
                tracing::error!("the archivist view could not render a page: {err}");
                plain(500, self.t().server_error)
            }
        }
    }

    fn message(&self, status: u16, message: &str, sign_in: bool) -> Response {
        self.page(status, Some(message), sign_in)
    }

    fn page(&self, status: u16, message: Option<&str>, sign_in: bool) -> Response {
        let title = if sign_in {
            self.t().sign_in
        } else {
            self.t().app_title
        };
        let mut frame = self.frame(title, "");
        if sign_in {
            // The language links lead to the sign-in page, not back to the refused URL.
            frame.path = "/signin".to_owned();
        }
        let page = MessagePage {
            frame,
            message: message.map(str::to_owned),
            sign_in,
            ca_file: self
                .view
                .ca_file()
                .filter(|_| sign_in)
                .map(|p| p.display().to_string()),
        };
        self.html(status, page.render())
    }

    fn not_found(&self) -> Response {
        self.message(404, self.t().not_found, false)
    }

    fn redirect(&self, location: &str, cookies: Vec<String>) -> Response {
        let mut headers = vec![("location", location.to_owned())];
        headers.extend(cookies.into_iter().map(|c| ("set-cookie", c)));
        if let Some(cookie) = &self.lang_cookie {
            headers.push(("set-cookie", cookie.clone()));
        }
        Response {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            headers,
            body: Vec::new(),
        }
    }

    fn store_failed(&self, err: impl std::fmt::Display) -> Response {
        tracing::error!("the archivist view could not read the store: {err}");
        self.message(500, self.t().server_error, false)
    }

    /// The form fields of a POST (urlencoded only, bounded).
    fn form(&self) -> Option<Vec<(String, String)>> {
        let urlencoded = self
            .request
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded || self.request.body.len() > MAX_FORM_BYTES {
            return None;
        }
        std::str::from_utf8(&self.request.body).ok().map(form_pairs)
    }
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn plain(status: u16, text: &str) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8",
        headers: Vec::new(),
        body: text.as_bytes().to_vec(),
    }
}

fn session_cookie(id: &str, max_age: u64) -> String {
    format!("{COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
}

/// Routes one request.
pub(crate) fn handle(view: &View, pipeline: &Pipeline, request: &Request) -> Response {
    let query = form_pairs(request.query.as_deref().unwrap_or_default());
    let chosen = field(&query, "lang").and_then(Lang::parse);
    let lang = chosen
        .or_else(|| session::cookie(request.cookie.as_deref(), LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or(Lang::Fi);
    let session = session::cookie(request.cookie.as_deref(), COOKIE)
        .and_then(|id| view.sessions.get(id).map(|s| (id.to_owned(), s)));
    let ctx = Ctx {
        view,
        pipeline,
        request,
        lang,
        lang_cookie: chosen.map(|l| {
            format!(
                "{LANG_COOKIE}={}; Path=/; Secure; SameSite=Strict; Max-Age=31536000",
                l.code()
            )
        }),
        session,
    };
    let method = request.method.as_str();
    let path = request.path.as_str();
    if method == "POST" && !same_origin(request) {
        return ctx.message(403, ctx.t().csrf_refused, false);
    }
    match (method, path) {
        ("GET" | "HEAD", "/style.css") => Response {
            status: 200,
            content_type: "text/css; charset=utf-8",
            headers: Vec::new(),
            body: STYLE.as_bytes().to_vec(),
        },
        ("GET" | "HEAD", "/") => ctx.redirect(
            if ctx.session.is_some() {
                "/register"
            } else {
                "/signin"
            },
            Vec::new(),
        ),
        ("GET" | "HEAD", "/signin") => ctx.page(200, None, true),
        ("POST", "/signin") => sign_in(&ctx),
        ("POST", "/signout") => sign_out(&ctx),
        _ => {
            let known = matches!(
                path,
                "/register" | "/audit" | "/checklist" | "/checklist/confirm"
            ) || path.starts_with("/documents/");
            if !known {
                return ctx.not_found();
            }
            let Some((_, session)) = ctx.session.clone() else {
                return ctx.message(401, ctx.t().sign_in_required, true);
            };
            match (method, path) {
                ("GET" | "HEAD", "/register") => register(&ctx, &session, &query),
                ("GET" | "HEAD", "/audit") => audit(&ctx, &session),
                ("GET" | "HEAD", "/checklist") => checklist(&ctx, &session),
                ("POST", "/checklist/confirm") => confirm(&ctx, &session),
                ("GET" | "HEAD", p) => match p.strip_prefix("/documents/") {
                    Some(id) if !id.is_empty() && !id.contains('/') => {
                        document(&ctx, &session, &percent_decode(id, false))
                    }
                    _ => ctx.not_found(),
                },
                _ => ctx.message(405, ctx.t().bad_request, false),
            }
        }
    }
}

/// Whether a POST comes from the view's own pages: no `Origin` (not a browser), or one equal to
/// `https://` + the `Host` it was sent to.
fn same_origin(request: &Request) -> bool {
    match (&request.origin, &request.host) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .strip_prefix("https://")
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

fn sign_in(ctx: &Ctx<'_>) -> Response {
    let token = ctx
        .form()
        .and_then(|f| field(&f, "token").map(|t| t.trim().to_owned()));
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return ctx.message(401, ctx.t().wrong_token, true);
    };
    match ctx.view.sign_in(ctx.registry(), &token, ctx.request.remote) {
        Ok((name, holder)) => {
            // A fresh session id at every sign-in (no fixation); an old session ends.
            if let Some((old, _)) = &ctx.session {
                ctx.view.sessions.end(old);
            }
            let id = ctx.view.sessions.start(&name, &holder);
            ctx.redirect("/register", vec![session_cookie(&id, LIFETIME.as_secs())])
        }
        Err(SignInRefused::Wrong) => ctx.message(401, ctx.t().wrong_token, true),
        Err(SignInRefused::Wait(wait)) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let text = format!("{} ({secs} s)", ctx.t().too_many_sign_ins);
            let mut answer = ctx.message(429, &text, true);
            answer.headers.push(("retry-after", secs.to_string()));
            answer
        }
    }
}

fn sign_out(ctx: &Ctx<'_>) -> Response {
    let Some((id, session)) = &ctx.session else {
        return ctx.redirect("/signin", vec![session_cookie("", 0)]);
    };
    let form = ctx.form().unwrap_or_default();
    if !session::csrf_matches(session, field(&form, "csrf")) {
        return ctx.message(403, ctx.t().csrf_refused, false);
    }
    ctx.view.sessions.end(id);
    ctx.redirect("/signin", vec![session_cookie("", 0)])
}

fn day(value: Option<&str>) -> Option<Date> {
    Date::parse(value?, format_description!("[year]-[month]-[day]")).ok()
}

fn or_dash(value: Option<&String>) -> String {
    value.cloned().unwrap_or_else(|| "—".to_owned())
}

fn status_text(t: &Texts, status: DocumentStatus) -> (&'static str, &'static str) {
    match status {
        DocumentStatus::Active => (t.status_active, "active"),
        DocumentStatus::Replaced => (t.status_replaced, "replaced"),
        DocumentStatus::Invalidated => (t.status_invalidated, "invalidated"),
    }
}

/// The document type in the page's language: a known document group's name there, else the
/// name the document wrote.
fn document_type(m: &DocumentMeta, lang: Lang) -> String {
    let d = &m.description;
    let code = d.document_type_code.as_ref().or(m.document_group.as_ref());
    let name = code
        .and_then(|c| document_group_name(c, lang))
        .map(str::to_owned)
        .or_else(|| d.document_type_name.clone());
    match (code, name) {
        (Some(code), Some(name)) => format!("{name} ({code})"),
        (Some(code), None) => code.clone(),
        (None, _) => "—".to_owned(),
    }
}

/// A code with its display name, `name (code)`; `—` when the document has none.
fn coded(code: Option<&String>, name: Option<&String>) -> String {
    match (code, name) {
        (Some(code), Some(name)) => format!("{name} ({code})"),
        (Some(code), None) => code.clone(),
        (None, _) => "—".to_owned(),
    }
}

fn named(name: Option<&String>, id: &str) -> String {
    match name {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    }
}

fn register(ctx: &Ctx<'_>, session: &Session, query: &[(String, String)]) -> Response {
    let t = ctx.t();
    let holder = session.register_holder.as_str();
    let store = ctx.pipeline.store();
    let wanted = |name| {
        field(query, name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let filter = DocumentFilter {
        client: wanted("client"),
        document_type: wanted("type"),
        from: day(field(query, "from")),
        until: day(field(query, "until")),
        ..DocumentFilter::default()
    };
    let (clients, types, documents) = match (
        store.clients(holder),
        store.document_types(holder),
        store.documents(holder, &filter),
    ) {
        (Ok(c), Ok(ty), Ok(d)) => (c, ty, d),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return ctx.store_failed(e),
    };
    let page = RegisterPage {
        frame: ctx.frame(t.nav_register, "register"),
        clients: clients
            .into_iter()
            .map(|c| Choice {
                selected: filter.client.as_deref() == Some(c.client.as_str()),
                name: c.name.unwrap_or_default(),
                code: c.client,
                count: c.documents,
            })
            .collect(),
        types: types
            .into_iter()
            .map(|(code, name)| Choice {
                selected: filter.document_type.as_deref() == Some(code.as_str()),
                name: document_group_name(&code, ctx.lang)
                    .map(str::to_owned)
                    .or(name)
                    .unwrap_or_default(),
                code,
                count: 0,
            })
            .collect(),
        from: filter.from.map(|d| d.to_string()).unwrap_or_default(),
        until: filter.until.map(|d| d.to_string()).unwrap_or_default(),
        documents: documents
            .iter()
            .map(|m| {
                let (status, status_class) = status_text(t, m.status);
                DocRow {
                    id: m.document_id.clone(),
                    title: m
                        .description
                        .title
                        .clone()
                        .unwrap_or_else(|| m.document_id.clone()),
                    document_type: document_type(m, ctx.lang),
                    client: named(m.description.client_name.as_ref(), &m.client),
                    service_unit: named(m.description.service_unit_name.as_ref(), &m.service_unit),
                    author: named(m.description.author_name.as_ref(), &m.author),
                    time: ctx.time(m.effective_time),
                    version: m.version,
                    status,
                    status_class,
                }
            })
            .collect(),
    };
    ctx.html(200, page.render())
}

fn change_text(t: &Texts, m: &DocumentMeta) -> String {
    match (&m.replaces, &m.replace_reason) {
        (None, _) => t.first_version.to_owned(),
        (Some(parent), Some(ReplaceReason::Correction)) => {
            format!("{} ← {parent}", t.correction)
        }
        (Some(parent), Some(ReplaceReason::Invalidation)) => {
            format!("{} ← {parent}", t.invalidation)
        }
        (Some(parent), Some(ReplaceReason::Other(code))) => {
            format!("{} {code:?} ← {parent}", t.other_reason)
        }
        (Some(parent), None) => format!("{} ← {parent}", t.unknown),
    }
}

fn document(ctx: &Ctx<'_>, session: &Session, id: &str) -> Response {
    let t = ctx.t();
    let holder = session.register_holder.as_str();
    let store = ctx.pipeline.store();
    // R8: the lookup names the holder; another holder's document is simply not found.
    let doc = match store.document(holder, id) {
        Ok(Some(doc)) => doc,
        Ok(None) => return ctx.not_found(),
        Err(e) => return ctx.store_failed(e),
    };
    let versions = match store.versions(holder, &doc.meta.set_id) {
        Ok(v) => v,
        Err(e) => return ctx.store_failed(e),
    };
    let m = &doc.meta;
    let d = &m.description;
    let registry = ctx.registry();
    let org_name = |oid: &str| {
        registry
            .organisation(oid)
            .map_or_else(|| oid.to_owned(), |o| format!("{} ({oid})", o.name))
    };
    let (status, _) = status_text(t, m.status);
    let metadata = vec![
        (t.document_id, m.document_id.clone()),
        (t.title, or_dash(d.title.as_ref())),
        (t.document_type, document_type(m, ctx.lang)),
        (t.client, named(d.client_name.as_ref(), &m.client)),
        (
            t.service_task,
            coded(d.service_task_code.as_ref(), d.service_task_name.as_ref()),
        ),
        (
            t.service_event,
            coded(d.service_event_code.as_ref(), d.service_event_name.as_ref()),
        ),
        (
            t.service_unit,
            named(d.service_unit_name.as_ref(), &m.service_unit),
        ),
        (t.author, named(d.author_name.as_ref(), &m.author)),
        (t.time, ctx.time(m.effective_time)),
        (t.version, m.version.to_string()),
        (t.status, status.to_owned()),
        (t.change, change_text(t, m)),
        (t.register_holder, org_name(&m.register_holder)),
        (
            t.organiser,
            m.organiser
                .as_deref()
                .map_or_else(|| "—".to_owned(), org_name),
        ),
        (t.set_id, m.set_id.clone()),
        (t.message_id, or_dash(m.message_id.as_ref())),
        (t.stored_at, ctx.time(m.stored_at)),
    ];
    let signature_verdict = match d.signature_verdict.as_deref() {
        Some("valid") => t.valid.to_owned(),
        Some(other) => match other.strip_prefix("invalid: ") {
            Some(codes) => format!("{} ({codes})", t.invalid),
            None => other.to_owned(),
        },
        None => t.unknown.to_owned(),
    };
    let narrative = read_cda(&doc.cda, &Limits::default())
        .0
        .and_then(|cda| cda.body)
        .and_then(|body| body.narrative);
    let (paragraphs, source) = match narrative {
        Some(xhtml) => (
            narrative::paragraphs(&xhtml).unwrap_or_else(|| vec![xhtml.clone()]),
            Some(xhtml),
        ),
        None => (Vec::new(), None),
    };
    let page = DocumentPage {
        frame: ctx.frame(format!("{}: {}", t.document, m.document_id), "register"),
        metadata,
        versions: versions
            .iter()
            .map(|v| {
                let (status, status_class) = status_text(t, v.status);
                VersionRow {
                    id: v.document_id.clone(),
                    version: v.version,
                    status,
                    status_class,
                    change: change_text(t, v),
                    time: ctx.time(v.effective_time),
                    stored_at: ctx.time(v.stored_at),
                    current: v.document_id == m.document_id,
                }
            })
            .collect(),
        signature_verdict,
        signer: or_dash(d.signer_subject.as_ref()),
        signed_at: match d.signed_at.as_deref() {
            Some(text) => crate::signature::parse_time(text)
                .map_or_else(|| text.to_owned(), |at| ctx.time(at)),
            None => "—".to_owned(),
        },
        paragraphs,
        source,
    };
    ctx.html(200, page.render())
}

fn audit(ctx: &Ctx<'_>, session: &Session) -> Response {
    let t = ctx.t();
    let entries = match ctx
        .pipeline
        .store()
        .audit(&session.register_holder, AUDIT_LIMIT)
    {
        Ok(e) => e,
        Err(e) => return ctx.store_failed(e),
    };
    let page = AuditPage {
        frame: ctx.frame(t.audit_title, "audit"),
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                at: ctx.time(e.at),
                outcome: e.outcome.as_str(),
                replayed: e.replayed,
                codes: e
                    .codes
                    .iter()
                    .map(|c: &AckCode| CodeText {
                        code: c.code(),
                        text: match ctx.lang {
                            Lang::Fi => c.finnish(),
                            Lang::Sv => c.swedish(),
                            Lang::En => c.english(),
                        },
                    })
                    .collect(),
                message_id: e.message_id.unwrap_or_default(),
                document_id: e.document_id,
                query: e.query.map(|q| {
                    let name = q
                        .kind
                        .parse::<crate::format::query::QueryKind>()
                        .map_or(q.kind.clone(), |k| k.finnish().to_owned());
                    format!("{name}: {} / {} B", q.results, q.result_bytes)
                }),
                tls_peer: e
                    .tls_peer
                    .map(|oid| org_named(ctx.registry(), &oid))
                    .unwrap_or_default(),
            })
            .collect(),
    };
    ctx.html(200, page.render())
}

/// An organisation's name beside its OID; a service unit's too.
fn org_named(registry: &Registry, oid: &str) -> String {
    let name = registry
        .organisation(oid)
        .map(|o| o.name.as_str())
        .or_else(|| {
            registry.service_unit_owner(oid).and_then(|o| {
                o.service_units
                    .iter()
                    .find(|u| u.oid == oid)
                    .map(|u| u.name.as_str())
            })
        });
    match name {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_owned(),
    }
}

/// A checkpoint's name and expected value as an archivist reads them in `lang`: the field's
/// name, a status in words, organisations and clients by name beside their ids.
fn checkpoint_text(ctx: &Ctx<'_>, c: &crate::store::Checkpoint) -> (String, String) {
    let t = ctx.t();
    let registry = ctx.registry();
    let expected = c.expected.clone().unwrap_or_default();
    let Some(field) = c.field.as_deref() else {
        return (c.label.clone(), expected);
    };
    let label = match field {
        "register_holder" => t.register_holder,
        "status" => t.status,
        "version" => t.version,
        "client" => t.client,
        "service_unit" => t.service_unit,
        "document_group" => t.document_group,
        "organiser" => t.organiser,
        "hidden_from" => t.hidden_from,
        _ => return (c.label.clone(), expected),
    };
    let value = match field {
        "status" => match expected.as_str() {
            "active" => t.status_active.to_owned(),
            "replaced" => t.status_replaced.to_owned(),
            "invalidated" => t.status_invalidated.to_owned(),
            _ => expected,
        },
        "register_holder" | "organiser" | "service_unit" | "hidden_from" => {
            org_named(registry, &expected)
        }
        "client" => match registry.person(&expected) {
            Some(p) => format!("{} ({expected})", p.name),
            None => expected,
        },
        "document_group" => match document_group_name(&expected, ctx.lang) {
            Some(name) => format!("{name} ({expected})"),
            None => expected,
        },
        _ => expected,
    };
    (label.to_owned(), value)
}

fn checklist_view(ctx: &Ctx<'_>, list: Checklist) -> ChecklistView {
    let (done, total) = list.progress();
    let sv = ctx.lang == Lang::Sv;
    let in_lang = |fi: String, sv_text: Option<String>| match sv_text {
        Some(text) if sv => text,
        _ => fi,
    };
    ChecklistView {
        title: in_lang(list.title, list.title_sv),
        done,
        total,
        steps: list
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let checkpoints: Vec<CheckpointRow> = s
                    .checkpoints
                    .iter()
                    .map(|c| {
                        let (label, expected) = checkpoint_text(ctx, c);
                        CheckpointRow {
                            id: c.id.clone(),
                            label,
                            expected,
                            confirmed: c
                                .confirmed
                                .as_ref()
                                .map(|by| format!("{}, {}", by.by, ctx.time(by.at))),
                        }
                    })
                    .collect();
                StepRow {
                    n: i + 1,
                    step: s.step,
                    title: in_lang(s.title, s.title_sv),
                    document_id: s.document_id,
                    open: checkpoints.iter().any(|c| c.confirmed.is_none()),
                    checkpoints,
                }
            })
            .collect(),
    }
}

fn checklist(ctx: &Ctx<'_>, session: &Session) -> Response {
    let list = match ctx.pipeline.store().checklist(&session.register_holder) {
        Ok(list) => list,
        Err(e) => return ctx.store_failed(e),
    };
    let page = ChecklistPage {
        frame: ctx.frame(ctx.t().nav_checklist, "checklist"),
        csrf: session.csrf.clone(),
        checklist: list.map(|l| checklist_view(ctx, l)),
    };
    ctx.html(200, page.render())
}

/// Confirms one checkpoint (`checkpoint=<id>`) or every open checkpoint of one step
/// (`step=<n>`, 1-based), then goes back to that step's place on the checklist page.
fn confirm(ctx: &Ctx<'_>, session: &Session) -> Response {
    let form = ctx.form().unwrap_or_default();
    if !session::csrf_matches(session, field(&form, "csrf")) {
        return ctx.message(403, ctx.t().csrf_refused, false);
    }
    let store = ctx.pipeline.store();
    let list = match store.checklist(&session.register_holder) {
        Ok(Some(list)) => list,
        Ok(None) => return ctx.not_found(),
        Err(e) => return ctx.store_failed(e),
    };
    // (the step's 1-based position, the checkpoints to confirm)
    let wanted: Option<(usize, Vec<String>)> =
        match (field(&form, "step"), field(&form, "checkpoint")) {
            (Some(n), None) => n
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .and_then(|n| list.steps.get(n - 1).map(|s| (n, s)))
                .map(|(n, s)| {
                    let open = s
                        .checkpoints
                        .iter()
                        .filter(|c| c.confirmed.is_none())
                        .map(|c| c.id.clone());
                    (n, open.collect())
                }),
            (None, Some(id)) => list
                .steps
                .iter()
                .position(|s| s.checkpoints.iter().any(|c| c.id == id))
                .map(|i| (i + 1, vec![id.to_owned()])),
            _ => return ctx.message(400, ctx.t().bad_request, false),
        };
    let Some((n, ids)) = wanted else {
        return ctx.not_found();
    };
    let at = OffsetDateTime::now_utc();
    for id in &ids {
        let confirmation = Confirmation {
            by: session.name.clone(),
            at,
        };
        match store.confirm_checkpoint(&session.register_holder, id, confirmation) {
            Ok(true) => {}
            Ok(false) => return ctx.not_found(),
            Err(e) => return ctx.store_failed(e),
        }
    }
    ctx.redirect(&format!("/checklist#step-{n}"), Vec::new())
}
