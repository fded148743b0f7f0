//! Dates as people write them (`2026-11-25`, RFC 3339) and as we print them.

use std::time::{Duration, SystemTime};

/// When this process started (first asked for: the binary asks at once).
pub fn process_start() -> SystemTime {
    static START: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    *START.get_or_init(SystemTime::now)
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-11-25T12:34:56Z` (UTC, seconds).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .ok()
        .and_then(|dt| {
            dt.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Unix seconds of midnight UTC of a calendar date, or `None` when the date
/// does not exist (`2026-02-31`, month 13).
fn midnight(y: i64, m: i64, d: i64) -> Option<i64> {
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// RFC 3339 of a Unix timestamp (times before 1970 print as the epoch).
pub fn rfc3339_unix(unix: i64) -> String {
    rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

/// The date of a Unix timestamp (`2026-11-25`).
pub fn date_of(unix: i64) -> String {
    rfc3339_unix(unix)[..10].to_owned()
}

/// Parses `2026-11-25`, `2026-11-25T10:00:00Z`, `2026-11-25 10:00:00`,
/// `2026-11-25T10:00:00+02:00` (fractions ignored) into Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches(['"', '\'']);
    let num = |s: &str| s.parse::<i64>().ok();
    if t.len() < 10 || t.as_bytes().get(4) != Some(&b'-') || t.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(t.get(0..4)?)?, num(t.get(5..7)?)?, num(t.get(8..10)?)?);
    let mut secs = midnight(y, m, d)?;
    let rest = t.get(10..)?;
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
        return None;
    }
    let (h, mi, s) = (
        num(rest.get(0..2)?)?,
        num(rest.get(3..5)?)?,
        num(rest.get(6..8)?)?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + s;
    let mut zone = rest.get(8..)?;
    if let Some(frac) = zone.strip_prefix('.') {
        zone = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    match zone {
        "" | "Z" | "z" => Some(secs),
        z if (z.starts_with('+') || z.starts_with('-'))
            && z.len() == 6
            && z.as_bytes()[3] == b':' =>
        {
            let offset = num(z.get(1..3)?)? * 3600 + num(z.get(4..6)?)? * 60;
            Some(if z.starts_with('+') {
                secs - offset
            } else {
                secs + offset
            })
        }
        _ => None,
    }
}

/// Clock skew tolerated before a date in the future (a file's modification
/// time, a report's end time, a drill's date) is distrusted: a date a
/// change can set must not hold a verdict open.
pub const FUTURE_TOLERANCE_SECONDS: i64 = 60;

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == month)? + 1;
    parse_timestamp(&format!("{year}-{m:02}-{:0>2}T{time}Z", day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        let at = |s: u64| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_611_296), "2026-11-25T12:54:56Z");
    }

    #[test]
    fn parses_what_it_prints_and_common_forms() {
        assert_eq!(parse_timestamp("2026-11-25T12:54:56Z"), Some(1_795_611_296));
        assert_eq!(parse_timestamp("2000-02-29"), Some(951_782_400));
        assert_eq!(
            parse_timestamp("2026-11-25 14:54:56+02:00"),
            Some(1_795_611_296)
        );
        assert_eq!(
            parse_timestamp("2026-11-25T12:54:56.123Z"),
            Some(1_795_611_296)
        );
        for bad in [
            "",
            "yesterday",
            "2026-02-31",
            "2025-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-11-25T25:00:00Z",
            "2026/11/25",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(date_of(1_795_611_296), "2026-11-25");
    }

    #[test]
    fn http_dates_are_read() {
        assert_eq!(
            super::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            super::parse_timestamp("1994-11-06T08:49:37Z")
        );
        assert_eq!(super::parse_http_date("yesterday"), None);
    }
}
