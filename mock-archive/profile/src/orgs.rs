//! The organisation registry: the archive's fixture of who is who.
//!
//! Loaded from a TOML file (`testcases/orgs.toml` by default, replaceable by the user's own):
//! operating units with business IDs and their service units, which providers hold a licence
//! or registration (R4) and a register of their own (R3), public organisers, Kela, vendors and
//! whom they act for, register usage rights (organiser → producer, validity period, scope),
//! test persons with their service relationships (who pays for whom), and archivists.
//!
//! Loading checks the whole file and reports **every** problem with file and line
//! ([`FixtureError::Invalid`]). After loading, every reference between entries is known to
//! resolve, so lookups need no error paths.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use time::{Date, Month};
use toml::Spanned;

/// The kind of an organisation, as far as the register-holder rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgKind {
    /// A private social welfare service provider ("yksityinen palveluntuottaja").
    PrivateProvider,
    /// A public organiser, e.g. a wellbeing services county ("hyvinvointialue").
    PublicOrganiser,
    /// Kela, the Social Insurance Institution (never a register holder, R5).
    Kela,
    /// A system vendor ("välittäjä") that may connect on behalf of others.
    Vendor,
    /// Any other organisation.
    Other,
}

impl OrgKind {
    fn as_str(self) -> &'static str {
        match self {
            OrgKind::PrivateProvider => "private-provider",
            OrgKind::PublicOrganiser => "public-organiser",
            OrgKind::Kela => "kela",
            OrgKind::Vendor => "vendor",
            OrgKind::Other => "other",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays for a client's service at one producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentType {
    /// The client pays the private provider ("itse maksava asiakas", R1).
    SelfPaying,
    /// An organiser buys the service ("ostopalvelu", R2).
    PurchasedService,
    /// An organiser pays with a service voucher ("palveluseteli", R2).
    ServiceVoucher,
    /// The organiser's own client: a public organiser serves the client itself, so producer,
    /// custodian and organiser are all the organiser (usage situation `1`, own use; the public
    /// 2026 social welfare sample's case).
    OwnClient,
    /// A service outside social and health care, e.g. Kela rehabilitation or STEA-funded
    /// work: not stored in Kanta at all (R7).
    OutsideKanta,
}

impl PaymentType {
    /// The fixture spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentType::SelfPaying => "self-paying",
            PaymentType::PurchasedService => "purchased-service",
            PaymentType::ServiceVoucher => "service-voucher",
            PaymentType::OwnClient => "own-client",
            PaymentType::OutsideKanta => "outside-kanta",
        }
    }

    /// Whether an organiser pays (purchased service or service voucher).
    pub fn organiser_pays(self) -> bool {
        matches!(
            self,
            PaymentType::PurchasedService | PaymentType::ServiceVoucher
        )
    }
}

impl fmt::Display for PaymentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not a [`PaymentType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown payment type {0:?}: self-paying, purchased-service, service-voucher or outside-kanta"
)]
pub struct UnknownPaymentType(pub String);

impl std::str::FromStr for PaymentType {
    type Err = UnknownPaymentType;

    /// Reads the fixture spelling ([`PaymentType::as_str`]).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            PaymentType::SelfPaying,
            PaymentType::PurchasedService,
            PaymentType::ServiceVoucher,
            PaymentType::OutsideKanta,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
        .ok_or_else(|| UnknownPaymentType(text.to_owned()))
    }
}

/// A service unit ("palveluyksikkö") of an operating unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUnit {
    /// OID in the SOTE organisation register (here: fictional).
    pub oid: String,
    /// Name.
    pub name: String,
}

/// An operating unit ("toimintayksikkö") or any other organisation of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Organisation OID (the one in certificates' `serialNumber` and in `custodian`).
    pub oid: String,
    /// Name.
    pub name: String,
    /// Business ID ("Y-tunnus"), `NNNNNNN-C`, when it has one.
    pub business_id: Option<String>,
    /// Kind.
    pub kind: OrgKind,
    /// Holds a Valvira licence or an AVI registration (R4). Public organisers always may hold
    /// a register; for them this field is not consulted.
    pub licensed: bool,
    /// Has a client register of its own, i.e. has self-paying clients (R3).
    pub own_register: bool,
    /// For vendors: the organisations it may connect for.
    pub acts_for: Vec<String>,
    /// Service units.
    pub service_units: Vec<ServiceUnit>,
}

impl Organisation {
    /// Whether the organisation may be a register holder at all (R4, R5): a public organiser,
    /// or a licensed private provider. Kela never.
    pub fn may_hold_register(&self) -> bool {
        match self.kind {
            OrgKind::PublicOrganiser => true,
            OrgKind::PrivateProvider => self.licensed,
            OrgKind::Kela | OrgKind::Vendor | OrgKind::Other => false,
        }
    }
}

/// A register usage right ("rekisterinkäyttöoikeus"): the organiser lets the producer store
/// into the organiser's register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRight {
    /// The organiser (register holder) granting the right.
    pub organiser: String,
    /// The producer receiving it.
    pub producer: String,
    /// First valid day.
    pub from: Date,
    /// Last valid day (inclusive).
    pub until: Date,
    /// The payment types it covers: purchased service and/or service voucher.
    pub scope: Vec<PaymentType>,
}

/// Why no usage right applies (see [`Registry::usage_right`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageRightProblem {
    /// The organiser granted the producer no usage right at all.
    NotGranted,
    /// A right exists but not for this day.
    NotValidOn {
        /// The day asked about.
        day: Date,
        /// The granted periods, `from..=until`.
        periods: Vec<(Date, Date)>,
    },
    /// A right is valid on that day but does not cover this payment type.
    ScopeExcludes(PaymentType),
}

impl fmt::Display for UsageRightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageRightProblem::NotGranted => f.write_str("none granted"),
            UsageRightProblem::NotValidOn { day, periods } => {
                write!(f, "none valid on {day} (granted ")?;
                for (i, (from, until)) in periods.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{from}..{until}")?;
                }
                f.write_str(")")
            }
            UsageRightProblem::ScopeExcludes(payment) => {
                write!(f, "the valid right does not cover {payment}")
            }
        }
    }
}

/// A client's service relationship with one producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// The producing provider.
    pub producer: String,
    /// Who pays.
    pub payment: PaymentType,
    /// The organiser paying, for purchased services and service vouchers.
    pub organiser: Option<String>,
}

/// A test person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Identity code ("henkilötunnus"), a test code (individual number 900–999).
    pub identity_code: String,
    /// Name (fictional).
    pub name: String,
    /// Service relationships, at most one per producer.
    pub relationships: Vec<Relationship>,
}

/// An archivist ("Kanta-arkistonhoitaja") of one register holder, for the archivist view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archivist {
    /// Sign-in token.
    pub token: String,
    /// Name (fictional).
    pub name: String,
    /// The register holder whose documents this archivist sees (R8).
    pub register_holder: String,
}

/// One problem in a fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong (lowercase).
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A fixture that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read organisation fixture {file}: {source}")]
    Read {
        /// The path.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file was read but has problems; every one found is listed, one per line.
    #[error("{}", problems_text(.problems))]
    Invalid {
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

fn problems_text(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

/// The loaded, cross-checked fixture.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    organisations: BTreeMap<String, Organisation>,
    unit_owner: HashMap<String, String>,
    usage_rights: Vec<UsageRight>,
    persons: BTreeMap<String, Person>,
    archivists: Vec<Archivist>,
}

impl Registry {
    /// Loads and checks a fixture file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FixtureError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_toml_str(&text, &file)
    }

    /// Reads and checks fixture text; `file_name` names it in problems.
    pub fn from_toml_str(text: &str, file_name: &str) -> Result<Self, FixtureError> {
        let mut check = Checker {
            text,
            file: file_name,
            problems: Vec::new(),
        };
        let raw: RawFixture = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(err) => {
                let span = err.span().unwrap_or(0..0);
                check.problem(&span, err.message().trim_end().to_owned());
                return Err(check.finish(Registry::default()).unwrap_err());
            }
        };
        let registry = check.build(raw);
        check.finish(registry)
    }

    /// The organisation with this OID.
    pub fn organisation(&self, oid: &str) -> Option<&Organisation> {
        self.organisations.get(oid)
    }

    /// Every organisation, by OID.
    pub fn organisations(&self) -> impl Iterator<Item = &Organisation> {
        self.organisations.values()
    }

    /// The organisation a service unit belongs to.
    pub fn service_unit_owner(&self, unit_oid: &str) -> Option<&Organisation> {
        self.unit_owner
            .get(unit_oid)
            .and_then(|owner| self.organisations.get(owner))
    }

    /// Whether a TLS client certificate of `connecting` may send for `sender`: it is the sender
    /// or a vendor acting for it.
    pub fn may_connect_for(&self, connecting: &str, sender: &str) -> bool {
        connecting == sender
            || self.organisation(connecting).is_some_and(|org| {
                org.kind == OrgKind::Vendor && org.acts_for.iter().any(|oid| oid == sender)
            })
    }

    /// Every register usage right.
    pub fn usage_rights(&self) -> &[UsageRight] {
        &self.usage_rights
    }

    /// The usage right from `organiser` to `producer` valid on `day` covering `payment`.
    pub fn usage_right(
        &self,
        organiser: &str,
        producer: &str,
        day: Date,
        payment: PaymentType,
    ) -> Result<&UsageRight, UsageRightProblem> {
        let granted: Vec<&UsageRight> = self
            .usage_rights
            .iter()
            .filter(|r| r.organiser == organiser && r.producer == producer)
            .collect();
        if granted.is_empty() {
            return Err(UsageRightProblem::NotGranted);
        }
        let valid: Vec<&UsageRight> = granted
            .iter()
            .copied()
            .filter(|r| r.from <= day && day <= r.until)
            .collect();
        if valid.is_empty() {
            return Err(UsageRightProblem::NotValidOn {
                day,
                periods: granted.iter().map(|r| (r.from, r.until)).collect(),
            });
        }
        valid
            .into_iter()
            .find(|r| r.scope.contains(&payment))
            .ok_or(UsageRightProblem::ScopeExcludes(payment))
    }

    /// Ends every usage right `organiser` granted `producer`: none is valid after `last_day`
    /// (a right that would have ended earlier keeps its own end). Returns how many rights
    /// changed; refuses when the organiser granted the producer none.
    pub fn end_usage_right(
        &mut self,
        organiser: &str,
        producer: &str,
        last_day: Date,
    ) -> Result<usize, UsageRightProblem> {
        let mut granted = 0;
        let mut changed = 0;
        for right in self
            .usage_rights
            .iter_mut()
            .filter(|r| r.organiser == organiser && r.producer == producer)
        {
            granted += 1;
            if right.until > last_day {
                right.until = last_day;
                changed += 1;
            }
        }
        if granted == 0 {
            return Err(UsageRightProblem::NotGranted);
        }
        Ok(changed)
    }

    /// The test person with this identity code.
    pub fn person(&self, identity_code: &str) -> Option<&Person> {
        self.persons.get(identity_code)
    }

    /// Every test person, by identity code.
    pub fn persons(&self) -> impl Iterator<Item = &Person> {
        self.persons.values()
    }

    /// The client's service relationship with `producer`.
    pub fn relationship(&self, client: &str, producer: &str) -> Option<&Relationship> {
        self.person(client)?
            .relationships
            .iter()
            .find(|r| r.producer == producer)
    }

    /// The archivist signing in with `token`.
    pub fn archivist(&self, token: &str) -> Option<&Archivist> {
        self.archivists.iter().find(|a| a.token == token)
    }

    /// Every archivist.
    pub fn archivists(&self) -> &[Archivist] {
        &self.archivists
    }
}

// ---------------------------------------------------------------------------------------------
// Identity codes, business IDs, OIDs.

/// The check characters of Finnish identity codes, indexed by the remainder mod 31.
const HETU_CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Checks a Finnish identity code ("henkilötunnus", `DDMMYYCNNNQ`): shape, century sign
/// (including the 2023 signs), date, individual number and check character. Does not check
/// the test range; see [`is_test_identity_code`].
///
/// One function so that the lead can later point it at `format::hetu`.
pub fn check_identity_code(code: &str) -> Result<(), String> {
    let bytes = code.as_bytes();
    if bytes.len() != 11 || !code.is_ascii() {
        return Err(format!(
            "identity code {code:?} must be 11 characters DDMMYYCNNNQ"
        ));
    }
    let digits = |range: Range<usize>| -> Option<u32> {
        let part = &code[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(day), Some(month), Some(year), Some(individual)) =
        (digits(0..2), digits(2..4), digits(4..6), digits(7..10))
    else {
        return Err(format!(
            "identity code {code:?} must have digits in DDMMYY and NNN"
        ));
    };
    let century = match bytes[6] {
        b'+' => 1800,
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => 1900,
        b'A' | b'B' | b'C' | b'D' | b'E' | b'F' => 2000,
        other => {
            return Err(format!(
                "identity code {code:?} has an unknown century sign {:?}",
                other as char
            ));
        }
    };
    let date_ok = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .and_then(|m| {
            Date::from_calendar_date(century + year as i32, m, u8::try_from(day).ok()?).ok()
        })
        .is_some();
    if !date_ok {
        return Err(format!("identity code {code:?} has no valid date of birth"));
    }
    if individual < 2 {
        return Err(format!(
            "identity code {code:?} has individual number {individual:03}, below 002"
        ));
    }
    let number = u64::from(day) * 10_000_000
        + u64::from(month) * 100_000
        + u64::from(year) * 1_000
        + u64::from(individual);
    let expected = HETU_CHECK[(number % 31) as usize] as char;
    let found = bytes[10] as char;
    if found != expected {
        return Err(format!(
            "identity code {code:?} has check character {found:?}, expected {expected:?}"
        ));
    }
    Ok(())
}

/// Whether a (valid) identity code is a test code: individual number 900–999.
pub fn is_test_identity_code(code: &str) -> bool {
    code.get(7..10)
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (900..=999).contains(&n))
}

/// Checks a business ID ("Y-tunnus", `NNNNNNN-C`): shape and check digit.
pub fn check_business_id(id: &str) -> Result<(), String> {
    let bytes = id.as_bytes();
    if bytes.len() != 9 || bytes[7] != b'-' || !id.is_ascii() {
        return Err(format!("business id {id:?} must be NNNNNNN-C"));
    }
    if !bytes[..7].iter().chain(&bytes[8..]).all(u8::is_ascii_digit) {
        return Err(format!("business id {id:?} must be NNNNNNN-C"));
    }
    const WEIGHTS: [u32; 7] = [7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = bytes[..7]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let expected = match sum % 11 {
        0 => 0,
        1 => return Err(format!("business id {id:?} has an impossible number")),
        r => 11 - r,
    };
    let found = u32::from(bytes[8] - b'0');
    if found != expected {
        return Err(format!(
            "business id {id:?} has check digit {found}, expected {expected}"
        ));
    }
    Ok(())
}

/// Whether `text` is a dotted-decimal OID: arcs of digits without leading zeros, the first
/// 0, 1 or 2, at least two arcs.
pub fn is_oid(text: &str) -> bool {
    let mut arcs = text.split('.');
    let first_ok = matches!(arcs.next(), Some("0" | "1" | "2"));
    let mut count = 1;
    let rest_ok = arcs.all(|arc| {
        count += 1;
        !arc.is_empty()
            && arc.bytes().all(|b| b.is_ascii_digit())
            && (arc == "0" || !arc.starts_with('0'))
    });
    first_ok && rest_ok && count >= 2
}

// ---------------------------------------------------------------------------------------------
// The file format and its checks.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    #[serde(default)]
    organisation: Vec<RawOrganisation>,
    #[serde(default)]
    usage_right: Vec<RawUsageRight>,
    #[serde(default)]
    person: Vec<RawPerson>,
    #[serde(default)]
    archivist: Vec<RawArchivist>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    oid: Spanned<String>,
    name: String,
    business_id: Option<Spanned<String>>,
    kind: Spanned<OrgKind>,
    #[serde(default)]
    licensed: bool,
    #[serde(default)]
    own_register: Option<Spanned<bool>>,
    #[serde(default)]
    acts_for: Vec<Spanned<String>>,
    #[serde(default)]
    service_unit: Vec<RawServiceUnit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceUnit {
    oid: Spanned<String>,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsageRight {
    organiser: Spanned<String>,
    producer: Spanned<String>,
    from: Spanned<toml::value::Datetime>,
    until: Spanned<toml::value::Datetime>,
    scope: Spanned<Vec<PaymentType>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    identity_code: Spanned<String>,
    name: String,
    #[serde(default)]
    relationship: Vec<RawRelationship>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelationship {
    producer: Spanned<String>,
    payment: Spanned<PaymentType>,
    organiser: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArchivist {
    token: Spanned<String>,
    name: String,
    register_holder: Spanned<String>,
}

struct Checker<'a> {
    text: &'a str,
    file: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: &Range<usize>, message: String) {
        let start = span.start.min(self.text.len());
        let line = self.text[..start].matches('\n').count() + 1;
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line,
            message,
        });
    }

    fn finish(mut self, registry: Registry) -> Result<Registry, FixtureError> {
        if self.problems.is_empty() {
            Ok(registry)
        } else {
            self.problems.sort_by_key(|p| p.line);
            Err(FixtureError::Invalid {
                problems: self.problems,
            })
        }
    }

    fn oid(&mut self, oid: &Spanned<String>, what: &str) {
        if !is_oid(oid.get_ref()) {
            self.problem(
                &oid.span(),
                format!("{what} {:?} is not a dotted-decimal OID", oid.get_ref()),
            );
        }
    }

    fn date(&mut self, value: &Spanned<toml::value::Datetime>, what: &str) -> Option<Date> {
        let datetime = value.get_ref();
        let date = match (datetime.date, datetime.time, datetime.offset) {
            (Some(d), None, None) => Month::try_from(d.month)
                .ok()
                .and_then(|m| Date::from_calendar_date(i32::from(d.year), m, d.day).ok()),
            _ => None,
        };
        if date.is_none() {
            self.problem(
                &value.span(),
                format!("{what} must be a plain date like 2025-01-01, found {datetime}"),
            );
        }
        date
    }

    /// Resolves a reference to an organisation, reporting it when unknown or of the wrong kind.
    fn reference<'o>(
        &mut self,
        orgs: &'o BTreeMap<String, Organisation>,
        oid: &Spanned<String>,
        what: &str,
        kinds: &[OrgKind],
    ) -> Option<&'o Organisation> {
        let Some(org) = orgs.get(oid.get_ref()) else {
            self.problem(
                &oid.span(),
                format!(
                    "{what} {:?} is not an organisation of this file",
                    oid.get_ref()
                ),
            );
            return None;
        };
        if !kinds.is_empty() && !kinds.contains(&org.kind) {
            let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            self.problem(
                &oid.span(),
                format!(
                    "{what} {:?} is a {} organisation, expected {}",
                    oid.get_ref(),
                    org.kind,
                    allowed.join(" or ")
                ),
            );
        }
        Some(org)
    }

    fn build(&mut self, raw: RawFixture) -> Registry {
        let mut registry = Registry::default();
        // Every OID of the file (organisations and service units) shares one namespace.
        let mut seen_oids: HashMap<String, usize> = HashMap::new();
        let mut vendor_refs = Vec::new();

        for org in raw.organisation {
            self.oid(&org.oid, "organisation oid");
            if seen_oids.insert(org.oid.get_ref().clone(), 0).is_some() {
                self.problem(
                    &org.oid.span(),
                    format!("duplicate oid {:?}", org.oid.get_ref()),
                );
            }
            if let Some(id) = &org.business_id
                && let Err(message) = check_business_id(id.get_ref())
            {
                self.problem(&id.span(), message);
            }
            let kind = *org.kind.get_ref();
            let own_register = match &org.own_register {
                Some(own) => *own.get_ref(),
                None => kind == OrgKind::PublicOrganiser,
            };
            if let Some(own) = &org.own_register
                && *own.get_ref()
                && !matches!(kind, OrgKind::PrivateProvider | OrgKind::PublicOrganiser)
            {
                self.problem(
                    &own.span(),
                    format!("a {kind} organisation cannot have an own register"),
                );
            }
            if let Some(own) = &org.own_register
                && *own.get_ref()
                && kind == OrgKind::PrivateProvider
                && !org.licensed
            {
                self.problem(
                    &own.span(),
                    "an unlicensed private provider cannot have an own register (R4)".to_owned(),
                );
            }
            if !org.acts_for.is_empty() && kind != OrgKind::Vendor {
                self.problem(
                    &org.kind.span(),
                    format!("only a vendor acts for others, this is a {kind} organisation"),
                );
            }
            let mut units = Vec::new();
            for unit in org.service_unit {
                self.oid(&unit.oid, "service unit oid");
                if seen_oids.insert(unit.oid.get_ref().clone(), 0).is_some() {
                    self.problem(
                        &unit.oid.span(),
                        format!("duplicate oid {:?}", unit.oid.get_ref()),
                    );
                }
                registry
                    .unit_owner
                    .insert(unit.oid.get_ref().clone(), org.oid.get_ref().clone());
                units.push(ServiceUnit {
                    oid: unit.oid.into_inner(),
                    name: unit.name,
                });
            }
            vendor_refs.extend(org.acts_for.iter().cloned());
            let oid = org.oid.into_inner();
            registry
                .organisations
                .entry(oid.clone())
                .or_insert(Organisation {
                    oid,
                    name: org.name,
                    business_id: org.business_id.map(Spanned::into_inner),
                    kind,
                    licensed: org.licensed,
                    own_register,
                    acts_for: org.acts_for.into_iter().map(Spanned::into_inner).collect(),
                    service_units: units,
                });
        }
        let orgs = registry.organisations.clone();
        for target in &vendor_refs {
            self.reference(&orgs, target, "acts_for", &[]);
        }

        for right in raw.usage_right {
            self.reference(
                &orgs,
                &right.organiser,
                "usage right organiser",
                &[OrgKind::PublicOrganiser],
            );
            self.reference(
                &orgs,
                &right.producer,
                "usage right producer",
                &[OrgKind::PrivateProvider],
            );
            let from = self.date(&right.from, "from");
            let until = self.date(&right.until, "until");
            if let (Some(from), Some(until)) = (from, until)
                && until < from
            {
                self.problem(
                    &right.until.span(),
                    format!("usage right until {until} is before from {from}"),
                );
            }
            if right.scope.get_ref().is_empty() {
                self.problem(&right.scope.span(), "usage right scope is empty".to_owned());
            }
            if let Some(bad) = right.scope.get_ref().iter().find(|p| !p.organiser_pays()) {
                self.problem(
                    &right.scope.span(),
                    format!(
                        "usage right scope may hold purchased-service and service-voucher, not {bad}"
                    ),
                );
            }
            if let (Some(from), Some(until)) = (from, until) {
                registry.usage_rights.push(UsageRight {
                    organiser: right.organiser.into_inner(),
                    producer: right.producer.into_inner(),
                    from,
                    until,
                    scope: right.scope.into_inner(),
                });
            }
        }

        for person in raw.person {
            let code = person.identity_code.get_ref();
            if let Err(message) = check_identity_code(code) {
                self.problem(&person.identity_code.span(), message);
            } else if !is_test_identity_code(code) {
                self.problem(
                    &person.identity_code.span(),
                    format!(
                        "identity code {code:?} is not a test code (individual number 900-999)"
                    ),
                );
            }
            if registry.persons.contains_key(code) {
                self.problem(
                    &person.identity_code.span(),
                    format!("duplicate person {code:?}"),
                );
            }
            let mut relationships: Vec<Relationship> = Vec::new();
            for rel in person.relationship {
                self.reference(
                    &orgs,
                    &rel.producer,
                    "relationship producer",
                    &[OrgKind::PrivateProvider, OrgKind::PublicOrganiser],
                );
                let payment = *rel.payment.get_ref();
                match (&rel.organiser, payment.organiser_pays()) {
                    (Some(organiser), true) => {
                        self.reference(
                            &orgs,
                            organiser,
                            "relationship organiser",
                            &[OrgKind::PublicOrganiser],
                        );
                    }
                    (None, true) => self.problem(
                        &rel.payment.span(),
                        format!("a {payment} relationship needs an organiser"),
                    ),
                    (Some(organiser), false) => self.problem(
                        &organiser.span(),
                        format!("a {payment} relationship has no organiser"),
                    ),
                    (None, false) => {}
                }
                if payment == PaymentType::OwnClient
                    && orgs
                        .get(rel.producer.get_ref().as_str())
                        .is_some_and(|o| o.kind != OrgKind::PublicOrganiser)
                {
                    self.problem(
                        &rel.producer.span(),
                        format!(
                            "an own-client relationship's producer must be a public organiser; {:?} is not",
                            rel.producer.get_ref()
                        ),
                    );
                }
                if relationships
                    .iter()
                    .any(|r| &r.producer == rel.producer.get_ref())
                {
                    self.problem(
                        &rel.producer.span(),
                        format!(
                            "duplicate relationship of {code:?} with {:?}",
                            rel.producer.get_ref()
                        ),
                    );
                }
                relationships.push(Relationship {
                    producer: rel.producer.into_inner(),
                    payment,
                    organiser: rel.organiser.map(Spanned::into_inner),
                });
            }
            let code = person.identity_code.into_inner();
            registry.persons.entry(code.clone()).or_insert(Person {
                identity_code: code,
                name: person.name,
                relationships,
            });
        }

        for archivist in raw.archivist {
            if let Some(holder) = self.reference(
                &orgs,
                &archivist.register_holder,
                "archivist register_holder",
                &[],
            ) && !holder.may_hold_register()
            {
                self.problem(
                    &archivist.register_holder.span(),
                    format!(
                        "archivist register_holder {:?} cannot hold a register",
                        holder.oid
                    ),
                );
            }
            if archivist.token.get_ref().len() < 8 {
                self.problem(
                    &archivist.token.span(),
                    "archivist token must be at least 8 characters".to_owned(),
                );
            }
            if registry
                .archivists
                .iter()
                .any(|a| &a.token == archivist.token.get_ref())
            {
                self.problem(
                    &archivist.token.span(),
                    "duplicate archivist token".to_owned(),
                );
            }
            registry.archivists.push(Archivist {
                token: archivist.token.into_inner(),
                name: archivist.name,
                register_holder: archivist.register_holder.into_inner(),
            });
        }
        registry
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    fn bundled() -> Registry {
        Registry::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testcases/orgs.toml"
        ))
        .expect("the bundled fixture loads")
    }

    fn problems(text: &str) -> String {
        match Registry::from_toml_str(text, "bad.toml") {
            Ok(_) => panic!("expected problems"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_usage_right_can_end() {
        let mut reg = bundled();
        let (county, provider) = ("2.999.5851.2.2", "2.999.5851.2.1");
        let day = date!(2026 - 12 - 07);
        assert!(
            reg.usage_right(county, provider, day, PaymentType::PurchasedService)
                .is_ok()
        );
        assert_eq!(
            reg.end_usage_right(county, provider, date!(2026 - 12 - 06)),
            Ok(1)
        );
        assert_eq!(
            reg.usage_right(county, provider, day, PaymentType::PurchasedService)
                .unwrap_err()
                .to_string(),
            "none valid on 2026-12-07 (granted 2025-01-01..2026-12-06)"
        );
        // An earlier end stays; a later one changes nothing.
        assert_eq!(
            reg.end_usage_right(county, provider, date!(2027 - 06 - 01)),
            Ok(0)
        );
        assert_eq!(
            reg.end_usage_right("2.999.5851.2.3", provider, day),
            Err(UsageRightProblem::NotGranted)
        );
    }

    #[test]
    fn bundled_fixture_has_the_design_scenario() {
        let reg = bundled();
        let provider = reg.organisation("2.999.5851.2.1").unwrap();
        assert!(provider.licensed && provider.own_register);
        assert_eq!(provider.service_units.len(), 2);
        assert_eq!(
            reg.service_unit_owner("2.999.5851.2.1.2").unwrap().oid,
            "2.999.5851.2.1"
        );
        assert!(!reg.organisation("2.999.5851.2.4").unwrap().own_register);
        assert!(
            !reg.organisation("2.999.5851.2.5")
                .unwrap()
                .may_hold_register()
        );
        assert!(
            !reg.organisation("2.999.5851.2.6")
                .unwrap()
                .may_hold_register()
        );
        assert!(
            reg.organisation("2.999.5851.2.2")
                .unwrap()
                .may_hold_register()
        );
        assert!(reg.may_connect_for("2.999.5851.2.7", "2.999.5851.2.1"));
        assert!(!reg.may_connect_for("2.999.5851.2.7", "2.999.5851.2.2"));
        assert!(!reg.may_connect_for("2.999.5851.2.3", "2.999.5851.2.1"));
        assert_eq!(reg.persons().count(), 10);
        // The register-usage-right test's client: the provider's purchased service from county
        // A, and county A's own client too.
        let bought = reg.relationship("050580-951K", "2.999.5851.2.1").unwrap();
        assert_eq!(
            (bought.payment, bought.organiser.as_deref()),
            (PaymentType::PurchasedService, Some("2.999.5851.2.2"))
        );
        let county = reg.relationship("050580-951K", "2.999.5851.2.2").unwrap();
        assert_eq!(county.payment, PaymentType::OwnClient);
        let own = reg.relationship("150915A931U", "2.999.5851.2.2").unwrap();
        assert_eq!(
            (own.payment, own.organiser.as_deref()),
            (PaymentType::OwnClient, None)
        );
        let r7 = reg.relationship("111111-9116", "2.999.5851.2.1").unwrap();
        assert_eq!(r7.payment, PaymentType::OutsideKanta);
        let rel = reg.relationship("030312A903K", "2.999.5851.2.1").unwrap();
        assert_eq!(rel.payment, PaymentType::ServiceVoucher);
        assert_eq!(rel.organiser.as_deref(), Some("2.999.5851.2.2"));
        assert!(reg.relationship("120960-905N", "2.999.5851.2.1").is_none());
        assert_eq!(
            reg.archivist("arkistonhoitaja-testila-TESTI")
                .unwrap()
                .register_holder,
            "2.999.5851.2.2"
        );
        for org in reg.organisations() {
            assert!(org.name.contains("TESTIAINEISTO"), "{}", org.name);
        }
    }

    #[test]
    fn usage_right_answers() {
        let reg = bundled();
        let (a, p) = ("2.999.5851.2.2", "2.999.5851.2.1");
        assert!(
            reg.usage_right(a, p, date!(2027 - 12 - 31), PaymentType::ServiceVoucher)
                .is_ok()
        );
        let expired = reg
            .usage_right(a, p, date!(2028 - 01 - 01), PaymentType::PurchasedService)
            .unwrap_err();
        assert_eq!(
            expired.to_string(),
            "none valid on 2028-01-01 (granted 2025-01-01..2027-12-31)"
        );
        assert_eq!(
            reg.usage_right(
                "2.999.5851.2.3",
                p,
                date!(2026 - 01 - 01),
                PaymentType::PurchasedService
            )
            .unwrap_err()
            .to_string(),
            "none granted"
        );
        assert_eq!(
            reg.usage_right(a, p, date!(2026 - 01 - 01), PaymentType::SelfPaying)
                .unwrap_err()
                .to_string(),
            "the valid right does not cover self-paying"
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = r#"
[[organisation]]
oid = "2.999.1"
name = "A"
business_id = "9990001-7"
kind = "private-provider"
own_register = true
service_unit = [{ oid = "2.999.1", name = "dup" }]

[[organisation]]
oid = "2.999.01.x"
name = "B"
kind = "kela"
acts_for = ["2.999.1"]

[[usage_right]]
organiser = "2.999.404"
producer = "2.999.1"
from = 2026-01-01
until = 2025-01-01
scope = ["self-paying"]

[[person]]
identity_code = "010190-123M"
name = "Real-looking"

  [[person.relationship]]
  producer = "2.999.1"
  payment = "service-voucher"

[[person]]
identity_code = "010190-901S"
name = "Bad check"

[[archivist]]
token = "short"
name = "Z"
register_holder = "2.999.1"
"#;
        insta::assert_snapshot!(problems(text), @r#"
        bad.toml:5: business id "9990001-7" has check digit 7, expected 6
        bad.toml:7: an unlicensed private provider cannot have an own register (R4)
        bad.toml:8: duplicate oid "2.999.1"
        bad.toml:11: organisation oid "2.999.01.x" is not a dotted-decimal OID
        bad.toml:13: only a vendor acts for others, this is a kela organisation
        bad.toml:17: usage right organiser "2.999.404" is not an organisation of this file
        bad.toml:20: usage right until 2025-01-01 is before from 2026-01-01
        bad.toml:21: usage right scope may hold purchased-service and service-voucher, not self-paying
        bad.toml:24: identity code "010190-123M" is not a test code (individual number 900-999)
        bad.toml:29: a service-voucher relationship needs an organiser
        bad.toml:32: identity code "010190-901S" has check character 'S', expected 'R'
        bad.toml:36: archivist token must be at least 8 characters
        bad.toml:38: archivist register_holder "2.999.1" cannot hold a register
        "#);
    }

    #[test]
    fn more_reference_problems() {
        let text = r#"
[[organisation]]
oid = "2.999.1"
name = "P"
kind = "private-provider"
licensed = true

[[organisation]]
oid = "2.999.2"
name = "V"
kind = "vendor"
acts_for = ["2.999.3"]
own_register = true

[[usage_right]]
organiser = "2.999.1"
producer = "2.999.2"
from = 2026-01-01T10:00:00
until = 2027-01-01
scope = []

[[person]]
identity_code = "010190-901R"
name = "C"

  [[person.relationship]]
  producer = "2.999.1"
  payment = "self-paying"
  organiser = "2.999.1"

  [[person.relationship]]
  producer = "2.999.1"
  payment = "outside-kanta"

[[person]]
identity_code = "010190-901R"
name = "C again"

[[archivist]]
token = "abcdefgh"
name = "A"
register_holder = "2.999.1"

[[archivist]]
token = "abcdefgh"
name = "B"
register_holder = "2.999.9"
"#;
        insta::assert_snapshot!(problems(text), @r#"
        bad.toml:12: acts_for "2.999.3" is not an organisation of this file
        bad.toml:13: a vendor organisation cannot have an own register
        bad.toml:16: usage right organiser "2.999.1" is a private-provider organisation, expected public-organiser
        bad.toml:17: usage right producer "2.999.2" is a vendor organisation, expected private-provider
        bad.toml:18: from must be a plain date like 2025-01-01, found 2026-01-01T10:00:00
        bad.toml:20: usage right scope is empty
        bad.toml:29: a self-paying relationship has no organiser
        bad.toml:32: duplicate relationship of "010190-901R" with "2.999.1"
        bad.toml:36: duplicate person "010190-901R"
        bad.toml:45: duplicate archivist token
        bad.toml:47: archivist register_holder "2.999.9" is not an organisation of this file
        "#);
    }

    #[test]
    fn syntax_and_schema_errors_name_the_line() {
        assert_eq!(
            problems("[[organisation]]\noid = \"2.999.1\"\nname = \"A\"\nkind = \"bank\"\n"),
            "bad.toml:4: unknown variant `bank`, expected one of `private-provider`, \
             `public-organiser`, `kela`, `vendor`, `other`"
        );
        assert_eq!(
            problems("\n\n[[organisation]\n"),
            "bad.toml:3: unclosed array table, expected `]`"
        );
        assert_eq!(
            problems("[[organization]]\n"),
            "bad.toml:1: unknown field `organization`, expected one of `organisation`, \
             `usage_right`, `person`, `archivist`"
        );
    }

    #[test]
    fn missing_file_is_named() {
        let err = Registry::load("/nonexistent/orgs.toml").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read organisation fixture /nonexistent/orgs.toml: "),
            "{err}"
        );
    }

    #[test]
    fn identity_code_messages() {
        assert_eq!(check_identity_code("010190-901R"), Ok(()));
        assert_eq!(check_identity_code("030312A903K"), Ok(()));
        // DVV's example of a 2023 century sign.
        assert_eq!(check_identity_code("010594Y9032"), Ok(()));
        assert_eq!(
            check_identity_code("010594Y9033"),
            Err("identity code \"010594Y9033\" has check character '3', expected '2'".to_owned())
        );
        assert_eq!(
            check_identity_code("010190-901"),
            Err("identity code \"010190-901\" must be 11 characters DDMMYYCNNNQ".to_owned())
        );
        assert_eq!(
            check_identity_code("0101a0-901R"),
            Err("identity code \"0101a0-901R\" must have digits in DDMMYY and NNN".to_owned())
        );
        assert_eq!(
            check_identity_code("010190Q901R"),
            Err("identity code \"010190Q901R\" has an unknown century sign 'Q'".to_owned())
        );
        assert_eq!(
            check_identity_code("300290-901R"),
            Err("identity code \"300290-901R\" has no valid date of birth".to_owned())
        );
        assert_eq!(
            check_identity_code("010190-001R"),
            Err("identity code \"010190-001R\" has individual number 001, below 002".to_owned())
        );
        assert!(is_test_identity_code("010190-901R"));
        assert!(!is_test_identity_code("010190-123M"));
    }

    #[test]
    fn business_id_and_oid_syntax() {
        assert_eq!(check_business_id("9990001-6"), Ok(()));
        assert_eq!(
            check_business_id("999001-6"),
            Err("business id \"999001-6\" must be NNNNNNN-C".to_owned())
        );
        assert_eq!(
            check_business_id("9990018-0"),
            Err("business id \"9990018-0\" has an impossible number".to_owned())
        );
        assert!(is_oid("2.999.5851.2.1") && is_oid("1.2.246.10.0"));
        assert!(!is_oid("2") && !is_oid("3.1") && !is_oid("2..1") && !is_oid("2.01"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// A damaged fixture never panics the loader, and every problem it reports names a
        /// line of the file.
        #[test]
        fn damaged_fixture_reports_lines_inside_the_file(
            at in 0usize..6000,
            cut in 0usize..40,
            insert in prop::sample::select(vec!["", "\"", "]", "[[person]]\n", "= 1\n", "x", "9"]),
        ) {
            let original = include_str!("../../../testcases/orgs.toml");
            let mut text: String = original.to_owned();
            let boundary = |mut i: usize| {
                i = i.min(text.len());
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let start = boundary(at);
            let end = boundary(start + cut);
            text.replace_range(start..end, insert);
            let lines = text.lines().count().max(1);
            if let Err(FixtureError::Invalid { problems }) = Registry::from_toml_str(&text, "f.toml") {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(p.line >= 1 && p.line <= lines + 1, "{} of {}", p, lines);
                    prop_assert!(!p.message.is_empty());
                }
            }
        }
    }

    /// The check character table against an independent computation: every date and
    /// individual number yields exactly one accepted check character.
    fn hetu_parts() -> impl Strategy<Value = (u32, u32, u32, char, u32)> {
        (
            1u32..=28,
            1u32..=12,
            0u32..=99,
            prop::sample::select(vec!['-', 'A', 'Y', 'B', '+']),
            2u32..=999,
        )
    }

    proptest! {
        #[test]
        fn exactly_one_check_character_is_accepted((d, m, y, sign, n) in hetu_parts()) {
            let stem = format!("{d:02}{m:02}{y:02}{sign}{n:03}");
            let accepted: Vec<char> = "0123456789ABCDEFHJKLMNPRSTUVWXY"
                .chars()
                .filter(|q| check_identity_code(&format!("{stem}{q}")).is_ok())
                .collect();
            let number: u64 = format!("{d:02}{m:02}{y:02}{n:03}").parse().unwrap();
            let expected = "0123456789ABCDEFHJKLMNPRSTUVWXY".chars().nth((number % 31) as usize).unwrap();
            prop_assert_eq!(accepted, vec![expected]);
            prop_assert_eq!(is_test_identity_code(&format!("{stem}{expected}")), n >= 900);
        }
    }

    #[test]
    fn payment_type_text_round_trips_and_unknown_is_named() {
        for p in [
            PaymentType::SelfPaying,
            PaymentType::PurchasedService,
            PaymentType::ServiceVoucher,
            PaymentType::OutsideKanta,
        ] {
            assert_eq!(p.to_string().parse::<PaymentType>(), Ok(p));
            let value = toml::Value::try_from(p.as_str()).unwrap();
            assert_eq!(value.try_into::<PaymentType>().unwrap(), p);
        }
        assert_eq!(
            "voucher".parse::<PaymentType>().unwrap_err().to_string(),
            "unknown payment type \"voucher\": self-paying, purchased-service, service-voucher \
             or outside-kanta"
        );
    }
}
