//! Content negotiation as RFC 9110 reads `Accept` and `Accept-Encoding`: a
//! list of ranges, each with an optional `q` weight (default 1, `q=0` means
//! "not acceptable"), the most specific matching range deciding.

use crate::exposition::Format;

/// One element of an `Accept`-style list: its value and its weight.
fn ranges(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').filter_map(|element| {
        let mut parts = element.split(';').map(str::trim);
        let value = parts.next().filter(|v| !v.is_empty())?;
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok())?;
        Some((value, q.clamp(0.0, 1.0)))
    })
}

/// The weight `header` gives `media` (`type/subtype`): the exact range's,
/// else `type/*`'s, else `*/*`'s, else 0.
fn media_weight(header: &str, media: &str) -> f32 {
    let major = media.split('/').next().unwrap_or(media);
    let mut best: Option<(u8, f32)> = None;
    for (range, q) in ranges(header) {
        let range = range.to_ascii_lowercase();
        let specificity = if range == media {
            3
        } else if range.strip_suffix("/*") == Some(major) {
            2
        } else if range == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// The exposition format for an `Accept` header: OpenMetrics only when it is
/// weighted above the Prometheus text format (so `*/*`, as curl sends it,
/// keeps the text format); no header, or nothing acceptable, gets text.
pub fn format(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Prometheus;
    };
    let open = media_weight(accept, "application/openmetrics-text");
    let text = media_weight(accept, "text/plain");
    if open > text {
        Format::OpenMetrics
    } else {
        Format::Prometheus
    }
}

/// Whether an `Accept-Encoding` header accepts gzip (`gzip` or `*` with a
/// weight above zero; an explicit `gzip;q=0` refuses it).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let mut star = None;
    for (coding, q) in ranges(header) {
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if coding == "*" {
            star = Some(q);
        }
    }
    star.is_some_and(|q| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_own_accept_header_gets_openmetrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
        assert_eq!(format(Some(prometheus)), Format::OpenMetrics);
    }

    #[test]
    fn weights_decide_not_mere_presence() {
        assert_eq!(
            format(Some("text/plain;q=1, application/openmetrics-text;q=0.1")),
            Format::Prometheus
        );
        assert_eq!(
            format(Some("application/openmetrics-text;q=0, */*")),
            Format::Prometheus
        );
        assert_eq!(format(Some("*/*")), Format::Prometheus);
        assert_eq!(
            format(Some("application/openmetrics-text; version=1.0.0")),
            Format::OpenMetrics
        );
        assert_eq!(format(Some("text/*;q=0.9, */*;q=0.1")), Format::Prometheus);
        assert_eq!(format(None), Format::Prometheus);
        assert_eq!(format(Some("text/html")), Format::Prometheus);
    }

    #[test]
    fn gzip_needs_a_weight_above_zero() {
        assert!(accepts_gzip(Some("gzip, deflate")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(Some("gzip;q=0, identity")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("*;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }
}
