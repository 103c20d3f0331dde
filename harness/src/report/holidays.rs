//! Finnish public holidays and working days, for the report's due date: a successful
//! deployment test is reported to Kela "within two working days" ("kahden arkipäivän sisällä").
//!
//! Holidays (Finnish law, the days that are never working days in the public calendar): New
//! Year's Day, Epiphany, Good Friday, Easter Monday, May Day, Ascension Day, Midsummer Eve (the
//! Friday between 19 and 25 June) and Midsummer Day (the Saturday between 20 and 26 June), All
//! Saints' Day (the Saturday between 31 October and 6 November), Independence Day, Christmas
//! Eve, Christmas Day and Boxing Day. Saturdays and Sundays are never working days. Easter
//! Sunday comes from the Gregorian computus.

use time::{Date, Duration, Month, Weekday};

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous "Meeus/Jones/Butcher"
/// computus). Valid for every year `time` can represent after 1582.
pub fn easter_sunday(year: i32) -> Date {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = if month == 3 {
        Month::March
    } else {
        Month::April
    };
    Date::from_calendar_date(year, month, day as u8).expect("the computus gives a real date")
}

/// The first `weekday` on or after `from`.
fn first_on_or_after(from: Date, weekday: Weekday) -> Date {
    let mut day = from;
    while day.weekday() != weekday {
        day = day.next_day().expect("within the calendar");
    }
    day
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).expect("a fixed holiday is a real date")
}

/// The Finnish public holidays of `year`, in calendar order, each with its Finnish name.
pub fn holidays(year: i32) -> Vec<(Date, &'static str)> {
    let easter = easter_sunday(year);
    let mut days = vec![
        (date(year, Month::January, 1), "uudenvuodenpäivä"),
        (date(year, Month::January, 6), "loppiainen"),
        (easter - Duration::days(2), "pitkäperjantai"),
        (easter, "pääsiäispäivä"),
        (easter + Duration::days(1), "2. pääsiäispäivä"),
        (date(year, Month::May, 1), "vappu"),
        (easter + Duration::days(39), "helatorstai"),
        (
            first_on_or_after(date(year, Month::June, 19), Weekday::Friday),
            "juhannusaatto",
        ),
        (
            first_on_or_after(date(year, Month::June, 20), Weekday::Saturday),
            "juhannuspäivä",
        ),
        (
            first_on_or_after(date(year, Month::October, 31), Weekday::Saturday),
            "pyhäinpäivä",
        ),
        (date(year, Month::December, 6), "itsenäisyyspäivä"),
        (date(year, Month::December, 24), "jouluaatto"),
        (date(year, Month::December, 25), "joulupäivä"),
        (date(year, Month::December, 26), "tapaninpäivä"),
    ];
    days.sort_by_key(|(d, _)| *d);
    days
}

/// The holiday's Finnish name when `day` is a Finnish public holiday.
pub fn holiday_name(day: Date) -> Option<&'static str> {
    holidays(day.year())
        .into_iter()
        .find(|(d, _)| *d == day)
        .map(|(_, name)| name)
}

/// Whether `day` is a working day: neither a weekend nor a public holiday.
pub fn is_working_day(day: Date) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && holiday_name(day).is_none()
}

/// The `n`th working day after `day` (not counting `day` itself).
pub fn working_days_after(day: Date, n: u32) -> Date {
    let mut current = day;
    let mut left = n;
    while left > 0 {
        current = current.next_day().expect("within the calendar");
        if is_working_day(current) {
            left -= 1;
        }
    }
    current
}

/// The last day on which the report of a test done on `test_date` is on time: the second
/// working day after the test.
pub fn due_date(test_date: Date) -> Date {
    working_days_after(test_date, 2)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn easter_matches_known_dates() {
        // Easter Sundays as published (e.g. in the Finnish almanac).
        let known = [
            date!(2000 - 04 - 23),
            date!(2008 - 03 - 23),
            date!(2011 - 04 - 24),
            date!(2019 - 04 - 21),
            date!(2024 - 03 - 31),
            date!(2025 - 04 - 20),
            date!(2026 - 04 - 05),
            date!(2027 - 03 - 28),
            date!(2028 - 04 - 16),
            date!(2038 - 04 - 25),
        ];
        for easter in known {
            assert_eq!(easter_sunday(easter.year()), easter, "{}", easter.year());
        }
    }

    #[test]
    fn holidays_of_2026() {
        let got: Vec<String> = holidays(2026)
            .into_iter()
            .map(|(d, n)| format!("{d} {n}"))
            .collect();
        assert_eq!(
            got,
            [
                "2026-01-01 uudenvuodenpäivä",
                "2026-01-06 loppiainen",
                "2026-04-03 pitkäperjantai",
                "2026-04-05 pääsiäispäivä",
                "2026-04-06 2. pääsiäispäivä",
                "2026-05-01 vappu",
                "2026-05-14 helatorstai",
                "2026-06-19 juhannusaatto",
                "2026-06-20 juhannuspäivä",
                "2026-10-31 pyhäinpäivä",
                "2026-12-06 itsenäisyyspäivä",
                "2026-12-24 jouluaatto",
                "2026-12-25 joulupäivä",
                "2026-12-26 tapaninpäivä",
            ]
        );
    }

    #[test]
    fn moving_holidays_fall_in_their_windows() {
        for year in 1990..2100 {
            let days = holidays(year);
            let find = |name: &str| days.iter().find(|(_, n)| *n == name).unwrap().0;
            let eve = find("juhannusaatto");
            assert_eq!(eve.weekday(), Weekday::Friday);
            assert!((19..=25).contains(&eve.day()) && eve.month() == Month::June);
            assert_eq!(find("juhannuspäivä"), eve + Duration::days(1));
            let saints = find("pyhäinpäivä");
            assert_eq!(saints.weekday(), Weekday::Saturday);
            assert!(
                (saints.month() == Month::October && saints.day() == 31)
                    || (saints.month() == Month::November && saints.day() <= 6)
            );
            assert_eq!(find("helatorstai").weekday(), Weekday::Thursday);
            assert_eq!(find("pitkäperjantai").weekday(), Weekday::Friday);
        }
    }

    #[test]
    fn due_date_on_plain_weekdays() {
        // Monday -> Wednesday, Wednesday -> Friday.
        assert_eq!(due_date(date!(2026 - 03 - 02)), date!(2026 - 03 - 04));
        assert_eq!(due_date(date!(2026 - 03 - 04)), date!(2026 - 03 - 06));
    }

    #[test]
    fn due_date_across_weekends() {
        // Thursday -> Monday; Friday -> Tuesday; a test on Saturday or Sunday -> Tuesday.
        assert_eq!(due_date(date!(2026 - 03 - 05)), date!(2026 - 03 - 09));
        assert_eq!(due_date(date!(2026 - 03 - 06)), date!(2026 - 03 - 10));
        assert_eq!(due_date(date!(2026 - 03 - 07)), date!(2026 - 03 - 10));
        assert_eq!(due_date(date!(2026 - 03 - 08)), date!(2026 - 03 - 10));
    }

    #[test]
    fn due_date_across_easter() {
        // 2026: Good Friday 3.4., Easter Monday 6.4. A test on Thursday 2.4. is due Wednesday 8.4.
        assert_eq!(due_date(date!(2026 - 04 - 02)), date!(2026 - 04 - 08));
        // 2025: Good Friday 18.4., Easter Monday 21.4.
        assert_eq!(due_date(date!(2025 - 04 - 17)), date!(2025 - 04 - 23));
        assert_eq!(due_date(date!(2025 - 04 - 16)), date!(2025 - 04 - 22));
        // 2024: Easter 31.3., Good Friday 29.3., Easter Monday 1.4.
        assert_eq!(due_date(date!(2024 - 03 - 28)), date!(2024 - 04 - 03));
        // 2027: Easter 28.3., Good Friday 26.3., Easter Monday 29.3.
        assert_eq!(due_date(date!(2027 - 03 - 25)), date!(2027 - 03 - 31));
        // Ascension Day 2026 is Thursday 14.5.: Wednesday 13.5. -> Friday 15.5. -> Monday 18.5.
        assert_eq!(due_date(date!(2026 - 05 - 13)), date!(2026 - 05 - 18));
    }

    #[test]
    fn due_date_across_midsummer() {
        // 2026: Midsummer Eve Friday 19.6., Midsummer Day Saturday 20.6.
        assert_eq!(due_date(date!(2026 - 06 - 18)), date!(2026 - 06 - 23));
        assert_eq!(due_date(date!(2026 - 06 - 17)), date!(2026 - 06 - 22));
        // 2027: Midsummer Eve Friday 25.6.
        assert_eq!(due_date(date!(2027 - 06 - 24)), date!(2027 - 06 - 29));
    }

    #[test]
    fn due_date_across_christmas_and_new_year() {
        // 2026: Christmas Eve Thursday, Christmas Friday, Boxing Day Saturday.
        assert_eq!(due_date(date!(2026 - 12 - 23)), date!(2026 - 12 - 29));
        // 2025: Christmas Eve Wednesday to Boxing Day Friday: Monday 22.12. -> Tuesday 23.12.
        // -> Monday 29.12.
        assert_eq!(due_date(date!(2025 - 12 - 22)), date!(2025 - 12 - 29));
        // New Year 2027 is Friday: Wednesday 30.12.2026 -> Thursday 31.12. -> Monday 4.1.2027.
        assert_eq!(due_date(date!(2026 - 12 - 30)), date!(2027 - 01 - 04));
        // Epiphany 2027 is Wednesday: Monday 4.1. -> Tuesday 5.1. -> Thursday 7.1.
        assert_eq!(due_date(date!(2027 - 01 - 04)), date!(2027 - 01 - 07));
        // Independence Day 2027 is Monday 6.12.: Friday 3.12. -> Tuesday 7.12. -> Wednesday 8.12.
        assert_eq!(due_date(date!(2027 - 12 - 03)), date!(2027 - 12 - 08));
    }

    #[test]
    fn due_date_across_may_day_and_all_saints() {
        // May Day 2026 is Friday: Thursday 30.4. -> Monday 4.5. -> Tuesday 5.5.
        assert_eq!(due_date(date!(2026 - 04 - 30)), date!(2026 - 05 - 05));
        // All Saints' Day is always a Saturday, so it never moves a due date by itself.
        assert_eq!(due_date(date!(2026 - 10 - 29)), date!(2026 - 11 - 02));
    }
}
