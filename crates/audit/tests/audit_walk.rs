//! Which files the audit's walk finds: symlinks followed once, cargo's target directories skipped.

use std::path::{Path, PathBuf};

use foundation_audit::{config::Config, walk};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("audit-walk")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("{error}"));
    dir
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|error| panic!("{error}"));
    }
    std::fs::write(path, text).unwrap_or_else(|error| panic!("{error}"));
}

/// The display paths the walk finds under `root`, relative to it.
fn found(root: &Path) -> Vec<String> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|error| panic!("{error}"));
    let walked = walk::collect(std::slice::from_ref(&root), &root, &Config::default());
    assert!(walked.errors.is_empty(), "{:?}", walked.errors);
    walked.files.into_iter().map(|(_, shown)| shown).collect()
}

#[cfg(unix)]
#[test]
fn symlinked_files_and_directories_are_followed_once_and_loops_end() {
    use std::os::unix::fs::symlink;

    let dir = scratch("symlinks");
    let project = dir.join("project");
    write(&project.join("src/lib.rs"), "//! Lib.\n");
    write(&dir.join("shared/src/a.rs"), "//! A.\n");
    write(&dir.join("elsewhere/b.rs"), "//! B.\n");
    let link = |target: &Path, at: &Path| {
        symlink(target, at).unwrap_or_else(|error| panic!("{}: {error}", at.display()))
    };
    link(&dir.join("shared/src"), &project.join("src/shared"));
    link(&dir.join("elsewhere/b.rs"), &project.join("src/b.rs"));
    // A loop back up to the project, and a second way into the same directory.
    link(&project, &project.join("src/again"));
    link(&dir.join("shared/src"), &project.join("src/shared_too"));
    // A dangling link is not a file to audit.
    link(&dir.join("missing.rs"), &project.join("src/missing.rs"));
    assert_eq!(
        found(&project),
        ["src/b.rs", "src/lib.rs", "src/shared/a.rs"]
    );
}

#[test]
fn only_directories_tagged_by_cargo_are_skipped_as_target_directories() {
    let dir = scratch("target-dirs");
    write(&dir.join("src/lib.rs"), "//! Lib.\n");
    // A module folder that happens to be named `target` is source code.
    write(&dir.join("src/target/pointer.rs"), "//! Pointer.\n");
    // Cargo's target directory, and one moved elsewhere by CARGO_TARGET_DIR.
    write(
        &dir.join("target/CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n",
    );
    write(&dir.join("target/debug/build/out.rs"), "//! Generated.\n");
    write(
        &dir.join("build-output/CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n",
    );
    write(&dir.join("build-output/gen.rs"), "//! Generated.\n");
    assert_eq!(found(&dir), ["src/lib.rs", "src/target/pointer.rs"]);
}
