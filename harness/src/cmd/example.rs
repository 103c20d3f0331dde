//! `kantakoe example`: writes valid, signed example messages a vendor can compare with their
//! own — per document template (client relationship, service task), per payment type
//! (self-paying, purchased service, service voucher) and per wrapping (bare, SOAP 1.1,
//! SOAP 1.2), plus the replacement and the invalidation of the first, and the wellbeing
//! services county's own client ("own service", the public 2026 sample's case: the county sends
//! and signs with its own certificates into its own register) — each with its bare CDA beside
//! it. Every one validates clean (`kantakoe validate`) against the bundled fixture and is
//! stored by the mock archive with `AA` when sent with the TLS certificate it names.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mock_archive::format::Wrapping;
use time::OffsetDateTime;

use crate::compose::{
    self, CdaSigner, DocumentTemplate, MessageValues, Org, PaymentType, PersonValues,
    ReplacementReason, Replaces,
};
use crate::pki::{Pki, PkiSpec, Role, scenario};
use crate::signing::SystemSigner;

/// Arguments of `kantakoe example`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the examples (created if missing).
    #[arg(long, value_name = "DIR", default_value = "examples")]
    pub out: PathBuf,
    /// Sign with this test PKI (`kantakoe pki init`); default: a new one in OUT/pki (kept and
    /// reused on the next run).
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
}

/// One example: a message and the CDA inside it.
#[derive(Debug, Clone)]
pub struct Example {
    /// File stem, e.g. `01-client-relationship-self-paying`.
    pub name: String,
    /// One line saying what it is.
    pub about: String,
    /// How it is wrapped.
    pub wrapping: Wrapping,
    /// The message bytes.
    pub message: Vec<u8>,
    /// The signed CDA bytes (as inside the message).
    pub cda: Vec<u8>,
    /// The PKI role whose TLS client certificate sends it (the sender's own system).
    pub sends_as: Role,
}

/// The organiser of the bundled fixture's purchased-service and voucher clients.
fn organiser() -> Org {
    Org {
        oid: scenario::COUNTY_OID.into(),
        name: scenario::COUNTY_NAME.into(),
    }
}

fn provider() -> Org {
    Org {
        oid: scenario::PROVIDER_OID.into(),
        name: scenario::PROVIDER_NAME.into(),
    }
}

fn client(identity_code: &str, given: &str) -> PersonValues {
    PersonValues {
        identity_code: identity_code.into(),
        given: given.into(),
        family: "Testi".into(),
    }
}

/// Values for example `n` (its own message and document ids) for `payment`.
fn values(n: u32, payment: &PaymentType) -> MessageValues {
    let mut v = compose::scenario_self_paying(
        format!("{}.10.{n}", scenario::PROVIDER_OID),
        format!("{}.95777.2026.{n}", scenario::PROVIDER_OID),
    );
    v.client = match payment {
        PaymentType::SelfPaying => client("010190-901R", "Itsemaksava"),
        PaymentType::PurchasedService(_) => client("150575-9025", "Ostopalvelu"),
        PaymentType::ServiceVoucher(_) => client("030312A903K", "Palveluseteli"),
        PaymentType::OwnClient => return own_client_values(n),
    };
    v.route(&provider(), payment);
    v
}

/// Values for example `n`: the county's own client, sent by the county's own system from its
/// own service unit into its own register (usage situation own use).
fn own_client_values(n: u32) -> MessageValues {
    let county = organiser();
    let mut v = compose::scenario_self_paying(
        format!("{}.10.{n}", county.oid),
        format!("{}.95777.2026.{n}", county.oid),
    );
    v.sender = county.oid.clone();
    v.service_unit = Org {
        oid: "2.999.5851.2.2.1".into(),
        name: "Testilän sosiaalipalvelut (TESTIAINEISTO)".into(),
    };
    v.client = PersonValues {
        identity_code: "150915A931U".into(),
        given: "Hyvinvointialue Oma Asiakas".into(),
        family: "Testi".into(),
    };
    v.route(&county, &PaymentType::OwnClient);
    v
}

/// Builds every example, signing the provider's with `signer` and the county's own client's
/// with `county_signer`.
pub fn examples(
    signer: &dyn CdaSigner,
    county_signer: &dyn CdaSigner,
) -> anyhow::Result<Vec<Example>> {
    let payments = [
        ("self-paying", PaymentType::SelfPaying),
        (
            "purchased-service",
            PaymentType::PurchasedService(organiser()),
        ),
        ("service-voucher", PaymentType::ServiceVoucher(organiser())),
    ];
    let templates = [
        (
            "client-relationship",
            DocumentTemplate::client_relationship(),
        ),
        ("service-task", DocumentTemplate::service_task_document()),
    ];
    let mut out = Vec::new();
    let mut n = 0;
    let mut push_as = |name: String,
                       about: String,
                       t: &DocumentTemplate,
                       v: &MessageValues,
                       w,
                       (sends_as, signer): (Role, &dyn CdaSigner)| {
        let built = compose::build_message(t, v, w, Some(signer))?;
        out.push(Example {
            name,
            about,
            wrapping: w,
            message: built.message,
            cda: built.cda,
            sends_as,
        });
        anyhow::Ok(())
    };
    let provider_sends = (Role::Client, signer);
    let mut push = |name, about, t: &DocumentTemplate, v: &MessageValues, w| {
        push_as(name, about, t, v, w, provider_sends)
    };
    for (tname, template) in &templates {
        for (pname, payment) in &payments {
            n += 1;
            let v = values(n, payment);
            push(
                format!("{n:02}-{tname}-{pname}"),
                format!("{} document, {pname} client, bare HL7 V3", template.title),
                template,
                &v,
                Wrapping::Bare,
            )?;
        }
    }
    let first = values(1, &PaymentType::SelfPaying);
    let client_relationship = &templates[0].1;
    for (wname, wrapping) in [("soap11", Wrapping::Soap11), ("soap12", Wrapping::Soap12)] {
        n += 1;
        push(
            format!("{n:02}-client-relationship-self-paying-{wname}"),
            format!("example 01 as a new document, wrapped in {wname}"),
            client_relationship,
            &values(n, &PaymentType::SelfPaying),
            wrapping,
        )?;
    }
    n += 1;
    let mut replacement = values(n, &PaymentType::SelfPaying);
    replacement.set_id = first.set_id.clone();
    replacement.version = 2;
    replacement.replaces = Some(Replaces {
        parent_id: first.document_id.clone(),
        parent_version: 1,
        reason: ReplacementReason::Correction,
    });
    replacement.narrative =
        "Asiakkuus alkanut 1.3.2026.\nPalvelu: kotihoito ja ateriapalvelu.".into();
    push(
        format!("{n:02}-replacement-of-01"),
        "version 2 of example 01 (a correction)".into(),
        client_relationship,
        &replacement,
        Wrapping::Bare,
    )?;
    n += 1;
    let mut invalidation = values(n, &PaymentType::SelfPaying);
    invalidation.set_id = first.set_id.clone();
    invalidation.version = 3;
    invalidation.replaces = Some(Replaces {
        parent_id: replacement.document_id.clone(),
        parent_version: 2,
        reason: ReplacementReason::Invalidation,
    });
    push(
        format!("{n:02}-invalidation-of-01"),
        "version 3 of example 01: invalidates the document".into(),
        client_relationship,
        &invalidation,
        Wrapping::Bare,
    )?;
    for (tname, template) in &templates {
        n += 1;
        push_as(
            format!("{n:02}-{tname}-own-client"),
            format!(
                "{} document of the county's own client: sent and signed by the county (county-client, county-signature) into its own register, bare HL7 V3",
                template.title
            ),
            template,
            &own_client_values(n),
            Wrapping::Bare,
            (Role::CountyClient, county_signer),
        )?;
    }
    Ok(out)
}

/// The PKI to sign with: the given one, or `out/pki` (made when missing).
fn pki(args: &Args) -> anyhow::Result<Pki> {
    match &args.pki {
        Some(dir) => Ok(Pki::open(dir)?),
        None => {
            let dir = args.out.join("pki");
            if dir.join("ca.pem").exists() {
                Ok(Pki::open(&dir)?)
            } else {
                Ok(Pki::init(&dir, &PkiSpec::default(), false)?)
            }
        }
    }
}

/// Writes the examples: `NN-name.xml` (the message) and `NN-name.cda.xml` (its bare CDA).
pub fn write(dir: &Path, examples: &[Example]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for e in examples {
        for (suffix, bytes) in [("xml", &e.message), ("cda.xml", &e.cda)] {
            let path = dir.join(format!("{}.{suffix}", e.name));
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

/// Runs `kantakoe example`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let pki = pki(&args)?;
    let signer_of = |role: Role| {
        let files = pki.files(role);
        SystemSigner::from_files(&files.cert, &files.key, OffsetDateTime::now_utc()).with_context(
            || {
                format!(
                    "the test PKI {} has no usable {} certificate (a PKI made before it existed? make a new one with `kantakoe pki init`)",
                    pki.dir().display(),
                    role.stem()
                )
            },
        )
    };
    let signer = signer_of(Role::Signature)?;
    let county_signer = signer_of(Role::CountySignature)?;
    let examples = examples(&signer, &county_signer)?;
    write(&args.out, &examples)?;
    for e in &examples {
        println!(
            "{}.xml  {} (send with {}.pem)",
            args.out.join(&e.name).display(),
            e.about,
            e.sends_as.stem()
        );
    }
    println!(
        "each with its bare CDA beside it (.cda.xml); check one with:\n  kantakoe validate {}.xml --trust {}",
        args.out.join(&examples[0].name).display(),
        pki.ca().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The README's example: the bare CDA of example 01 with its signature (which differs with
/// every PKI and time) replaced by a comment.
pub fn readme_excerpt(cda: &[u8]) -> String {
    let text = String::from_utf8_lossy(cda);
    let start = text.find("<signatureCollection");
    let end_tag = "</signatureCollection>";
    match (start, text.find(end_tag)) {
        (Some(s), Some(e)) => format!(
            "{}<!-- signatureCollection: the system signature, made with your test PKI -->{}",
            &text[..s],
            &text[e + end_tag.len()..]
        ),
        _ => text.into_owned(),
    }
}
