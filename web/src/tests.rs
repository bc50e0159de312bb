//! Tests of the asset table: every file of `static/` is embedded, nothing escapes the root.

use super::{ASSETS, INDEX, asset, asset_paths, content_type};
use std::path::{Path, PathBuf};

fn static_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("static")
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read static dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            walk(&path, root, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_static_file_is_in_the_table_and_nothing_else() {
    let mut on_disk = Vec::new();
    walk(&static_dir(), &static_dir(), &mut on_disk);
    on_disk.sort();
    let mut table: Vec<String> = asset_paths().map(str::to_owned).collect();
    table.sort();
    assert_eq!(
        on_disk, table,
        "web/src/lib.rs ASSETS must list exactly the files of web/static/"
    );
}

#[test]
fn embedded_bytes_match_the_files() {
    for (path, bytes) in ASSETS {
        let disk = std::fs::read(static_dir().join(path)).expect("read asset");
        assert_eq!(&disk[..], *bytes, "{path}");
    }
}

#[test]
fn no_asset_escapes_the_root() {
    for bad in [
        "../Cargo.toml",
        "js/../../Cargo.toml",
        "/../src/lib.rs",
        "js/./main.js",
        "js//main.js",
        "js\\main.js",
        "..",
    ] {
        assert_eq!(asset(bad), None, "{bad}");
    }
}

#[test]
fn index_and_paths_resolve_with_their_types() {
    assert_eq!(
        asset("").map(|a| a.content_type),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(asset("/"), asset(INDEX));
    assert_eq!(
        asset("/js/main.js").map(|a| a.content_type),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        asset("app.css").map(|a| a.content_type),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        asset("i18n/fr.json").map(|a| a.content_type),
        Some("application/json")
    );
    assert_eq!(asset("nope.js"), None);
    assert_eq!(content_type("x.bin"), "application/octet-stream");
}

#[test]
fn index_references_only_embedded_files() {
    let index = std::str::from_utf8(asset(INDEX).expect("index").bytes).expect("utf-8");
    for reference in ["/app.css", "/js/boot.js", "/js/main.js"] {
        assert!(index.contains(reference), "{reference}");
        assert!(asset(reference).is_some(), "{reference}");
    }
    assert!(
        !index.contains("http://") && !index.contains("https://"),
        "no external resource"
    );
}
