//! Finnish local time (Europe/Helsinki) and the one way times are written for people in the
//! report and the findings: `28.11.2026 klo 21.48` in Finnish, `28.11.2026 kl. 21.48` in
//! Swedish. Pure functions, no I/O, so the archivist view can use the same format.
//!
//! The `time` crate has no time-zone database, so the offset is computed by the EU rule that
//! Finland follows (Directive 2000/84/EC): Eastern European Time, UTC+2, and summer time,
//! UTC+3, from the last Sunday of March at 01:00 UTC to the last Sunday of October at 01:00
//! UTC. Dates before 1996, when the rule took its present form, are not special-cased.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use super::Lang;

/// Eastern European Time, UTC+2.
const WINTER: UtcOffset = match UtcOffset::from_hms(2, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("a valid offset"),
};
/// Eastern European Summer Time, UTC+3.
const SUMMER: UtcOffset = match UtcOffset::from_hms(3, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("a valid offset"),
};

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: Month) -> Date {
    let mut day = Date::from_calendar_date(year, month, time::util::days_in_month(month, year))
        .expect("the last day of a month is a date");
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day().expect("within the calendar");
    }
    day
}

/// The instant (UTC) summer time starts in `year` and the instant it ends.
pub fn summer_time(year: i32) -> (OffsetDateTime, OffsetDateTime) {
    let at_one = |date: Date| {
        PrimitiveDateTime::new(date, Time::from_hms(1, 0, 0).expect("01:00")).assume_utc()
    };
    (
        at_one(last_sunday(year, Month::March)),
        at_one(last_sunday(year, Month::October)),
    )
}

/// Finland's offset from UTC at instant `t`: +03:00 in summer time, else +02:00.
pub fn offset_at(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let (start, end) = summer_time(utc.year());
    if utc >= start && utc < end {
        SUMMER
    } else {
        WINTER
    }
}

/// Instant `t` in Finnish local time.
pub fn local(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(offset_at(t))
}

/// Instant `t` as people read it, in Finnish local time, to the minute:
/// `28.11.2026 klo 21.48` (fi), `28.11.2026 kl. 21.48` (sv).
pub fn format(lang: Lang, t: OffsetDateTime) -> String {
    let l = local(t);
    let word = match lang {
        Lang::Fi => "klo",
        Lang::Sv => "kl.",
    };
    format!(
        "{}.{}.{} {word} {}.{:02}",
        l.day(),
        u8::from(l.month()),
        l.year(),
        l.hour(),
        l.minute()
    )
}

/// An RFC 3339 time stamp (as `results.json` carries them) as people read it ([`format()`]);
/// text that is not RFC 3339 is returned as it is.
pub fn format_rfc3339(lang: Lang, text: &str) -> String {
    match OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(t) => format(lang, t),
        Err(_) => text.to_owned(),
    }
}

/// Instant `t` as an RFC 5322 `Date` header value in Finnish local time, e.g.
/// `Sat, 28 Nov 2026 21:48:05 +0200`.
pub fn rfc5322(t: OffsetDateTime) -> String {
    let l = local(t).replace_nanosecond(0).unwrap_or(t);
    l.format(&time::format_description::well_known::Rfc2822)
        .expect("a date within RFC 5322's range")
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn summer_time_follows_the_eu_rule() {
        // 2026: 29 March and 25 October; 2027: 28 March and 31 October.
        assert_eq!(
            summer_time(2026),
            (
                datetime!(2026-03-29 01:00 UTC),
                datetime!(2026-10-25 01:00 UTC)
            )
        );
        assert_eq!(
            summer_time(2027),
            (
                datetime!(2027-03-28 01:00 UTC),
                datetime!(2027-10-31 01:00 UTC)
            )
        );
        // The change happens at 01:00 UTC exactly (03:00 → 04:00 and 04:00 → 03:00 local).
        assert_eq!(offset_at(datetime!(2026-03-29 00:59:59 UTC)), WINTER);
        assert_eq!(offset_at(datetime!(2026-03-29 01:00 UTC)), SUMMER);
        assert_eq!(offset_at(datetime!(2026-10-25 00:59:59 UTC)), SUMMER);
        assert_eq!(offset_at(datetime!(2026-10-25 01:00 UTC)), WINTER);
        // Any offset of the input is the same instant.
        assert_eq!(offset_at(datetime!(2026-03-29 03:30 +02:00)), SUMMER);
    }

    #[test]
    fn times_are_written_the_finnish_and_swedish_way() {
        let t = datetime!(2026-11-28 19:48:05.123456789 UTC);
        assert_eq!(format(Lang::Fi, t), "28.11.2026 klo 21.48");
        assert_eq!(format(Lang::Sv, t), "28.11.2026 kl. 21.48");
        // Summer: UTC+3; minutes keep two digits, hours and days none.
        let t = datetime!(2026-07-04 06:05 UTC);
        assert_eq!(format(Lang::Fi, t), "4.7.2026 klo 9.05");
        // Across midnight: the local date.
        let t = datetime!(2026-12-31 22:30 UTC);
        assert_eq!(format(Lang::Fi, t), "1.1.2027 klo 0.30");
        assert_eq!(
            format_rfc3339(Lang::Sv, "2026-11-28T21:48:05.123456789+00:00"),
            "28.11.2026 kl. 23.48"
        );
        assert_eq!(format_rfc3339(Lang::Fi, "eilen"), "eilen");
    }

    #[test]
    fn date_headers_carry_the_finnish_offset() {
        assert_eq!(
            rfc5322(datetime!(2026-11-28 19:48:05.5 UTC)),
            "Sat, 28 Nov 2026 21:48:05 +0200"
        );
        assert_eq!(
            rfc5322(datetime!(2026-06-19 12:00 UTC)),
            "Fri, 19 Jun 2026 15:00:00 +0300"
        );
    }
}
