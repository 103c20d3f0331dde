//! Finnish and Swedish words for what `results.json` records as ids or English: step outcomes,
//! checkpoint fields and their values, acknowledgements, connection results and their
//! reasons. The report and the findings write people's language with these, never the ids.

use super::Lang;
use crate::results::{ActualAck, ExpectedAck, Outcome};

/// Picks the Finnish or the Swedish text.
pub fn pick(lang: Lang, fi: &'static str, sv: &'static str) -> &'static str {
    match lang {
        Lang::Fi => fi,
        Lang::Sv => sv,
    }
}

/// A step's outcome in words.
pub fn outcome(lang: Lang, outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => pick(lang, "onnistui", "lyckades"),
        Outcome::Failed => pick(lang, "epäonnistui", "misslyckades"),
        Outcome::TimedOut => pick(lang, "aikaraja ylittyi", "tidsgränsen överskreds"),
        Outcome::Skipped => pick(lang, "ohitettiin", "hoppades över"),
        Outcome::Error => pick(lang, "ympäristövirhe", "miljöfel"),
    }
}

/// A checkpoint's field as the archivist reads it (the names of the case format's
/// `[[step.check]]` keys); an unknown field is shown as it is.
pub fn field(lang: Lang, field: &str) -> String {
    let word = match field {
        "register_holder" => pick(lang, "rekisterinpitäjä", "personuppgiftsansvarig"),
        "status" => pick(lang, "tila", "status"),
        "version" => pick(lang, "versio", "version"),
        "client" => pick(lang, "asiakas", "klient"),
        "service_unit" => pick(lang, "palveluyksikkö", "serviceenhet"),
        "document_group" => pick(lang, "asiakirjaryhmä", "handlingsgrupp"),
        "organiser" => pick(lang, "palvelunjärjestäjä", "anordnare"),
        "hidden_from" => pick(
            lang,
            "ei näy toisen rekisterinpitäjän arkistonhoitajalle",
            "syns inte för en annan personuppgiftsansvarigs arkivarie",
        ),
        "stored" => pick(lang, "tallennettu", "lagrad"),
        other => return other.to_owned(),
    };
    word.to_owned()
}

/// A checkpoint's value in words where the results record an English id (a document's status,
/// visibility, "nowhere"); OIDs, codes and numbers are shown as they are.
pub fn value(lang: Lang, value: &str) -> String {
    let word = match value {
        "active" => pick(lang, "aktiivinen", "aktiv"),
        "replaced" => pick(lang, "korvattu", "ersatt"),
        "invalidated" => pick(lang, "mitätöity", "ogiltigförklarad"),
        "visible" => pick(lang, "näkyy", "syns"),
        "hidden" => pick(lang, "ei näy", "syns inte"),
        "nowhere" => pick(lang, "ei missään rekisterissä", "i inget register"),
        other => return other.to_owned(),
    };
    word.to_owned()
}

/// An acknowledgement with its detail codes: `AE (R2-NOT-ORGANISER)`, `AA`.
fn ack(ack: &str, codes: &[String]) -> String {
    if codes.is_empty() {
        ack.to_owned()
    } else {
        format!("{ack} ({})", codes.join(", "))
    }
}

/// Why a connection was refused, from the tool's own (English) description of it; `None` when
/// the description is not one of the known kinds (then only "refused" is said).
pub fn refusal_reason(lang: Lang, text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let known: [(&str, &str, &str); 8] = [
        (
            "expired certificate",
            "vanhentunut varmenne",
            "utgånget certifikat",
        ),
        (
            "client certificate rejected",
            "arkisto hylkäsi asiakasvarmenteen",
            "arkivet avvisade klientcertifikatet",
        ),
        (
            "untrusted server",
            "arkiston varmenne ei ole luotetun varmentajan myöntämä",
            "arkivets certifikat är inte utfärdat av en betrodd certifikatutfärdare",
        ),
        (
            "hostname mismatch",
            "arkiston varmenne ei koske tätä osoitetta",
            "arkivets certifikat gäller inte denna adress",
        ),
        (
            "connection refused",
            "osoitteessa ei kuunnella yhteyksiä",
            "ingen lyssnar på adressen",
        ),
        (
            "tls failure",
            "TLS-kättely epäonnistui",
            "TLS-handskakningen misslyckades",
        ),
        (
            "http exchange with the archive failed",
            "arkisto katkaisi yhteyden",
            "arkivet bröt anslutningen",
        ),
        (
            "cannot connect",
            "yhteyttä ei saatu",
            "ingen anslutning kunde upprättas",
        ),
    ];
    if let Some(status) = text
        .strip_prefix("HTTP ")
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!(
            "{} {status}",
            pick(
                lang,
                "arkisto vastasi HTTP-tilalla",
                "arkivet svarade med HTTP-status"
            )
        ));
    }
    known
        .iter()
        .find(|(prefix, _, _)| lower.starts_with(prefix))
        .map(|(_, fi, sv)| pick(lang, fi, sv).to_owned())
}

/// A connection step's result (`connected` with the organisation the archive saw, or `refused`
/// with the reason) in words.
fn connection(lang: Lang, word: &str, codes: &[String], expected: bool) -> String {
    match word {
        "connected" => {
            let verb = if expected {
                pick(lang, "yhteys hyväksytään", "anslutningen godkänns")
            } else {
                pick(lang, "yhteys hyväksyttiin", "anslutningen godkändes")
            };
            match codes.first() {
                Some(org) => format!(
                    "{verb} ({} {org})",
                    pick(lang, "organisaatio", "organisation")
                ),
                None => verb.to_owned(),
            }
        }
        _ => {
            let verb = if expected {
                pick(lang, "yhteys hylätään", "anslutningen avvisas")
            } else {
                pick(lang, "yhteys hylättiin", "anslutningen avvisades")
            };
            match codes.first().and_then(|c| refusal_reason(lang, c)) {
                Some(reason) if !expected => format!("{verb} ({reason})"),
                _ => verb.to_owned(),
            }
        }
    }
}

/// Whether a step is a connection step (its expectation is a connection, not an
/// acknowledgement).
pub fn is_connection(expected: &ExpectedAck) -> bool {
    matches!(expected.ack.as_str(), "connected" | "refused")
}

/// What a step expected, in words: `odotettu kuittaus AA`, `odotettu: yhteys hylätään`, or
/// for a step that sends nothing, that it only checks.
pub fn expected(lang: Lang, e: &ExpectedAck) -> String {
    if is_connection(e) {
        format!(
            "{}: {}",
            pick(lang, "odotettu", "förväntat"),
            connection(lang, &e.ack, &e.codes, true)
        )
    } else if e.ack.is_empty() {
        pick(
            lang,
            "ei lähetystä, vain arkistonhoitajan tarkistuskohdat",
            "ingen sändning, endast arkivariens kontrollpunkter",
        )
        .to_owned()
    } else {
        format!(
            "{} {}",
            pick(lang, "odotettu kuittaus", "förväntad kvittens"),
            ack(&e.ack, &e.codes)
        )
    }
}

/// What came, in words: `saatu AA`, `tulos: yhteys hylättiin (vanhentunut varmenne)`,
/// `ei kuittausta`; `None` for a step that sends nothing and got nothing.
pub fn received(lang: Lang, e: &ExpectedAck, a: Option<&ActualAck>) -> Option<String> {
    match a {
        Some(a) if is_connection(e) || is_connection_word(&a.ack) => Some(format!(
            "{}: {}",
            pick(lang, "tulos", "resultat"),
            connection(lang, &a.ack, &a.codes, false)
        )),
        Some(a) => Some(format!(
            "{} {}",
            pick(lang, "saatu", "mottagen"),
            ack(&a.ack, &a.codes)
        )),
        None if e.ack.is_empty() => None,
        None => Some(pick(lang, "ei kuittausta", "ingen kvittens").to_owned()),
    }
}

fn is_connection_word(word: &str) -> bool {
    matches!(word, "connected" | "refused")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(ack: &str, codes: &[&str]) -> ExpectedAck {
        ExpectedAck {
            ack: ack.to_owned(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn got(ack: &str, codes: &[&str]) -> ActualAck {
        ActualAck {
            ack: ack.to_owned(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            message_id: None,
        }
    }

    #[test]
    fn connection_steps_are_said_in_words() {
        let e = exp("refused", &[]);
        let a = got(
            "refused",
            &["expired certificate: the archive refused the client certificate as expired (alert)"],
        );
        assert_eq!(expected(Lang::Fi, &e), "odotettu: yhteys hylätään");
        assert_eq!(
            received(Lang::Fi, &e, Some(&a)).unwrap(),
            "tulos: yhteys hylättiin (vanhentunut varmenne)"
        );
        assert_eq!(
            received(Lang::Sv, &e, Some(&a)).unwrap(),
            "resultat: anslutningen avvisades (utgånget certifikat)"
        );
        let e = exp("connected", &["2.999.5851.2.1"]);
        assert_eq!(
            expected(Lang::Sv, &e),
            "förväntat: anslutningen godkänns (organisation 2.999.5851.2.1)"
        );
        // An unknown description is left out rather than quoted in English.
        let a = got("refused", &["something new happened"]);
        assert_eq!(
            received(Lang::Fi, &exp("refused", &[]), Some(&a)).unwrap(),
            "tulos: yhteys hylättiin"
        );
        assert_eq!(
            refusal_reason(Lang::Fi, "HTTP 403").unwrap(),
            "arkisto vastasi HTTP-tilalla 403"
        );
        assert_eq!(
            refusal_reason(
                Lang::Sv,
                "HTTP exchange with the archive failed: channel closed"
            )
            .unwrap(),
            "arkivet bröt anslutningen"
        );
    }

    #[test]
    fn a_step_without_acknowledgement_says_so() {
        let e = exp("", &[]);
        assert_eq!(
            expected(Lang::Fi, &e),
            "ei lähetystä, vain arkistonhoitajan tarkistuskohdat"
        );
        assert_eq!(received(Lang::Fi, &e, None), None);
        assert_eq!(
            received(Lang::Fi, &exp("AA", &[]), None).unwrap(),
            "ei kuittausta"
        );
    }
}
