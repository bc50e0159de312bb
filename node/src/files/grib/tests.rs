//! GRIB preview tests. Files come from ecCodes' samples when `libeccodes-data` is installed
//! (`scripts/test.sh` installs it); the hostile-input tests need nothing.

use super::*;

/// ecCodes' GRIB samples, if installed.
pub(crate) fn eccodes_samples() -> Vec<std::path::PathBuf> {
    let Ok(dir) = std::fs::read_dir("/usr/share/eccodes/samples") else {
        return Vec::new();
    };
    let mut out: Vec<_> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
            name.is_some_and(|n| n.contains("grib") && n.ends_with(".tmpl"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn garbage_truncated_and_corrupted_files_are_not_readable_gribs() {
    for bytes in [
        Vec::new(),
        b"GRIB".to_vec(),
        b"GRIB\0\0\0\x02\0\0\0\0\0\0\0\x10".to_vec(),
        vec![0xff; 4096],
        b"hello GRIB world".repeat(100),
    ] {
        assert!(summarize(&bytes).is_err());
        assert!(wind_grid(&bytes, None).is_err());
    }
    for path in eccodes_samples() {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for cut in [bytes.len() / 2, bytes.len().saturating_sub(3), 20] {
            let r = summarize(&bytes[..cut]);
            assert!(r.is_err(), "{} cut at {cut}: {r:?}", path.display());
        }
        let mut bad = bytes.clone();
        for i in (8..bad.len()).step_by(7) {
            bad[i] ^= 0x5a;
        }
        let _ = summarize(&bad); // any answer but a panic
        let _ = wind_grid(&bad, Some(6));
    }
}

#[test]
fn ecmwf_samples_are_summarized() {
    let samples = eccodes_samples();
    if samples.is_empty() {
        eprintln!("skipped: libeccodes-data not installed (scripts/test.sh installs it)");
        return;
    }
    let mut read = 0;
    for path in &samples {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        if let Ok(s) = summarize(&bytes) {
            read += 1;
            assert!(s.messages >= 1 && (s.edition == 1 || s.edition == 2));
            assert!(!summary_text(&s).is_empty());
        }
    }
    assert!(
        read * 2 >= samples.len(),
        "{read} of {} samples read",
        samples.len()
    );
}

#[test]
fn times_and_words() {
    let r = grib_reader::ReferenceTime {
        year: 2026,
        month: 12,
        day: 7,
        hour: 6,
        minute: 0,
        second: 0,
    };
    let ms = epoch_ms(&r);
    assert_eq!(ms, 1_796_623_200_000);
    assert_eq!(iso_hour(ms), "2026-12-07T06Z");
    assert_eq!(grib2_word(0, 2, 2), Some("wind"));
    assert_eq!(grib2_word(10, 0, 3), Some("waves"));
    assert_eq!(grib1_word(128, 151), Some("pressure"));
    assert_eq!(centre_name(98), "ecmf");
}
