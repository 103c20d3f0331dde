//! SUT mode's plan for the vendor: everything your system needs to make its steps, printed as
//! the run starts and written to `out/sut-plan.md` in Finnish, Swedish and English — the
//! message URL and path, accepted content types, the TLS and signature certificate files, the
//! organisations' OIDs, the test persons, and per step the codes the archive will check.

use std::fmt::Write as _;

use kanta_profile::format::Wrapping;
use kanta_profile::orgs::Registry;

use crate::compose;
use crate::pki::{Pki, Role};
use crate::rehearse::case::{Action, Case, Payment, StepActor, Submission};
use crate::rehearse::{Setup, message_values, template_of};
use crate::results::ack_text;

/// The plan's file name in the output folder.
pub const PLAN_FILE: &str = "sut-plan.md";

/// One language of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Finnish.
    Fi,
    /// Swedish.
    Sv,
    /// English.
    En,
}

struct Words {
    heading: &'static str,
    url: &'static str,
    path: &'static str,
    content_types: &'static str,
    trust: &'static str,
    present: &'static str,
    or_vendor: &'static str,
    signature: &'static str,
    provider: &'static str,
    units: &'static str,
    organisers: &'static str,
    persons: &'static str,
    steps: &'static str,
    columns: [&'static str; 8],
    self_paying: &'static str,
    purchased: &'static str,
    voucher: &'static str,
    own_client: &'static str,
    none: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Fi => Words {
            heading: "Suomeksi: järjestelmäsi vaiheet",
            url: "Sanomien osoite (POST)",
            path: "polku",
            content_types: "Hyväksytyt sisältötyypit",
            trust: "TLS: luota CA-varmenteeseen",
            present: "TLS-asiakasvarmenne (palveluntuottaja)",
            or_vendor: "tai välittäjän varmenne",
            signature: "Järjestelmäallekirjoitusvarmenne",
            provider: "Palveluntuottaja",
            units: "palveluyksiköt",
            organisers: "Palvelunjärjestäjät (rekisterinpitäjät)",
            persons: "Testihenkilöt",
            steps: "Vaiheet ja arkiston tarkistamat koodit",
            columns: [
                "vaihe",
                "asiakas",
                "maksaja",
                "rekisterinpitäjä",
                "asiakirjaryhmä",
                "käyttötilanne",
                "korvaa vaiheen",
                "odotettu kuittaus",
            ],
            self_paying: "itse maksava",
            purchased: "ostopalvelu",
            voucher: "palveluseteli",
            own_client: "oma asiakas (järjestäjä)",
            none: "—",
        },
        Lang::Sv => Words {
            heading: "På svenska: ditt systems steg",
            url: "Meddelandenas adress (POST)",
            path: "sökväg",
            content_types: "Godkända innehållstyper",
            trust: "TLS: lita på CA-certifikatet",
            present: "TLS-klientcertifikat (serviceproducenten)",
            or_vendor: "eller förmedlarens certifikat",
            signature: "Certifikat för systemsignatur",
            provider: "Serviceproducent",
            units: "serviceenheter",
            organisers: "Anordnare (personuppgiftsansvariga)",
            persons: "Testpersoner",
            steps: "Steg och koder som arkivet kontrollerar",
            columns: [
                "steg",
                "klient",
                "betalare",
                "personuppgiftsansvarig",
                "dokumentgrupp",
                "användningssituation",
                "ersätter steg",
                "förväntad kvittering",
            ],
            self_paying: "självbetalande",
            purchased: "köpt tjänst",
            voucher: "servicesedel",
            own_client: "egen klient (anordnaren)",
            none: "—",
        },
        Lang::En => Words {
            heading: "In English: your system's steps",
            url: "Message URL (POST)",
            path: "path",
            content_types: "Accepted content types",
            trust: "TLS: trust the CA certificate",
            present: "TLS client certificate (the provider)",
            or_vendor: "or the vendor's certificate",
            signature: "System-signature certificate",
            provider: "Provider",
            units: "service units",
            organisers: "Organisers (register holders)",
            persons: "Test persons",
            steps: "Steps and the codes the archive checks",
            columns: [
                "step",
                "client",
                "payment",
                "register holder",
                "document group",
                "usage situation",
                "replaces step",
                "expected answer",
            ],
            self_paying: "self-paying",
            purchased: "purchased service",
            voucher: "service voucher",
            own_client: "own client (organiser)",
            none: "—",
        },
    }
}

fn org_name(fixture: &Registry, oid: &str) -> String {
    fixture
        .organisation(oid)
        .map_or_else(|| oid.to_owned(), |o| format!("{} ({oid})", o.name))
}

/// The "your system" submissions of `cases`, with their case.
fn sut_steps(cases: &[Case]) -> Vec<(&Case, &crate::rehearse::case::Step, &Submission)> {
    let mut out = Vec::new();
    for case in cases {
        for step in &case.steps {
            if step.actor != StepActor::YourSystem {
                continue;
            }
            if let Action::Submit { submission, .. } = &step.action {
                out.push((case, step, submission.as_ref()));
            }
        }
    }
    out
}

/// The plan in one language (Markdown).
pub fn render(setup: &Setup, cases: &[Case], lang: Lang) -> String {
    let w = words(lang);
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", w.heading);
    let url = format!("{}{}", setup.target, setup.message_path);
    let _ = writeln!(
        s,
        "- {}: {url} ({} `{}`)",
        w.url, w.path, setup.message_path
    );
    let types: Vec<String> = [
        (Wrapping::Soap11, "SOAP 1.1"),
        (Wrapping::Soap12, "SOAP 1.2"),
        (Wrapping::Bare, "HL7 V3"),
    ]
    .iter()
    .map(|(wr, name)| format!("`{}` ({name})", compose::content_type(*wr)))
    .collect();
    let _ = writeln!(s, "- {}: {}", w.content_types, types.join(", "));
    let pki: &Pki = &setup.pki;
    let file = |role: Role| {
        let f = pki.files(role);
        format!("`{}` + `{}`", f.cert.display(), f.key.display())
    };
    let _ = writeln!(s, "- {}: `{}`", w.trust, pki.ca().display());
    let _ = writeln!(
        s,
        "- {}: {}; {}: {}",
        w.present,
        file(Role::Client),
        w.or_vendor,
        file(Role::Vendor)
    );
    let _ = writeln!(s, "- {}: {}", w.signature, file(Role::Signature));
    let steps = sut_steps(cases);
    let Some(first) = steps.first().map(|(case, _, _)| *case) else {
        return s;
    };
    let fixture = &first.fixture;
    let mut senders: Vec<&str> = steps
        .iter()
        .map(|(_, _, sub)| sub.sender.as_str())
        .collect();
    senders.dedup();
    for sender in senders {
        let units: Vec<String> = fixture
            .organisation(sender)
            .map(|o| {
                o.service_units
                    .iter()
                    .map(|u| format!("{} ({})", u.name, u.oid))
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "- {}: {}; {}: {}",
            w.provider,
            org_name(fixture, sender),
            w.units,
            units.join(", ")
        );
    }
    let mut organisers: Vec<&str> = steps
        .iter()
        .filter_map(|(_, _, sub)| sub.organiser.as_deref())
        .collect();
    organisers.sort_unstable();
    organisers.dedup();
    if !organisers.is_empty() {
        let names: Vec<String> = organisers.iter().map(|o| org_name(fixture, o)).collect();
        let _ = writeln!(s, "- {}: {}", w.organisers, names.join(", "));
    }
    let mut persons: Vec<&str> = steps
        .iter()
        .map(|(_, _, sub)| sub.client.as_str())
        .collect();
    persons.sort_unstable();
    persons.dedup();
    let persons: Vec<String> = persons
        .iter()
        .map(|p| match fixture.person(p) {
            Some(person) => format!("{p} {}", person.name),
            None => (*p).to_owned(),
        })
        .collect();
    let _ = writeln!(s, "- {}: {}", w.persons, persons.join(", "));
    let _ = writeln!(s, "\n### {}\n", w.steps);
    let _ = writeln!(s, "| {} |", w.columns.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(w.columns.len()));
    for (case, step, sub) in steps {
        let values = message_values(&case.fixture, sub, String::new(), String::new());
        let payment = match sub.payment {
            Payment::SelfPaying => w.self_paying.to_owned(),
            Payment::OwnClient => w.own_client.to_owned(),
            Payment::PurchasedService => format!(
                "{} ({})",
                w.purchased,
                sub.organiser.as_deref().unwrap_or(w.none)
            ),
            Payment::ServiceVoucher => format!(
                "{} ({})",
                w.voucher,
                sub.organiser.as_deref().unwrap_or(w.none)
            ),
        };
        let group = template_of(sub.template).document_group;
        let usage = values.usage_situation.code();
        let expect = match &step.action {
            Action::Submit { expect, .. } => ack_text(&expect.ack, &expect.codes),
            _ => w.none.to_owned(),
        };
        let _ = writeln!(
            s,
            "| {} / {} | {} | {payment} | {} | {} {} | {} {} | {} | {expect} |",
            case.id,
            step.id,
            sub.client,
            values.custodian.oid,
            group.code,
            group.display_name,
            usage.code,
            usage.display_name,
            sub.replaces.as_deref().unwrap_or(w.none),
        );
    }
    s
}

/// The whole plan: Finnish, Swedish and English.
pub fn document(setup: &Setup, cases: &[Case]) -> String {
    let mut s = String::from("# Kantakoe: SUT-suunnitelma / SUT-plan / SUT plan\n\n");
    for lang in [Lang::Fi, Lang::Sv, Lang::En] {
        s.push_str(&render(setup, cases, lang));
        s.push('\n');
    }
    s
}
