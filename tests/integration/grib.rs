//! GRIB metadata parity with ecCodes (issue 11): every GRIB sample Debian's
//! `libeccodes-data` ships, plus multi-step forecasts of a sailing area built with ecCodes'
//! own `grib_set` and `grib_copy` (and accumulated precipitation, a statistically processed
//! field), read by our preview and by `grib_ls`; every key of every message must agree, and
//! where `grib_ls` has no value (the area of spherical harmonics, the increment of a reduced
//! grid) we must show none either.
//! `scripts/test.sh` installs the tools (`need_eccodes`); without them the test says so
//! and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use flotilla_node::files::grib::{self, MessageKeys};
use serde_json::Value;

/// ecCodes' sample directory (Debian).
pub(crate) const SAMPLES: &str = "/usr/share/eccodes/samples";

/// Are `grib_ls`, `grib_set` and `grib_copy` here?
pub(crate) fn have_eccodes() -> bool {
    ["grib_ls", "grib_set", "grib_copy"].iter().all(|t| {
        Command::new(t)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }) && Path::new(SAMPLES).is_dir()
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// A forecast of the Bay of Biscay (48.5N–44N, 8W–0.5W, 0.5° × 0.15°) built from ecCodes'
/// regular lat/lon sample: 10 m wind (u, v) and mean sea-level pressure at each of `steps`,
/// run `date` at 00Z, in GRIB `edition`; the messages joined by `grib_copy`.
pub(crate) fn biscay_forecast(
    dir: &Path,
    edition: u8,
    date: &str,
    steps: &[u32],
) -> anyhow::Result<PathBuf> {
    let sample = format!("{SAMPLES}/regular_ll_sfc_grib{edition}.tmpl");
    let mut parts = Vec::new();
    for step in steps {
        for param in ["10u", "10v", "msl"] {
            let out = dir.join(format!("{date}_{edition}_{step}_{param}.part"));
            let set = format!(
                "latitudeOfFirstGridPointInDegrees=48.5,latitudeOfLastGridPointInDegrees=44,\
                 longitudeOfFirstGridPointInDegrees=-8,longitudeOfLastGridPointInDegrees=-0.5,\
                 iDirectionIncrementInDegrees=0.5,jDirectionIncrementInDegrees=0.15,\
                 shortName={param},stepRange={step},dataDate={date},dataTime=0"
            );
            run(Command::new("grib_set")
                .args(["-s", &set])
                .arg(&sample)
                .arg(&out))?;
            parts.push(out);
        }
    }
    let file = dir.join(format!("biscay_{date}.grb{edition}"));
    run(Command::new("grib_copy").args(&parts).arg(&file))?;
    Ok(file)
}

/// Accumulated precipitation over hours 6–12 (a statistically processed field: GRIB1 time
/// range indicator 4, GRIB2 product template 4.8, whose end step is the end of the interval),
/// built with `grib_set` from the regular lat/lon sample.
pub(crate) fn accumulation(dir: &Path, edition: u8) -> anyhow::Result<PathBuf> {
    let sample = format!("{SAMPLES}/regular_ll_sfc_grib{edition}.tmpl");
    let set = if edition == 1 {
        "table2Version=2,indicatorOfParameter=61,timeRangeIndicator=4,stepRange=6-12,\
         dataDate=20261207"
    } else {
        "productDefinitionTemplateNumber=8,parameterCategory=1,parameterNumber=8,\
         typeOfStatisticalProcessing=1,stepRange=6-12,dataDate=20261207"
    };
    let out = dir.join(format!("precipitation.grb{edition}"));
    run(Command::new("grib_set")
        .args(["-s", set])
        .arg(&sample)
        .arg(&out))?;
    Ok(out)
}

const KEYS: &str = "edition,centre:i,dataDate,dataTime,endStep,Ni,Nj,\
    latitudeOfFirstGridPointInDegrees,longitudeOfFirstGridPointInDegrees,\
    latitudeOfLastGridPointInDegrees,longitudeOfLastGridPointInDegrees,\
    iDirectionIncrementInDegrees,\
    discipline,parameterCategory,parameterNumber,table2Version,indicatorOfParameter,gridType";

fn grib_ls(path: &Path) -> anyhow::Result<Vec<Value>> {
    let out = Command::new("grib_ls")
        .args(["-j", "-p", KEYS])
        .arg(path)
        .output()?;
    let v: Value = serde_json::from_slice(&out.stdout)?;
    Ok(v["messages"].as_array().cloned().unwrap_or_default())
}

/// A key's number, `None` when `grib_ls` says `MISSING` or `not_found`.
fn num(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

/// Which keys differ between our reading and `grib_ls`'s (empty: parity). Every key is
/// compared on every field: where `grib_ls` has no number for a key (`MISSING`,
/// `not_found`: the last grid point of a spherical-harmonics field, the increment of a
/// reduced grid), we must have none either.
fn differences(ours: &MessageKeys, theirs: &Value) -> Vec<&'static str> {
    let mut diff = Vec::new();
    let same = |a: Option<f64>, key: &str| match (a, num(&theirs[key])) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-3,
        (None, None) => true,
        _ => false,
    };
    let checks: [(&str, Option<f64>); 5] = [
        ("edition", Some(f64::from(ours.edition))),
        ("centre", Some(f64::from(ours.centre))),
        ("dataDate", Some(f64::from(ours.data_date))),
        ("dataTime", Some(f64::from(ours.data_time))),
        ("endStep", ours.step_hours.map(|h| h as f64)),
    ];
    for (key, value) in checks {
        if !same(value, key) {
            diff.push(key);
        }
    }
    // grid size where we read one (projections call it Nx/Ny; grib_ls aliases Ni/Nj)
    if (ours.ni.is_some() || ours.nj.is_some())
        && (!same(ours.ni.map(f64::from), "Ni") || !same(ours.nj.map(f64::from), "Nj"))
    {
        diff.push("Ni/Nj");
    }
    let corners = [
        "latitudeOfFirstGridPointInDegrees",
        "longitudeOfFirstGridPointInDegrees",
        "latitudeOfLastGridPointInDegrees",
        "longitudeOfLastGridPointInDegrees",
    ];
    let area_ok = match ours.corners {
        Some(c) => c.iter().zip(corners).all(|(v, k)| same(Some(*v), k)),
        // no area: grib_ls has no last grid point
        None => num(&theirs[corners[2]]).is_none(),
    };
    if !area_ok {
        diff.push("area");
    }
    if !same(ours.resolution, "iDirectionIncrementInDegrees") {
        diff.push("resolution");
    }
    let (a, b, n) = ours.parameter;
    let param_ok = if ours.edition == 1 {
        same(a.map(f64::from), "table2Version") && same(Some(f64::from(n)), "indicatorOfParameter")
    } else {
        same(a.map(f64::from), "discipline")
            && same(b.map(f64::from), "parameterCategory")
            && same(Some(f64::from(n)), "parameterNumber")
    };
    if !param_ok {
        diff.push("parameter");
    }
    diff
}

#[test]
fn grib_previews_agree_with_grib_ls_on_ecmwf_samples_and_built_forecasts() -> anyhow::Result<()> {
    if !have_eccodes() {
        println!("skipped: ecCodes tools not installed (scripts/test.sh installs them)");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let mut corpus: Vec<PathBuf> = std::fs::read_dir(SAMPLES)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.to_string_lossy().contains("grib") && p.extension().is_some_and(|e| e == "tmpl")
        })
        .collect();
    corpus.sort();
    let built = [
        biscay_forecast(tmp.path(), 1, "20261206", &[0, 6, 12, 24])?,
        biscay_forecast(tmp.path(), 2, "20261207", &[0, 6, 12, 24, 48])?,
    ];
    corpus.extend(built.iter().cloned());
    corpus.push(accumulation(tmp.path(), 1)?);
    corpus.push(accumulation(tmp.path(), 2)?);
    let (mut files_equal, mut messages, mut messages_equal, mut unreadable) = (0, 0, 0, Vec::new());
    let mut differing: std::collections::BTreeMap<&str, usize> = Default::default();
    for path in &corpus {
        let bytes = std::fs::read(path)?;
        let theirs = grib_ls(path)?;
        messages += theirs.len();
        let Ok(ours) = grib::message_keys(&bytes) else {
            unreadable.push(path.file_name().map(|n| n.to_string_lossy().into_owned()));
            continue;
        };
        let mut all = ours.len() == theirs.len();
        if !all {
            *differing.entry("messages").or_default() += 1;
        }
        for (o, t) in ours.iter().zip(&theirs) {
            let d = differences(o, t);
            if d.is_empty() {
                messages_equal += 1;
            } else {
                all = false;
                for k in d {
                    *differing.entry(k).or_default() += 1;
                }
            }
        }
        files_equal += usize::from(all);
        if !all {
            println!("differs: {}", path.display());
        }
    }
    println!(
        "GRIB parity with grib_ls: {files_equal} of {} files and {messages_equal} of {messages} \
         messages equal on edition, centre, date, time, step, grid size, area, resolution and \
         parameter; \
         unreadable by us: {unreadable:?}; keys that differed: {differing:?}",
        corpus.len()
    );
    for path in &built {
        let bytes = std::fs::read(path)?;
        let ours = grib::message_keys(&bytes)?;
        for (o, t) in ours.iter().zip(grib_ls(path)?) {
            assert!(
                differences(o, &t).is_empty(),
                "{}: {o:?} vs {t}",
                path.display()
            );
        }
        let s = grib::summarize(&bytes)?;
        assert_eq!(s.parameters, vec!["wind", "pressure"], "{}", path.display());
        let area = s.area.expect("a lat/lon area");
        assert_eq!((area.north_udeg, area.south_udeg), (48_500_000, 44_000_000));
        assert!(
            s.forecast_hours.starts_with(&[0, 6, 12, 24]),
            "{:?}",
            s.forecast_hours
        );
        for cut in [bytes.len() / 3 + 100, bytes.len() - 1] {
            let r = grib::summarize(&bytes[..cut]);
            assert!(
                r.as_ref()
                    .is_err_and(|e| e.to_string().starts_with("not a readable GRIB")),
                "{r:?}"
            );
        }
        let wind = grib::wind_grid(&bytes, Some(12))?;
        assert_eq!(s.resolution_udeg, Some(500_000));
        assert_eq!((wind.step, wind.lats.len(), wind.lons.len()), (12, 31, 16));
    }
    assert!(
        unreadable.is_empty() && files_equal == corpus.len() && messages_equal == messages,
        "parity: {files_equal} of {} files, {messages_equal} of {messages} messages; \
         unreadable {unreadable:?}; differing keys {differing:?}",
        corpus.len()
    );
    // the summary shows what grib_ls shows: no area for spherical harmonics and projections,
    // an area but no increment for reduced grids
    for (name, area, resolution) in [
        ("sh_sfc_grib1.tmpl", false, false),
        ("sh_sfc_grib2.tmpl", false, false),
        ("polar_stereographic_sfc_grib2.tmpl", false, false),
        ("reduced_gg_sfc_grib1.tmpl", true, false),
        ("reduced_gg_sfc_grib2.tmpl", true, false),
        ("reduced_ll_sfc_grib2.tmpl", true, false),
        ("regular_gg_sfc_grib2.tmpl", true, true),
    ] {
        let s = grib::summarize(&std::fs::read(Path::new(SAMPLES).join(name))?)?;
        assert_eq!(
            (s.area.is_some(), s.resolution_udeg.is_some()),
            (area, resolution),
            "{name}: {s:?}"
        );
    }
    for edition in [1, 2] {
        let s = grib::summarize(&std::fs::read(accumulation(tmp.path(), edition)?)?)?;
        assert_eq!(s.forecast_hours, vec![12], "edition {edition}");
        assert_eq!(s.parameters, vec!["precipitation"], "edition {edition}");
    }
    Ok(())
}
