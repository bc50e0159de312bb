//! GRIB metadata parity with ecCodes (issue 11): every GRIB sample Debian's
//! `libeccodes-data` ships, plus multi-step forecasts of a sailing area built with ecCodes'
//! own `grib_set` and `grib_copy`, read by our preview and by `grib_ls`; the keys must agree.
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

const KEYS: &str = "edition,centre:i,dataDate,dataTime,endStep,Ni,Nj,\
    latitudeOfFirstGridPointInDegrees,longitudeOfFirstGridPointInDegrees,\
    latitudeOfLastGridPointInDegrees,longitudeOfLastGridPointInDegrees,\
    discipline,parameterCategory,parameterNumber,table2Version,indicatorOfParameter,gridType";

fn grib_ls(path: &Path) -> anyhow::Result<Vec<Value>> {
    let out = Command::new("grib_ls")
        .args(["-j", "-p", KEYS])
        .arg(path)
        .output()?;
    let v: Value = serde_json::from_slice(&out.stdout)?;
    Ok(v["messages"].as_array().cloned().unwrap_or_default())
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

/// Which keys differ between our reading and `grib_ls`'s (empty: parity).
fn differences(ours: &MessageKeys, theirs: &Value) -> Vec<&'static str> {
    let mut diff = Vec::new();
    let eq = |a: f64, key: &str| num(&theirs[key]).is_some_and(|b| (a - b).abs() < 1e-3);
    let checks: [(&str, f64); 5] = [
        ("edition", f64::from(ours.edition)),
        ("centre", f64::from(ours.centre)),
        ("dataDate", f64::from(ours.data_date)),
        ("dataTime", f64::from(ours.data_time)),
        ("endStep", ours.step_hours.map_or(f64::NAN, |h| h as f64)),
    ];
    for (key, value) in checks {
        if !eq(value, key) {
            diff.push(key);
        }
    }
    if theirs["gridType"] == "regular_ll" || theirs["gridType"] == "rotated_ll" {
        if !eq(ours.ni as f64, "Ni") || !eq(ours.nj as f64, "Nj") {
            diff.push("Ni/Nj");
        }
        let keys = [
            "latitudeOfFirstGridPointInDegrees",
            "longitudeOfFirstGridPointInDegrees",
            "latitudeOfLastGridPointInDegrees",
            "longitudeOfLastGridPointInDegrees",
        ];
        match ours.corners {
            Some(c) if c.iter().zip(keys).all(|(v, k)| eq(*v, k)) => {}
            _ => diff.push("area"),
        }
    }
    let (a, b, n) = ours.parameter;
    let param_ok = if ours.edition == 1 {
        eq(f64::from(a.unwrap_or(0)), "table2Version") && eq(f64::from(n), "indicatorOfParameter")
    } else {
        eq(f64::from(a.unwrap_or(255)), "discipline")
            && eq(f64::from(b.unwrap_or(255)), "parameterCategory")
            && eq(f64::from(n), "parameterNumber")
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
    }
    println!(
        "GRIB parity with grib_ls: {files_equal} of {} files and {messages_equal} of {messages} \
         messages equal on edition, centre, date, time, step, grid size, area and parameter; \
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
        assert_eq!((s.north_udeg, s.south_udeg), (48_500_000, 44_000_000));
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
        assert_eq!((wind.step, wind.lats.len(), wind.lons.len()), (12, 31, 16));
    }
    assert!(
        messages_equal * 10 >= messages * 8,
        "parity under 80 %: {messages_equal} of {messages}"
    );
    Ok(())
}
