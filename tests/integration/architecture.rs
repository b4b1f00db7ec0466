//! The layers `src/lib.rs` describes, held: each module of the crate
//! imports only modules of a lower rank, so the core never reaches for a
//! front end and no two layers import each other. Read from the source
//! itself, every `crate::…` path in every file.

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module and its rank: a module may import only modules
/// ranked below it. Front ends share a rank, so none imports another; the
/// CLI, which starts each of them, sits above them all.
const RANKS: &[(&str, u8)] = &[
    ("domain", 0),
    ("error", 1),
    ("documents", 1),
    ("telemetry", 0),
    ("auth", 2),
    ("validate", 2),
    ("words", 2),
    ("providers", 3),
    ("store", 3),
    ("logging", 3),
    ("files", 2),
    ("config", 4),
    ("sim", 5),
    ("engine", 6),
    ("demo", 7),
    ("server", 8),
    ("client", 8),
    ("tui", 8),
    ("cli", 9),
];

fn rank(module: &str) -> Option<u8> {
    RANKS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, r)| *r)
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a file's code names as `crate::module`.
fn imports(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let before = source[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = source[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap();
        let module = first.as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let own = rank(module).unwrap_or_else(|| {
            panic!("src/{module}: a new module; give it its layer in RANKS and lib.rs")
        });
        let source = std::fs::read_to_string(file).unwrap();
        for imported in imports(&source) {
            if imported == module {
                continue;
            }
            match rank(&imported) {
                Some(theirs) if theirs < own => {}
                Some(_) => wrong.push(format!("{} imports {imported}", relative.display())),
                // A crate-level item (a macro, a re-export) is no module.
                None => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_that_runs_back_up() {
    let found =
        imports("use crate::cli::Failure;\nlet x = crate::domain::seconds(d); mycrate::tui");
    assert_eq!(
        found,
        BTreeSet::from(["cli".to_string(), "domain".to_string()])
    );
}
