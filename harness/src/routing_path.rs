//! The routing property test on the archive's real path (DESIGN §2): generated message facts are
//! composed into a message ([`crate::compose`]), read back with `format::read_message`, turned
//! into the rules' input by `Submission::from_message` (the extraction the archive's pipeline
//! uses) and judged by `rules::check`; the verdict is compared with an independent encoding of
//! DESIGN §2's table, written from the table and not from `routing.rs`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use kanta_profile::ack::AckCode;
use kanta_profile::format::{self, Limits, Wrapping};
use kanta_profile::orgs::Registry;
use kanta_profile::rules::{Submission, check};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::compose::{
    DocumentTemplate, MessageValues, Org, PersonValues, UsageSituation, build_cda, example_values,
    wrap_message_for,
};

const P: &str = "2.999.77.1"; // licensed, own register
const Q: &str = "2.999.77.2"; // licensed, no own register
const X: &str = "2.999.77.3"; // county X, the paying organiser
const Y: &str = "2.999.77.4"; // county Y
const K_KELA: &str = "2.999.77.5";
const U: &str = "2.999.77.6"; // unlicensed
const CLIENT: &str = "010190-901R";

/// Who produces (and sends) the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Producer {
    /// A licensed private provider with a register of its own.
    P,
    /// A licensed private provider without one.
    Q,
    /// County X itself, serving its own clients.
    X,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    None,
    SelfPaying,
    Purchased,
    Voucher,
    Outside,
    OwnClient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Right {
    Valid,
    Expired,
    FromOtherOrganiser,
    Absent,
    PurchasedOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Absent,
    Custodian,
    Producer,
    X,
    Y,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    producer: Producer,
    rel: Rel,
    /// The custodian; `None` is the producer itself.
    custodian: Option<&'static str>,
    field: Field,
    right: Right,
    situation_right: bool,
    /// The author is a named professional (else `assignedAuthor/id nullFlavor`).
    professional: bool,
    /// The author names an organisation (the service unit); else none.
    author_organisation: bool,
}

impl Case {
    fn producer(&self) -> &'static str {
        match self.producer {
            Producer::P => P,
            Producer::Q => Q,
            Producer::X => X,
        }
    }
    fn k(&self) -> &'static str {
        self.custodian.unwrap_or(self.producer())
    }
    fn o(&self) -> Option<&'static str> {
        match self.field {
            Field::Absent => None,
            Field::Custodian => Some(self.k()),
            Field::Producer => Some(self.producer()),
            Field::X => Some(X),
            Field::Y => Some(Y),
        }
    }
    fn own_register(&self) -> bool {
        self.producer != Producer::Q
    }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    let provider = (
        prop_oneof![Just(Producer::P), Just(Producer::Q)],
        prop_oneof![
            Just(Rel::None),
            Just(Rel::SelfPaying),
            Just(Rel::Purchased),
            Just(Rel::Voucher),
            Just(Rel::Outside)
        ],
    );
    // The county serves its own clients; a fixture relationship of the county's with itself is
    // only ever own-client (or none, or outside Kanta).
    let county = (
        Just(Producer::X),
        prop_oneof![Just(Rel::None), Just(Rel::OwnClient), Just(Rel::Outside)],
    );
    (
        prop_oneof![provider, county],
        prop_oneof![
            Just(None),
            Just(Some(X)),
            Just(Some(Y)),
            Just(Some(K_KELA)),
            Just(Some(U))
        ],
        prop_oneof![
            Just(Field::Absent),
            Just(Field::Custodian),
            Just(Field::Producer),
            Just(Field::X),
            Just(Field::Y)
        ],
        prop_oneof![
            Just(Right::Valid),
            Just(Right::Expired),
            Just(Right::FromOtherOrganiser),
            Just(Right::Absent),
            Just(Right::PurchasedOnly)
        ],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                (producer, rel),
                custodian,
                field,
                right,
                situation_right,
                professional,
                author_organisation,
            )| Case {
                producer,
                rel,
                custodian,
                field,
                right,
                situation_right,
                professional,
                author_organisation,
            },
        )
}

fn registry(case: &Case) -> Registry {
    let producer = case.producer();
    let mut toml = format!(
        r#"
[[organisation]]
oid = "{P}"
name = "P"
kind = "private-provider"
licensed = true
own_register = true
service_unit = [{{ oid = "{P}.1", name = "P unit" }}]

[[organisation]]
oid = "{Q}"
name = "Q"
kind = "private-provider"
licensed = true
own_register = false
service_unit = [{{ oid = "{Q}.1", name = "Q unit" }}]

[[organisation]]
oid = "{X}"
name = "X"
kind = "public-organiser"
service_unit = [{{ oid = "{X}.1", name = "X unit" }}]

[[organisation]]
oid = "{Y}"
name = "Y"
kind = "public-organiser"

[[organisation]]
oid = "{K_KELA}"
name = "Kela"
kind = "kela"

[[organisation]]
oid = "{U}"
name = "U"
kind = "private-provider"
licensed = false
"#
    );
    let both = r#""purchased-service", "service-voucher""#;
    let right = match case.right {
        Right::Valid => Some((X, "2025-01-01", "2027-12-31", both)),
        Right::Expired => Some((X, "2023-01-01", "2025-12-31", both)),
        Right::FromOtherOrganiser => Some((Y, "2025-01-01", "2027-12-31", both)),
        Right::PurchasedOnly => Some((X, "2025-01-01", "2027-12-31", r#""purchased-service""#)),
        Right::Absent => None,
    };
    // A usage right is a private provider's; the county has none to hold.
    if let Some((organiser, from, until, scope)) = right
        && case.producer != Producer::X
    {
        write!(
            toml,
            "\n[[usage_right]]\norganiser = \"{organiser}\"\nproducer = \"{producer}\"\n\
             from = {from}\nuntil = {until}\nscope = [{scope}]\n"
        )
        .unwrap();
    }
    write!(
        toml,
        "\n[[person]]\nidentity_code = \"{CLIENT}\"\nname = \"C\"\n"
    )
    .unwrap();
    let rel = match case.rel {
        Rel::None => None,
        Rel::SelfPaying => Some(("self-paying", None)),
        Rel::Purchased => Some(("purchased-service", Some(X))),
        Rel::Voucher => Some(("service-voucher", Some(X))),
        Rel::Outside => Some(("outside-kanta", None)),
        Rel::OwnClient => Some(("own-client", None)),
    };
    if let Some((payment, organiser)) = rel {
        write!(
            toml,
            "[[person.relationship]]\nproducer = \"{producer}\"\npayment = \"{payment}\"\n"
        )
        .unwrap();
        if let Some(organiser) = organiser {
            writeln!(toml, "organiser = \"{organiser}\"").unwrap();
        }
    }
    Registry::from_toml_str(&toml, "matrix.toml").expect("matrix fixture loads")
}

fn org(oid: &str) -> Org {
    Org {
        oid: oid.to_owned(),
        name: format!("Organisation {oid}"),
    }
}

/// The message the case describes, composed, read back and extracted the archive's way.
fn submission(case: &Case) -> Submission {
    let producer = case.producer();
    let own_use = case.k() == producer;
    let mut v: MessageValues = example_values();
    v.sender = producer.to_owned();
    v.service_unit = Org {
        oid: format!("{producer}.1"),
        name: "Unit".to_owned(),
    };
    v.client = PersonValues {
        identity_code: CLIENT.to_owned(),
        given: "Testi".to_owned(),
        family: "Asiakas".to_owned(),
    };
    if !case.professional {
        v.professional = None;
    }
    v.custodian = org(case.k());
    v.organiser = case.o().map(org);
    v.usage_situation = if own_use == case.situation_right {
        UsageSituation::Own
    } else {
        UsageSituation::RegisterUsageRight
    };
    let template = DocumentTemplate::client_relationship();
    let mut cda = build_cda(&template, &v);
    if !case.author_organisation {
        cda = without_author_organisation(&cda);
    }
    let bytes = wrap_message_for(
        &v,
        &template.service_request,
        Wrapping::Soap11,
        cda.as_bytes(),
    );
    let (message, problems) = format::read_message(bytes.as_bytes(), &Limits::default());
    let message = message.expect("the composed message reads");
    assert_eq!(problems, vec![], "reading {case:?}");
    assert_eq!(format::check_consistency(&message), vec![], "{case:?}");
    Submission::from_message(&message, Some(producer.to_owned())).expect("all facts present")
}

/// The CDA with the author's `representedOrganization` removed: an author that names no
/// organisation.
fn without_author_organisation(cda: &str) -> String {
    let author = cda.find("<assignedAuthor>").expect("an author");
    let start = author + cda[author..].find("<representedOrganization>").unwrap();
    let end_tag = "</representedOrganization></assignedAuthor>";
    let end = start + cda[start..].find(end_tag).unwrap() + "</representedOrganization>".len();
    format!("{}{}", &cda[..start], &cda[end..])
}

/// DESIGN §2 as a table: each row is a condition over the case and the code it adds.
type Row = (&'static str, fn(&Case) -> bool, AckCode);

fn pays(c: &Case) -> bool {
    matches!(c.rel, Rel::Purchased | Rel::Voucher)
}

fn right_covers(c: &Case) -> bool {
    match c.right {
        Right::Valid => true,
        Right::PurchasedOnly => c.rel == Rel::Purchased,
        Right::Expired | Right::FromOtherOrganiser | Right::Absent => false,
    }
}

const TABLE: &[Row] = &[
    (
        "self-paying, K = P, P has no own register: R3",
        |c| c.rel == Rel::SelfPaying && c.k() == c.producer() && !c.own_register(),
        AckCode::NoOwnRegister,
    ),
    (
        "self-paying or organiser's own client, K = P, O absent: warning",
        |c| {
            matches!(c.rel, Rel::SelfPaying | Rel::OwnClient)
                && c.k() == c.producer()
                && c.field == Field::Absent
        },
        AckCode::OrganiserMissing,
    ),
    (
        "self-paying, K not P: R1",
        |c| c.rel == Rel::SelfPaying && c.k() != c.producer(),
        AckCode::SelfPayingNotProvider,
    ),
    (
        "purchased/voucher of X, K = X, no valid covering right: R2",
        |c| pays(c) && c.k() == X && !right_covers(c),
        AckCode::NoUsageRight,
    ),
    (
        "purchased/voucher of X (or X's own client), K not X: R2",
        |c| (pays(c) || c.rel == Rel::OwnClient) && c.k() != X,
        AckCode::OrganiserRegisterRequired,
    ),
    (
        "O present and not K, or absent for purchased/voucher",
        |c| match c.o() {
            Some(o) => o != c.k(),
            None => pays(c),
        },
        AckCode::OrganiserMismatch,
    ),
    (
        "no relationship",
        |c| c.rel == Rel::None,
        AckCode::NoServiceRelationship,
    ),
    (
        "outside Kanta: R7",
        |c| c.rel == Rel::Outside,
        AckCode::OutsideKanta,
    ),
    ("K is Kela: R5", |c| c.k() == K_KELA, AckCode::KelaCustodian),
    (
        "K is unlicensed: R4",
        |c| c.k() == U,
        AckCode::CustodianNotLicensed,
    ),
    (
        "usage situation disagrees",
        |c| !c.situation_right,
        AckCode::UsageSituationMismatch,
    ),
];

fn verdict(case: &Case) -> BTreeSet<AckCode> {
    check(&registry(case), &submission(case))
        .iter()
        .map(|v| v.code)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn routing_from_composed_messages_follows_the_design_table(case in case_strategy()) {
        let got = verdict(&case);
        let want: BTreeSet<AckCode> = TABLE.iter().filter(|(_, applies, _)| applies(&case)).map(|(_, _, code)| *code).collect();
        let rows: Vec<&str> = TABLE.iter().filter(|(_, applies, _)| applies(&case)).map(|(name, _, _)| *name).collect();
        prop_assert_eq!(&got, &want, "rows {:?} for {:?}", rows, case);
    }
}

/// Every table row is reached by the generator (else the property would be vacuous for it), and
/// the accepting rows exist: a purchased service into X's register, the organiser's own client
/// (the public 2026 sample's case), each with an author that names no organisation.
#[test]
fn every_routing_row_is_reachable_and_the_accepting_rows_accept() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = case_strategy();
    let mut hit = vec![false; TABLE.len()];
    for _ in 0..5000 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        for (i, (_, applies, _)) in TABLE.iter().enumerate() {
            hit[i] |= applies(&case);
        }
    }
    let missed: Vec<&str> = TABLE
        .iter()
        .zip(&hit)
        .filter(|(_, hit)| !**hit)
        .map(|((name, _, _), _)| *name)
        .collect();
    assert!(missed.is_empty(), "unreachable rows: {missed:?}");
    let purchased = Case {
        producer: Producer::P,
        rel: Rel::Purchased,
        custodian: Some(X),
        field: Field::Custodian,
        right: Right::Valid,
        situation_right: true,
        professional: false,
        author_organisation: false,
    };
    let own_client = Case {
        producer: Producer::X,
        rel: Rel::OwnClient,
        custodian: None,
        field: Field::Custodian,
        ..purchased
    };
    for case in [purchased, own_client] {
        assert_eq!(verdict(&case), BTreeSet::new(), "{case:?}");
    }
}
