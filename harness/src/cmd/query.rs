//! `kantakoe query`: send one query (Hae asiakkuus, Hae asia, Hae asiakirjan metatiedot, Hae
//! asiakirja, Hae kooste) to an archive and print what came back, for vendors debugging by
//! hand. Exit 0 when answered (`AA`), 1 when refused, 2 on usage or connection errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use kanta_profile::format::query::{
    self, DocumentStatus, QueryFilter, QueryKind, QueryRequest, QueryResponse, QueryResults,
};
use kanta_profile::format::{InstanceId, Limits, Wrapping, codes};
use time::{Date, OffsetDateTime};

use crate::client::{Identity, Target, TlsClient};
use crate::pki::{Pki, Role};

/// Arguments of `kantakoe query`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which query: relationships, cases, metadata, document or summary.
    #[arg(value_name = "KIND")]
    pub kind: QueryKind,
    /// The archive, e.g. `https://localhost:8443`.
    #[arg(long, value_name = "URL")]
    pub archive: String,
    /// The archive's message path.
    #[arg(long, value_name = "PATH", default_value = codes::DEFAULT_MESSAGE_PATH.value)]
    pub path: String,
    /// A Kantakoe test PKI directory: `ca.pem` and the chosen identity's files.
    #[arg(long, value_name = "DIR", conflicts_with = "ca")]
    pub pki: Option<PathBuf>,
    /// Which PKI certificate to present (`client`, `vendor`, ...).
    #[arg(long, value_name = "ROLE", default_value = "client", value_parser = parse_role)]
    pub identity: Role,
    /// CA certificate trusted for the archive's server certificate (instead of --pki).
    #[arg(long, value_name = "FILE", requires_all = ["cert", "key"])]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The asking organisation (`sender/device/id`).
    #[arg(long, value_name = "OID")]
    pub sender: String,
    /// The register holder whose register is read.
    #[arg(long, value_name = "OID")]
    pub register_holder: String,
    /// The client's identity code.
    #[arg(long, value_name = "HETU")]
    pub client: String,
    /// One document (required for metadata and document).
    #[arg(long, value_name = "OID")]
    pub document: Option<String>,
    /// Filter: document group code.
    #[arg(long, value_name = "CODE")]
    pub document_group: Option<String>,
    /// Filter: service task code.
    #[arg(long, value_name = "CODE")]
    pub service_task: Option<String>,
    /// Filter: first day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub from: Option<Date>,
    /// Filter: last day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub until: Option<Date>,
    /// Filter: active, replaced or invalidated.
    #[arg(long, value_name = "STATUS", value_parser = parse_status)]
    pub status: Option<DocumentStatus>,
    /// At most this many entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// soap11, soap12 or bare.
    #[arg(long, value_name = "WRAPPING", default_value = "soap12", value_parser = parse_wrapping)]
    pub wrapping: Wrapping,
    /// Write a Hae asiakirja answer's CDA to this file, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Print the raw answer instead of the summary.
    #[arg(long)]
    pub raw: bool,
    /// How long to wait for the archive.
    #[command(flatten)]
    pub timeouts: super::TimeoutArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::from_stem(s).ok_or_else(|| format!("unknown role {s:?}; one of: {}", Role::stems()))
}

fn parse_day(s: &str) -> Result<Date, String> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("`{s}` is not a day YYYY-MM-DD"))
}

fn parse_status(s: &str) -> Result<DocumentStatus, String> {
    DocumentStatus::parse(s)
        .ok_or_else(|| format!("unknown status `{s}`: active, replaced or invalidated"))
}

fn parse_wrapping(s: &str) -> Result<Wrapping, String> {
    match s {
        "soap11" => Ok(Wrapping::Soap11),
        "soap12" => Ok(Wrapping::Soap12),
        "bare" => Ok(Wrapping::Bare),
        other => Err(format!(
            "unknown wrapping `{other}`: soap11, soap12 or bare"
        )),
    }
}

/// The query the arguments describe, with a fresh message id at `now`.
pub fn request(args: &Args, now: OffsetDateTime) -> anyhow::Result<QueryRequest> {
    if args.kind.needs_document() && args.document.is_none() {
        anyhow::bail!(
            "{} ({}) names one document: give --document OID",
            args.kind,
            args.kind.finnish()
        );
    }
    let n = now.unix_timestamp_nanos() / 1000;
    Ok(QueryRequest {
        kind: args.kind,
        id: InstanceId {
            root: codes::HARNESS_ID_ARC.value.to_owned(),
            extension: Some(format!("query-{n}")),
        },
        creation_time: query::timestamp(now),
        processing_code: "T".to_owned(),
        receiver: Some(InstanceId::root(codes::KANTA_RECEIVER.value)),
        sender: InstanceId::root(args.sender.clone()),
        query_id: InstanceId {
            root: codes::HARNESS_ID_ARC.value.to_owned(),
            extension: Some(format!("queryid-{n}")),
        },
        register_holder: args.register_holder.clone(),
        client: args.client.clone(),
        document_id: args.document.clone(),
        filter: QueryFilter {
            document_group: args.document_group.clone(),
            service_task: args.service_task.clone(),
            from: args.from,
            until: args.until,
            status: args.status,
        },
        limit: args.limit,
    })
}

/// The answer in a few lines: outcome, codes with texts, entries.
pub fn render(r: &QueryResponse) -> String {
    let mut out = format!(
        "{} ({}): {} {} of {} entries\n",
        r.kind,
        r.kind.finnish(),
        r.type_code.as_str(),
        r.results.len(),
        r.total
    );
    for d in &r.details {
        out += &format!("  {} {}\n", d.code, d.text);
    }
    match &r.results {
        QueryResults::Relationships(v) => {
            for e in v {
                out += &format!(
                    "  producer {} organiser {} {}..{} documents {}\n",
                    e.producer,
                    e.organiser.as_deref().unwrap_or("-"),
                    e.first,
                    e.last,
                    e.documents
                );
            }
        }
        QueryResults::Cases(v) => {
            for e in v {
                out += &format!(
                    "  service task {} {} {}..{} documents {}\n",
                    e.service_task,
                    e.service_task_name.as_deref().unwrap_or(""),
                    e.first,
                    e.last,
                    e.documents
                );
            }
        }
        QueryResults::Documents(v) => {
            for e in v {
                out += &format!(
                    "  {} v{} {} {} group {} {}{}\n",
                    e.document_id,
                    e.version,
                    e.status,
                    e.effective_time,
                    e.document_group.as_deref().unwrap_or("-"),
                    e.title.as_deref().unwrap_or(""),
                    e.content
                        .as_ref()
                        .map_or(String::new(), |c| format!(" ({} bytes of CDA)", c.len()))
                );
            }
        }
    }
    out
}

/// Runs `kantakoe query`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.archive)?;
    let (ca, identity) = match (&args.pki, &args.ca) {
        (_, Some(ca)) => (
            ca.clone(),
            args.cert
                .clone()
                .zip(args.key.clone())
                .map(|(cert, key)| Identity { cert, key }),
        ),
        (Some(dir), None) => {
            let pki = Pki::open(dir)?;
            let files = pki.files(args.identity);
            (
                pki.ca(),
                Some(Identity {
                    cert: files.cert,
                    key: files.key,
                }),
            )
        }
        (None, None) => anyhow::bail!("give --pki DIR, or --ca FILE --cert FILE --key FILE"),
    };
    let q = request(&args, OffsetDateTime::now_utc())?;
    let body = mock_archive::pipeline::wrap(args.wrapping, query::write_request(&q).as_bytes());
    let client = TlsClient::new(&ca, identity.as_ref())?.with_timeouts(args.timeouts.timeouts());
    let mut conn = client.connect(&target).await?;
    let reply = conn
        .post(&args.path, args.wrapping.content_type(), body)
        .await?;
    if args.raw {
        println!("{}", String::from_utf8_lossy(&reply.body));
    }
    let response = query::read_response(&reply.body, &Limits::default()).with_context(|| {
        format!(
            "HTTP {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        )
    })?;
    if !args.raw {
        print!("{}", render(&response));
    }
    if let Some(path) = &args.save {
        let QueryResults::Documents(docs) = &response.results else {
            anyhow::bail!("--save works with the document query only");
        };
        let Some(cda) = docs.first().and_then(|d| d.content.as_ref()) else {
            anyhow::bail!("the answer holds no document to save");
        };
        std::fs::write(path, cda).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if response.type_code.as_str() == "AA" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
