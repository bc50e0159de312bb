//! GRIB1/GRIB2 metadata for the weather preview, never trusting the file: files over
//! [`MAX_GRIB_BYTES`] or [`MAX_MESSAGES`] are refused, and a truncated or corrupted file
//! gives [`NotGrib`] ("not a readable GRIB"), never a crash.
//!
//! The metadata comes from the headers only ([`headers`], read by us, bounded), so that every
//! grid ecCodes' `grib_ls` describes is described the same way, including those the decoder
//! cannot unpack (reduced Gaussian and lat/lon grids, spherical harmonics, projections). The
//! wind picture needs the values: [`wind_grid`] decodes the 10 m wind of one forecast step
//! with the `grib-reader` crate (pure Rust, MIT OR Apache-2.0) under `catch_unwind`,
//! down-sampled.
//!
//! [`summarize`] and [`summary_text`] are pure functions over bytes, for the API and for
//! search.

use std::panic::{AssertUnwindSafe, catch_unwind};

use grib_reader::{GribFile, GridDefinition, Message};

/// The largest file read for a preview (a 5 MB forecast is the routine; 64 MiB is ample).
pub const MAX_GRIB_BYTES: usize = 64 * 1024 * 1024;
/// The most messages read.
pub const MAX_MESSAGES: usize = 20_000;
/// The most grid points a down-sampled wind grid holds (a phone draws ~600 arrows well).
pub const MAX_WIND_POINTS: usize = 600;

/// A file that is not a readable GRIB.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable GRIB: {0}")]
pub struct NotGrib(pub String);

/// What a forecast covers (angles in micro-degrees, so that the summary compares exactly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GribSummary {
    /// GRIB edition (1 or 2) of the first message.
    pub edition: u8,
    /// The producing centre: its ecCodes abbreviation when known (`ecmf`, `kwbc`), else
    /// its WMO number.
    pub centre: String,
    /// The centre's WMO number.
    pub centre_id: u16,
    /// The newest reference time (model run), ms since the Unix epoch (UTC).
    pub reference_time_ms: i64,
    /// Forecast hours after the reference time, sorted, without duplicates.
    pub forecast_hours: Vec<i64>,
    /// The area the grids cover; `None` where no grid has a last grid point (spherical
    /// harmonics, polar stereographic or Lambert projections, as `grib_ls` shows them).
    pub area: Option<GribArea>,
    /// Grid step (east-west) of the first grid that gives one; `None` if none does
    /// (reduced grids, projections, spherical harmonics: `grib_ls` says MISSING).
    pub resolution_udeg: Option<i64>,
    /// Parameters in words (`wind`, `gusts`, `pressure`, `waves`, `precipitation`,
    /// `temperature`, `cloud`), else the decoder's short name.
    pub parameters: Vec<String>,
    /// Number of messages (fields).
    pub messages: u32,
}

/// A bounding box in micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GribArea {
    /// Northmost latitude.
    pub north_udeg: i64,
    /// Southmost latitude.
    pub south_udeg: i64,
    /// Westmost longitude (as the file gives it, 0–360 or −180–180).
    pub west_udeg: i64,
    /// Eastmost longitude.
    pub east_udeg: i64,
}

/// One field's keys, as compared with ecCodes' `grib_ls` in the parity test (a field is
/// what `grib_ls` calls a message).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageKeys {
    /// Edition.
    pub edition: u8,
    /// Centre number.
    pub centre: u16,
    /// `YYYYMMDD`.
    pub data_date: u32,
    /// `HHMM`.
    pub data_time: u32,
    /// Forecast (end) step in hours.
    pub step_hours: Option<i64>,
    /// Points along a parallel (`None`: missing, as on reduced grids, or no such key).
    pub ni: Option<u32>,
    /// Points along a meridian.
    pub nj: Option<u32>,
    /// First and last grid point (degrees: lat1, lon1, lat2, lon2) of lat/lon and
    /// Gaussian grids; `None` where `grib_ls` has no last grid point (projections,
    /// spherical harmonics).
    pub corners: Option<[f64; 4]>,
    /// East-west increment in degrees (`None`: missing or not given).
    pub resolution: Option<f64>,
    /// GRIB2 discipline/category/number, or GRIB1 table version/indicator (category None).
    pub parameter: (Option<u8>, Option<u8>, u8),
}

fn guard<T>(f: impl FnOnce() -> Result<T, NotGrib>) -> Result<T, NotGrib> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(NotGrib("the decoder failed on this file".into())))
}

fn open(bytes: &[u8]) -> Result<GribFile, NotGrib> {
    if bytes.len() > MAX_GRIB_BYTES {
        return Err(NotGrib(format!("over {MAX_GRIB_BYTES} bytes")));
    }
    if !looks_like_grib(bytes) {
        return Err(NotGrib("no GRIB header".into()));
    }
    let file = GribFile::from_bytes(bytes.to_vec()).map_err(|e| NotGrib(e.to_string()))?;
    match file.message_count() {
        0 => return Err(NotGrib("no message".into())),
        n if n > MAX_MESSAGES => {
            return Err(NotGrib(format!("{n} messages, over {MAX_MESSAGES}")));
        }
        _ => {}
    }
    check_complete(bytes)?;
    Ok(file)
}

/// Every message announced in the file is whole: its length (section 0) fits in the file
/// and it ends with `7777` (the decoder itself skips a cut last message silently).
fn check_complete(bytes: &[u8]) -> Result<(), NotGrib> {
    let mut pos = 0;
    while let Some(at) = bytes[pos..].windows(4).position(|w| w == b"GRIB") {
        let start = pos + at;
        let head = |r: std::ops::Range<usize>| bytes.get(start + r.start..start + r.end);
        let len = match head(7..8).map(|e| e[0]) {
            Some(1) => head(4..7).map(|b| u64::from_be_bytes([0, 0, 0, 0, 0, b[0], b[1], b[2]])),
            Some(2) => head(8..16)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes),
            _ => None,
        };
        let Some(len) = len.and_then(|l| usize::try_from(l).ok()) else {
            return Err(NotGrib(format!(
                "truncated: a message is cut at byte {start}"
            )));
        };
        let end = start.saturating_add(len);
        if end > bytes.len() || bytes.get(end.saturating_sub(4)..end) != Some(b"7777".as_slice()) {
            // GRIB1 over 8 MiB uses ECMWF's scaled length: leave it to the decoder
            if head(4..5).is_some_and(|b| b[0] & 0x80 != 0) {
                return Ok(());
            }
            return Err(NotGrib(format!(
                "truncated: the message at byte {start} is cut"
            )));
        }
        pos = end;
    }
    Ok(())
}

/// Does the file start like a GRIB (`GRIB` in its first 1 KiB, as ecCodes tolerates a
/// short header before it)?
pub fn looks_like_grib(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(4)
        .any(|w| w == b"GRIB")
}

/// The metadata of a GRIB file, read from its headers (see [`headers`]).
///
/// # Errors
/// [`NotGrib`] for anything that is not a complete, readable GRIB1/GRIB2 file.
pub fn summarize(bytes: &[u8]) -> Result<GribSummary, NotGrib> {
    let fields = read_headers(bytes)?;
    let mut s: Option<GribSummary> = None;
    for f in &fields {
        add_field(&mut s, f);
    }
    s.ok_or_else(|| NotGrib("no message".into()))
}

fn read_headers(bytes: &[u8]) -> Result<Vec<headers::FieldHeader>, NotGrib> {
    if bytes.len() > MAX_GRIB_BYTES {
        return Err(NotGrib(format!("over {MAX_GRIB_BYTES} bytes")));
    }
    if !looks_like_grib(bytes) {
        return Err(NotGrib("no GRIB header".into()));
    }
    headers::fields(bytes)
}

/// The keys of every field, for the parity test against `grib_ls`.
///
/// # Errors
/// [`NotGrib`].
pub fn message_keys(bytes: &[u8]) -> Result<Vec<MessageKeys>, NotGrib> {
    Ok(read_headers(bytes)?.iter().map(keys_of).collect())
}

fn keys_of(f: &headers::FieldHeader) -> MessageKeys {
    let [y, mo, d, h, mi, _] = f.reference.map(u32::from);
    let deg = |u: i64| u as f64 / 1e6;
    MessageKeys {
        edition: f.edition,
        centre: f.centre,
        data_date: y * 10_000 + mo * 100 + d,
        data_time: h * 100 + mi,
        step_hours: f.step_hours,
        ni: f.grid.and_then(|g| g.ni),
        nj: f.grid.and_then(|g| g.nj),
        corners: f.grid.and_then(|g| g.corners).map(|c| c.map(deg)),
        resolution: f.grid.and_then(|g| g.di).map(deg),
        parameter: f.parameter,
    }
}

fn latlon(grid: &GridDefinition) -> Option<&grib_reader::LatLonGrid> {
    match grid {
        GridDefinition::LatLon(g) => Some(g),
        GridDefinition::RotatedLatLon(r) => Some(&r.grid),
        _ => None,
    }
}

/// The decoder's step in hours (for the wind picture, which decodes with the crate).
fn step_hours(msg: &Message<'_>) -> Option<i64> {
    let t = msg.forecast_time()?;
    let hours = match msg.forecast_time_unit()? {
        0 => t / 60,    // minutes
        1 => t,         // hours
        2 => t * 24,    // days
        10 => t * 3,    // 3 hours
        11 => t * 6,    // 6 hours
        12 => t * 12,   // 12 hours
        13 => t / 3600, // seconds (GRIB2)
        254 if msg.edition() == 1 => t / 3600,
        _ => return None,
    };
    Some(hours)
}

/// Milliseconds since the Unix epoch of a UTC year, month, day, hour, minute, second.
fn epoch_ms([year, month, day, hour, minute, second]: [u16; 6]) -> i64 {
    // days from civil (Howard Hinnant's algorithm), UTC
    let (y, m, d) = (i64::from(year), i64::from(month), i64::from(day));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    secs * 1000
}

fn add_field(s: &mut Option<GribSummary>, f: &headers::FieldHeader) {
    let s = s.get_or_insert_with(|| GribSummary {
        edition: f.edition,
        centre: centre_name(f.centre),
        centre_id: f.centre,
        reference_time_ms: i64::MIN,
        forecast_hours: Vec::new(),
        area: None,
        resolution_udeg: None,
        parameters: Vec::new(),
        messages: 0,
    });
    s.messages += 1;
    s.reference_time_ms = s.reference_time_ms.max(epoch_ms(f.reference));
    if let Some(h) = f.step_hours
        && let Err(at) = s.forecast_hours.binary_search(&h)
    {
        s.forecast_hours.insert(at, h);
    }
    if let Some([la, oa, lb, ob]) = f.grid.and_then(|g| g.corners) {
        let (mut oa, mut ob) = (oa, ob);
        if oa > 180_000_000 && ob > 180_000_000 {
            // 352°..359.5° is 8°W..0.5°W: shown as sailors read it
            (oa, ob) = (oa - 360_000_000, ob - 360_000_000);
        }
        let a = s.area.get_or_insert(GribArea {
            north_udeg: i64::MIN,
            south_udeg: i64::MAX,
            west_udeg: i64::MAX,
            east_udeg: i64::MIN,
        });
        a.north_udeg = a.north_udeg.max(la.max(lb));
        a.south_udeg = a.south_udeg.min(la.min(lb));
        a.west_udeg = a.west_udeg.min(oa.min(ob));
        a.east_udeg = a.east_udeg.max(oa.max(ob));
    }
    if s.resolution_udeg.is_none() {
        s.resolution_udeg = f.grid.and_then(|g| g.di);
    }
    let name = parameter_word(f.parameter);
    if !s.parameters.contains(&name) {
        s.parameters.push(name);
    }
}

/// The word for a field's parameter (see [`GribSummary::parameters`]); a parameter
/// without a word is named by its numbers as `grib_ls` shows them (`0.1.8` for GRIB2
/// discipline, category, number; `128.130` for GRIB1 table, indicator).
fn parameter_word((a, category, number): (Option<u8>, Option<u8>, u8)) -> String {
    let word = match category {
        None => grib1_word(a.unwrap_or(0), number),
        Some(c) => grib2_word(a.unwrap_or(255), c, number),
    };
    word.map_or_else(
        || match category {
            None => format!("{}.{number}", a.unwrap_or(0)),
            Some(c) => format!("{}.{c}.{number}", a.unwrap_or(255)),
        },
        str::to_owned,
    )
}

fn grib2_word(discipline: u8, category: u8, number: u8) -> Option<&'static str> {
    Some(match (discipline, category, number) {
        (0, 2, 2 | 3) | (0, 2, 1) => "wind",
        (0, 2, 22) => "gusts",
        (0, 3, 0 | 1) => "pressure",
        (10, 0, 3..=10) => "waves",
        (0, 1, 7 | 8 | 52) => "precipitation",
        (0, 0, 0) => "temperature",
        (0, 6, 1) => "cloud",
        _ => return None,
    })
}

fn grib1_word(table: u8, number: u8) -> Option<&'static str> {
    Some(match (table, number) {
        (128, 165 | 166) | (1..=3, 31..=34) => "wind",
        (128, 49) | (2, 180) => "gusts",
        (128, 151 | 134) | (1..=3, 1 | 2) => "pressure",
        (140, 229..=239) | (1..=3, 100..=109) => "waves",
        (128, 228) | (1..=3, 59 | 61) => "precipitation",
        (128, 167) | (1..=3, 11) => "temperature",
        (128, 164) | (1..=3, 71) => "cloud",
        _ => return None,
    })
}

/// ecCodes' abbreviation of a few centres that publish marine forecasts.
fn centre_name(id: u16) -> String {
    match id {
        7 => "kwbc",
        34 => "rjtd",
        54 => "cwao",
        74 => "egrr",
        78 => "edzw",
        80 => "cnmc",
        85 => "lfpw",
        98 => "ecmf",
        _ => return id.to_string(),
    }
    .to_owned()
}

/// A summary in one line of words, for search and for LoRa announcements:
/// `GRIB2 ecmf run 2026-12-07T00Z +0..72h N48.5 S44.0 W-8.0 E-1.0 0.25° wind pressure`.
pub fn summary_text(s: &GribSummary) -> String {
    let hours = match (s.forecast_hours.first(), s.forecast_hours.last()) {
        (Some(a), Some(b)) => format!(" +{a}..{b}h"),
        _ => String::new(),
    };
    let deg = |u: i64| u as f64 / 1e6;
    let area = s.area.map_or_else(String::new, |a| {
        format!(
            " N{} S{} W{} E{}",
            deg(a.north_udeg),
            deg(a.south_udeg),
            deg(a.west_udeg),
            deg(a.east_udeg)
        )
    });
    let resolution = s
        .resolution_udeg
        .map_or_else(String::new, |r| format!(" {}°", deg(r)));
    format!(
        "GRIB{} {} run {}{hours}{area}{resolution} {}",
        s.edition,
        s.centre,
        iso_hour(s.reference_time_ms),
        s.parameters.join(" ")
    )
}

fn iso_hour(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let hour = secs.rem_euclid(86_400) / 3600;
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{hour:02}Z")
}

/// A down-sampled 10 m wind field of one forecast step, for the wind picture.
#[derive(Debug, Clone, PartialEq)]
pub struct WindGrid {
    /// The forecast hours the file holds wind for.
    pub steps: Vec<i64>,
    /// The step drawn.
    pub step: i64,
    /// Latitudes of the rows (degrees).
    pub lats: Vec<f64>,
    /// Longitudes of the columns (degrees).
    pub lons: Vec<f64>,
    /// East component (m/s), row-major, `lats.len() × lons.len()`.
    pub u: Vec<f32>,
    /// North component (m/s).
    pub v: Vec<f32>,
}

fn is_u(msg: &Message<'_>) -> Option<bool> {
    let p = msg.parameter();
    match (
        msg.edition(),
        p.discipline,
        p.category,
        p.number,
        p.table_version,
    ) {
        (2, Some(0), Some(2), 2, _) | (1, _, _, 165 | 33, _) => Some(true),
        (2, Some(0), Some(2), 3, _) | (1, _, _, 166 | 34, _) => Some(false),
        _ => None,
    }
}

/// The wind at forecast step `step` (the first step if `None` or absent), at most
/// [`MAX_WIND_POINTS`] points.
///
/// # Errors
/// [`NotGrib`] if the file has no u/v wind pair on a lat/lon grid, or cannot be decoded.
pub fn wind_grid(bytes: &[u8], step: Option<i64>) -> Result<WindGrid, NotGrib> {
    guard(|| {
        let file = open(bytes)?;
        let winds: Vec<(Message<'_>, bool, i64)> = file
            .messages()
            .filter_map(|m| {
                let u = is_u(&m)?;
                let h = step_hours(&m).unwrap_or(0);
                latlon(m.grid_definition())?;
                Some((m, u, h))
            })
            .collect();
        let mut steps: Vec<i64> = winds.iter().map(|w| w.2).collect();
        steps.sort_unstable();
        steps.dedup();
        let want = step
            .filter(|s| steps.contains(s))
            .or_else(|| steps.first().copied())
            .ok_or_else(|| NotGrib("no 10 m wind on a lat/lon grid".into()))?;
        let find = |u: bool| {
            winds
                .iter()
                .find(|w| w.1 == u && w.2 == want)
                .ok_or_else(|| NotGrib("u or v wind missing for this step".into()))
        };
        let (mu, mv) = (&find(true)?.0, &find(false)?.0);
        let decode = |m: &Message<'_>| {
            m.read_flat_data_as_f32()
                .map_err(|e| NotGrib(e.to_string()))
        };
        let (fu, fv) = (decode(mu)?, decode(mv)?);
        let lats = mu.latitudes().ok().flatten().unwrap_or_default();
        let lons = mu.longitudes().ok().flatten().unwrap_or_default();
        let (ni, nj) = (lons.len(), lats.len());
        if ni * nj != fu.len() || fu.len() != fv.len() || ni == 0 {
            return Err(NotGrib("grid and data sizes differ".into()));
        }
        let stride = ((ni * nj) as f64 / MAX_WIND_POINTS as f64)
            .sqrt()
            .ceil()
            .max(1.0) as usize;
        let rows: Vec<usize> = (0..nj).step_by(stride).collect();
        let cols: Vec<usize> = (0..ni).step_by(stride).collect();
        let pick = |f: &[f32]| {
            rows.iter()
                .flat_map(|r| cols.iter().map(move |c| f[r * ni + c]))
                .collect::<Vec<f32>>()
        };
        Ok(WindGrid {
            steps,
            step: want,
            lats: rows.iter().map(|r| lats[*r]).collect(),
            lons: cols.iter().map(|c| lons[*c]).collect(),
            u: pick(&fu),
            v: pick(&fv),
        })
    })
}

pub mod headers;

#[cfg(test)]
mod tests;
