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
}

/// Finnish.
pub static FI: Texts = Texts {
    app_title: "Kantakoe – arkistonhoitajan näkymä",
    not_official: "Harjoitusarkisto: tämä on Kantakoe-työkalun näkymä, ei Kanta-palvelujen arkistonhoitajan käyttöliittymä.",
    sign_in: "Kirjaudu sisään",
    token_label: "Tunnus (arkistonhoitajan tai kertakäyttöinen)",
    sign_in_first: "Kirjaudu ensin sisään.",
    wrong_token: "Tunnusta ei tunneta, tai kertakäyttöinen tunnus on jo käytetty.",
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
    status_active: "voimassa",
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
};

/// Swedish.
pub static SV: Texts = Texts {
    app_title: "Kantakoe – arkivariens vy",
    not_official: "Övningsarkiv: detta är verktyget Kantakoes vy, inte Kanta-tjänsternas användargränssnitt för arkivarier.",
    sign_in: "Logga in",
    token_label: "Kod (arkivariens eller engångskod)",
    sign_in_first: "Logga in först.",
    wrong_token: "Koden är okänd, eller engångskoden har redan använts.",
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
    invalidation: "makulering",
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
    status_active: "gällande",
    status_replaced: "ersatt",
    status_invalidated: "makulerad",
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
};

/// English.
pub static EN: Texts = Texts {
    app_title: "Kantakoe – archivist view",
    not_official: "Rehearsal archive: this is the Kantakoe tool's view, not the Kanta services' archivist user interface.",
    sign_in: "Sign in",
    token_label: "Token (an archivist's or a one-time token)",
    sign_in_first: "Sign in first.",
    wrong_token: "Unknown token, or the one-time token has already been used.",
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
};
