//! Forecasts grouped by area: newest reference time (model run) first, older runs of the
//! same area marked superseded. Two forecasts cover "the same area" when their bounding
//! boxes agree to a tenth of a degree. Pure: the API and the storage budget (which never
//! evicts the newest forecast of an area) use it.

use std::collections::BTreeMap;
use std::sync::Arc;

use flotilla_protocol::id::FileId;

use super::grib::GribSummary;

/// One forecast in the weather list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    /// The file.
    pub file: FileId,
    /// Its name.
    pub name: String,
    /// Its preview.
    pub grib: Arc<GribSummary>,
    /// The area's key (`N48.5 S44.0 W-8.0 E-1.0`).
    pub area: String,
    /// A newer forecast of the same area exists.
    pub superseded: bool,
}

/// The area key of a summary; a file without a lat/lon extent (spherical harmonics,
/// projections) is keyed by its centre (`ecmf, no area`).
pub fn area_key(s: &GribSummary) -> String {
    let d = |u: i64| (u as f64 / 1e5).round() / 10.0;
    s.area.map_or_else(
        || format!("{}, no area", s.centre),
        |a| {
            format!(
                "N{} S{} W{} E{}",
                d(a.north_udeg),
                d(a.south_udeg),
                d(a.west_udeg),
                d(a.east_udeg)
            )
        },
    )
}

/// Groups forecasts by area (the area with the newest run first), newest run first inside
/// an area, every older one superseded. Same run twice: the first file listed wins.
pub fn group(items: Vec<(FileId, String, Arc<GribSummary>)>) -> Vec<Forecast> {
    let mut areas: BTreeMap<String, Vec<Forecast>> = BTreeMap::new();
    for (file, name, grib) in items {
        let area = area_key(&grib);
        areas.entry(area.clone()).or_default().push(Forecast {
            file,
            name,
            grib,
            area,
            superseded: false,
        });
    }
    let mut groups: Vec<Vec<Forecast>> = areas
        .into_values()
        .map(|mut g| {
            g.sort_by_key(|f| std::cmp::Reverse(f.grib.reference_time_ms));
            for f in g.iter_mut().skip(1) {
                f.superseded = true;
            }
            g
        })
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g[0].grib.reference_time_ms));
    groups.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(north: i64, run: i64) -> Arc<GribSummary> {
        Arc::new(GribSummary {
            edition: 2,
            centre: "ecmf".into(),
            centre_id: 98,
            reference_time_ms: run,
            forecast_hours: vec![0, 6],
            area: Some(crate::files::grib::GribArea {
                north_udeg: north,
                south_udeg: 44_000_000,
                west_udeg: -8_000_000,
                east_udeg: -1_000_000,
            }),
            resolution_udeg: Some(250_000),
            parameters: vec!["wind".into()],
            messages: 4,
        })
    }

    #[test]
    fn newest_first_per_area_older_superseded() {
        let list = group(vec![
            (FileId([1; 32]), "old.grb".into(), s(48_500_000, 100)),
            (FileId([2; 32]), "other.grb".into(), s(50_000_000, 150)),
            (FileId([3; 32]), "new.grb".into(), s(48_500_010, 200)),
        ]);
        let order: Vec<(u8, bool)> = list.iter().map(|f| (f.file.0[0], f.superseded)).collect();
        assert_eq!(order, vec![(3, false), (1, true), (2, false)]);
        assert_eq!(list[0].area, "N48.5 S44 W-8 E-1");
    }
}
