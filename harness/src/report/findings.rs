//! The findings summary of a run that did not fully pass: a Markdown file for the team (the
//! seeds: a failed test need not be reported to Kela, "mutta haasteista ja pulmista voi
//! kertoa"). It lists each step that did not pass, with the expected and the received
//! acknowledgement, the checkpoints that disagreed and the failures, and every stray
//! submission. Everything is said in the file's language ([`super::words`]); the tool's own
//! technical messages (English, for the vendor's developers) are quoted apart from the text,
//! in a code block, never as a Finnish or Swedish sentence.

use std::fmt::Write as _;

use super::body::format_date;
use super::{Lang, helsinki, words};
use crate::results::{Outcome, RunResults, StepResult, Summary};

/// The findings file's name in `lang`.
pub fn file_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => "havainnot.md",
        Lang::Sv => "iakttagelser.md",
    }
}

/// Why a step did not pass, in the file's language, from what the results record.
fn reasons(lang: Lang, step: &StepResult) -> Vec<String> {
    let t = |fi: &'static str, sv: &'static str| words::pick(lang, fi, sv);
    let mut out = Vec::new();
    match step.outcome {
        Outcome::TimedOut => out.push(
            t(
                "järjestelmäsi lähetystä ei saapunut arkistoon aikarajan kuluessa",
                "ditt systems sändning kom inte till arkivet inom tidsgränsen",
            )
            .to_owned(),
        ),
        // The run stopped at an environment error before this step (see the rehearsal).
        Outcome::Skipped if step.failures.iter().any(|f| f.starts_with("not run:")) => out.push(
            t(
                "vaihetta ei tehty, koska ajo pysähtyi ympäristövirheeseen",
                "steget utfördes inte eftersom körningen stannade på ett miljöfel",
            )
            .to_owned(),
        ),
        Outcome::Error => out.push(
            t(
                "ympäristövirhe: arkistoon ei saatu yhteyttä tai se ei vastannut oikein; vika ei ole järjestelmässäsi",
                "miljöfel: arkivet kunde inte nås eller svarade inte rätt; felet ligger inte i ditt system",
            )
            .to_owned(),
        ),
        Outcome::Skipped => out.push(
            t(
                "vaihetta ei tehty, koska aiempi vaihe, johon se viittaa, ei jättänyt asiakirjaa",
                "steget utfördes inte eftersom ett tidigare steg som det hänvisar till inte \
                 lämnade någon handling",
            )
            .to_owned(),
        ),
        Outcome::Passed | Outcome::Failed => {}
    }
    if let Some(a) = &step.actual
        && (a.ack != step.expected.ack || {
            let mut want = step.expected.codes.clone();
            let mut got = a.codes.clone();
            want.sort();
            got.sort();
            want != got
        })
    {
        out.push(
            if words::is_connection(&step.expected) {
                t(
                    "yhteyden tulos ei ollut odotettu",
                    "anslutningens resultat var inte det förväntade",
                )
            } else {
                t(
                    "arkiston kuittaus ei ollut odotettu",
                    "arkivets kvittens var inte den förväntade",
                )
            }
            .to_owned(),
        );
    }
    if step.actual.is_none() && !step.expected.ack.is_empty() && step.outcome == Outcome::Failed {
        out.push(
            t(
                "arkisto ei vastannut kuittauksella",
                "arkivet svarade inte med en kvittens",
            )
            .to_owned(),
        );
    }
    if step.checkpoints.iter().any(|c| !c.passed) {
        out.push(
            t(
                "arkistonhoitajan tarkistuskohta ei vastannut odotettua",
                "en kontrollpunkt för arkivarien motsvarade inte det förväntade",
            )
            .to_owned(),
        );
    }
    out
}

/// The summary in `lang`.
pub fn render(lang: Lang, results: &RunResults) -> String {
    let fi = lang == Lang::Fi;
    let t = |fi_text: &'static str, sv_text: &'static str| if fi { fi_text } else { sv_text };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} {}\n",
        t(
            "Käyttöönottokokeen harjoitus: havainnot",
            "Övning av ibruktagningsprovet: iakttagelser"
        ),
        format_date(results.test_date)
    );
    let _ = writeln!(
        out,
        "{}\n",
        t(
            "Kaikki vaiheet eivät onnistuneet, joten raporttiluonnosta ei kirjoitettu \
             (epäonnistunutta koetta ei raportoida Kelalle). Tämä yhteenveto on tiimin \
             käyttöön.",
            "Alla steg lyckades inte, så inget rapportutkast skrevs (ett misslyckat prov \
             rapporteras inte till FPA). Denna sammanfattning är avsedd för teamet."
        )
    );
    let s = &results.summary;
    let started = helsinki::format(lang, results.started_at);
    let _ = writeln!(
        out,
        "- {}: {}\n- {}: {} ({})\n- {}: {}, {}: {}, {}: {}, {}: {}, {}: {}\n",
        t("Arkisto", "Arkiv"),
        results.archive.url,
        t("Työkalu", "Verktyg"),
        results.tool,
        started,
        t("Vaiheita", "Steg"),
        s.steps,
        t("onnistui", "lyckades"),
        s.passed,
        t("epäonnistui", "misslyckades"),
        s.failed,
        t("ohitettiin", "hoppades över"),
        s.skipped,
        t("ylimääräisiä lähetyksiä", "oväntade sändningar"),
        results.strays.len()
    );

    if results.summary.steps == 0 || Summary::of(&results.cases) != results.summary {
        let _ = writeln!(
            out,
            "{}\n",
            t(
                "Tuloksissa ei ole yhtään vaihetta, tai niiden yhteenveto ei vastaa vaiheita.",
                "Resultaten har inga steg, eller deras sammanfattning motsvarar inte stegen."
            )
        );
    }
    for case in &results.cases {
        let failing: Vec<_> = case
            .steps
            .iter()
            .filter(|s| s.outcome != Outcome::Passed)
            .collect();
        if failing.is_empty() {
            continue;
        }
        let title = if fi { &case.title_fi } else { &case.title_sv };
        let _ = writeln!(out, "## {title} (`{}`)\n", case.id);
        for step in failing {
            let step_title = if fi { &step.title_fi } else { &step.title_sv };
            let outcome = words::outcome(lang, step.outcome);
            let _ = writeln!(out, "### `{}`: {step_title}: {outcome}\n", step.id);
            let _ = writeln!(
                out,
                "- {}",
                capitalised(&words::expected(lang, &step.expected))
            );
            if let Some(received) = words::received(lang, &step.expected, step.actual.as_ref()) {
                let _ = writeln!(out, "- {}", capitalised(&received));
            }
            if let Some(id) = step.actual.as_ref().and_then(|a| a.message_id.as_ref()) {
                let _ = writeln!(
                    out,
                    "- {}: `{id}`",
                    t("Sanoman tunniste", "Meddelandets id")
                );
            }
            if let Some(doc) = &step.document_id {
                let _ = writeln!(out, "- {}: `{doc}`", t("Asiakirja", "Handling"));
            }
            for c in step.checkpoints.iter().filter(|c| !c.passed) {
                let _ = writeln!(
                    out,
                    "- {} \"{}\": {} {}, {} {}",
                    t("Tarkistuskohta", "Kontrollpunkt"),
                    words::field(lang, &c.field),
                    t("odotettu", "förväntat"),
                    words::value(lang, &c.expected),
                    t("arkistossa", "i arkivet"),
                    match &c.actual {
                        Some(a) => words::value(lang, a),
                        None => t("ei arvoa", "inget värde").to_owned(),
                    }
                );
            }
            for reason in reasons(lang, step) {
                let _ = writeln!(out, "- {}: {reason}", t("Syy", "Orsak"));
            }
            if !step.failures.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}\n\n```text",
                    t(
                        "Työkalun tekniset viestit (englanniksi, kehittäjille):",
                        "Verktygets tekniska meddelanden (på engelska, för utvecklare):"
                    )
                );
                for f in &step.failures {
                    let _ = writeln!(out, "{f}");
                }
                let _ = writeln!(out, "```");
            }
            out.push('\n');
        }
    }

    if !results.strays.is_empty() {
        let _ = writeln!(
            out,
            "## {}\n",
            t(
                "Lähetykset, jotka eivät vastanneet yhtään vaihetta",
                "Sändningar som inte motsvarade något steg"
            )
        );
        for stray in &results.strays {
            let _ = writeln!(
                out,
                "- {}: {} {}, {} {}, {}: {}",
                helsinki::format_rfc3339(lang, &stray.at),
                t("sanoma", "meddelande"),
                stray.message_id.as_deref().unwrap_or("-"),
                t("asiakirja", "handling"),
                stray.document_id.as_deref().unwrap_or("-"),
                t("vastaus", "svar"),
                stray.outcome
            );
        }
        out.push('\n');
    }
    out
}

/// `text` with its first letter in upper case, for a list item.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
