//! Who may read what (issue 16): the access rule of a query, as one plain function.
//!
//! - The register holder's own systems (and a vendor acting for it) read its own register.
//! - A producer reads an organiser's register **only** for a client whose service relationship
//!   with that producer is a purchased service or voucher organised by that organiser, and only
//!   under a register usage right from the organiser valid on the query day and covering that
//!   payment type (R2). Never other clients of the organiser.
//! - Kela reads nothing (R5); anyone else reads nothing (R8).
//!
//! Every refusal is an [`AckDetail`] whose code names the rule; when more than one R2 condition
//! fails, each is listed.

use time::Date;

use crate::ack::{AckCode, AckDetail};
use crate::orgs::{OrgKind, Registry, UsageRightProblem};

/// On what grounds a query may read the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The asker is the register holder.
    OwnRegister,
    /// The asker is a producer reading its own client's documents under a usage right.
    UsageRight,
}

/// A query's parties, as the archive saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    /// The TLS client certificate's organisation, when known.
    pub tls_peer: Option<&'a str>,
    /// The asking organisation (`sender/device/id@root`).
    pub asker: &'a str,
    /// The register holder whose register is read.
    pub register_holder: &'a str,
    /// The client's identity code.
    pub client: &'a str,
    /// The day of the query.
    pub day: Date,
}

fn refusal(code: AckCode, detail: String) -> AckDetail {
    AckDetail {
        code,
        location: None,
        detail,
    }
}

/// Decides whether `reader` may read the client's documents in the register. `Err` lists every
/// reason it may not.
pub fn may_read(registry: &Registry, reader: &Reader<'_>) -> Result<Access, Vec<AckDetail>> {
    let Reader {
        tls_peer,
        asker,
        register_holder: holder,
        client,
        day,
    } = *reader;
    let Some(asking) = registry.organisation(asker) else {
        return Err(vec![refusal(
            AckCode::SenderUnknown,
            format!("sender {asker} is not in the organisation register"),
        )]);
    };
    if let Some(peer) = tls_peer
        && !registry.may_connect_for(peer, asker)
    {
        return Err(vec![refusal(
            AckCode::TlsNotSender,
            format!("TLS certificate organisation {peer} may not send for {asker}"),
        )]);
    }
    if asking.kind == OrgKind::Kela {
        return Err(vec![refusal(
            AckCode::QueryByKela,
            format!("{asker} is Kela; the register of {holder} is not Kela's to read"),
        )]);
    }
    if asker == holder {
        return Ok(Access::OwnRegister);
    }
    let granted = registry
        .usage_rights()
        .iter()
        .any(|r| r.organiser == holder && r.producer == asker);
    if !granted {
        return Err(vec![refusal(
            AckCode::QueryOtherRegister,
            format!("{asker} is not {holder} and holds no register usage right from it"),
        )]);
    }
    let relationship = registry
        .relationship(client, asker)
        .filter(|r| r.payment.organiser_pays() && r.organiser.as_deref() == Some(holder));
    let mut out = Vec::new();
    if relationship.is_none() {
        let what = match registry.relationship(client, asker) {
            None => format!("client {client} has no service relationship with {asker}"),
            Some(r) => match &r.organiser {
                Some(o) if r.payment.organiser_pays() => {
                    format!(
                        "client {client} is served by {asker} as {} of {o}, not of {holder}",
                        r.payment
                    )
                }
                _ => format!(
                    "client {client} is served by {asker} as {}, not for {holder}",
                    r.payment
                ),
            },
        };
        out.push(refusal(AckCode::QueryNotProducersClient, what));
    }
    // With no relationship, the right's validity is still judged (for its dates); its scope
    // only against the client's payment type.
    let problem = match relationship {
        Some(r) => registry.usage_right(holder, asker, day, r.payment).err(),
        None => {
            let valid = registry.usage_rights().iter().any(|r| {
                r.organiser == holder && r.producer == asker && r.from <= day && day <= r.until
            });
            (!valid).then(|| UsageRightProblem::NotValidOn {
                day,
                periods: registry
                    .usage_rights()
                    .iter()
                    .filter(|r| r.organiser == holder && r.producer == asker)
                    .map(|r| (r.from, r.until))
                    .collect(),
            })
        }
    };
    if let Some(problem) = problem {
        out.push(refusal(
            AckCode::NoUsageRight,
            format!("register usage right from {holder} to {asker}: {problem}"),
        ));
    }
    if out.is_empty() {
        Ok(Access::UsageRight)
    } else {
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    //! The property test drives [`may_read`] over holder × asker × usage right × client
    //! relationship and compares with the table written out by hand in [`expected`], which
    //! knows nothing of the registry.

    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    /// County A (the register read, unless the holder is B), county B, the producer P, its
    /// vendor V, Kela K and a stranger provider S.
    const A: &str = "2.999.1.1";
    const B: &str = "2.999.1.2";
    const P: &str = "2.999.1.3";
    const V: &str = "2.999.1.4";
    const K: &str = "2.999.1.5";
    const S: &str = "2.999.1.6";
    const CLIENT: &str = "150575-9025";
    const DAY: Date = date!(2026 - 06 - 15);

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Holder {
        A,
        B,
    }

    impl Holder {
        /// The register read and the other county.
        fn oids(self) -> (&'static str, &'static str) {
            match self {
                Holder::A => (A, B),
                Holder::B => (B, A),
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Asker {
        /// The holder itself.
        Holder,
        /// P asks through its vendor V's certificate.
        ProducerViaVendor,
        Producer,
        Kela,
        Stranger,
        /// The vendor asking for itself.
        VendorForItself,
    }

    /// The usage right the fixture holds for P.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Right {
        None,
        Valid,
        Expired,
        NotYetValid,
        /// Valid, but from the other county.
        OtherOrganiser,
        /// Valid, from the holder, for service vouchers only.
        OtherScope,
    }

    /// The client's relationship with P.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Relation {
        None,
        SelfPaying,
        PurchasedFromHolder,
        VoucherFromHolder,
        PurchasedFromOther,
    }

    /// The table of issue 16, by hand: the codes the archive must answer with, empty for
    /// allowed.
    fn expected(asker: Asker, right: Right, relation: Relation) -> Vec<&'static str> {
        match asker {
            Asker::Holder => vec![],
            Asker::Kela => vec!["R5-KELA-QUERY"],
            Asker::Stranger | Asker::VendorForItself => vec!["R8-OTHER-REGISTER"],
            Asker::Producer | Asker::ProducerViaVendor => {
                if matches!(right, Right::None | Right::OtherOrganiser) {
                    return vec!["R8-OTHER-REGISTER"];
                }
                let organised_by_holder = matches!(
                    relation,
                    Relation::PurchasedFromHolder | Relation::VoucherFromHolder
                );
                let mut codes = vec![];
                if !organised_by_holder {
                    codes.push("R2-NOT-PRODUCERS-CLIENT");
                }
                let right_ok = match right {
                    Right::Valid => true,
                    Right::Expired | Right::NotYetValid => false,
                    Right::OtherScope => {
                        !organised_by_holder || relation == Relation::VoucherFromHolder
                    }
                    Right::None | Right::OtherOrganiser => unreachable!("returned above"),
                };
                if !right_ok {
                    codes.push("R2-NO-USAGE-RIGHT");
                }
                codes
            }
        }
    }

    fn fixture(holder: Holder, right: Right, relation: Relation) -> Registry {
        let (h, other) = holder.oids();
        let org = |oid: &str, kind: &str, extra: &str| {
            format!(
                "[[organisation]]\noid = \"{oid}\"\nname = \"O {oid}\"\nkind = \"{kind}\"\n{extra}\n"
            )
        };
        let mut text = String::new();
        text += &org(A, "public-organiser", "");
        text += &org(B, "public-organiser", "");
        text += &org(
            P,
            "private-provider",
            "licensed = true\nown_register = true",
        );
        text += &org(V, "vendor", &format!("acts_for = [\"{P}\"]"));
        text += &org(K, "kela", "");
        text += &org(
            S,
            "private-provider",
            "licensed = true\nown_register = true",
        );
        let both = "\"purchased-service\", \"service-voucher\"";
        let granted = match right {
            Right::None => None,
            Right::Valid => Some((h, "2025-01-01", "2027-12-31", both)),
            Right::Expired => Some((h, "2025-01-01", "2026-06-14", both)),
            Right::NotYetValid => Some((h, "2026-06-16", "2027-12-31", both)),
            Right::OtherOrganiser => Some((other, "2025-01-01", "2027-12-31", both)),
            Right::OtherScope => Some((h, "2025-01-01", "2027-12-31", "\"service-voucher\"")),
        };
        if let Some((organiser, from, until, scope)) = granted {
            text += &format!(
                "[[usage_right]]\norganiser = \"{organiser}\"\nproducer = \"{P}\"\nfrom = {from}\nuntil = {until}\nscope = [{scope}]\n"
            );
        }
        text += &format!("[[person]]\nidentity_code = \"{CLIENT}\"\nname = \"T\"\n");
        let rel = |payment: &str, organiser: Option<&str>| {
            format!(
                "[[person.relationship]]\nproducer = \"{P}\"\npayment = \"{payment}\"\n{}",
                organiser.map_or(String::new(), |o| format!("organiser = \"{o}\"\n"))
            )
        };
        text += &match relation {
            Relation::None => String::new(),
            Relation::SelfPaying => rel("self-paying", None),
            Relation::PurchasedFromHolder => rel("purchased-service", Some(h)),
            Relation::VoucherFromHolder => rel("service-voucher", Some(h)),
            Relation::PurchasedFromOther => rel("purchased-service", Some(other)),
        };
        Registry::from_toml_str(&text, "access.toml").expect("the test fixture loads")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn access_follows_the_table(
            holder in prop_oneof![Just(Holder::A), Just(Holder::B)],
            asker in proptest::sample::select(&[Asker::Holder, Asker::ProducerViaVendor, Asker::Producer, Asker::Kela, Asker::Stranger, Asker::VendorForItself][..]),
            right in proptest::sample::select(&[Right::None, Right::Valid, Right::Expired, Right::NotYetValid, Right::OtherOrganiser, Right::OtherScope][..]),
            relation in proptest::sample::select(&[Relation::None, Relation::SelfPaying, Relation::PurchasedFromHolder, Relation::VoucherFromHolder, Relation::PurchasedFromOther][..]),
        ) {
            let registry = fixture(holder, right, relation);
            let (h, _) = holder.oids();
            let (tls, asking) = match asker {
                Asker::Holder => (h, h),
                Asker::ProducerViaVendor => (V, P),
                Asker::Producer => (P, P),
                Asker::Kela => (K, K),
                Asker::Stranger => (S, S),
                Asker::VendorForItself => (V, V),
            };
            let got = may_read(&registry, &Reader {
                tls_peer: Some(tls),
                asker: asking,
                register_holder: h,
                client: CLIENT,
                day: DAY,
            });
            let codes: Vec<&str> = match &got {
                Ok(_) => vec![],
                Err(details) => details.iter().map(|d| d.code.code()).collect(),
            };
            prop_assert_eq!(codes, expected(asker, right, relation));
            if let Ok(access) = got {
                let want = if asker == Asker::Holder { Access::OwnRegister } else { Access::UsageRight };
                prop_assert_eq!(access, want);
            }
        }
    }

    #[test]
    fn refusals_name_the_rule_and_the_parties() {
        let registry = fixture(Holder::A, Right::Expired, Relation::PurchasedFromOther);
        let details = may_read(
            &registry,
            &Reader {
                tls_peer: Some(V),
                asker: P,
                register_holder: A,
                client: CLIENT,
                day: DAY,
            },
        )
        .unwrap_err();
        let shown: Vec<String> = details
            .iter()
            .map(|d| format!("{}: {}", d.code.code(), d.detail))
            .collect();
        assert_eq!(
            shown,
            [
                "R2-NOT-PRODUCERS-CLIENT: client 150575-9025 is served by 2.999.1.3 as purchased-service of 2.999.1.2, not of 2.999.1.1",
                "R2-NO-USAGE-RIGHT: register usage right from 2.999.1.1 to 2.999.1.3: none valid on 2026-06-15 (granted 2025-01-01..2026-06-14)",
            ]
        );
        let details = may_read(
            &registry,
            &Reader {
                tls_peer: Some(S),
                asker: P,
                register_holder: A,
                client: CLIENT,
                day: DAY,
            },
        )
        .unwrap_err();
        assert_eq!(
            details[0].detail,
            "TLS certificate organisation 2.999.1.6 may not send for 2.999.1.3"
        );
    }
}
