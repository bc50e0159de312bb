//! What a boat fetches without being asked, by link and size (issue 11):
//!
//! | link    | fetched automatically                                   | otherwise         |
//! |---------|---------------------------------------------------------|-------------------|
//! | `lan`   | every attachment                                        | —                 |
//! | `halow` | weather files (GRIB) and files up to `auto_fetch_max_bytes` | on demand     |
//! | LoRa    | never (the bridge only announces that a file exists)   | —                 |
//!
//! A relay that cannot read a blob's manifest does not know whether it is a forecast: on
//! `halow` it relays blobs up to the size limit only. "On demand" means a user pressed
//! "download" (`flotilla file fetch`, `POST …/files/{id}/fetch`).

use crate::config::LinkProfile;

/// The default size under which HaLow fetches any file automatically (1 MB: about 50 s at
/// HaLow's lowest useful rate of 150 kbit/s).
pub const DEFAULT_AUTO_FETCH_MAX_BYTES: u64 = 1_000_000;

/// Fetch this file now, without a user asking?
pub fn auto_fetch(profile: LinkProfile, size: u64, weather: bool, auto_max: u64) -> bool {
    match profile {
        LinkProfile::Lan => true,
        LinkProfile::Halow => weather || size <= auto_max,
    }
}

/// Does this name or MIME type say "weather file"? (GRIB files: `.grb`, `.grb2`, `.grib`,
/// `.grib2`, or a GRIB MIME type.) Decided from the manifest, before any byte arrives.
pub fn is_weather_name(name: &str, mime: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".grb", ".grb2", ".grib", ".grib2", ".grb.bz2", ".grib.bz2"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || mime.contains("grib")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_fetches_all_halow_only_weather_and_small_files() {
        let big = 5_000_000;
        assert!(auto_fetch(LinkProfile::Lan, big, false, 1_000));
        assert!(!auto_fetch(LinkProfile::Halow, big, false, 1_000_000));
        assert!(auto_fetch(LinkProfile::Halow, big, true, 1_000_000));
        assert!(auto_fetch(LinkProfile::Halow, 999, false, 1_000));
        assert!(is_weather_name(
            "GFS_20261207.GRB2",
            "application/octet-stream"
        ));
        assert!(is_weather_name("x.bin", "application/x-grib"));
        assert!(!is_weather_name("plan.pdf", "application/pdf"));
    }
}
