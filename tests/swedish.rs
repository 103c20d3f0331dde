//! Swedish throughout: every page of the archivist view rendered in Swedish carries no Finnish
//! label. What a document or the fixture says about itself (titles, narratives, names of
//! organisations and people) is data and stays as written; everything the view says, the
//! case's titles, checkpoint names, statuses, document types and code texts must be Swedish.

use mock_archive::orgs::Registry;

use crate::view::{
    COUNTY_ARCHIVIST, PROVIDER_ARCHIVIST, checklist_json, inspect, scenario, sign_in, view_get,
};

/// Finnish words of the view's labels, statuses, document types, step and case titles and
/// code texts: none may appear on a Swedish page (compared as whole words, ignoring case).
pub const FINNISH_WORDS: &[&str] = &[
    // the frame and sign-in
    "kirjaudu",
    "kirjautunut",
    "sisään",
    "ulos",
    "tunnus",
    "kieli",
    "harjoitusarkisto",
    "arkistonhoitajan",
    "näkymä",
    "rekisterinpitäjä",
    "rekisteri",
    "pyyntöloki",
    "käyttöönottokokeen",
    "tarkistuslista",
    "selain",
    "varmenteesta",
    "luota",
    // the register
    "asiakkaat",
    "asiakas",
    "henkilötunnus",
    "nimi",
    "asiakirjat",
    "rajaa",
    "kaikki",
    "asiakirjatyyppi",
    "päivästä",
    "päivään",
    "palveluyksikkö",
    "laatija",
    "aika",
    "versio",
    "tila",
    "otsikko",
    "palvelutehtävää",
    "palvelutapahtumaa",
    // statuses, times, versions, signature
    "aktiivinen",
    "voimassa",
    "korvattu",
    "mitätöity",
    "klo",
    "versiohistoria",
    "muutos",
    "ensimmäinen",
    "korjaus",
    "mitätöinti",
    "järjestelmäallekirjoitus",
    "tulos",
    "kelvollinen",
    "virheellinen",
    "allekirjoittaja",
    "allekirjoitusaika",
    "vastaanotettu",
    "sanoman",
    "tunniste",
    "palvelunjärjestäjä",
    // document types
    "asiakkuusasiakirja",
    "palvelutehtäväkohtainen",
    "asiakirjaryhmä",
    // the request log and code texts
    "vastaus",
    "koodit",
    "uudelleenlähetys",
    "asiakkaan",
    "virheellinen",
    "testihenkilötunnus",
    // the checklist and the bundled case's titles
    "vaihe",
    "tarkistuskohta",
    "odotettu",
    "vahvista",
    "vahvistanut",
    "vahvistettu",
    "avaa",
    "käyttöönottokoe",
    "harjoitus",
    "yhteystesti",
    "näy",
];

/// The page with the data removed: document titles, narratives, and the names the fixture and
/// the scenario's documents carry.
fn without_data(page: &str, names: &[String]) -> String {
    let mut out = page.to_owned();
    for (open, close) in [
        ("<div id=\"narrative\"", "</div>"),
        ("<pre id=\"narrative-source\"", "</pre>"),
        ("class=\"document-link\">", "</a>"),
    ] {
        while let Some(start) = out.find(open) {
            let end = out[start..]
                .find(close)
                .map_or(out.len(), |e| start + e + close.len());
            out.replace_range(start..end, " ");
        }
    }
    // The document's own title in its metadata.
    for title in ["Asiakkuusasiakirja", "Palvelutehtäväkohtainen asiakirja"] {
        out = out.replace(&format!("<th>Rubrik</th><td>{title}</td>"), " ");
        out = out.replace(&format!("<title>{title}"), " ");
    }
    for name in names {
        out = out.replace(name.as_str(), " ");
    }
    out
}

/// The words of an HTML page's text (tags dropped), lowercased.
fn words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Names that are data: the fixture's organisations, units, people and archivists, and the
/// people the scenario's documents name.
fn data_names() -> Vec<String> {
    let registry =
        Registry::from_toml_str(mock_archive::config::BUNDLED_ORGS, "orgs.toml").unwrap();
    let mut names: Vec<String> = Vec::new();
    for o in registry.organisations() {
        names.push(o.name.clone());
        names.extend(o.service_units.iter().map(|u| u.name.clone()));
    }
    names.extend(registry.persons().map(|p| p.name.clone()));
    names.extend(registry.archivists().iter().map(|a| a.name.clone()));
    names.extend(
        [
            "Testi Ammattilainen",
            "Itsemaksava Testi",
            "Aino Testiasiakas",
        ]
        .map(str::to_owned),
    );
    // Longest first, so that a name containing another is removed whole.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
}

#[tokio::test]
async fn every_view_page_in_swedish_has_no_finnish_label() {
    let s = scenario().await;
    let (status, _) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let county = sign_in(&s.archive, COUNTY_ARCHIVIST).await;
    let sv = |c: &str| format!("{c}; kantakoe-lang=sv");
    let signed_in = sv(&cookie);
    let county_sv = sv(&county);
    let anonymous = "kantakoe-lang=sv".to_owned();
    let pages: Vec<(String, &str)> = vec![
        ("/signin".to_owned(), anonymous.as_str()),
        ("/register".to_owned(), anonymous.as_str()),
        ("/register".to_owned(), signed_in.as_str()),
        ("/register?type=1".to_owned(), signed_in.as_str()),
        ("/register".to_owned(), county_sv.as_str()),
        (format!("/documents/{}", s.v1), signed_in.as_str()),
        (format!("/documents/{}", s.v2), signed_in.as_str()),
        (format!("/documents/{}", s.county_doc), county_sv.as_str()),
        ("/audit".to_owned(), signed_in.as_str()),
        ("/checklist".to_owned(), signed_in.as_str()),
        ("/checklist".to_owned(), county_sv.as_str()),
        ("/no-such-page".to_owned(), signed_in.as_str()),
    ];
    // One confirmation, so that a confirmed checkpoint's time shows too.
    let page = view_get(&s.archive, "/checklist", Some(&signed_in)).await;
    let csrf = crate::view::csrf_of(&page.body);
    let ok = crate::view::view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&signed_in),
        &format!("csrf={csrf}&step=1"),
    )
    .await;
    assert_eq!(ok.status, 303);
    let names = data_names();
    let mut found = Vec::new();
    for (path, cookie) in &pages {
        let page = view_get(&s.archive, path, Some(cookie)).await;
        assert!(
            page.body.contains("<html lang=\"sv\">"),
            "{path}: {}",
            page.body
        );
        let clean = without_data(&page.body, &names);
        for word in words(&clean) {
            if FINNISH_WORDS.contains(&word.as_str()) {
                found.push(format!("{path}: {word}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Finnish on Swedish pages:\n{}",
        found.join("\n")
    );

    // What the Swedish pages say instead.
    let register = view_get(&s.archive, "/register", Some(&signed_in))
        .await
        .body;
    assert!(
        register.contains("<td>Klientrelationshandling (1)</td>"),
        "{register}"
    );
    assert!(register.contains(">ersatt</td>"), "{register}");
    let checklist = view_get(&s.archive, "/checklist", Some(&signed_in))
        .await
        .body;
    for text in [
        "Ibruktagningsprov (övning)",
        "<h2>2. Korrigering (version 2)</h2>",
        "<td>Status</td>\n<td>aktiv</td>",
        "<td>Handlingsgrupp</td>\n<td>Klientrelationshandling (1)</td>",
        " kl. ",
    ] {
        assert!(checklist.contains(text), "{text}: {checklist}");
    }
    let audit = view_get(&s.archive, "/audit", Some(&signed_in)).await.body;
    let code = mock_archive::ack::AckCode::from_code("ID-INVALID").unwrap();
    assert!(audit.contains(code.swedish()), "{audit}");
}

#[test]
fn the_word_list_catches_the_finnish_view() {
    // The list is not empty of meaning: the Finnish texts of the view are caught by it.
    let t = mock_archive::view::Lang::Fi.texts();
    for label in [
        t.sign_in,
        t.nav_register,
        t.status_active,
        t.confirm,
        t.document_type,
    ] {
        let hits: Vec<String> = words(label)
            .into_iter()
            .filter(|w| FINNISH_WORDS.contains(&w.as_str()))
            .collect();
        assert!(!hits.is_empty(), "{label}");
    }
    let t = mock_archive::view::Lang::Sv.texts();
    for label in [
        t.sign_in,
        t.nav_register,
        t.status_active,
        t.confirm,
        t.document_type,
    ] {
        assert!(
            words(label)
                .iter()
                .all(|w| !FINNISH_WORDS.contains(&w.as_str())),
            "{label}"
        );
    }
}
