//! payops' own files (the store, its WAL, the logs, the lock beside them)
//! hold token hashes, the audit trail and customers' sessions: folders are
//! made 0700 and files 0600 whatever the umask, and a start warns about any
//! that are open to others.

use std::path::{Path, PathBuf};

/// Makes `dir` and its missing parents, each new one readable by its owner
/// alone. One that exists is left as it is (and [`exposed`] says so).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `file` empty and readable by its owner alone, unless it exists:
/// SQLite then gives its WAL and shared-memory files the same mode.
pub fn create_private_file(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Those of `paths` (and, for folders, what they hold) that other users may
/// read or enter, with their mode: a warning for each at start.
pub fn exposed(paths: &[PathBuf]) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    for path in paths {
        note_exposed(path, &mut found);
        if path.is_dir()
            && let Ok(entries) = std::fs::read_dir(path)
        {
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    note_exposed(&entry.path(), &mut found);
                }
            }
        }
    }
    found
}

#[cfg(unix)]
fn note_exposed(path: &Path, found: &mut Vec<(PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            found.push((path.to_path_buf(), mode));
        }
    }
}

#[cfg(not(unix))]
fn note_exposed(_path: &Path, _found: &mut Vec<(PathBuf, u32)>) {}

/// The warning for one exposed path, naming the fix.
pub fn warning(path: &Path, mode: u32) -> String {
    let fix = if path.is_dir() { 700 } else { 600 };
    format!(
        "{} is open to other users (mode {mode:o}); it holds token hashes, the audit and \
         session data: chmod {fix} {}",
        path.display(),
        path.display()
    )
}
