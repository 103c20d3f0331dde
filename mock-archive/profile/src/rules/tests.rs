//! Rule tests: each rule triggered alone against the bundled fixture (one snapshot with every
//! detail text). The property test over the routing matrix drives the archive's whole path from
//! a composed message and lives with the composer (`harness/src/routing_path.rs`).

use std::fmt::Write as _;

use time::macros::datetime;

use super::*;
use crate::ack::AckType;
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
