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
        // cut inside the last message (some samples end with padding after its `7777`: a cut
        // there leaves a whole message, which ecCodes reads too)
        let end = bytes
            .windows(4)
            .rposition(|w| w == b"7777")
            .map_or(bytes.len(), |p| p + 4);
        for cut in [end / 2, end.saturating_sub(3), 20] {
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
    // headers are read by us: every grid ecCodes ships a sample of has a summary
    assert_eq!(
        read,
        samples.len(),
        "{read} of {} samples read",
        samples.len()
    );
}

#[test]
fn times_and_words() {
    let ms = epoch_ms([2026, 12, 7, 6, 0, 0]);
    assert_eq!(ms, 1_796_623_200_000);
    assert_eq!(iso_hour(ms), "2026-12-07T06Z");
    assert_eq!(grib2_word(0, 2, 2), Some("wind"));
    assert_eq!(grib2_word(10, 0, 3), Some("waves"));
    assert_eq!(grib1_word(128, 151), Some("pressure"));
    assert_eq!(centre_name(98), "ecmf");
}

/// A GRIB2 message of one field built by hand: section 0, 1, 3 (template `grid`), 4
/// (template 4.0), 5, 6, 7, end.
fn grib2_message(grid_template: u16, grid: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut sec = |n: u8, content: &[u8]| {
        body.extend_from_slice(&(content.len() as u32 + 5).to_be_bytes());
        body.push(n);
        body.extend_from_slice(content);
    };
    // section 1: centre 98, subcentre 0, tables, 2026-12-07 06:00:00
    sec(1, &[0, 98, 0, 0, 2, 1, 1, 0x07, 0xea, 12, 7, 6, 0, 0, 0, 1]);
    let mut s3 = vec![0, 0, 0, 0, 4, 0, 0];
    s3.extend_from_slice(&grid_template.to_be_bytes());
    s3.extend_from_slice(grid);
    sec(3, &s3);
    // section 4: template 4.0, wind (0.2.2), hours, step 12
    let mut s4 = vec![0, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 12];
    s4.extend_from_slice(&[1, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0]);
    sec(4, &s4);
    sec(5, &[0, 0, 0, 4, 0, 0]);
    sec(6, &[255]);
    sec(7, &[]);
    let mut m = b"GRIB\0\0\0\x02".to_vec();
    m.extend_from_slice(&((16 + body.len() + 4) as u64).to_be_bytes());
    m.extend_from_slice(&body);
    m.extend_from_slice(b"7777");
    m
}

#[test]
fn headers_of_a_hand_built_grib2_lat_lon_field() {
    // template 3.0: shape, radius…, Ni 2, Nj 2, basic angle 0, La1 48.5 Lo1 -8 (sign bit),
    // flags 0x30, La2 44, Lo2 -0.5, Di 0.5, Dj 0.15, scan 0
    let mut g = vec![6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for v in [2u32, 2, 0, 0xffff_ffff, 48_500_000, 0x8000_0000 | 8_000_000] {
        g.extend_from_slice(&v.to_be_bytes());
    }
    g.push(0x30);
    for v in [44_000_000u32, 0x8000_0000 | 500_000, 500_000, 150_000] {
        g.extend_from_slice(&v.to_be_bytes());
    }
    g.push(0);
    let m = grib2_message(0, &g);
    let s = summarize(&m).expect("readable");
    assert_eq!(s.edition, 2);
    assert_eq!(s.centre, "ecmf");
    assert_eq!(s.forecast_hours, vec![12]);
    assert_eq!(s.reference_time_ms, epoch_ms([2026, 12, 7, 6, 0, 0]));
    assert_eq!(
        s.area,
        Some(GribArea {
            north_udeg: 48_500_000,
            south_udeg: 44_000_000,
            west_udeg: -8_000_000,
            east_udeg: -500_000
        })
    );
    assert_eq!(s.resolution_udeg, Some(500_000));
    assert_eq!(s.parameters, vec!["wind"]);
    // two messages, then every cut and every single-byte corruption: an answer, never a panic
    let two = [m.clone(), m.clone()].concat();
    assert_eq!(summarize(&two).map(|s| s.messages), Ok(2));
    for cut in 0..two.len() {
        let _ = summarize(&two[..cut]);
    }
    for i in 0..two.len() {
        for x in [0x00, 0xff, 0x80, 0x01] {
            let mut bad = two.clone();
            bad[i] = x;
            let _ = summarize(&bad);
            let _ = message_keys(&bad);
        }
    }
}

#[test]
fn spherical_harmonics_have_no_area_and_no_resolution() {
    let m = grib2_message(50, &[0; 20]);
    let s = summarize(&m).expect("readable");
    assert_eq!((s.area, s.resolution_udeg), (None, None));
    assert!(!summary_text(&s).contains(" N"), "{}", summary_text(&s));
}
