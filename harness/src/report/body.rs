//! The reports' subjects and plain-text bodies, in Finnish or Swedish, rendered from plain
//! Rust: one table of phrases per language (`Phrases`) and one layout shared by both, so the
//! two languages always carry the same facts in the same order.
//!
//! Two kinds of report:
//! - the **draft** of a rehearsal ([`draft_subject`], [`draft_body`]): marked HARJOITUS /
//!   ÖVNING in the subject and at the top of the body, naming the archive it ran against and
//!   saying it is not for Kela. It claims no more than happened: who made the submissions (the
//!   reference client of this tool, or the vendor's system), and whether the archivist
//!   confirmed the checkpoints in the archivist view or they were only checked automatically
//!   through the inspection API;
//! - the **real report** ([`real_subject`], [`real_body`]) of the real test in Kanta's
//!   production environment, from the archivist's record ([`RealTest`]): the successful test,
//!   each step done and confirmed in Kanta's archivist user interface, when real production
//!   storing starts, and the due date.
//!
//! \[conv\] The subject lines, the layout and the wording are this project's convention. Kela
//! publishes a report template ("raporttipohja", linked from the seeds' reporting slides on
//! kanta.fi) that is not in the public material this project holds; what the seeds require is
//! here (a successful test, reported to kanta@kanta.fi within two working days, stating when
//! real production storing starts), but the template's own fields and order may differ.

use std::fmt::Write as _;

use time::Date;

use super::email::KANTA_ADDRESS;
use super::real_test::RealTest;
use super::settings::{Settings, TestSettings};
use super::{Lang, helsinki, words};
use crate::results::{ArchivistConfirmation, Mode, RunResults, StepResult};

/// The fixed phrases of one language.
struct Phrases {
    subject_report: &'static str,
    /// The subject when the run was the register-usage-right deployment test alone.
    subject_usage_right: &'static str,
    /// The subject when the run held both deployment tests.
    subject_both: &'static str,
    rehearsal: &'static str,
    draft: &'static str,
    service: &'static str,
    greeting: &'static str,
    draft_banner: &'static str,
    draft_notice: &'static str,
    draft_intro: &'static str,
    real_intro: &'static str,
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
    rehearsal_heading: &'static str,
    date: &'static str,
    environment: &'static str,
    production_environment: &'static str,
    case: &'static str,
    kela_case: &'static str,
    run_by: &'static str,
    rehearsal_run_by: &'static str,
    archivist: &'static str,
    archive: &'static str,
    archive_embedded: &'static str,
    submitted_by: &'static str,
    submitted_reference: &'static str,
    submitted_sut: &'static str,
    tool: &'static str,
    confirmation: &'static str,
    real_confirmation: &'static str,
    results: &'static str,
    passed_of: &'static str,
    steps: &'static str,
    done_confirmed: &'static str,
    step_done: &'static str,
    note: &'static str,
    register_holder: &'static str,
    own_register: &'static str,
    document: &'static str,
    checkpoints: &'static str,
    production: &'static str,
    production_planned: &'static str,
    due: &'static str,
    closing: &'static str,
}

const FI: Phrases = Phrases {
    subject_report: "Käyttöönottokokeen raportti",
    subject_usage_right: "Rekisterinkäyttöoikeuden käyttöönottokokeen raportti",
    subject_both: "Käyttöönottokokeen ja rekisterinkäyttöoikeuden käyttöönottokokeen raportti",
    rehearsal: "HARJOITUS",
    draft: "luonnos",
    service: "Sosiaalihuollon asiakastietovaranto",
    greeting: "Hei,",
    draft_banner: "HARJOITUS – LUONNOS, EI KELALLE",
    draft_notice: "Tämä on Kantakoe-harjoituksen raporttiluonnos, ei käyttöönottokokeen raportti. \
                   Harjoitus ajettiin arkistoa {archive} vastaan, ei Kanta-palvelujen \
                   tuotantoympäristössä. Luonnosta ei lähetetä Kelalle ({kela}). Varsinainen \
                   käyttöönottokoe tehdään Kanta-palvelujen tuotantoympäristössä, ja sen \
                   raportti tehdään kokeen jälkeen komennolla `kantakoe report --real-test \
                   TIEDOSTO`.",
    draft_intro: "Harjoituksen kaikki vaiheet onnistuivat.",
    real_intro: "raportoimme Sosiaalihuollon asiakastietovarannon käyttöönottokokeen, joka \
                 tehtiin Kanta-palvelujen tuotantoympäristössä Kelan testitapauksella ja \
                 onnistui.",
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
    rehearsal_heading: "Harjoitus",
    date: "Päivämäärä",
    environment: "Ympäristö",
    production_environment: "Kanta-palvelujen tuotantoympäristö",
    case: "Testitapaus",
    kela_case: "Kelan testitapaus",
    run_by: "Kokeen suoritti",
    rehearsal_run_by: "Harjoituksen suoritti",
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
    real_confirmation: "Kanta-arkistonhoitaja {archivist} tarkasti Kanta-palvelujen \
                        arkistonhoitajan käyttöliittymällä, että asiakirjat ovat tallentuneet \
                        Sosiaalihuollon asiakastietovarantoon ja että niiden tiedot vastaavat \
                        asiakastietojärjestelmässä olevia asiakirjoja.",
    results: "Vaiheiden tulokset",
    passed_of: "vaihetta onnistui",
    steps: "Vaiheet",
    done_confirmed: "tehty ja vahvistettu arkistonhoitajan käyttöliittymässä",
    step_done: "tehty, vahvistettu arkistonhoitajan käyttöliittymässä",
    note: "huomautus",
    register_holder: "rekisterinpitäjä",
    own_register: "oma rekisteri",
    document: "asiakirja",
    checkpoints: "tarkistuskohdat",
    production: "Varsinainen tallentaminen tuotannossa aloitetaan",
    production_planned: "Varsinainen tallentaminen tuotannossa on suunniteltu aloitettavaksi",
    due: "Onnistunut käyttöönottokoe raportoidaan kahden arkipäivän kuluessa; tämän raportin \
          määräpäivä on",
    closing: "Ystävällisin terveisin",
};

const SV: Phrases = Phrases {
    subject_report: "Rapport om ibruktagningsprovet",
    subject_usage_right: "Rapport om ibruktagningsprovet för registeranvändningsrätt",
    subject_both: "Rapport om ibruktagningsprovet och ibruktagningsprovet för registeranvändningsrätt",
    rehearsal: "ÖVNING",
    draft: "utkast",
    service: "Klientdataarkivet för socialvården",
    greeting: "Hej,",
    draft_banner: "ÖVNING – UTKAST, INTE TILL FPA",
    draft_notice: "Detta är ett rapportutkast från en övning med Kantakoe, inte rapporten om \
                   ibruktagningsprovet. Övningen kördes mot arkivet {archive}, inte i \
                   Kanta-tjänsternas produktionsmiljö. Utkastet skickas inte till FPA ({kela}). \
                   Det egentliga ibruktagningsprovet görs i Kanta-tjänsternas produktionsmiljö, \
                   och rapporten om det görs efter provet med kommandot `kantakoe report \
                   --real-test FIL`.",
    draft_intro: "Alla steg i övningen lyckades.",
    real_intro: "vi rapporterar ibruktagningsprovet för Klientdataarkivet för socialvården, som \
                 gjordes i Kanta-tjänsternas produktionsmiljö med FPA:s testfall och lyckades.",
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
    rehearsal_heading: "Övning",
    date: "Datum",
    environment: "Miljö",
    production_environment: "Kanta-tjänsternas produktionsmiljö",
    case: "Testfall",
    kela_case: "FPA:s testfall",
    run_by: "Provet utfördes av",
    rehearsal_run_by: "Övningen utfördes av",
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
    real_confirmation: "Kanta-arkivarien {archivist} kontrollerade i Kanta-tjänsternas \
                        användargränssnitt för arkivarier att handlingarna har arkiverats i \
                        Klientdataarkivet för socialvården och att uppgifterna motsvarar \
                        handlingarna i klientdatasystemet.",
    results: "Stegens resultat",
    passed_of: "steg lyckades",
    steps: "Steg",
    done_confirmed: "utförda och bekräftade i arkivariens användargränssnitt",
    step_done: "utfört, bekräftat i arkivariens användargränssnitt",
    note: "anmärkning",
    register_holder: "personuppgiftsansvarig",
    own_register: "eget register",
    document: "handling",
    checkpoints: "kontrollpunkter",
    production: "Den egentliga arkiveringen i produktion inleds",
    production_planned: "Den egentliga arkiveringen i produktion planeras inledas",
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

/// The draft's subject: HARJOITUS / ÖVNING first, then the report (draft), the service, the
/// organisation and the rehearsal's date.
pub fn draft_subject(lang: Lang, settings: &Settings, results: &RunResults) -> String {
    let p = phrases(lang);
    format!(
        "{} – {} ({}) – {} – {} – {}",
        p.rehearsal,
        report_name(p, results),
        p.draft,
        p.service,
        settings.organisation,
        format_date(results.test_date)
    )
}

/// Which report the run is: the deployment test's, the register-usage-right deployment test's
/// (bundled case `rekisterinkayttooikeus`), or both, by the cases that ran.
fn report_name(p: &Phrases, results: &RunResults) -> &'static str {
    let usage_right = results.cases.iter().any(|c| c.id == USAGE_RIGHT_CASE);
    let other = results.cases.iter().any(|c| c.id != USAGE_RIGHT_CASE);
    match (usage_right, other) {
        (false, _) => p.subject_report,
        (true, false) => p.subject_usage_right,
        (true, true) => p.subject_both,
    }
}

/// The id (file stem) of the bundled register-usage-right deployment test.
pub const USAGE_RIGHT_CASE: &str = "rekisterinkayttooikeus";

/// The real report's subject: the report, the service, the organisation and the test date.
pub fn real_subject(lang: Lang, settings: &Settings, test: &RealTest) -> String {
    let p = phrases(lang);
    format!(
        "{} – {} – {} – {}",
        p.subject_report,
        p.service,
        settings.organisation,
        format_date(test.date)
    )
}

/// The archive a run talked to, as the draft names it.
fn archive_text(p: &Phrases, results: &RunResults) -> String {
    if results.archive.embedded {
        format!("{} ({})", results.archive.url, p.archive_embedded)
    } else {
        results.archive.url.clone()
    }
}

/// Who confirmed what in the archivist view: each person (or an unnamed one-time sign-in) with
/// the register holder they confirmed for and how many checkpoints.
fn confirmers(lang: Lang, c: &ArchivistConfirmation) -> String {
    if c.confirmers.is_empty() {
        // Results written before confirmers were recorded: only the names are known.
        return c.by.clone();
    }
    let items: Vec<String> = c
        .confirmers
        .iter()
        .map(|e| {
            let who = match &e.archivist {
                Some(name) => name.clone(),
                None => words::pick(
                    lang,
                    "nimeämätön arkistonhoitaja (kertakäyttöinen kirjautumistunnus)",
                    "icke namngiven arkivarie (engångsinloggning)",
                )
                .to_owned(),
            };
            let holder = match &e.register_holder_name {
                Some(name) => format!("{name} ({})", e.register_holder),
                None => e.register_holder.clone(),
            };
            match lang {
                Lang::Fi => format!(
                    "{who} rekisterinpitäjän {holder} puolesta {} tarkistuskohtaa",
                    e.confirmed
                ),
                Lang::Sv => format!(
                    "{who} för den personuppgiftsansvariga {holder}, {} kontrollpunkter",
                    e.confirmed
                ),
            }
        })
        .collect();
    items.join("; ")
}

/// The archivist's confirmation in a draft, saying exactly what happened.
fn confirmation(lang: Lang, settings: &Settings, results: &RunResults) -> String {
    let checkpoints: usize = results
        .cases
        .iter()
        .flat_map(|c| &c.steps)
        .map(|s| s.checkpoints.len())
        .sum();
    match (&results.confirmation, lang) {
        (Some(c), Lang::Fi) if c.confirmed == c.total => format!(
            "Arkistonhoitajan näkymässä vahvistettiin kaikki {} tarkistuskohtaa (viimeisin {}): \
             {}. Asiakirjat ovat tallentuneet harjoitusarkistoon, niiden kuvailutiedot ovat \
             asianmukaiset ja niiden tiedot vastaavat asiakastietojärjestelmässä olevia \
             asiakirjoja.",
            c.total,
            helsinki::format_rfc3339(lang, &c.at),
            confirmers(lang, c)
        ),
        (Some(c), Lang::Sv) if c.confirmed == c.total => format!(
            "Alla {} kontrollpunkter bekräftades i arkivariens vy (senast {}): {}. Handlingarna \
             har arkiverats i övningsarkivet, deras beskrivningsinformation är korrekt och \
             uppgifterna motsvarar handlingarna i klientdatasystemet.",
            c.total,
            helsinki::format_rfc3339(lang, &c.at),
            confirmers(lang, c)
        ),
        (Some(c), Lang::Fi) => format!(
            "Arkistonhoitajan näkymässä vahvistettiin vain {}/{} tarkistuskohtaa (viimeisin \
             {}): {}. Kaikki {} tarkistuskohtaa tarkistettiin automaattisesti arkiston \
             tarkastusrajapinnan kautta.",
            c.confirmed,
            c.total,
            helsinki::format_rfc3339(lang, &c.at),
            confirmers(lang, c),
            checkpoints
        ),
        (Some(c), Lang::Sv) => format!(
            "Endast {}/{} kontrollpunkter bekräftades i arkivariens vy (senast {}): {}. Alla {} \
             kontrollpunkter kontrollerades automatiskt via arkivets granskningsgränssnitt.",
            c.confirmed,
            c.total,
            helsinki::format_rfc3339(lang, &c.at),
            confirmers(lang, c),
            checkpoints
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
    let _ = writeln!(
        out,
        "  {number}. {title} [{}]: {}",
        step.id,
        words::outcome(lang, step.outcome)
    );
    let expected = words::expected(lang, &step.expected);
    match words::received(lang, &step.expected, step.actual.as_ref()) {
        Some(received) => {
            let _ = writeln!(out, "     {expected}, {received}");
        }
        None => {
            let _ = writeln!(out, "     {expected}");
        }
    }
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

/// The organisation's and the system's blocks, shared by both reports.
fn organisation_and_system(out: &mut String, p: &Phrases, settings: &Settings) {
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
}

/// The draft of a rehearsal: the HARJOITUS / ÖVNING notice with the archive it ran against,
/// organisation, system, the rehearsal, the confirmation, each step's result and the planned
/// production start. It states no due date: a rehearsal is never reported.
pub fn draft_body(
    lang: Lang,
    settings: &Settings,
    test: &TestSettings,
    results: &RunResults,
) -> String {
    let p = phrases(lang);
    let mut out = String::new();
    let archive = archive_text(p, results);
    let _ = writeln!(
        out,
        "{}\n\n{}\n\n{}\n",
        p.draft_banner,
        p.draft_notice
            .replace("{archive}", &archive)
            .replace("{kela}", KANTA_ADDRESS),
        p.draft_intro
    );
    organisation_and_system(&mut out, p, settings);

    let _ = writeln!(out, "\n{}", p.rehearsal_heading);
    let _ = writeln!(out, "  {}: {}", p.date, format_date(results.test_date));
    for case in &results.cases {
        let title = match lang {
            Lang::Fi => &case.title_fi,
            Lang::Sv => &case.title_sv,
        };
        let _ = writeln!(out, "  {}: {title} ({})", p.case, case.id);
    }
    let _ = writeln!(out, "  {}: {}", p.rehearsal_run_by, test.run_by);
    let _ = writeln!(
        out,
        "  {}: {} <{}>",
        p.archivist, settings.archivist_name, settings.archivist_email
    );
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
        p.production_planned,
        format_date(test.production_start)
    );
    let _ = writeln!(
        out,
        "\n{}\n{}\n{}",
        p.closing, test.run_by, settings.organisation
    );
    out
}

/// The real report: organisation, system, the test in Kanta's production environment with
/// Kela's test case, each step done and confirmed, the archivist's check, the production start
/// date and the due date.
pub fn real_body(lang: Lang, settings: &Settings, test: &RealTest, due: Date) -> String {
    let p = phrases(lang);
    let mut out = String::new();
    let _ = writeln!(out, "{}\n\n{}\n", p.greeting, p.real_intro);
    organisation_and_system(&mut out, p, settings);

    let _ = writeln!(out, "\n{}", p.test);
    let _ = writeln!(out, "  {}: {}", p.date, format_date(test.date));
    let _ = writeln!(out, "  {}: {}", p.environment, p.production_environment);
    let _ = writeln!(out, "  {}: {}", p.kela_case, test.case);
    let _ = writeln!(out, "  {}: {}", p.run_by, test.run_by);
    let _ = writeln!(
        out,
        "  {}: {} <{}>",
        p.archivist, settings.archivist_name, settings.archivist_email
    );

    let _ = writeln!(
        out,
        "\n{} ({}/{} {})",
        p.steps,
        test.steps.len(),
        test.steps.len(),
        p.done_confirmed
    );
    for (i, step) in test.steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}: {}", i + 1, step.title, p.step_done);
        if let Some(note) = &step.note {
            let _ = writeln!(out, "     {}: {note}", p.note);
        }
    }

    let _ = writeln!(
        out,
        "\n{}\n  {}",
        p.confirmation,
        p.real_confirmation
            .replace("{archivist}", &settings.archivist_name)
    );
    let _ = writeln!(
        out,
        "\n{} {}.",
        p.production,
        format_date(test.production_start)
    );
    let _ = writeln!(out, "\n{} {}.", p.due, format_date(due));
    let _ = writeln!(
        out,
        "\n{}\n{}\n{}",
        p.closing, test.run_by, settings.organisation
    );
    out
}
