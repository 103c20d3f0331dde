//! The view's texts in Finnish (default), Swedish and English. One struct, three constants:
//! a missing translation is a compile error.

/// A language of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Finnish, the default.
    Fi,
    /// Swedish.
    Sv,
    /// English.
    En,
}

impl Lang {
    /// Reads `fi`, `sv` or `en`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "fi" => Some(Lang::Fi),
            "sv" => Some(Lang::Sv),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language code, also the page's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// The texts.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Fi => &FI,
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }
}

/// Every text the view shows.
#[derive(Debug)]
pub struct Texts {
    /// Page title suffix and heading.
    pub app_title: &'static str,
    /// The notice that this is a rehearsal, not Kanta's own interface.
    pub not_official: &'static str,
    /// "Sign in".
    pub sign_in: &'static str,
    /// The token field's label.
    pub token_label: &'static str,
    /// Shown on a data page without a session.
    pub sign_in_first: &'static str,
    /// Shown after a failed sign-in.
    pub wrong_token: &'static str,
    /// Shown when an address must wait before its next sign-in (the wait follows in seconds).
    pub too_many_sign_ins: &'static str,
    /// "Sign out".
    pub sign_out: &'static str,
    /// "Signed in".
    pub signed_in_as: &'static str,
    /// "Register holder".
    pub register_holder: &'static str,
    /// Navigation: the register.
    pub nav_register: &'static str,
    /// Navigation: the checklist.
    pub nav_checklist: &'static str,
    /// Navigation: the request log.
    pub nav_audit: &'static str,
    /// "Clients".
    pub clients: &'static str,
    /// "Identity code".
    pub identity_code: &'static str,
    /// "Name".
    pub name: &'static str,
    /// "Documents".
    pub documents: &'static str,
    /// The filter button.
    pub filter: &'static str,
    /// "all" in a filter.
    pub all: &'static str,
    /// "Client".
    pub client: &'static str,
    /// "Document type".
    pub document_type: &'static str,
    /// Date filter start.
    pub date_from: &'static str,
    /// Date filter end.
    pub date_until: &'static str,
    /// "Service task".
    pub service_task: &'static str,
    /// "Service event".
    pub service_event: &'static str,
    /// "Service unit".
    pub service_unit: &'static str,
    /// "Author".
    pub author: &'static str,
    /// "Time" (the document's effective time).
    pub time: &'static str,
    /// "Version".
    pub version: &'static str,
    /// "Status".
    pub status: &'static str,
    /// "Title".
    pub title: &'static str,
    /// An empty list.
    pub no_documents: &'static str,
    /// Where the service task and service event come from.
    pub service_note: &'static str,
    /// "Document".
    pub document: &'static str,
    /// "Document id".
    pub document_id: &'static str,
    /// "Set id".
    pub set_id: &'static str,
    /// "Organiser".
    pub organiser: &'static str,
    /// "Received".
    pub stored_at: &'static str,
    /// "Message id".
    pub message_id: &'static str,
    /// "Version history".
    pub versions: &'static str,
    /// "Change".
    pub change: &'static str,
    /// Version 1.
    pub first_version: &'static str,
    /// Replacement reason 1.
    pub correction: &'static str,
    /// Replacement reason: invalidation.
    pub invalidation: &'static str,
    /// Another replacement reason.
    pub other_reason: &'static str,
    /// "System signature".
    pub signature: &'static str,
    /// "Verdict".
    pub verdict: &'static str,
    /// A valid signature.
    pub valid: &'static str,
    /// An invalid signature.
    pub invalid: &'static str,
    /// Not known (e.g. a document stored before the archive recorded it).
    pub unknown: &'static str,
    /// "Signer".
    pub signer: &'static str,
    /// "Signed at".
    pub signed_at: &'static str,
    /// The narrative heading.
    pub narrative: &'static str,
    /// The XHTML source disclosure.
    pub source: &'static str,
    /// No display form.
    pub no_narrative: &'static str,
    /// Status `active`.
    pub status_active: &'static str,
    /// Status `replaced`.
    pub status_replaced: &'static str,
    /// Status `invalidated`.
    pub status_invalidated: &'static str,
    /// The request log's heading.
    pub audit_title: &'static str,
    /// "Answer".
    pub outcome: &'static str,
    /// "Codes".
    pub codes: &'static str,
    /// "TLS client".
    pub tls_peer: &'static str,
    /// A resend.
    pub replayed: &'static str,
    /// No checklist yet.
    pub checklist_none: &'static str,
    /// "Step".
    pub step: &'static str,
    /// "Checkpoint".
    pub checkpoint: &'static str,
    /// "Expected".
    pub expected: &'static str,
    /// The confirm button.
    pub confirm: &'static str,
    /// "Confirmed by".
    pub confirmed_by: &'static str,
    /// Link to a step's document.
    pub open_document: &'static str,
    /// "confirmed" after a count.
    pub progress: &'static str,
    /// The 404 page.
    pub not_found: &'static str,
    /// A form without this session's CSRF token.
    pub csrf_refused: &'static str,
    /// A malformed request.
    pub bad_request: &'static str,
    /// A server-side failure.
    pub server_error: &'static str,
    /// "Language".
    pub language: &'static str,
    /// Shown on a data page asked for without a session (the heading already says "sign in").
    pub sign_in_required: &'static str,
    /// How to trust the view's certificate, before the CA file's path.
    pub trust_before: &'static str,
    /// How to trust the view's certificate, after the CA file's path.
    pub trust_after: &'static str,
    /// How to trust the view's certificate when its issuer's file is not known.
    pub trust_unknown: &'static str,
    /// The button confirming every checkpoint of a step.
    pub confirm_step: &'static str,
    /// "Document group" (a checkpoint).
    pub document_group: &'static str,
    /// The R8 checkpoint: the document must not be visible to this holder's archivist.
    pub hidden_from: &'static str,
}

/// Finnish.
pub static FI: Texts = Texts {
    app_title: "Kantakoe – arkistonhoitajan näkymä",
    not_official: "Harjoitusarkisto: tämä on Kantakoe-työkalun näkymä, ei Kanta-palvelujen arkistonhoitajan käyttöliittymä.",
    sign_in: "Kirjaudu sisään",
    token_label: "Tunnus (arkistonhoitajan tai kertakäyttöinen)",
    sign_in_first: "Kirjaudu ensin sisään.",
    wrong_token: "Tunnusta ei tunneta, tai kertakäyttöinen tunnus on jo käytetty.",
    too_many_sign_ins: "Liian monta väärää tunnusta tästä osoitteesta: yritä uudelleen hetken kuluttua",
    sign_out: "Kirjaudu ulos",
    signed_in_as: "Kirjautunut",
    register_holder: "Rekisterinpitäjä",
    nav_register: "Rekisteri",
    nav_checklist: "Käyttöönottokokeen tarkistuslista",
    nav_audit: "Pyyntöloki",
    clients: "Asiakkaat",
    identity_code: "Henkilötunnus",
    name: "Nimi",
    documents: "Asiakirjat",
    filter: "Rajaa",
    all: "kaikki",
    client: "Asiakas",
    document_type: "Asiakirjatyyppi",
    date_from: "Päivästä",
    date_until: "Päivään",
    service_task: "Palvelutehtävä",
    service_event: "Palvelutapahtuma",
    service_unit: "Palveluyksikkö",
    author: "Laatija",
    time: "Aika",
    version: "Versio",
    status: "Tila",
    title: "Otsikko",
    no_documents: "Ei asiakirjoja.",
    service_note: "Palvelutehtävä on asiakirjan functionCode ja palvelutapahtuma sen palveluprosessin vaihe (serviceProcess); asiakkuusasiakirjassa ne puuttuvat (—).",
    document: "Asiakirja",
    document_id: "Asiakirjan tunniste",
    set_id: "Asiakirjaversioiden tunniste (setId)",
    organiser: "Palvelunjärjestäjä",
    stored_at: "Vastaanotettu",
    message_id: "Sanoman tunniste",
    versions: "Versiohistoria",
    change: "Muutos",
    first_version: "ensimmäinen versio",
    correction: "korjaus",
    invalidation: "mitätöinti",
    other_reason: "muu syy",
    signature: "Järjestelmäallekirjoitus",
    verdict: "Tulos",
    valid: "kelvollinen",
    invalid: "virheellinen",
    unknown: "ei tiedossa",
    signer: "Allekirjoittaja",
    signed_at: "Allekirjoitusaika",
    narrative: "Asiakirjan sisältö (näyttömuoto tekstinä)",
    source: "Näyttömuodon XHTML-lähde",
    no_narrative: "Asiakirjassa ei ole näyttömuotoa.",
    status_active: "aktiivinen",
    status_replaced: "korvattu",
    status_invalidated: "mitätöity",
    audit_title: "Rekisterin pyyntöloki",
    outcome: "Vastaus",
    codes: "Koodit",
    tls_peer: "TLS-asiakas",
    replayed: "uudelleenlähetys",
    checklist_none: "Tarkistuslistaa ei ole vielä tuotu (kantakoe rehearse tuo sen).",
    step: "Vaihe",
    checkpoint: "Tarkistuskohta",
    expected: "Odotettu",
    confirm: "Vahvista",
    confirmed_by: "Vahvistanut",
    open_document: "Avaa asiakirja",
    progress: "vahvistettu",
    not_found: "Sivua tai asiakirjaa ei löydy.",
    csrf_refused: "Lomake on vanhentunut tai se ei kuulu tähän istuntoon. Lataa sivu uudelleen.",
    bad_request: "Virheellinen pyyntö.",
    server_error: "Arkisto ei pystynyt vastaamaan.",
    language: "Kieli",
    sign_in_required: "Tämä sivu näkyy vain kirjautuneelle arkistonhoitajalle.",
    trust_before: "Selain varoittaa tämän näkymän varmenteesta, koska sen on myöntänyt harjoituksen oma testivarmentaja. Luota siihen tuomalla tiedosto",
    trust_after: "selaimen luotettuihin varmentajiin (esimerkiksi Firefox: Asetukset → Tietosuoja ja turvallisuus → Näytä varmenteet → Varmentajat → Tuo), tai hyväksy varoitus tälle osoitteelle.",
    trust_unknown: "Jos selain varoittaa tämän näkymän varmenteesta, tuo sen myöntäjän varmenne selaimen luotettuihin varmentajiin tai hyväksy varoitus tälle osoitteelle.",
    confirm_step: "Vahvista koko vaihe",
    document_group: "Asiakirjaryhmä",
    hidden_from: "Ei näy toisen rekisterinpitäjän arkistonhoitajalle",
};

/// Swedish.
pub static SV: Texts = Texts {
    app_title: "Kantakoe – arkivariens vy",
    not_official: "Övningsarkiv: detta är verktyget Kantakoes vy, inte Kanta-tjänsternas användargränssnitt för arkivarier.",
    sign_in: "Logga in",
    token_label: "Kod (arkivariens eller engångskod)",
    sign_in_first: "Logga in först.",
    wrong_token: "Koden är okänd, eller engångskoden har redan använts.",
    too_many_sign_ins: "För många felaktiga koder från den här adressen: försök igen om en stund",
    sign_out: "Logga ut",
    signed_in_as: "Inloggad",
    register_holder: "Personuppgiftsansvarig",
    nav_register: "Register",
    nav_checklist: "Checklista för ibruktagningsprovet",
    nav_audit: "Förfrågningslogg",
    clients: "Klienter",
    identity_code: "Personbeteckning",
    name: "Namn",
    documents: "Handlingar",
    filter: "Filtrera",
    all: "alla",
    client: "Klient",
    document_type: "Handlingstyp",
    date_from: "Från dag",
    date_until: "Till dag",
    service_task: "Serviceuppgift",
    service_event: "Servicehändelse",
    service_unit: "Serviceenhet",
    author: "Upprättare",
    time: "Tid",
    version: "Version",
    status: "Status",
    title: "Rubrik",
    no_documents: "Inga handlingar.",
    service_note: "Serviceuppgiften är handlingens functionCode och servicehändelsen fasen i dess serviceprocess (serviceProcess); en klientrelationshandling saknar dem (—).",
    document: "Handling",
    document_id: "Handlingens identifierare",
    set_id: "Versionernas identifierare (setId)",
    organiser: "Anordnare",
    stored_at: "Mottagen",
    message_id: "Meddelandets identifierare",
    versions: "Versionshistorik",
    change: "Ändring",
    first_version: "första versionen",
    correction: "korrigering",
    invalidation: "ogiltigförklaring",
    other_reason: "annan orsak",
    signature: "Systemsignatur",
    verdict: "Resultat",
    valid: "giltig",
    invalid: "ogiltig",
    unknown: "okänt",
    signer: "Undertecknare",
    signed_at: "Signeringstid",
    narrative: "Handlingens innehåll (visningsformen som text)",
    source: "Visningsformens XHTML-källa",
    no_narrative: "Handlingen har ingen visningsform.",
    status_active: "aktiv",
    status_replaced: "ersatt",
    status_invalidated: "ogiltigförklarad",
    audit_title: "Registrets förfrågningslogg",
    outcome: "Svar",
    codes: "Koder",
    tls_peer: "TLS-klient",
    replayed: "omsändning",
    checklist_none: "Ingen checklista har förts in ännu (kantakoe rehearse för in den).",
    step: "Steg",
    checkpoint: "Kontrollpunkt",
    expected: "Förväntat",
    confirm: "Bekräfta",
    confirmed_by: "Bekräftad av",
    open_document: "Öppna handlingen",
    progress: "bekräftade",
    not_found: "Sidan eller handlingen hittades inte.",
    csrf_refused: "Formuläret har gått ut eller hör inte till denna session. Ladda om sidan.",
    bad_request: "Felaktig förfrågan.",
    server_error: "Arkivet kunde inte svara.",
    language: "Språk",
    sign_in_required: "Sidan visas bara för en inloggad arkivarie.",
    trust_before: "Webbläsaren varnar för denna vys certifikat, eftersom det har utfärdats av övningens egen testcertifikatutfärdare. Lita på den genom att importera filen",
    trust_after: "bland webbläsarens betrodda certifikatutfärdare (till exempel Firefox: Inställningar → Integritet och säkerhet → Visa certifikat → Certifikatutfärdare → Importera), eller godkänn varningen för denna adress.",
    trust_unknown: "Om webbläsaren varnar för denna vys certifikat, importera utfärdarens certifikat bland webbläsarens betrodda certifikatutfärdare eller godkänn varningen för denna adress.",
    confirm_step: "Bekräfta hela steget",
    document_group: "Handlingsgrupp",
    hidden_from: "Syns inte för en annan personuppgiftsansvarigs arkivarie",
};

/// English.
pub static EN: Texts = Texts {
    app_title: "Kantakoe – archivist view",
    not_official: "Rehearsal archive: this is the Kantakoe tool's view, not the Kanta services' archivist user interface.",
    sign_in: "Sign in",
    token_label: "Token (an archivist's or a one-time token)",
    sign_in_first: "Sign in first.",
    wrong_token: "Unknown token, or the one-time token has already been used.",
    too_many_sign_ins: "Too many wrong tokens from this address: try again in a moment",
    sign_out: "Sign out",
    signed_in_as: "Signed in",
    register_holder: "Register holder",
    nav_register: "Register",
    nav_checklist: "Deployment-test checklist",
    nav_audit: "Request log",
    clients: "Clients",
    identity_code: "Identity code",
    name: "Name",
    documents: "Documents",
    filter: "Filter",
    all: "all",
    client: "Client",
    document_type: "Document type",
    date_from: "From day",
    date_until: "To day",
    service_task: "Service task",
    service_event: "Service event",
    service_unit: "Service unit",
    author: "Author",
    time: "Time",
    version: "Version",
    status: "Status",
    title: "Title",
    no_documents: "No documents.",
    service_note: "The service task is the document's functionCode and the service event its phase of the service process (serviceProcess); a client relationship document has neither (—).",
    document: "Document",
    document_id: "Document id",
    set_id: "Version set id (setId)",
    organiser: "Organiser",
    stored_at: "Received",
    message_id: "Message id",
    versions: "Version history",
    change: "Change",
    first_version: "first version",
    correction: "correction",
    invalidation: "invalidation",
    other_reason: "other reason",
    signature: "System signature",
    verdict: "Verdict",
    valid: "valid",
    invalid: "invalid",
    unknown: "unknown",
    signer: "Signer",
    signed_at: "Signed at",
    narrative: "Document content (display form as text)",
    source: "XHTML source of the display form",
    no_narrative: "The document has no display form.",
    status_active: "active",
    status_replaced: "replaced",
    status_invalidated: "invalidated",
    audit_title: "The register's request log",
    outcome: "Answer",
    codes: "Codes",
    tls_peer: "TLS client",
    replayed: "resend",
    checklist_none: "No checklist has been put yet (kantakoe rehearse puts it).",
    step: "Step",
    checkpoint: "Checkpoint",
    expected: "Expected",
    confirm: "Confirm",
    confirmed_by: "Confirmed by",
    open_document: "Open the document",
    progress: "confirmed",
    not_found: "No such page or document.",
    csrf_refused: "The form has expired or is not from this session. Reload the page.",
    bad_request: "Bad request.",
    server_error: "The archive could not answer.",
    language: "Language",
    sign_in_required: "This page is shown only to a signed-in archivist.",
    trust_before: "Your browser warns about this view's certificate because the rehearsal's own test CA issued it. Trust that CA by importing the file",
    trust_after: "into your browser's trusted certificate authorities (for example Firefox: Settings → Privacy & Security → View Certificates → Authorities → Import), or accept the warning for this address.",
    trust_unknown: "If your browser warns about this view's certificate, import its issuer's certificate into your browser's trusted certificate authorities or accept the warning for this address.",
    confirm_step: "Confirm the whole step",
    document_group: "Document group",
    hidden_from: "Not visible to another register holder's archivist",
};

/// The name of a document group ("asiakirjaryhmä", code system
/// [`DOCUMENT_GROUP_SYSTEM`](crate::format::codes::DOCUMENT_GROUP_SYSTEM)) in `lang`, for the
/// groups this archive knows; `None` for any other code (a page then shows what the document
/// wrote). The Finnish names are the code list's display names; the Swedish and English ones
/// are this view's translations.
pub fn document_group_name(code: &str, lang: Lang) -> Option<&'static str> {
    use crate::format::codes::{DOCUMENT_GROUP_CLIENT_RELATIONSHIP, DOCUMENT_GROUP_FOLLOW_UP};
    let names: [(&str, [&'static str; 3]); 2] = [
        (
            DOCUMENT_GROUP_CLIENT_RELATIONSHIP.code,
            [
                DOCUMENT_GROUP_CLIENT_RELATIONSHIP.display_name,
                "Klientrelationshandling",
                "Client relationship document",
            ],
        ),
        (
            DOCUMENT_GROUP_FOLLOW_UP.code,
            [
                DOCUMENT_GROUP_FOLLOW_UP.display_name,
                "Klienthandling i ett andra eller senare skede",
                "Client document of a second or later stage",
            ],
        ),
    ];
    let index = match lang {
        Lang::Fi => 0,
        Lang::Sv => 1,
        Lang::En => 2,
    };
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, texts)| texts[index])
}
