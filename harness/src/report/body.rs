//! The report's subject and plain-text body, in Finnish or Swedish, rendered from plain Rust:
//! one table of phrases per language (`Phrases`) and one layout shared by both, so the two
//! languages always carry the same facts in the same order.
//!
//! The body claims no more than happened: it names the archive the steps ran against and who
//! made the submissions (the reference client of this tool, or the vendor's system), and the
//! archivist's confirmation says whether the archivist confirmed the checkpoints in the
//! archivist view or they were only checked automatically through the inspection API.
//!
//! \[conv\] The subject line, the layout and the wording are this project's convention. Kela
//! publishes a report template ("raporttipohja", linked from the seeds' reporting slides on
//! kanta.fi) that is not in the public material this project holds; what the seeds require is
//! here (a successful test, reported to kanta@kanta.fi within two working days, stating when
//! real production storing starts), but the template's own fields and order may differ.

use std::fmt::Write as _;

use time::Date;

use super::Lang;
use super::settings::Settings;
use crate::results::{Mode, Outcome, RunResults, StepResult};

/// The fixed phrases of one language.
struct Phrases {
    subject_report: &'static str,
    service: &'static str,
    greeting: &'static str,
    intro: &'static str,
    organisation: &'static str,
    name: &'static str,
    business_id: &'static str,
    operating_unit: &'static str,
    service_units: &'static str,
    system: &'static str,
    product: &'static str,
    version: &'static str,
    vendor: &'static str,
    test: &'static str,
    date: &'static str,
    case: &'static str,
    run_by: &'static str,
    archivist: &'static str,
    archive: &'static str,
    archive_embedded: &'static str,
    submitted_by: &'static str,
    submitted_reference: &'static str,
    submitted_sut: &'static str,
    tool: &'static str,
    confirmation: &'static str,
    results: &'static str,
    passed_of: &'static str,
    expected: &'static str,
    received: &'static str,
    none_received: &'static str,
    register_holder: &'static str,
    own_register: &'static str,
    document: &'static str,
    checkpoints: &'static str,
    production: &'static str,
    due: &'static str,
    closing: &'static str,
}

const FI: Phrases = Phrases {
    subject_report: "Käyttöönottokokeen raportti",
    service: "Sosiaalihuollon asiakastietovaranto",
    greeting: "Hei,",
    intro: "raportoimme Sosiaalihuollon asiakastietovarannon käyttöönottokokeen, jonka kaikki \
            vaiheet onnistuivat.",
    organisation: "Organisaatio",
    name: "Nimi",
    business_id: "Y-tunnus",
    operating_unit: "Toimintayksikön OID",
    service_units: "Palveluyksiköt",
    system: "Asiakastietojärjestelmä",
    product: "Sertifioitu tuote",
    version: "versio",
    vendor: "Järjestelmätoimittaja",
    test: "Käyttöönottokoe",
    date: "Päivämäärä",
    case: "Testitapaus",
    run_by: "Kokeen suoritti",
    archivist: "Kanta-arkistonhoitaja",
    archive: "Arkisto",
    archive_embedded: "Kantakoe-harjoitusarkisto, käynnistetty tätä ajoa varten",
    submitted_by: "Lähettäjä",
    submitted_reference: "Kantakoe-vertailuasiakas lähetti kaikki asiakirjat (harjoitus; \
                          asiakastietojärjestelmä ei lähettänyt niitä)",
    submitted_sut: "asiakastietojärjestelmä ({}) lähetti omien vaiheidensa asiakirjat; muut \
                    vaiheet teki Kantakoe-vertailuasiakas",
    tool: "Työkalu",
    confirmation: "Arkistonhoitajan vahvistus",
    results: "Vaiheiden tulokset",
    passed_of: "vaihetta onnistui",
    expected: "odotettu kuittaus",
    received: "saatu",
    none_received: "ei kuittausta",
    register_holder: "rekisterinpitäjä",
    own_register: "oma rekisteri",
    document: "asiakirja",
    checkpoints: "tarkistuskohdat",
    production: "Varsinainen tallentaminen tuotannossa aloitetaan",
    due: "Onnistunut käyttöönottokoe raportoidaan kahden arkipäivän kuluessa; tämän raportin \
          määräpäivä on",
    closing: "Ystävällisin terveisin",
};

const SV: Phrases = Phrases {
    subject_report: "Rapport om ibruktagningsprovet",
    service: "Klientdataarkivet för socialvården",
    greeting: "Hej,",
    intro: "vi rapporterar ibruktagningsprovet för Klientdataarkivet för socialvården, vars alla \
            steg lyckades.",
    organisation: "Organisation",
    name: "Namn",
    business_id: "FO-nummer",
    operating_unit: "Verksamhetsenhetens OID",
    service_units: "Serviceenheter",
    system: "Klientdatasystem",
    product: "Certifierad produkt",
    version: "version",
    vendor: "Systemleverantör",
    test: "Ibruktagningsprov",
    date: "Datum",
    case: "Testfall",
    run_by: "Provet utfördes av",
    archivist: "Kanta-arkivarie",
    archive: "Arkiv",
    archive_embedded: "Kantakoes övningsarkiv, startat för denna körning",
    submitted_by: "Avsändare",
    submitted_reference: "Kantakoes referensklient skickade alla handlingar (övning; \
                          klientdatasystemet skickade dem inte)",
    submitted_sut: "klientdatasystemet ({}) skickade handlingarna i sina steg; övriga steg \
                    utfördes av Kantakoes referensklient",
    tool: "Verktyg",
    confirmation: "Arkivariens bekräftelse",
    results: "Stegens resultat",
    passed_of: "steg lyckades",
    expected: "förväntad kvittens",
    received: "mottagen",
    none_received: "ingen kvittens",
    register_holder: "personuppgiftsansvarig",
    own_register: "eget register",
    document: "handling",
    checkpoints: "kontrollpunkter",
    production: "Den egentliga arkiveringen i produktion inleds",
    due: "Ett lyckat ibruktagningsprov rapporteras inom två vardagar; denna rapports sista dag \
          är",
    closing: "Med vänliga hälsningar",
};

fn phrases(lang: Lang) -> &'static Phrases {
    match lang {
        Lang::Fi => &FI,
        Lang::Sv => &SV,
    }
}

/// A date as written in Finnish and in Finland-Swedish: `2.3.2026`.
pub fn format_date(date: Date) -> String {
    format!("{}.{}.{}", date.day(), u8::from(date.month()), date.year())
}

/// The subject: the report, the service, the organisation and the test date.
pub fn subject(lang: Lang, settings: &Settings, results: &RunResults) -> String {
    let p = phrases(lang);
    format!(
        "{} – {} – {} – {}",
        p.subject_report,
        p.service,
        settings.organisation,
        format_date(results.test_date)
    )
}

fn outcome_word(lang: Lang, outcome: Outcome) -> &'static str {
    match (lang, outcome) {
        (Lang::Fi, Outcome::Passed) => "onnistui",
        (Lang::Fi, Outcome::Failed) => "epäonnistui",
        (Lang::Fi, Outcome::TimedOut) => "aikakatkaisu",
        (Lang::Fi, Outcome::Skipped) => "ohitettu",
        (Lang::Fi, Outcome::Error) => "ympäristövirhe",
        (Lang::Sv, Outcome::Passed) => "lyckades",
        (Lang::Sv, Outcome::Failed) => "misslyckades",
        (Lang::Sv, Outcome::TimedOut) => "tidsgränsen överskreds",
        (Lang::Sv, Outcome::Skipped) => "hoppades över",
        (Lang::Sv, Outcome::Error) => "miljöfel",
    }
}

fn ack_text(ack: &str, codes: &[String]) -> String {
    if codes.is_empty() {
        ack.to_owned()
    } else {
        format!("{ack} ({})", codes.join(", "))
    }
}

/// The archivist's confirmation, saying exactly what happened.
fn confirmation(lang: Lang, settings: &Settings, results: &RunResults) -> String {
    let checkpoints: usize = results
        .cases
        .iter()
        .flat_map(|c| &c.steps)
        .map(|s| s.checkpoints.len())
        .sum();
    match (&results.confirmation, lang) {
        (Some(c), Lang::Fi) if c.confirmed == c.total => format!(
            "Kanta-arkistonhoitaja {} vahvisti arkistonhoitajan näkymässä ({}) kaikki {} \
             tarkistuskohtaa: asiakirjat ovat tallentuneet Sosiaalihuollon \
             asiakastietovarantoon, niiden kuvailutiedot ovat asianmukaiset ja niiden tiedot \
             vastaavat asiakastietojärjestelmässä olevia asiakirjoja.",
            c.by, c.at, c.total
        ),
        (Some(c), Lang::Sv) if c.confirmed == c.total => format!(
            "Kanta-arkivarien {} bekräftade i arkivariens vy ({}) alla {} kontrollpunkter: \
             handlingarna har arkiverats i Klientdataarkivet för socialvården, deras \
             beskrivningsinformation är korrekt och uppgifterna motsvarar handlingarna i \
             klientdatasystemet.",
            c.by, c.at, c.total
        ),
        (Some(c), Lang::Fi) => format!(
            "Kanta-arkistonhoitaja {} vahvisti arkistonhoitajan näkymässä ({}) vain {}/{} \
             tarkistuskohtaa. Kaikki {} tarkistuskohtaa tarkistettiin automaattisesti arkiston \
             tarkastusrajapinnan kautta.",
            c.by, c.at, c.confirmed, c.total, checkpoints
        ),
        (Some(c), Lang::Sv) => format!(
            "Kanta-arkivarien {} bekräftade i arkivariens vy ({}) endast {}/{} \
             kontrollpunkter. Alla {} kontrollpunkter kontrollerades automatiskt via arkivets \
             granskningsgränssnitt.",
            c.by, c.at, c.confirmed, c.total, checkpoints
        ),
        (None, Lang::Fi) => format!(
            "Kaikki {} tarkistuskohtaa (rekisterinpitäjä, tila, versio ja muut kuvailutiedot) \
             tarkistettiin automaattisesti arkiston tarkastusrajapinnan kautta Kanta-\
             arkistonhoitajan ({}) puolesta. Arkistonhoitaja ei ole vahvistanut niitä \
             arkistonhoitajan näkymässä.",
            checkpoints, settings.archivist_name
        ),
        (None, Lang::Sv) => format!(
            "Alla {} kontrollpunkter (personuppgiftsansvarig, status, version och övrig \
             beskrivningsinformation) kontrollerades automatiskt via arkivets \
             granskningsgränssnitt för Kanta-arkivariens ({}) räkning. Arkivarien har inte \
             bekräftat dem i arkivariens vy.",
            checkpoints, settings.archivist_name
        ),
    }
}

fn step_line(out: &mut String, lang: Lang, settings: &Settings, number: usize, step: &StepResult) {
    let p = phrases(lang);
    let title = match lang {
        Lang::Fi => &step.title_fi,
        Lang::Sv => &step.title_sv,
    };
    let received = match &step.actual {
        Some(a) => format!("{} {}", p.received, ack_text(&a.ack, &a.codes)),
        None => p.none_received.to_owned(),
    };
    let _ = writeln!(
        out,
        "  {number}. {title} [{}]: {}",
        step.id,
        outcome_word(lang, step.outcome)
    );
    let _ = writeln!(
        out,
        "     {} {}, {received}",
        p.expected,
        ack_text(&step.expected.ack, &step.expected.codes)
    );
    if let Some(holder) = &step.register_holder {
        let own = if *holder == settings.operating_unit_oid {
            format!(" ({})", p.own_register)
        } else {
            String::new()
        };
        let _ = writeln!(out, "     {} {holder}{own}", p.register_holder);
    }
    if let Some(doc) = &step.document_id {
        let _ = writeln!(out, "     {} {doc}", p.document);
    }
    if !step.checkpoints.is_empty() {
        let ok = step.checkpoints.iter().filter(|c| c.passed).count();
        let _ = writeln!(
            out,
            "     {} {ok}/{}",
            p.checkpoints,
            step.checkpoints.len()
        );
    }
}

/// The body: organisation, system, test, confirmation, each step's result, the production
/// start date and the due date.
pub fn body(lang: Lang, settings: &Settings, results: &RunResults, due: Date) -> String {
    let p = phrases(lang);
    let mut out = String::new();
    let _ = writeln!(out, "{}\n\n{}\n", p.greeting, p.intro);

    let _ = writeln!(out, "{}", p.organisation);
    let _ = writeln!(out, "  {}: {}", p.name, settings.organisation);
    let _ = writeln!(out, "  {}: {}", p.business_id, settings.business_id);
    let _ = writeln!(
        out,
        "  {}: {}",
        p.operating_unit, settings.operating_unit_oid
    );
    let _ = writeln!(out, "  {}:", p.service_units);
    for unit in &settings.service_units {
        let _ = writeln!(out, "    - {} (OID {})", unit.name, unit.oid);
    }

    let _ = writeln!(out, "\n{}", p.system);
    let _ = writeln!(
        out,
        "  {}: {}, {} {}",
        p.product, settings.system_product, p.version, settings.system_version
    );
    let _ = writeln!(out, "  {}: {}", p.vendor, settings.vendor);

    let _ = writeln!(out, "\n{}", p.test);
    let _ = writeln!(out, "  {}: {}", p.date, format_date(results.test_date));
    for case in &results.cases {
        let title = match lang {
            Lang::Fi => &case.title_fi,
            Lang::Sv => &case.title_sv,
        };
        let _ = writeln!(out, "  {}: {title} ({})", p.case, case.id);
    }
    let _ = writeln!(out, "  {}: {}", p.run_by, settings.run_by);
    let _ = writeln!(
        out,
        "  {}: {} <{}>",
        p.archivist, settings.archivist_name, settings.archivist_email
    );
    let archive = if results.archive.embedded {
        format!("{} ({})", results.archive.url, p.archive_embedded)
    } else {
        results.archive.url.clone()
    };
    let _ = writeln!(out, "  {}: {archive}", p.archive);
    let submitted = match results.mode {
        Mode::Reference => p.submitted_reference.to_owned(),
        Mode::Sut => p.submitted_sut.replace(
            "{}",
            &format!("{} {}", settings.system_product, settings.system_version),
        ),
    };
    let _ = writeln!(out, "  {}: {submitted}", p.submitted_by);
    let _ = writeln!(out, "  {}: {}", p.tool, results.tool);

    let _ = writeln!(
        out,
        "\n{}\n  {}",
        p.confirmation,
        confirmation(lang, settings, results)
    );

    let _ = writeln!(
        out,
        "\n{} ({}/{} {})",
        p.results, results.summary.passed, results.summary.steps, p.passed_of
    );
    let mut number = 0;
    for case in &results.cases {
        for step in &case.steps {
            number += 1;
            step_line(&mut out, lang, settings, number, step);
        }
    }

    let _ = writeln!(
        out,
        "\n{} {}.",
        p.production,
        format_date(settings.production_start)
    );
    let _ = writeln!(out, "\n{} {}.", p.due, format_date(due));
    let _ = writeln!(
        out,
        "\n{}\n{}\n{}",
        p.closing, settings.run_by, settings.organisation
    );
    out
}
