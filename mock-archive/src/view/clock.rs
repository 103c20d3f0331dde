//! Times as the archivist reads them: Finnish local time (Europe/Helsinki) in one format per
//! language, `28.11.2026 klo 21.48` (fi), `28.11.2026 kl. 21.48` (sv), `28.11.2026 at 21:48`
//! (en).
//!
//! The `time` crate has no time-zone database, so the offset is computed by the EU rule that
//! Finland follows: summer time (UTC+3) from the last Sunday of March at 01:00 UTC to the last
//! Sunday of October at 01:00 UTC, standard time (UTC+2) otherwise. Pure functions, no I/O.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use super::i18n::Lang;

/// The last Sunday of `month` in `year`, at 01:00 UTC: when EU summer time starts (March) or
/// ends (October).
fn switch(year: i32, month: Month) -> OffsetDateTime {
    let days = month.length(year);
    // Every month has at least 28 days, so the date exists.
    let mut day = Date::from_calendar_date(year, month, days).unwrap_or(Date::MIN);
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day().unwrap_or(day);
    }
    PrimitiveDateTime::new(day, Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT)).assume_utc()
}

/// Finland's UTC offset at instant `t`: +03:00 in summer time, else +02:00.
pub fn helsinki_offset(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let summer = utc >= switch(year, Month::March) && utc < switch(year, Month::October);
    let hours = if summer { 3 } else { 2 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `t` in Finnish local time.
pub fn helsinki(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(helsinki_offset(t))
}

/// `t` in Finnish local time, as people read it in `lang`: day and month without leading
/// zeros, minutes with two digits.
pub fn shown(t: OffsetDateTime, lang: Lang) -> String {
    let l = helsinki(t);
    let (d, m, y, h, min) = (l.day(), u8::from(l.month()), l.year(), l.hour(), l.minute());
    match lang {
        Lang::Fi => format!("{d}.{m}.{y} klo {h}.{min:02}"),
        Lang::Sv => format!("{d}.{m}.{y} kl. {h}.{min:02}"),
        Lang::En => format!("{d}.{m}.{y} at {h}:{min:02}"),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn summer_time_follows_the_eu_rule() {
        // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
        let winter = UtcOffset::from_hms(2, 0, 0).unwrap();
        let summer = UtcOffset::from_hms(3, 0, 0).unwrap();
        assert_eq!(helsinki_offset(datetime!(2026-03-29 00:59:59 UTC)), winter);
        assert_eq!(helsinki_offset(datetime!(2026-03-29 01:00:00 UTC)), summer);
        assert_eq!(helsinki_offset(datetime!(2026-10-25 00:59:59 UTC)), summer);
        assert_eq!(helsinki_offset(datetime!(2026-10-25 01:00:00 UTC)), winter);
        // 2027: 28 March and 31 October (a month whose last day is a Sunday).
        assert_eq!(helsinki_offset(datetime!(2027-03-28 00:30 UTC)), winter);
        assert_eq!(helsinki_offset(datetime!(2027-03-28 01:30 UTC)), summer);
        assert_eq!(helsinki_offset(datetime!(2027-10-31 00:30 UTC)), summer);
        assert_eq!(helsinki_offset(datetime!(2027-10-31 01:30 UTC)), winter);
        // The offset an input carries does not matter, only the instant.
        assert_eq!(
            helsinki_offset(datetime!(2026-03-29 04:00 +03:00)),
            summer,
            "01:00 UTC exactly"
        );
        assert_eq!(helsinki_offset(datetime!(2026-01-15 12:00 -05:00)), winter);
    }

    #[test]
    fn shown_in_each_language_in_finnish_time() {
        let t = datetime!(2026-11-28 19:48:31.123456789 UTC);
        assert_eq!(shown(t, Lang::Fi), "28.11.2026 klo 21.48");
        assert_eq!(shown(t, Lang::Sv), "28.11.2026 kl. 21.48");
        assert_eq!(shown(t, Lang::En), "28.11.2026 at 21:48");
        // Summer time, no leading zeros, a day boundary crossed by the offset.
        let t = datetime!(2026-07-01 21:05 UTC);
        assert_eq!(shown(t, Lang::Fi), "2.7.2026 klo 0.05");
        assert_eq!(
            shown(datetime!(2026-02-02 10:00 +02:00), Lang::Sv),
            "2.2.2026 kl. 10.00"
        );
    }
}
