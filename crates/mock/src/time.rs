//! Fast RFC 3339 formatting of whole-second UTC timestamps (`2025-08-28T10:30:00Z`).

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` into a stack buffer.
/// Years outside 0..=9999 are clamped (the dataset never holds such values).
pub(crate) fn format_rfc3339(secs: i64) -> [u8; 20] {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let y = y.clamp(0, 9999) as u32;
    let (hh, mm, ss) = (
        (sod / 3600) as u32,
        ((sod / 60) % 60) as u32,
        (sod % 60) as u32,
    );
    let mut b = *b"0000-00-00T00:00:00Z";
    let put = |b: &mut [u8; 20], at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut b, 0, y, 4);
    put(&mut b, 5, m, 2);
    put(&mut b, 8, d, 2);
    put(&mut b, 11, hh, 2);
    put(&mut b, 14, mm, 2);
    put(&mut b, 17, ss, 2);
    b
}

/// [`format_rfc3339`] as a `String`.
pub(crate) fn to_string(secs: i64) -> String {
    String::from_utf8_lossy(&format_rfc3339(secs)).into_owned()
}

/// Parses an RFC 3339 / ISO-8601 timestamp to whole seconds since the epoch (UTC).
pub(crate) fn parse(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_chrono() {
        for secs in [
            0i64,
            1,
            86_399,
            951_782_400, // 2000-02-29
            1_500_657_148,
            1_756_377_000,
            4_102_444_799,
            -1,
        ] {
            let ours = to_string(secs);
            let theirs = chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            assert_eq!(ours, theirs, "{secs}");
            assert_eq!(parse(&ours), Some(secs));
        }
        assert_eq!(to_string(1_756_377_000), "2025-08-28T10:30:00Z");
        assert_eq!(parse("2025-08-28T12:30:00+02:00"), Some(1_756_377_000));
        assert_eq!(parse("2025-08-28T10:30:00"), Some(1_756_377_000));
        assert_eq!(parse("yesterday"), None);
    }
}
