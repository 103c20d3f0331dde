//! Organisation identifiers: OID syntax (as used for every id `root` and the SOTE
//! organisation register) and the Finnish business ID ("Y-tunnus", `1234567-8`).

use thiserror::Error;

/// Why a string is not a valid OID.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OidError {
    /// The string is empty.
    #[error("OID is empty")]
    Empty,
    /// An arc is empty (two dots, or a dot at either end).
    #[error("OID `{0}` has an empty arc")]
    EmptyArc(String),
    /// An arc holds something other than decimal digits.
    #[error("OID `{oid}` has a non-numeric arc `{arc}`")]
    NotNumeric {
        /// The whole OID.
        oid: String,
        /// The offending arc.
        arc: String,
    },
    /// An arc has a leading zero.
    #[error("OID `{oid}` has an arc with a leading zero `{arc}`")]
    LeadingZero {
        /// The whole OID.
        oid: String,
        /// The offending arc.
        arc: String,
    },
    /// Fewer than two arcs, or a first arc other than 0, 1 or 2, or a second arc above 39
    /// under 0 or 1.
    #[error("OID `{0}` does not start with a valid first and second arc")]
    Root(String),
}

/// Checks OID syntax: at least two arcs of decimal digits separated by dots, no leading zeros,
/// first arc 0, 1 or 2, second arc at most 39 under 0 and 1.
pub fn check_oid(oid: &str) -> Result<(), OidError> {
    if oid.is_empty() {
        return Err(OidError::Empty);
    }
    let arcs: Vec<&str> = oid.split('.').collect();
    for arc in &arcs {
        if arc.is_empty() {
            return Err(OidError::EmptyArc(oid.to_owned()));
        }
        if !arc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OidError::NotNumeric {
                oid: oid.to_owned(),
                arc: (*arc).to_owned(),
            });
        }
        if arc.len() > 1 && arc.starts_with('0') {
            return Err(OidError::LeadingZero {
                oid: oid.to_owned(),
                arc: (*arc).to_owned(),
            });
        }
    }
    let second_ok =
        |limit: u64| arcs[1].len() <= 2 && arcs[1].parse::<u64>().is_ok_and(|n| n <= limit);
    let root_ok = arcs.len() >= 2
        && match arcs[0] {
            "0" | "1" => second_ok(39),
            "2" => true,
            _ => false,
        };
    if !root_ok {
        return Err(OidError::Root(oid.to_owned()));
    }
    Ok(())
}

/// Why a string is not a valid business ID.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum YTunnusError {
    /// Not seven digits, a hyphen and a check digit.
    #[error("business ID `{0}` is not of the form 1234567-8")]
    Format(String),
    /// The digits give remainder 1, for which no check digit exists.
    #[error("business ID `{0}` has digits that allow no check digit (remainder 1)")]
    Remainder1(String),
    /// The check digit does not match.
    #[error("business ID `{code}` has check digit {found}, expected {expected}")]
    CheckDigit {
        /// The whole business ID.
        code: String,
        /// The digit written.
        found: u32,
        /// The digit the others call for.
        expected: u32,
    },
}

/// Weights of the seven digits of a business ID.
const Y_WEIGHTS: [u32; 7] = [7, 9, 10, 5, 8, 4, 2];

/// The check digit for the first seven digits of a business ID; `None` when the weighted
/// sum leaves remainder 1 (such digits are never issued).
pub fn ytunnus_check_digit(digits: [u32; 7]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(Y_WEIGHTS).map(|(d, w)| d * w).sum();
    match sum % 11 {
        0 => Some(0),
        1 => None,
        r => Some(11 - r),
    }
}

/// Checks a business ID (Y-tunnus) `1234567-8`: weights 7, 9, 10, 5, 8, 4, 2, mod 11.
pub fn check_ytunnus(code: &str) -> Result<(), YTunnusError> {
    let b = code.as_bytes();
    let shape =
        b.len() == 9 && b[7] == b'-' && b[..7].iter().chain(&b[8..]).all(u8::is_ascii_digit);
    if !shape {
        return Err(YTunnusError::Format(code.to_owned()));
    }
    let mut digits = [0u32; 7];
    for (d, &c) in digits.iter_mut().zip(&b[..7]) {
        *d = u32::from(c - b'0');
    }
    let found = u32::from(b[8] - b'0');
    match ytunnus_check_digit(digits) {
        None => Err(YTunnusError::Remainder1(code.to_owned())),
        Some(expected) if expected != found => Err(YTunnusError::CheckDigit {
            code: code.to_owned(),
            found,
            expected,
        }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oid_syntax() {
        for ok in [
            "1.2.246.21",
            "1.2.246.10.32213561.10.0",
            "2.999",
            "0.0",
            "2.25.1234567890123456789012345",
        ] {
            assert_eq!(check_oid(ok), Ok(()), "{ok}");
        }
        let e = |s: &str| check_oid(s).unwrap_err().to_string();
        assert_eq!(e(""), "OID is empty");
        assert_eq!(e("1..2"), "OID `1..2` has an empty arc");
        assert_eq!(e("1.2."), "OID `1.2.` has an empty arc");
        assert_eq!(e("1.2.x"), "OID `1.2.x` has a non-numeric arc `x`");
        assert_eq!(e("1.2.-3"), "OID `1.2.-3` has a non-numeric arc `-3`");
        assert_eq!(
            e("1.02.3"),
            "OID `1.02.3` has an arc with a leading zero `02`"
        );
        assert_eq!(
            e("3.1"),
            "OID `3.1` does not start with a valid first and second arc"
        );
        assert_eq!(
            e("1"),
            "OID `1` does not start with a valid first and second arc"
        );
        assert_eq!(
            e("1.40.1"),
            "OID `1.40.1` does not start with a valid first and second arc"
        );
    }

    #[test]
    fn ytunnus() {
        // Kela's business ID, and the commonly cited example.
        assert_eq!(check_ytunnus("0246246-0"), Ok(()));
        assert_eq!(check_ytunnus("1572860-0"), Ok(()));
        let e = |s: &str| check_ytunnus(s).unwrap_err().to_string();
        assert_eq!(
            e("0246246-1"),
            "business ID `0246246-1` has check digit 1, expected 0"
        );
        assert_eq!(
            e("024624-60"),
            "business ID `024624-60` is not of the form 1234567-8"
        );
        assert_eq!(
            e("0000030-1"),
            "business ID `0000030-1` has digits that allow no check digit (remainder 1)"
        );
    }

    proptest! {
        #[test]
        fn mutated_oid_arcs_are_caught(arcs in prop::collection::vec(1u64..100000, 1..8), at in 0usize..8, bad in prop::sample::select(vec!["", "0", "x", "01"])) {
            let mut parts: Vec<String> = vec!["1".into(), "2".into()];
            parts.extend(arcs.iter().map(u64::to_string));
            prop_assert_eq!(check_oid(&parts.join(".")), Ok(()));
            let at = at % parts.len();
            // "0" alone is a valid arc, so make it a leading zero instead.
            let replacement = if bad == "0" { format!("0{}", parts[at]) } else { bad.to_owned() };
            parts[at] = replacement;
            prop_assert!(check_oid(&parts.join(".")).is_err());
        }

        #[test]
        fn ytunnus_digit_changes_are_caught(d in prop::array::uniform7(0u32..10), at in 0usize..8, delta in 1u32..10) {
            if let Some(check) = ytunnus_check_digit(d) {
                let mut all: Vec<u32> = d.to_vec();
                all.push(check);
                let code = |v: &[u32]| format!("{}-{}", v[..7].iter().map(u32::to_string).collect::<String>(), v[7]);
                prop_assert_eq!(check_ytunnus(&code(&all)), Ok(()));
                all[at] = (all[at] + delta) % 10;
                prop_assert!(check_ytunnus(&code(&all)).is_err());
            }
        }

        #[test]
        fn arbitrary_oids_never_panic(s in "[0-9.a]{0,20}") {
            let _ = check_oid(&s);
        }
    }
}
