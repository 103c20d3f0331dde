//! The findings summary of a run that did not fully pass: a Markdown file for the team (the
//! seeds: a failed test need not be reported to Kela, "mutta haasteista ja pulmista voi
//! kertoa"). It lists each step that did not pass, with the expected and the received
//! acknowledgement, the checkpoints that disagreed and the failures, and every stray
//! submission.

use std::fmt::Write as _;

use super::Lang;
use super::body::format_date;
use crate::results::{Outcome, RunResults, Summary};

/// The findings file's name in `lang`.
pub fn file_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => "havainnot.md",
        Lang::Sv => "iakttagelser.md",
    }
}

fn ack(ack: &str, codes: &[String]) -> String {
    if codes.is_empty() {
        format!("`{ack}`")
    } else {
        format!("`{ack}` ({})", codes.join(", "))
    }
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
            "Kaikki vaiheet eivät onnistuneet, joten Kelalle ei kirjoitettu raporttia \
             (epäonnistunutta koetta ei tarvitse raportoida). Tämä yhteenveto on tiimin \
             käyttöön.",
            "Alla steg lyckades inte, så ingen rapport till FPA skrevs (ett misslyckat prov \
             behöver inte rapporteras). Denna sammanfattning är avsedd för teamet."
        )
    );
    let s = &results.summary;
    let started = results
        .started_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
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
            let outcome = match step.outcome {
                Outcome::Passed => t("onnistui", "lyckades"),
                Outcome::Failed => t("epäonnistui", "misslyckades"),
                Outcome::TimedOut => t("aikakatkaisu", "tidsgränsen överskreds"),
                Outcome::Skipped => t("ohitettu", "hoppades över"),
                Outcome::Error => t("ympäristövirhe", "miljöfel"),
            };
            let _ = writeln!(out, "### `{}`: {step_title}: {outcome}\n", step.id);
            let received = match &step.actual {
                Some(a) => ack(&a.ack, &a.codes),
                None => t("ei kuittausta", "ingen kvittens").to_owned(),
            };
            let _ = writeln!(
                out,
                "- {}: {}\n- {}: {received}",
                t("Odotettu kuittaus", "Förväntad kvittens"),
                ack(&step.expected.ack, &step.expected.codes),
                t("Saatu", "Mottagen"),
            );
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
                    "- {} `{}`: {} `{}`, {} {}",
                    t("Tarkistuskohta", "Kontrollpunkt"),
                    c.field,
                    t("odotettu", "förväntat"),
                    c.expected,
                    t("arkistossa", "i arkivet"),
                    match &c.actual {
                        Some(a) => format!("`{a}`"),
                        None => t("ei arvoa", "inget värde").to_owned(),
                    }
                );
            }
            for f in &step.failures {
                let _ = writeln!(out, "- {}: {f}", t("Syy", "Orsak"));
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
                stray.at,
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
