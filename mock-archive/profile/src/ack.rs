//! The acknowledgement: the archive's code list and the writer of the HL7 V3 accept
//! acknowledgement (`MCCI_IN000002UV01` shape) that answers every message.
//!
//! \[conv\] The whole code list, its code system OID and the placement of the Finnish and English
//! texts are this project's conventions (DESIGN §3.5): the real archive's error codes are not in
//! public material. They live here, in one place, so that a user with the official
//! specification can change them in one edit.
//!
//! Each [`AckCode`] has a stable string (never renamed once released, tests and reports key on
//! it), a Finnish, a Swedish and an English text. [`render`] writes one `acknowledgementDetail` per
//! problem: `code@code` is the stable string, `code@displayName` the Finnish text, `text` the
//! English text followed by the specific detail, and `location` the XPath of the offending
//! element when known.

use std::fmt;
use std::io;

use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::OffsetDateTime;
use time::macros::format_description;

/// \[conv\] The code system of [`AckCode`]: under the example arc 2.999, a convention of this
/// project, not an official Kanta code system.
pub const ACK_CODE_SYSTEM: &str = crate::format::codes::ACK_DETAIL_SYSTEM.oid;

/// \[conv\] The name given to [`ACK_CODE_SYSTEM`] in acknowledgements.
pub const ACK_CODE_SYSTEM_NAME: &str = crate::format::codes::ACK_DETAIL_SYSTEM.name;

/// \[public\] HL7's interaction id code system.
pub const INTERACTION_ID_ROOT: &str = "2.16.840.1.113883.1.6";

/// Whether a problem refuses the message or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The message is accepted; the detail is reported with `typeCode="W"`.
    Warning,
    /// The message breaks a rule and is refused with `AE`.
    Error,
    /// The message cannot be read as the interaction it claims; refused with `AR`.
    Unreadable,
}

macro_rules! ack_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $fi:literal, $en:literal; )*) => {
        /// One problem the archive can report. \[conv\] The whole list is a convention of this
        /// project; see the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AckCode {
            $( $(#[$doc])* $variant, )*
        }

        impl AckCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [AckCode] = &[ $( AckCode::$variant, )* ];

            /// The code with this stable string.
            pub fn from_code(code: &str) -> Option<AckCode> {
                match code { $( $code => Some(AckCode::$variant), )* _ => None }
            }

            /// The stable string written into `code@code`.
            pub fn code(self) -> &'static str {
                match self { $( AckCode::$variant => $code, )* }
            }

            /// The Finnish text.
            pub fn finnish(self) -> &'static str {
                match self { $( AckCode::$variant => $fi, )* }
            }

            /// The English text.
            pub fn english(self) -> &'static str {
                match self { $( AckCode::$variant => $en, )* }
            }

            /// Whether the code warns, refuses, or makes the message unreadable.
            pub fn severity(self) -> Severity {
                match self { $( AckCode::$variant => Severity::$severity, )* }
            }
        }
    };
}

ack_codes! {
    /// The body is not a readable HL7 V3 message.
    MessageUnreadable = "MSG-UNREADABLE", Unreadable,
        "Sanomaa ei voitu lukea HL7 V3 -sanomana",
        "the message could not be read as an HL7 V3 message";
    /// The interaction is not one this archive knows.
    UnknownInteraction = "MSG-INTERACTION", Unreadable,
        "Tuntematon sanomatyyppi (interactionId)",
        "unknown interaction (interactionId)";
    /// A required element or attribute is missing.
    MissingElement = "MSG-MISSING", Unreadable,
        "Pakollinen tieto puuttuu sanomasta",
        "a required element is missing from the message";
    /// The embedded CDA document could not be read.
    CdaUnreadable = "CDA-UNREADABLE", Unreadable,
        "Sanoman sisältämää CDA-asiakirjaa ei voitu lukea",
        "the CDA document inside the message could not be read";
    /// Metadata repeated outside the CDA differs from the CDA's own.
    MetadataMismatch = "MSG-METADATA-MISMATCH", Error,
        "Sanoman kuvailutiedot eroavat asiakirjan tiedoista",
        "the message metadata differs from the document's";
    /// The same message id was sent before with a different content.
    MessageIdReused = "MSG-ID-REUSED", Error,
        "Sanomatunniste on jo käytetty toisessa sanomassa",
        "the message id was already used by a different message";
    /// The document carries no system signature.
    SignatureMissing = "SIG-MISSING", Error,
        "Asiakirjasta puuttuu järjestelmäallekirjoitus",
        "the document has no system signature";
    /// A digest or the signature value does not verify.
    SignatureInvalid = "SIG-INVALID", Error,
        "Järjestelmäallekirjoitus ei ole eheä",
        "the system signature does not verify";
    /// The signature's References are not the profile's two (the signature timestamp and the
    /// document body): another count, or another target. Refused before anything is
    /// canonicalized.
    SignatureReferences = "SIG-REFERENCES", Error,
        "Allekirjoituksessa on oltava täsmälleen kaksi viittausta: allekirjoituksen aikaleimaan ja asiakirjan runkoon",
        "the signature must have exactly two References: the signature timestamp and the document body";
    /// Verifying the signature would take more work than the archive allows for one message
    /// (canonical bytes or namespace lookups beyond the per-message budget).
    SignatureTooCostly = "SIG-TOO-COSTLY", Error,
        "Allekirjoituksen tarkistaminen vaatisi enemmän työtä kuin yhdelle sanomalle sallitaan",
        "verifying the signature would take more work than one message is allowed";
    /// The signer certificate does not chain to the trusted signature CA.
    SignerUntrusted = "SIG-UNTRUSTED", Error,
        "Allekirjoitusvarmenne ei ole luotetun varmentajan myöntämä",
        "the signer certificate is not issued by the trusted CA";
    /// The signer certificate was not valid at the signature time.
    SignerExpired = "SIG-EXPIRED", Error,
        "Allekirjoitusvarmenne ei ollut voimassa allekirjoitushetkellä",
        "the signer certificate was not valid at the signature time";
    /// The signer's organisation may not sign for the author's organisation.
    SignerNotAllowed = "SIG-NOT-ALLOWED", Error,
        "Allekirjoittajan organisaatio ei saa allekirjoittaa tekijäorganisaation puolesta",
        "the signer's organisation may not sign for the author's organisation";
    /// The client identity code is malformed or its check character is wrong.
    IdentityCodeInvalid = "ID-INVALID", Error,
        "Asiakkaan henkilötunnus on virheellinen",
        "the client identity code is invalid";
    /// The client identity code is not a test identity code (individual number 900-999).
    IdentityCodeNotTest = "ID-NOT-TEST", Error,
        "Asiakkaan henkilötunnus ei ole testihenkilötunnus (yksilönumero 900-999)",
        "the client identity code is not a test identity code (individual number 900-999)";
    /// The message sender is not a known organisation.
    SenderUnknown = "ORG-SENDER-UNKNOWN", Error,
        "Sanoman lähettäjäorganisaatio on tuntematon",
        "the message sender organisation is unknown";
    /// The TLS client certificate belongs neither to the sender nor to a vendor acting for it.
    TlsNotSender = "ORG-TLS-NOT-SENDER", Error,
        "Palvelinvarmenteen organisaatio ei ole lähettäjä eikä sen puolesta toimiva välittäjä",
        "the TLS certificate's organisation is neither the sender nor a vendor acting for it";
    /// The author's service unit is not in the organisation register.
    ServiceUnitUnknown = "ORG-UNIT-UNKNOWN", Error,
        "Palveluyksikkö on tuntematon",
        "the service unit is unknown";
    /// The service unit does not belong to the producing provider.
    ServiceUnitNotProducer = "ORG-UNIT-NOT-PRODUCER", Error,
        "Palveluyksikkö ei kuulu palveluntuottajalle",
        "the service unit does not belong to the service provider";
    /// The custodian (register holder) is not a known organisation.
    CustodianUnknown = "ORG-CUSTODIAN-UNKNOWN", Error,
        "Rekisterinpitäjä (custodian) on tuntematon organisaatio",
        "the register holder (custodian) is an unknown organisation";
    /// The register code is not the social welfare client register.
    UnknownRegister = "R-REGISTER-UNKNOWN", Error,
        "Tuntematon rekisteritunnus",
        "unknown register code";
    /// The client has no service relationship with the producer.
    NoServiceRelationship = "R-NO-RELATIONSHIP", Error,
        "Asiakkaalla ei ole palvelusuhdetta palveluntuottajaan",
        "the client has no service relationship with the service provider";
    /// The organiser field differs from the custodian, or is absent where it is required.
    OrganiserMismatch = "R-ORGANISER-MISMATCH", Error,
        "Palvelunjärjestäjä (outsourcingServiceCustomer) ei vastaa rekisterinpitäjää",
        "the organiser (outsourcingServiceCustomer) does not match the register holder";
    /// The usage situation disagrees with whose register the document goes to.
    UsageSituationMismatch = "R-USAGE-SITUATION", Error,
        "Käyttötilanne ei vastaa rekisterinpitäjää",
        "the usage situation does not match the register holder";
    /// R1: a self-paying client's document names someone else than the provider as custodian.
    SelfPayingNotProvider = "R1-NOT-PROVIDER", Error,
        "Itse maksavan asiakkaan asiakirjat kuuluvat palveluntuottajan omaan rekisteriin",
        "a self-paying client's documents belong to the provider's own register";
    /// R1: the organiser field is absent for a self-paying client (accepted).
    OrganiserMissing = "R1-ORGANISER-MISSING", Warning,
        "Palvelunjärjestäjä puuttuu; oletetaan palveluntuottaja",
        "the organiser is missing; the service provider is assumed";
    /// R2: a purchased-service or voucher client's document is not in the organiser's register.
    OrganiserRegisterRequired = "R2-NOT-ORGANISER", Error,
        "Ostopalvelun tai palvelusetelin asiakirjat kuuluvat palvelunjärjestäjän rekisteriin",
        "purchased-service and voucher documents belong to the organiser's register";
    /// R2: the producer holds no valid register usage right from the organiser.
    NoUsageRight = "R2-NO-USAGE-RIGHT", Error,
        "Palveluntuottajalla ei ole voimassa olevaa rekisterinkäyttöoikeutta",
        "the service provider holds no valid register usage right";
    /// R3: the provider has no register of its own.
    NoOwnRegister = "R3-NO-OWN-REGISTER", Error,
        "Palveluntuottajalla ei ole omaa asiakasrekisteriä",
        "the service provider has no client register of its own";
    /// R4: the custodian is a private organisation without licence or registration.
    CustodianNotLicensed = "R4-NOT-LICENSED", Error,
        "Rekisterinpitäjällä ei ole lupaa tai rekisteröintiä",
        "the register holder has no licence or registration";
    /// R5: Kela is never the register holder.
    KelaCustodian = "R5-KELA", Error,
        "Kela ei ole rekisterinpitäjä Kelan hankkimissa palveluissa",
        "Kela is not the register holder of services it procures";
    /// R6: a patient data repository message or register (wrong repository).
    WrongRepository = "R6-WRONG-REPOSITORY", Error,
        "Väärä arkisto: terveydenhuollon potilasasiakirjat arkistoidaan Potilastiedon arkistoon",
        "wrong repository: health care patient documents go to the patient data repository";
    /// R7: a service outside social and health care is not stored in Kanta.
    OutsideKanta = "R7-OUTSIDE-KANTA", Error,
        "Palvelu ei ole sosiaali- tai terveydenhuoltoa eikä sen asiakirjoja tallenneta Kantaan",
        "the service is outside social and health care and is not stored in Kanta";
    /// A new document must be version 1 with setId equal to its id.
    VersionNotFirst = "V-NOT-FIRST", Error,
        "Uuden asiakirjan version on oltava 1 ja setId:n sama kuin asiakirjan tunniste",
        "a new document must be version 1 with setId equal to its id";
    /// A replacement lacks `relatedDocument typeCode="RPLC"`.
    ReplacementMissing = "V-RPLC-MISSING", Error,
        "Korvaavasta asiakirjasta puuttuu korvattavan asiakirjan viittaus (RPLC)",
        "the replacement does not name the replaced document (RPLC)";
    /// A store of a new document carries an RPLC reference.
    ReplacementUnexpected = "V-RPLC-UNEXPECTED", Error,
        "Uuden asiakirjan tallennus ei saa sisältää korvausviittausta (RPLC)",
        "a new document must not carry a replacement reference (RPLC)";
    /// The replacement reason is not correction or invalidation.
    ReplacementReasonUnknown = "V-REASON", Error,
        "Tuntematon korvauksen syy",
        "unknown replacement reason";
    /// The replaced document is not in the archive.
    ReplacedUnknown = "V-PARENT-UNKNOWN", Error,
        "Korvattavaa asiakirjaa ei löydy arkistosta",
        "the replaced document is not in the archive";
    /// The replaced document is not the latest version of its set.
    ReplacesNotLatest = "V-NOT-LATEST", Error,
        "Korvattava asiakirja ei ole asiakirjan viimeisin versio",
        "the replaced document is not the latest version";
    /// The version number is not the latest version plus one.
    VersionNotNext = "V-NOT-NEXT", Error,
        "Versionumeron on oltava viimeisin versio + 1",
        "the version number must be the latest version plus one";
    /// The replacement's setId differs from the replaced document's.
    SetIdMismatch = "V-SETID", Error,
        "Korvaavan asiakirjan setId poikkeaa korvattavan asiakirjan setId:stä",
        "the replacement's setId differs from the replaced document's";
    /// The set was invalidated: nothing more is accepted onto it.
    SetInvalidated = "V-INVALIDATED", Error,
        "Asiakirja on mitätöity eikä sille voi tallentaa uusia versioita",
        "the document was invalidated and takes no further versions";
    /// A new document reuses the setId of an existing set.
    SetIdExists = "V-SET-EXISTS", Error,
        "Asiakirjakokonaisuus (setId) on jo arkistossa",
        "a document set with this setId is already stored";
    /// A replacement moves the document to another register holder.
    RegisterHolderChanged = "V-HOLDER-CHANGED", Error,
        "Korvaava asiakirja ei voi vaihtaa rekisterinpitäjää",
        "a replacement cannot change the register holder";
    /// A replacement names another client.
    ClientChanged = "V-CLIENT-CHANGED", Error,
        "Korvaava asiakirja ei voi vaihtaa asiakasta",
        "a replacement cannot change the client";
    /// A document with this id is already stored.
    DocumentIdExists = "DOC-ID-EXISTS", Error,
        "Asiakirja tällä tunnisteella on jo arkistossa",
        "a document with this id is already stored";
    /// R5 for queries: Kela reads nothing from a social welfare client register.
    QueryByKela = "R5-KELA-QUERY", Error,
        "Kela ei saa hakea tietoja sosiaalihuollon asiakasrekisteristä",
        "Kela may not read a social welfare client register";
    /// R8 for queries: the asker is neither the register holder (nor a vendor acting for it)
    /// nor a producer holding a register usage right from it.
    QueryOtherRegister = "R8-OTHER-REGISTER", Error,
        "Hakija ei ole rekisterinpitäjä eikä sillä ole rekisterinkäyttöoikeutta rekisteriin",
        "the asker is not the register holder and holds no register usage right to its register";
    /// R2 for queries: the client's service relationship with the asking producer is not one
    /// the register holder organises (another client of the organiser, or no relationship).
    QueryNotProducersClient = "R2-NOT-PRODUCERS-CLIENT", Error,
        "Asiakkaalla ei ole rekisterinpitäjän järjestämää palvelusuhdetta hakevaan palveluntuottajaan",
        "the client has no service relationship with the asking producer organised by the register holder";
    /// The archive could not commit the document.
    StorageFailed = "SYS-STORAGE", Error,
        "Arkistointi epäonnistui arkiston sisäisen virheen vuoksi",
        "the archive could not store the document (internal error)";
    /// The archive is in a (rehearsed) service break: the message was not processed (or its
    /// answer was lost). An injected fault of the mock, never a verdict on the message.
    ServiceBreak = "SYS-BREAK", Unreadable,
        "Arkistossa on käyttökatko: sanomaa ei käsitelty, lähetä se uudelleen katkon jälkeen",
        "the archive is in a service break: the message was not processed; send it again after the break";
}

impl AckCode {
    /// The Swedish text (for Swedish pages and reports; the acknowledgement itself carries the
    /// Finnish and English ones). \[conv\] Like the whole list, a translation of this project.
    pub fn swedish(self) -> &'static str {
        match self {
            AckCode::MessageUnreadable => "Meddelandet kunde inte läsas som ett HL7 V3-meddelande",
            AckCode::UnknownInteraction => "Okänd meddelandetyp (interactionId)",
            AckCode::MissingElement => "En obligatorisk uppgift saknas i meddelandet",
            AckCode::CdaUnreadable => "CDA-handlingen i meddelandet kunde inte läsas",
            AckCode::MetadataMismatch => {
                "Meddelandets beskrivningsuppgifter avviker från handlingens"
            }
            AckCode::MessageIdReused => {
                "Meddelandets identifierare har redan använts i ett annat meddelande"
            }
            AckCode::SignatureMissing => "Handlingen saknar systemsignatur",
            AckCode::SignatureInvalid => "Systemsignaturen är inte intakt",
            AckCode::SignatureReferences => {
                "Systemsignaturens referenser avviker från Kanta-profilen (exakt två: tidsstämpeln och handlingens innehåll)"
            }
            AckCode::SignatureTooCostly => {
                "Kontrollen av systemsignaturen skulle kräva för mycket arbete; meddelandet avvisades"
            }
            AckCode::SignerUntrusted => {
                "Signeringscertifikatet har inte utfärdats av en betrodd certifikatutfärdare"
            }
            AckCode::SignerExpired => {
                "Signeringscertifikatet var inte giltigt vid signeringstidpunkten"
            }
            AckCode::SignerNotAllowed => {
                "Undertecknarens organisation får inte signera för upprättarens organisation"
            }
            AckCode::IdentityCodeInvalid => "Klientens personbeteckning är felaktig",
            AckCode::IdentityCodeNotTest => {
                "Klientens personbeteckning är inte en testpersonbeteckning (individnummer 900-999)"
            }
            AckCode::SenderUnknown => "Meddelandets avsändarorganisation är okänd",
            AckCode::TlsNotSender => {
                "Servercertifikatets organisation är varken avsändaren eller en förmedlare som agerar för den"
            }
            AckCode::ServiceUnitUnknown => "Serviceenheten är okänd",
            AckCode::ServiceUnitNotProducer => "Serviceenheten hör inte till tjänsteproducenten",
            AckCode::CustodianUnknown => {
                "Den personuppgiftsansvariga (custodian) är en okänd organisation"
            }
            AckCode::UnknownRegister => "Okänd registerkod",
            AckCode::NoServiceRelationship => {
                "Klienten har ingen tjänsterelation till tjänsteproducenten"
            }
            AckCode::OrganiserMismatch => {
                "Anordnaren (outsourcingServiceCustomer) motsvarar inte den personuppgiftsansvariga"
            }
            AckCode::UsageSituationMismatch => {
                "Användningssituationen motsvarar inte den personuppgiftsansvariga"
            }
            AckCode::SelfPayingNotProvider => {
                "En självbetalande klients handlingar hör till tjänsteproducentens eget register"
            }
            AckCode::OrganiserMissing => "Anordnaren saknas; tjänsteproducenten antas",
            AckCode::OrganiserRegisterRequired => {
                "Handlingar om köpta tjänster och servicesedlar hör till anordnarens register"
            }
            AckCode::NoUsageRight => "Tjänsteproducenten har ingen giltig registeranvändningsrätt",
            AckCode::NoOwnRegister => "Tjänsteproducenten har inget eget klientregister",
            AckCode::QueryByKela => "FPA får inte söka uppgifter i socialvårdens klientregister",
            AckCode::QueryOtherRegister => {
                "Den sökande är inte personuppgiftsansvarig och har ingen registeranvändningsrätt till registret"
            }
            AckCode::QueryNotProducersClient => {
                "Klienten har ingen av den personuppgiftsansvariga anordnad tjänsterelation till den sökande tjänsteproducenten"
            }
            AckCode::CustodianNotLicensed => {
                "Den personuppgiftsansvariga har inget tillstånd eller ingen registrering"
            }
            AckCode::KelaCustodian => {
                "FPA är inte personuppgiftsansvarig för tjänster som FPA upphandlar"
            }
            AckCode::WrongRepository => {
                "Fel arkiv: hälso- och sjukvårdens patienthandlingar arkiveras i Patientdataarkivet"
            }
            AckCode::OutsideKanta => {
                "Tjänsten är inte social- eller hälsovård och dess handlingar arkiveras inte i Kanta"
            }
            AckCode::VersionNotFirst => {
                "En ny handling ska ha version 1 och ett setId som är lika med handlingens identifierare"
            }
            AckCode::ReplacementMissing => {
                "Den ersättande handlingen saknar hänvisning till den ersatta handlingen (RPLC)"
            }
            AckCode::ReplacementUnexpected => {
                "Arkivering av en ny handling får inte innehålla en ersättningshänvisning (RPLC)"
            }
            AckCode::ReplacementReasonUnknown => "Okänd orsak till ersättningen",
            AckCode::ReplacedUnknown => "Den ersatta handlingen finns inte i arkivet",
            AckCode::ReplacesNotLatest => {
                "Den ersatta handlingen är inte handlingens senaste version"
            }
            AckCode::VersionNotNext => "Versionsnumret ska vara den senaste versionen + 1",
            AckCode::SetIdMismatch => {
                "Den ersättande handlingens setId avviker från den ersatta handlingens setId"
            }
            AckCode::SetInvalidated => {
                "Handlingen har ogiltigförklarats och kan inte få nya versioner"
            }
            AckCode::SetIdExists => "En handlingshelhet med detta setId finns redan i arkivet",
            AckCode::RegisterHolderChanged => {
                "En ersättande handling kan inte byta personuppgiftsansvarig"
            }
            AckCode::ClientChanged => "En ersättande handling kan inte byta klient",
            AckCode::DocumentIdExists => {
                "En handling med denna identifierare finns redan i arkivet"
            }
            AckCode::ServiceBreak => {
                "Arkivet har ett driftavbrott: meddelandet behandlades inte, skicka det på nytt efter avbrottet"
            }
            AckCode::StorageFailed => {
                "Arkiveringen misslyckades på grund av ett internt fel i arkivet"
            }
        }
    }
}

impl AckCode {
    /// The code a system-signature problem is acknowledged with: the one name of that problem
    /// everywhere (the acknowledgement, `kantakoe verify`, reports). The signature module's
    /// finer distinctions stay in the detail text.
    pub fn for_signature(code: crate::signature::ProblemCode) -> AckCode {
        code.ack_code()
    }
}

impl fmt::Display for AckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The acknowledgement's `acknowledgement@typeCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckType {
    /// Application Accept: stored durably.
    Aa,
    /// Application Error: a rule was broken.
    Ae,
    /// Application Reject: the message could not be read as this interaction.
    Ar,
}

impl AckType {
    /// `AA`, `AE` or `AR`.
    pub fn as_str(self) -> &'static str {
        match self {
            AckType::Aa => "AA",
            AckType::Ae => "AE",
            AckType::Ar => "AR",
        }
    }

    /// Reads `AA`, `AE` or `AR`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "AA" => Some(AckType::Aa),
            "AE" => Some(AckType::Ae),
            "AR" => Some(AckType::Ar),
            _ => None,
        }
    }

    /// The type an acknowledgement listing `codes` gets: `AR` if any makes the message
    /// unreadable, else `AE` if any is an error, else `AA` (warnings do not refuse).
    pub fn for_codes(codes: impl IntoIterator<Item = AckCode>) -> Self {
        let worst = codes.into_iter().map(AckCode::severity).max();
        match worst {
            Some(Severity::Unreadable) => AckType::Ar,
            Some(Severity::Error) => AckType::Ae,
            Some(Severity::Warning) | None => AckType::Aa,
        }
    }
}

impl fmt::Display for AckType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `acknowledgementDetail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckDetail {
    /// The problem.
    pub code: AckCode,
    /// XPath of the offending element, when known.
    pub location: Option<String>,
    /// What exactly was wrong (English), appended to the code's English text.
    pub detail: String,
}

/// An HL7 instance identifier: the format layer's type, so the pipeline passes ids through.
pub use crate::format::InstanceId;

/// Everything [`render`] needs. Plain data so that snapshots are stable.
#[derive(Debug, Clone)]
pub struct AckInput {
    /// The acknowledgement's own message id.
    pub id: InstanceId,
    /// The acknowledgement's creation time.
    pub creation_time: OffsetDateTime,
    /// `processingCode` echoed from the request (`P`, `T` or `D`); `P` when unknown.
    pub processing_code: String,
    /// The request's sender device id: the acknowledgement's receiver. `None` when unreadable.
    pub receiver: Option<InstanceId>,
    /// The archive's own device id: the acknowledgement's sender.
    pub sender: InstanceId,
    /// The request's message id (`targetMessage/id`). `None` when unreadable.
    pub target_message: Option<InstanceId>,
    /// `AA`, `AE` or `AR`.
    pub type_code: AckType,
    /// One per problem (warnings included).
    pub details: Vec<AckDetail>,
}

/// The HL7 V3 timestamp form `YYYYMMDDhhmmss±zzzz`.
pub fn hl7_timestamp(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[year][month][day][hour][minute][second][offset_hour sign:mandatory][offset_minute]"
    );
    // The format has only numeric components, so formatting cannot fail for a valid date.
    at.format(format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Writes the bare HL7 V3 acknowledgement (no SOAP envelope) as UTF-8 XML text.
pub fn render(input: &AckInput) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec<u8> cannot fail.
    write_ack(&mut writer, input).expect("writing XML into memory cannot fail");
    String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8 from UTF-8 input")
}

fn write_ack(w: &mut Writer<Vec<u8>>, input: &AckInput) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("MCCI_IN000002UV01")
        .with_attribute(("xmlns", "urn:hl7-org:v3"))
        .with_attribute(("ITSVersion", "XML_1.0"))
        .write_inner_content(|w| {
            write_id(w, "id", &input.id)?;
            w.create_element("creationTime")
                .with_attribute(("value", hl7_timestamp(input.creation_time).as_str()))
                .write_empty()?;
            w.create_element("interactionId")
                .with_attribute(("root", INTERACTION_ID_ROOT))
                .with_attribute(("extension", "MCCI_IN000002UV01"))
                .write_empty()?;
            w.create_element("processingCode")
                .with_attribute(("code", input.processing_code.as_str()))
                .write_empty()?;
            w.create_element("processingModeCode")
                .with_attribute(("code", "T"))
                .write_empty()?;
            w.create_element("acceptAckCode")
                .with_attribute(("code", "NE"))
                .write_empty()?;
            if let Some(receiver) = &input.receiver {
                write_device(w, "receiver", "RCV", receiver)?;
            }
            write_device(w, "sender", "SND", &input.sender)?;
            w.create_element("acknowledgement")
                .with_attribute(("typeCode", input.type_code.as_str()))
                .write_inner_content(|w| {
                    if let Some(target) = &input.target_message {
                        w.create_element("targetMessage")
                            .write_inner_content(|w| write_id(w, "id", target))?;
                    }
                    for detail in &input.details {
                        write_detail(w, detail)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn write_id(w: &mut Writer<Vec<u8>>, name: &str, id: &InstanceId) -> io::Result<()> {
    let mut element = w
        .create_element(name)
        .with_attribute(("root", id.root.as_str()));
    if let Some(extension) = &id.extension {
        element = element.with_attribute(("extension", extension.as_str()));
    }
    element.write_empty()?;
    Ok(())
}

fn write_device(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    type_code: &str,
    id: &InstanceId,
) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(("typeCode", type_code))
        .write_inner_content(|w| {
            w.create_element("device")
                .with_attribute(("classCode", "DEV"))
                .with_attribute(("determinerCode", "INSTANCE"))
                .write_inner_content(|w| write_id(w, "id", id))?;
            Ok(())
        })?;
    Ok(())
}

fn write_detail(w: &mut Writer<Vec<u8>>, detail: &AckDetail) -> io::Result<()> {
    let type_code = match detail.code.severity() {
        Severity::Warning => "W",
        Severity::Error | Severity::Unreadable => "E",
    };
    let text = if detail.detail.is_empty() {
        detail.code.english().to_owned()
    } else {
        format!("{}: {}", detail.code.english(), detail.detail)
    };
    w.create_element("acknowledgementDetail")
        .with_attribute(("typeCode", type_code))
        .write_inner_content(|w| {
            w.create_element("code")
                .with_attribute(("code", detail.code.code()))
                .with_attribute(("codeSystem", ACK_CODE_SYSTEM))
                .with_attribute(("codeSystemName", ACK_CODE_SYSTEM_NAME))
                .with_attribute(("displayName", detail.code.finnish()))
                .write_empty()?;
            // Text content needs only `<`, `>` and `&` escaped; quotes stay readable.
            w.create_element("text")
                .write_text_content(BytesText::from_escaped(partial_escape(&text)))?;
            if let Some(location) = &detail.location {
                w.create_element("location")
                    .write_text_content(BytesText::from_escaped(partial_escape(location)))?;
            }
            Ok(())
        })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The reader, beside the writer: what the harness reads from any archive's answer.
// ---------------------------------------------------------------------------------------------

/// What an acknowledgement says, as read from an answer by [`read`]: the parts a rehearsal
/// judges. Strings, not [`AckType`]/[`AckCode`], because a real archive answers with codes this
/// project does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// `AA`, `AE` or `AR` (or whatever the archive wrote).
    pub type_code: String,
    /// The detail codes (`acknowledgementDetail/code@code`), in order.
    pub codes: Vec<String>,
    /// The acknowledged message's id (`targetMessage/id`): `root`, or `root:extension`.
    pub target_message: Option<String>,
}

impl From<&AckInput> for Ack {
    /// What [`read`] returns for the acknowledgement [`render`] writes from `input`.
    fn from(input: &AckInput) -> Self {
        Ack {
            type_code: input.type_code.as_str().to_owned(),
            codes: input
                .details
                .iter()
                .map(|d| d.code.code().to_owned())
                .collect(),
            target_message: input.target_message.as_ref().map(|id| match &id.extension {
                Some(ext) => format!("{}:{ext}", id.root),
                None => id.root.clone(),
            }),
        }
    }
}

/// Why an answer is not an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The body is not well-formed XML.
    #[error("the answer is not well-formed XML: {0}")]
    Xml(String),
    /// No `acknowledgement` element with a `typeCode`.
    #[error("the answer has no acknowledgement typeCode")]
    NoAcknowledgement,
}

fn local(name: &[u8]) -> &[u8] {
    name.rsplit(|b| *b == b':').next().unwrap_or(name)
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Reads an acknowledgement (`MCCI_IN000002UV01`, DESIGN §3.5) from an answer body in any
/// wrapping (bare, SOAP envelope, MTOM part): its type code, detail codes and the acknowledged
/// message id. A streaming read that ignores namespace prefixes and envelopes; a DOCTYPE is
/// refused (no DTDs, no entities); anything else missing is an error naming it.
pub fn read(body: &[u8]) -> Result<Ack, AckError> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut type_code = None;
    let mut codes = Vec::new();
    let mut target_message = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| AckError::Xml(e.to_string()))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                path.pop();
                (None, false)
            }
            Event::DocType(_) => return Err(AckError::Xml("a DOCTYPE is not allowed".into())),
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = local(e.name().as_ref()).to_vec();
            let parent = path.last().map(Vec::as_slice);
            match (parent, name.as_slice()) {
                (_, b"acknowledgement") if type_code.is_none() => {
                    type_code = attr(&e, b"typeCode");
                }
                (Some(b"acknowledgementDetail"), b"code") => {
                    if let Some(c) = attr(&e, b"code") {
                        codes.push(c);
                    }
                }
                (Some(b"targetMessage"), b"id") => {
                    target_message = attr(&e, b"root").map(|root| match attr(&e, b"extension") {
                        Some(ext) => format!("{root}:{ext}"),
                        None => root,
                    });
                }
                _ => {}
            }
            if !empty {
                path.push(name);
            }
        }
        buf.clear();
    }
    Ok(Ack {
        type_code: type_code.ok_or(AckError::NoAcknowledgement)?,
        codes,
        target_message,
    })
}

/// proptest strategies for the acknowledgement's types, beside them (tests only).
#[cfg(test)]
pub(crate) mod strategy {
    use proptest::prelude::*;

    use super::*;

    /// An OID-shaped root and an optional extension.
    pub fn instance_id() -> impl Strategy<Value = InstanceId> {
        (
            "[1-9][0-9]{0,3}(\\.[0-9]{1,5}){1,7}",
            proptest::option::of("[A-Za-z0-9._-]{1,24}"),
        )
            .prop_map(|(root, extension)| InstanceId { root, extension })
    }

    /// Any code of the list.
    pub fn ack_code() -> impl Strategy<Value = AckCode> {
        proptest::sample::select(AckCode::ALL)
    }

    /// One detail with any text and location.
    pub fn ack_detail() -> impl Strategy<Value = AckDetail> {
        (
            ack_code(),
            proptest::option::of("[ -~äöåÄÖÅ]{0,40}"),
            "[ -~äöåÄÖÅ]{0,60}",
        )
            .prop_map(|(code, location, detail)| AckDetail {
                code,
                location,
                detail,
            })
    }

    /// Any acknowledgement the archive could write.
    pub fn ack_input() -> impl Strategy<Value = AckInput> {
        (
            instance_id(),
            0i64..4_102_444_800,
            -12i8..=14,
            proptest::sample::select(&["P", "T", "D"][..]),
            proptest::option::of(instance_id()),
            instance_id(),
            proptest::option::of(instance_id()),
            proptest::sample::select(&[AckType::Aa, AckType::Ae, AckType::Ar][..]),
            proptest::collection::vec(ack_detail(), 0..5),
        )
            .prop_map(
                |(id, secs, hours, processing, receiver, sender, target, type_code, details)| {
                    let offset = time::UtcOffset::from_hms(hours, 0, 0).expect("-12..=14 hours");
                    AckInput {
                        id,
                        creation_time: OffsetDateTime::from_unix_timestamp(secs)
                            .expect("in range")
                            .to_offset(offset),
                        processing_code: processing.to_owned(),
                        receiver,
                        sender,
                        target_message: target,
                        type_code,
                        details,
                    }
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use time::macros::datetime;

    use super::*;

    fn input(type_code: AckType, details: Vec<AckDetail>) -> AckInput {
        AckInput {
            id: InstanceId::root("2.999.5851.9.1"),
            creation_time: datetime!(2026-07-18 12:30:00 +03:00),
            processing_code: "T".to_owned(),
            receiver: Some(InstanceId::root("2.999.5851.2.1.10.0")),
            sender: InstanceId::root("2.999.5851.3.1"),
            target_message: Some(InstanceId {
                root: "2.999.5851.8.77".to_owned(),
                extension: Some("msg-1".to_owned()),
            }),
            type_code,
            details,
        }
    }

    proptest::proptest! {
        /// The reader reads what the writer wrote: `read(render(x)) == Ack::from(&x)`.
        #[test]
        fn read_reads_what_render_wrote(x in strategy::ack_input()) {
            let xml = render(&x);
            proptest::prop_assert_eq!(read(xml.as_bytes()), Ok(Ack::from(&x)), "{}", xml);
        }
    }

    #[test]
    fn reads_type_codes_and_target_in_a_soap_envelope() {
        let body = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
<MCCI_IN000002UV01 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AE">
<targetMessage><id root="1.2.3" extension="9"/></targetMessage>
<acknowledgementDetail typeCode="E"><code code="R2-NOT-ORGANISER" codeSystem="2.999"/><text>x</text></acknowledgementDetail>
<acknowledgementDetail typeCode="W"><code code="R1-ORGANISER-MISSING"/></acknowledgementDetail>
</acknowledgement></MCCI_IN000002UV01></s:Body></s:Envelope>"#;
        assert_eq!(
            read(body).unwrap(),
            Ack {
                type_code: "AE".into(),
                codes: vec!["R2-NOT-ORGANISER".into(), "R1-ORGANISER-MISSING".into()],
                target_message: Some("1.2.3:9".into()),
            }
        );
    }

    #[test]
    fn a_body_without_acknowledgement_is_an_error() {
        assert_eq!(
            read(b"<soap:Fault xmlns:soap='x'/>"),
            Err(AckError::NoAcknowledgement)
        );
        assert_eq!(
            read(b"<a><b></a>").unwrap_err().to_string(),
            "the answer is not well-formed XML: ill-formed document: expected `</b>`, but `</a>` was found"
        );
        assert_eq!(
            read(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a/>")
                .unwrap_err()
                .to_string(),
            "the answer is not well-formed XML: a DOCTYPE is not allowed"
        );
    }

    #[test]
    fn codes_are_unique_and_texts_present() {
        let mut seen = HashSet::new();
        for code in AckCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert!(!code.finnish().is_empty() && !code.english().is_empty());
            assert!(!code.swedish().is_empty());
            assert_eq!(code.to_string(), code.code());
            assert_eq!(AckCode::from_code(code.code()), Some(*code));
        }
    }

    /// The whole code list with its texts: the reference a user reads codes from.
    #[test]
    fn code_list() {
        let mut table = format!("code system {ACK_CODE_SYSTEM} ({ACK_CODE_SYSTEM_NAME})\n");
        for code in AckCode::ALL {
            table.push_str(&format!(
                "{} [{:?}]\n  fi: {}\n  sv: {}\n  en: {}\n",
                code.code(),
                code.severity(),
                code.finnish(),
                code.swedish(),
                code.english()
            ));
        }
        insta::assert_snapshot!(table);
    }

    #[test]
    fn type_follows_the_worst_severity() {
        assert_eq!(AckType::for_codes([]), AckType::Aa);
        assert_eq!(AckType::for_codes([AckCode::OrganiserMissing]), AckType::Aa);
        assert_eq!(
            AckType::for_codes([AckCode::OrganiserMissing, AckCode::NoUsageRight]),
            AckType::Ae
        );
        assert_eq!(
            AckType::for_codes([AckCode::NoUsageRight, AckCode::MissingElement]),
            AckType::Ar
        );
        for t in [AckType::Aa, AckType::Ae, AckType::Ar] {
            assert_eq!(AckType::parse(t.as_str()), Some(t));
        }
        assert_eq!(AckType::parse("CA"), None);
    }

    #[test]
    fn timestamp_keeps_the_offset() {
        assert_eq!(
            hl7_timestamp(datetime!(2026-01-02 03:04:05 +02:00)),
            "20260102030405+0200"
        );
    }

    /// Reads back every `acknowledgementDetail/text` and `location` of a rendered
    /// acknowledgement with an XML parser.
    fn read_back(xml: &str) -> Vec<String> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        let mut inside = false;
        loop {
            match reader
                .read_event()
                .expect("the acknowledgement is well-formed XML")
            {
                Event::Start(e) => {
                    inside = matches!(e.name().as_ref(), b"text" | b"location");
                    if inside {
                        out.push(String::new());
                    }
                }
                Event::Text(t) if inside => {
                    out.last_mut().unwrap().push_str(&t.decode().unwrap());
                }
                Event::GeneralRef(r) if inside => {
                    let name = r.decode().unwrap();
                    let resolved = quick_xml::escape::resolve_xml_entity(&name).unwrap();
                    out.last_mut().unwrap().push_str(resolved);
                }
                Event::End(_) => inside = false,
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn any_detail_text_survives_rendering(detail in "[ -~äöåÄÖÅ]{0,40}", location in "[ -~]{1,30}") {
            let xml = render(&input(
                AckType::Ae,
                vec![AckDetail { code: AckCode::SignatureInvalid, location: Some(location.clone()), detail: detail.clone() }],
            ));
            let mut expected_text = AckCode::SignatureInvalid.english().to_owned();
            if !detail.is_empty() {
                expected_text = format!("{expected_text}: {detail}");
            }
            let got = read_back(&xml);
            proptest::prop_assert_eq!(got.len(), 2, "{}", xml);
            proptest::prop_assert_eq!(&got[0], &expected_text);
            proptest::prop_assert_eq!(&got[1], &location);
        }
    }

    #[test]
    fn snapshot_aa() {
        insta::assert_snapshot!(render(&input(AckType::Aa, vec![])));
    }

    #[test]
    fn snapshot_ae_with_several_details() {
        let details = vec![
            AckDetail {
                code: AckCode::OrganiserMissing,
                location: Some("//hl7fi:localSocialHeader".to_owned()),
                detail: String::new(),
            },
            AckDetail {
                code: AckCode::NoUsageRight,
                location: Some(
                    "//hl7:ClinicalDocument/hl7:custodian/hl7:assignedCustodian\
                     /hl7:representedCustodianOrganization/hl7:id"
                        .to_owned(),
                ),
                detail: "producer 2.999.5851.2.1 holds no usage right from 2.999.5851.2.2 \
                         valid on 2028-03-01 for purchased service"
                    .to_owned(),
            },
            AckDetail {
                code: AckCode::IdentityCodeNotTest,
                location: None,
                detail: "individual number 123 in \"010190-123X\" <not 900-999> & refused"
                    .to_owned(),
            },
        ];
        insta::assert_snapshot!(render(&input(AckType::Ae, details)));
    }

    #[test]
    fn snapshot_ar() {
        let mut ar = input(
            AckType::Ar,
            vec![AckDetail {
                code: AckCode::MessageUnreadable,
                location: None,
                detail: "expected element, found end of input at byte 17".to_owned(),
            }],
        );
        ar.receiver = None;
        ar.target_message = None;
        ar.processing_code = "P".to_owned();
        insta::assert_snapshot!(render(&ar));
    }
}
