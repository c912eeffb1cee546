//! SLURM's time formats: what `sbatch --time` accepts, read into seconds and written back.
//!
//! Accepted (as sbatch documents them): `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, every
//! field a non-negative integer. SLURM counts time limits in whole minutes; a limit computed here
//! is rounded up to the next minute.

/// The longest duration accepted (a year): anything longer is a typo, not a time limit.
pub const MAX_SECONDS: u64 = 365 * 86_400;

/// Reads a duration in one of sbatch's `--time` forms; the error says what is wrong.
pub fn parse(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = |why: &str| {
        format!("`{text}` is not a SLURM time ({why}; forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S)")
    };
    if t.is_empty() {
        return Err(bad("empty"));
    }
    let num = |s: &str| -> Result<u64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 {
            return Err(bad(&format!("`{s}` is not a whole number")));
        }
        s.parse::<u64>()
            .map_err(|_| bad(&format!("`{s}` is not a whole number")))
    };
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(num(d)?), r),
        None => (None, t),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let secs = match (days, parts.as_slice()) {
        (None, [m]) => num(m)? * 60,
        (None, [m, s]) => num(m)? * 60 + num(s)?,
        (None, [h, m, s]) => num(h)? * 3600 + num(m)? * 60 + num(s)?,
        (Some(d), [h]) => d * 86_400 + num(h)? * 3600,
        (Some(d), [h, m]) => d * 86_400 + num(h)? * 3600 + num(m)? * 60,
        (Some(d), [h, m, s]) => d * 86_400 + num(h)? * 3600 + num(m)? * 60 + num(s)?,
        _ => return Err(bad("too many fields")),
    };
    if secs > MAX_SECONDS {
        return Err(bad("longer than a year"));
    }
    Ok(secs)
}

/// Whether `text` is a time limit sbatch takes: a duration, or `UNLIMITED` / `INFINITE`.
pub fn check_limit(text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("infinite") {
        return Ok(());
    }
    parse(t).map(|_| ())
}

/// Seconds rounded up to whole minutes (SLURM's unit of time limits), at least one minute.
pub fn ceil_minutes(seconds: f64) -> u64 {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds.min(MAX_SECONDS as f64).ceil() as u64
    } else {
        0
    };
    (s.div_ceil(60) * 60).max(60)
}

/// `HH:MM:SS`, or `D-HH:MM:SS` from a day on: the form `#SBATCH --time` takes.
pub fn format(seconds: u64) -> String {
    let (d, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sbatch_form_is_read() {
        assert_eq!(parse("90"), Ok(5400));
        assert_eq!(parse("5:30"), Ok(330));
        assert_eq!(parse("02:00:00"), Ok(7200));
        assert_eq!(parse("1-12"), Ok(129_600));
        assert_eq!(parse("1-0:30"), Ok(88_200));
        assert_eq!(parse("2-01:02:03"), Ok(2 * 86_400 + 3723));
    }

    #[test]
    fn malformed_times_are_refused_with_the_text() {
        for t in [
            "",
            "1h",
            "1:2:3:4",
            "-5",
            "1--2",
            "1-2:3:4:5",
            "99999999999",
            "400-00:00:00",
        ] {
            let e = parse(t).unwrap_err();
            assert!(e.contains(&format!("`{t}`")), "{e}");
        }
        assert!(check_limit("UNLIMITED").is_ok() && check_limit("infinite").is_ok());
        assert!(check_limit("forever").is_err());
    }

    #[test]
    fn limits_round_up_to_minutes_and_print_as_sbatch_reads_them() {
        assert_eq!(ceil_minutes(0.0), 60);
        assert_eq!(ceil_minutes(61.0), 120);
        assert_eq!(ceil_minutes(f64::NAN), 60);
        assert_eq!(format(10_080), "02:48:00");
        assert_eq!(format(90_000), "1-01:00:00");
        for s in [60, 3600, 10_080, 90_000] {
            assert_eq!(parse(&format(s)), Ok(s));
        }
    }
}
