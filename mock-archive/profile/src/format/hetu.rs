//! Finnish personal identity codes ("henkilötunnus", HETU): `DDMMYYCZZZQ`, with every century
//! sign in force since 2023 (`+` 1800s; `-` and `Y X W V U` 1900s; `A` and `B C D E F`
//! 2000s), a real calendar date, the individual number `ZZZ` (002–899 issued to people,
//! 900–999 temporary and test codes) and the mod-31 check character `Q`.

use thiserror::Error;

/// The check-character alphabet, indexed by `DDMMYYZZZ mod 31`.
pub const CHECK_ALPHABET: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Why a string is not a valid identity code. Each failure has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HetuError {
    /// Not eleven characters of the shape `DDMMYYCZZZQ`.
    #[error("identity code `{0}` is not of the form DDMMYYCZZZQ (11 characters)")]
    Format(String),
    /// The seventh character is not a century sign.
    #[error("identity code `{code}` has an unknown century sign `{sign}`")]
    CenturySign {
        /// The whole code.
        code: String,
        /// The offending character.
        sign: char,
    },
    /// The date part is not a calendar date.
    #[error("identity code `{code}` has no real date of birth ({day:02}.{month:02}.{year})")]
    Date {
        /// The whole code.
        code: String,
        /// Day of month as written.
        day: u32,
        /// Month as written.
        month: u32,
        /// Full year from the century sign.
        year: i32,
    },
    /// The individual number is 000 or 001, which are never issued.
    #[error("identity code `{code}` has individual number {number:03}, which is never issued")]
    IndividualNumber {
        /// The whole code.
        code: String,
        /// The individual number.
        number: u32,
    },
    /// The check character does not match.
    #[error("identity code `{code}` has check character `{found}`, expected `{expected}`")]
    CheckCharacter {
        /// The whole code.
        code: String,
        /// The character written.
        found: char,
        /// The character the digits call for.
        expected: char,
    },
}

/// A valid identity code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hetu {
    code: String,
    year: i32,
    month: u32,
    day: u32,
    individual: u32,
}

impl Hetu {
    /// Parses and checks an identity code. Letters must be upper case.
    pub fn parse(code: &str) -> Result<Hetu, HetuError> {
        let bytes = code.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = bytes.get(r)?;
            if part.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(part).ok()?.parse().ok()
            } else {
                None
            }
        };
        let format_err = || HetuError::Format(code.to_owned());
        if bytes.len() != 11 || !code.is_ascii() {
            return Err(format_err());
        }
        let (day, month, yy, individual) =
            match (digits(0..2), digits(2..4), digits(4..6), digits(7..10)) {
                (Some(d), Some(m), Some(y), Some(i)) => (d, m, y, i),
                _ => return Err(format_err()),
            };
        let sign = bytes[6] as char;
        let century = century_of(sign).ok_or_else(|| HetuError::CenturySign {
            code: code.to_owned(),
            sign,
        })?;
        let year = century + yy as i32;
        if !is_date(year, month, day) {
            return Err(HetuError::Date {
                code: code.to_owned(),
                day,
                month,
                year,
            });
        }
        if individual < 2 {
            return Err(HetuError::IndividualNumber {
                code: code.to_owned(),
                number: individual,
            });
        }
        let expected = check_character(day, month, yy, individual);
        let found = bytes[10] as char;
        if found != expected {
            return Err(HetuError::CheckCharacter {
                code: code.to_owned(),
                found,
                expected,
            });
        }
        Ok(Hetu {
            code: code.to_owned(),
            year,
            month,
            day,
            individual,
        })
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// Date of birth as (year, month, day).
    pub fn birth_date(&self) -> (i32, u32, u32) {
        (self.year, self.month, self.day)
    }

    /// The individual number (`ZZZ`).
    pub fn individual_number(&self) -> u32 {
        self.individual
    }

    /// A temporary or test code: individual number 900–999, the only codes a deployment test
    /// may use.
    pub fn is_test(&self) -> bool {
        self.individual >= 900
    }
}

/// The first year of the century a sign stands for.
pub fn century_of(sign: char) -> Option<i32> {
    match sign {
        '+' => Some(1800),
        '-' | 'Y' | 'X' | 'W' | 'V' | 'U' => Some(1900),
        'A' | 'B' | 'C' | 'D' | 'E' | 'F' => Some(2000),
        _ => None,
    }
}

/// The check character for a date and individual number.
pub fn check_character(day: u32, month: u32, yy: u32, individual: u32) -> char {
    let n = ((day * 100 + month) * 100 + yy) as u64 * 1000 + individual as u64;
    CHECK_ALPHABET[(n % 31) as usize] as char
}

/// Whether `year-month-day` is a date of the Gregorian calendar.
pub fn is_date(year: i32, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Makes a valid code from its parts (test and fixture helper).
pub fn make(day: u32, month: u32, year: i32, sign: char, individual: u32) -> String {
    let yy = year.rem_euclid(100) as u32;
    format!(
        "{day:02}{month:02}{yy:02}{sign}{individual:03}{}",
        check_character(day, month, yy, individual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_every_century_sign() {
        for (sign, century) in [
            ('+', 1800),
            ('-', 1900),
            ('Y', 1900),
            ('X', 1900),
            ('W', 1900),
            ('V', 1900),
            ('U', 1900),
            ('A', 2000),
            ('B', 2000),
            ('C', 2000),
            ('D', 2000),
            ('E', 2000),
            ('F', 2000),
        ] {
            let code = make(1, 2, century + 3, sign, 905);
            let h = Hetu::parse(&code).unwrap();
            assert_eq!(h.birth_date(), (century + 3, 2, 1), "{code}");
            assert!(h.is_test());
        }
    }

    #[test]
    fn known_codes() {
        // Kela's social welfare sample client and the HUS patient.
        assert!(Hetu::parse("200111A904P").unwrap().is_test());
        let h = Hetu::parse("070472-8967").unwrap();
        assert!(!h.is_test());
        assert_eq!(h.individual_number(), 896);
        // The public DVV example.
        assert_eq!(
            Hetu::parse("131052-308T").unwrap().birth_date(),
            (1952, 10, 13)
        );
    }

    #[test]
    fn distinct_errors_with_exact_text() {
        let e = |c: &str| Hetu::parse(c).unwrap_err().to_string();
        assert_eq!(
            e("13105-308T"),
            "identity code `13105-308T` is not of the form DDMMYYCZZZQ (11 characters)"
        );
        assert_eq!(
            e("131052G308T"),
            "identity code `131052G308T` has an unknown century sign `G`"
        );
        assert_eq!(
            e("290223A9xxx"),
            "identity code `290223A9xxx` is not of the form DDMMYYCZZZQ (11 characters)"
        );
        assert_eq!(
            e("290223A905J"),
            "identity code `290223A905J` has no real date of birth (29.02.2023)"
        );
        assert_eq!(
            e("131052-001X"),
            "identity code `131052-001X` has individual number 001, which is never issued"
        );
        assert_eq!(
            e("131052-308U"),
            "identity code `131052-308U` has check character `U`, expected `T`"
        );
        assert!(Hetu::parse(&make(29, 2, 2000, 'A', 950)).is_ok());
        assert!(matches!(
            Hetu::parse("290200-950X"),
            Err(HetuError::Date { year: 1900, .. })
        ));
        assert!(matches!(
            Hetu::parse("131052-308t"),
            Err(HetuError::CheckCharacter { .. })
        ));
    }

    fn sign() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            '+', '-', 'Y', 'X', 'W', 'V', 'U', 'A', 'B', 'C', 'D', 'E', 'F',
        ])
    }

    proptest! {
        #[test]
        fn made_codes_parse(day in 1u32..=28, month in 1u32..=12, yy in 0i32..100, s in sign(), ind in 2u32..1000) {
            let year = century_of(s).unwrap() + yy;
            let code = make(day, month, year, s, ind);
            let h = Hetu::parse(&code).unwrap();
            prop_assert_eq!(h.birth_date(), (year, month, day));
            prop_assert_eq!(h.is_test(), ind >= 900);
        }

        #[test]
        fn one_changed_digit_or_check_character_is_caught(
            day in 1u32..=28, month in 1u32..=12, yy in 0i32..100, s in sign(), ind in 2u32..1000,
            at in prop::sample::select(vec![0usize, 1, 2, 3, 4, 5, 7, 8, 9, 10]), delta in 1u8..10,
        ) {
            let year = century_of(s).unwrap() + yy;
            let mut bytes = make(day, month, year, s, ind).into_bytes();
            if at == 10 {
                let pos = CHECK_ALPHABET.iter().position(|&c| c == bytes[10]).unwrap();
                bytes[10] = CHECK_ALPHABET[(pos + delta as usize) % 31];
            } else {
                bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
            }
            let code = String::from_utf8(bytes).unwrap();
            prop_assert!(Hetu::parse(&code).is_err(), "{} accepted", code);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,14}") {
            let _ = Hetu::parse(&s);
        }
    }
}
