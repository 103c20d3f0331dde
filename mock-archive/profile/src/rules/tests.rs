//! Rule tests: each rule triggered alone against the bundled fixture (one snapshot with every
//! detail text), and a property test over the routing matrix against an independent,
//! table-driven encoding of DESIGN §2.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use time::macros::datetime;

use super::*;
use crate::ack::{AckCode, AckType};
use crate::orgs::Registry;

const PROVIDER: &str = "2.999.5851.2.1";
const UNIT: &str = "2.999.5851.2.1.1";
const COUNTY_A: &str = "2.999.5851.2.2";
const COUNTY_B: &str = "2.999.5851.2.3";
const SMALL: &str = "2.999.5851.2.4";
const UNLICENSED: &str = "2.999.5851.2.5";
const KELA: &str = "2.999.5851.2.6";
const VENDOR: &str = "2.999.5851.2.7";

fn bundled() -> Registry {
    Registry::from_toml_str(
        include_str!("../../../../testcases/orgs.toml"),
        "testcases/orgs.toml",
    )
    .expect("the bundled fixture loads")
}

/// A valid store of a self-paying client's document into the provider's own register.
fn base() -> Submission {
    Submission {
        interaction: Interaction::Store,
        register: Coded::new("1", repository::SOCIAL_REGISTER_SYSTEM),
        tls_organisation: Some(PROVIDER.to_owned()),
        sender: PROVIDER.to_owned(),
        service_unit: UNIT.to_owned(),
        producer: PROVIDER.to_owned(),
        custodian: PROVIDER.to_owned(),
        organiser: Some(PROVIDER.to_owned()),
        usage_situation: UsageSituation::OwnUse,
        client: "010190-901R".to_owned(),
        effective_time: datetime!(2026-07-18 12:00 +03:00),
        document_id: "2.999.5851.7.1".to_owned(),
        set_id: "2.999.5851.7.1".to_owned(),
        version: 1,
        replaces: None,
    }
}

/// `base()` for a client of county A's (purchased service or voucher) into A's register.
fn for_county_a(client: &str) -> Submission {
    Submission {
        client: client.to_owned(),
        custodian: COUNTY_A.to_owned(),
        organiser: Some(COUNTY_A.to_owned()),
        usage_situation: UsageSituation::UsageRight,
        ..base()
    }
}

fn cases() -> Vec<(&'static str, Submission)> {
    let replace = |s: Submission| Submission {
        interaction: Interaction::Replace,
        document_id: "2.999.5851.7.2".to_owned(),
        version: 2,
        ..s
    };
    vec![
        ("accepted: self-paying into own register (R1)", base()),
        (
            "accepted: purchased service of A under the usage right (R2)",
            for_county_a("150575-9025"),
        ),
        (
            "accepted: service voucher of A under the usage right (R2)",
            for_county_a("030312A903K"),
        ),
        (
            "accepted: the vendor's TLS certificate for the provider",
            Submission {
                tls_organisation: Some(VENDOR.to_owned()),
                ..base()
            },
        ),
        (
            "accepted: a correction of a self-paying client's document",
            Submission {
                replaces: Some(Replaces {
                    document_id: "2.999.5851.7.1".to_owned(),
                    reason: ReplaceReason::Correction,
                }),
                ..replace(base())
            },
        ),
        (
            "accepted: county A's own client into its own register (own use)",
            Submission {
                tls_organisation: Some(COUNTY_A.to_owned()),
                sender: COUNTY_A.to_owned(),
                producer: COUNTY_A.to_owned(),
                service_unit: "2.999.5851.2.2.1".to_owned(),
                usage_situation: UsageSituation::OwnUse,
                ..for_county_a("150915A931U")
            },
        ),
        (
            "R2: county A's own client into the provider's register",
            Submission {
                tls_organisation: Some(COUNTY_A.to_owned()),
                sender: COUNTY_A.to_owned(),
                producer: COUNTY_A.to_owned(),
                service_unit: "2.999.5851.2.2.1".to_owned(),
                client: "150915A931U".to_owned(),
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "warning: organiser missing for a self-paying client",
            Submission {
                organiser: None,
                ..base()
            },
        ),
        (
            "R2: purchased-service document into the provider's own register",
            Submission {
                client: "150575-9025".to_owned(),
                ..base()
            },
        ),
        (
            "R1: self-paying document into the county's register",
            Submission {
                client: "010190-901R".to_owned(),
                ..for_county_a("010190-901R")
            },
        ),
        (
            "R3: the small provider into an own register it does not have",
            Submission {
                client: "070707A9077".to_owned(),
                sender: SMALL.to_owned(),
                tls_organisation: Some(SMALL.to_owned()),
                producer: SMALL.to_owned(),
                service_unit: "2.999.5851.2.4.1".to_owned(),
                custodian: SMALL.to_owned(),
                organiser: Some(SMALL.to_owned()),
                ..base()
            },
        ),
        (
            "R5: Kela as custodian",
            Submission {
                custodian: KELA.to_owned(),
                organiser: Some(KELA.to_owned()),
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "R4: an unlicensed organisation as custodian",
            Submission {
                custodian: UNLICENSED.to_owned(),
                organiser: Some(UNLICENSED.to_owned()),
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "unknown custodian",
            Submission {
                custodian: "2.999.5851.2.99".to_owned(),
                organiser: Some("2.999.5851.2.99".to_owned()),
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "organiser field differs from custodian",
            Submission {
                organiser: Some(COUNTY_A.to_owned()),
                ..base()
            },
        ),
        (
            "organiser field missing for a purchased service",
            Submission {
                organiser: None,
                ..for_county_a("150575-9025")
            },
        ),
        (
            "R2: a client of county B, which granted no usage right",
            Submission {
                client: "241180-9045".to_owned(),
                custodian: COUNTY_B.to_owned(),
                organiser: Some(COUNTY_B.to_owned()),
                ..for_county_a("241180-9045")
            },
        ),
        (
            "R2: a document dated after the usage right expired",
            Submission {
                effective_time: datetime!(2028-03-01 09:00 +02:00),
                ..for_county_a("150575-9025")
            },
        ),
        (
            "no service relationship",
            Submission {
                client: "120960-905N".to_owned(),
                ..base()
            },
        ),
        (
            "usage situation: register usage right for own register",
            Submission {
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "usage situation: own use for the county's register",
            Submission {
                usage_situation: UsageSituation::OwnUse,
                ..for_county_a("150575-9025")
            },
        ),
        (
            "usage situation: unknown code",
            Submission {
                usage_situation: UsageSituation::Other("9".to_owned()),
                ..base()
            },
        ),
        (
            "usage situation: missing",
            Submission {
                usage_situation: UsageSituation::Absent,
                ..base()
            },
        ),
        (
            "R6: a patient data repository interaction",
            Submission {
                interaction: Interaction::PatientArchive("RCMR_IN100002FI01".to_owned()),
                ..base()
            },
        ),
        (
            "R6: a health care register code",
            Submission {
                register: Coded::new("2", repository::HEALTH_REGISTER_SYSTEM),
                ..base()
            },
        ),
        (
            "unknown register code",
            Submission {
                register: Coded::new("7", repository::SOCIAL_REGISTER_SYSTEM),
                ..base()
            },
        ),
        (
            "identity code: not a test code",
            Submission {
                client: "010190-123M".to_owned(),
                ..base()
            },
        ),
        (
            "identity code: wrong check character",
            Submission {
                client: "010190-901S".to_owned(),
                ..base()
            },
        ),
        (
            "TLS certificate of an organisation that neither sends nor is its vendor",
            Submission {
                tls_organisation: Some(COUNTY_B.to_owned()),
                ..base()
            },
        ),
        (
            "TLS certificate without an organisation",
            Submission {
                tls_organisation: None,
                ..base()
            },
        ),
        (
            "unknown sender",
            Submission {
                sender: "2.999.5851.2.98".to_owned(),
                tls_organisation: Some("2.999.5851.2.98".to_owned()),
                usage_situation: UsageSituation::UsageRight,
                ..base()
            },
        ),
        (
            "unknown service unit",
            Submission {
                service_unit: "2.999.5851.2.1.9".to_owned(),
                ..base()
            },
        ),
        (
            "service unit of another organisation",
            Submission {
                service_unit: "2.999.5851.2.2.1".to_owned(),
                ..base()
            },
        ),
        (
            "versions: a new document naming a replaced one",
            Submission {
                replaces: Some(Replaces {
                    document_id: "2.999.5851.7.0".to_owned(),
                    reason: ReplaceReason::Correction,
                }),
                ..base()
            },
        ),
        (
            "versions: a new document with version 2 and a foreign setId",
            Submission {
                version: 2,
                set_id: "2.999.5851.7.0".to_owned(),
                ..base()
            },
        ),
        ("versions: a replacement without RPLC", replace(base())),
        (
            "versions: a replacement with an unknown reason naming itself",
            Submission {
                replaces: Some(Replaces {
                    document_id: "2.999.5851.7.2".to_owned(),
                    reason: ReplaceReason::Other("7".to_owned()),
                }),
                ..replace(base())
            },
        ),
    ]
}

#[test]
fn each_rule_alone() {
    let registry = bundled();
    let mut report = String::new();
    for (name, submission) in cases() {
        let violations = check(&registry, &submission);
        let verdict = AckType::for_codes(violations.iter().map(|v| v.code));
        writeln!(report, "## {name}\n{verdict}").unwrap();
        for v in &violations {
            writeln!(
                report,
                "- {} {}: {}\n  at {}",
                v.code,
                v.code.english(),
                v.detail,
                v.location.as_deref().unwrap_or("-")
            )
            .unwrap();
        }
        report.push('\n');
    }
    insta::assert_snapshot!(report);
}

#[test]
fn accepted_cases_have_no_errors_and_refused_ones_have() {
    let registry = bundled();
    for (name, submission) in cases() {
        let verdict = AckType::for_codes(check(&registry, &submission).iter().map(|v| v.code));
        let expect_accept = name.starts_with("accepted") || name.starts_with("warning");
        assert_eq!(verdict == AckType::Aa, expect_accept, "{name}");
    }
}

// --- The routing matrix --------------------------------------------------------------------

const P: &str = "2.999.77.1"; // licensed, own register
const Q: &str = "2.999.77.2"; // licensed, no own register
const X: &str = "2.999.77.3"; // county X, the paying organiser
const Y: &str = "2.999.77.4"; // county Y
const K_KELA: &str = "2.999.77.5";
const U: &str = "2.999.77.6"; // unlicensed
const CLIENT: &str = "010190-901R";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    None,
    SelfPaying,
    Purchased,
    Voucher,
    Outside,
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
    own_register: bool,
    rel: Rel,
    custodian: &'static str, // "producer" resolved below
    custodian_is_producer: bool,
    field: Field,
    right: Right,
    situation_right: bool,
}

impl Case {
    fn producer(&self) -> &'static str {
        if self.own_register { P } else { Q }
    }
    fn k(&self) -> &'static str {
        if self.custodian_is_producer {
            self.producer()
        } else {
            self.custodian
        }
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
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        prop_oneof![
            Just(Rel::None),
            Just(Rel::SelfPaying),
            Just(Rel::Purchased),
            Just(Rel::Voucher),
            Just(Rel::Outside)
        ],
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
    )
        .prop_map(
            |(own_register, rel, custodian, field, right, situation_right)| Case {
                own_register,
                rel,
                custodian: custodian.unwrap_or(""),
                custodian_is_producer: custodian.is_none(),
                field,
                right,
                situation_right,
            },
        )
}

fn matrix_registry(case: &Case) -> Registry {
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
    let right = match case.right {
        Right::Valid => Some((
            X,
            "2025-01-01",
            "2027-12-31",
            r#""purchased-service", "service-voucher""#,
        )),
        Right::Expired => Some((
            X,
            "2023-01-01",
            "2025-12-31",
            r#""purchased-service", "service-voucher""#,
        )),
        Right::FromOtherOrganiser => Some((
            Y,
            "2025-01-01",
            "2027-12-31",
            r#""purchased-service", "service-voucher""#,
        )),
        Right::PurchasedOnly => Some((X, "2025-01-01", "2027-12-31", r#""purchased-service""#)),
        Right::Absent => None,
    };
    if let Some((organiser, from, until, scope)) = right {
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

fn matrix_submission(case: &Case) -> Submission {
    let producer = case.producer();
    let own_use = case.k() == producer;
    let situation = if own_use == case.situation_right {
        UsageSituation::OwnUse
    } else {
        UsageSituation::UsageRight
    };
    Submission {
        tls_organisation: Some(producer.to_owned()),
        sender: producer.to_owned(),
        service_unit: format!("{producer}.1"),
        producer: producer.to_owned(),
        custodian: case.k().to_owned(),
        organiser: case.o().map(str::to_owned),
        usage_situation: situation,
        client: CLIENT.to_owned(),
        ..base()
    }
}

/// DESIGN §2 as a table: each row is a condition over the case and the code it adds. Written
/// from the table, not from `routing.rs`.
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
        |c| c.rel == Rel::SelfPaying && c.k() == c.producer() && !c.own_register,
        AckCode::NoOwnRegister,
    ),
    (
        "self-paying, K = P, O absent: warning",
        |c| c.rel == Rel::SelfPaying && c.k() == c.producer() && c.field == Field::Absent,
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
        "purchased/voucher of X, K not X: R2",
        |c| pays(c) && c.k() != X,
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn routing_matrix_follows_the_design_table(case in case_strategy()) {
        let registry = matrix_registry(&case);
        let submission = matrix_submission(&case);
        let got: BTreeSet<AckCode> = check(&registry, &submission).iter().map(|v| v.code).collect();
        let want: BTreeSet<AckCode> = TABLE.iter().filter(|(_, applies, _)| applies(&case)).map(|(_, _, code)| *code).collect();
        let rows: Vec<&str> = TABLE.iter().filter(|(_, applies, _)| applies(&case)).map(|(name, _, _)| *name).collect();
        prop_assert_eq!(&got, &want, "rows {:?} for {:?}", rows, case);
    }
}

/// The matrix also reaches every row: a table row no generated case can trigger would make the
/// property vacuous for it.
#[test]
fn every_table_row_is_reachable() {
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
    // And an all-clear case exists: accept for self-paying and for purchased service.
    let accept = Case {
        own_register: true,
        rel: Rel::Purchased,
        custodian: X,
        custodian_is_producer: false,
        field: Field::Custodian,
        right: Right::Valid,
        situation_right: true,
    };
    assert!(check(&matrix_registry(&accept), &matrix_submission(&accept)).is_empty());
}

proptest::proptest! {
    /// A replacement reason's text form reads back as the same reason (the store, the
    /// inspection contract and case files all use it).
    #[test]
    fn replace_reason_text_round_trips(reason in super::replace_reason_strategy()) {
        let text = reason.to_string();
        proptest::prop_assert_eq!(text.parse::<ReplaceReason>(), Ok(reason.clone()));
        let value = toml::Value::try_from(&reason).expect("a reason serializes");
        proptest::prop_assert_eq!(&value, &toml::Value::String(text));
        proptest::prop_assert_eq!(value.try_into::<ReplaceReason>().ok(), Some(reason));
    }
}

#[test]
fn an_unknown_replace_reason_is_refused_by_name() {
    assert_eq!(
        "fix".parse::<ReplaceReason>().unwrap_err().to_string(),
        r#"unknown replacement reason "fix": correction, invalidation or other:<code>"#
    );
}
