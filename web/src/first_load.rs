//! The first-load budget: the gzip size of everything a first visit fetches (index.html, the
//! CSS, boot.js, every ES module reachable by static imports from js/main.js, and both i18n
//! tables) must stay under FIRST_LOAD_BUDGET_BYTES.

use super::asset;
use flate2::{Compression, write::GzEncoder};
use std::collections::BTreeSet;
use std::io::Write;

/// The budget for a first load over a slow boat link.
const FIRST_LOAD_BUDGET_BYTES: usize = 150 * 1024;

/// The module paths a module imports statically (`import … from './x.js'`, `import './y.js'`).
fn imports_of(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let line = line.trim_start();
        if !(line.starts_with("import ")
            || line.starts_with("} from ")
            || line.starts_with("export "))
        {
            continue;
        }
        let Some(spec) = line.rsplit(['\'', '"']).nth(1) else {
            continue;
        };
        if spec.starts_with('.')
            && spec.ends_with(".js")
            && (line.contains(" from ")
                || line.starts_with("import '")
                || line.starts_with("import \""))
        {
            found.push(spec.to_owned());
        }
    }
    found
}

/// Resolve `spec` relative to the module at `from` (both relative to the UI root).
fn resolve(from: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn module_closure(entry: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![entry.to_owned()];
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let bytes = asset(&path)
            .unwrap_or_else(|| panic!("{path} is imported but not embedded"))
            .bytes;
        let source = std::str::from_utf8(bytes).expect("utf-8 module");
        todo.extend(imports_of(source).iter().map(|spec| resolve(&path, spec)));
    }
    seen
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("gzip to memory");
    encoder.finish().expect("gzip to memory").len()
}

#[test]
fn resolves_relative_imports() {
    assert_eq!(resolve("js/views/post.js", "../api.js"), "js/api.js");
    assert_eq!(
        resolve("js/main.js", "./views/shell.js"),
        "js/views/shell.js"
    );
    assert_eq!(
        imports_of("import { a } from './a.js';\nimport './b.js';\nconst x = 'c.js';"),
        vec!["./a.js", "./b.js"]
    );
}

#[test]
fn first_load_fits_the_gzip_budget() {
    let mut files: BTreeSet<String> = [
        "index.html",
        "app.css",
        "js/boot.js",
        "i18n/fr.json",
        "i18n/en.json",
    ]
    .map(String::from)
    .into();
    let modules = module_closure("js/main.js");
    assert!(modules.len() > 10, "the import scan found only {modules:?}");
    files.extend(modules);
    let raw: usize = files
        .iter()
        .map(|f| asset(f).map_or(0, |a| a.bytes.len()))
        .sum();
    let gzipped: usize = files
        .iter()
        .map(|f| gzip_len(asset(f).expect("embedded").bytes))
        .sum();
    println!(
        "first load: {} files, {raw} bytes raw, {gzipped} bytes gzipped (budget {FIRST_LOAD_BUDGET_BYTES})",
        files.len()
    );
    assert!(
        gzipped < FIRST_LOAD_BUDGET_BYTES,
        "first load is {gzipped} bytes gzipped"
    );
}
