//! The science reference is inside the repository: every `SPEC §N` written anywhere in the
//! repository's code and documentation names a section of docs/SPEC.md.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Folders the repository ignores (`.gitignore` lines naming a folder): run stores, outputs.
fn ignored_folders() -> Vec<String> {
    std::fs::read_to_string(repo().join(".gitignore"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_suffix('/'))
        .map(|l| l.trim_start_matches('/').to_string())
        .collect()
}

fn files(dir: &Path, skip: &[String], out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "raw" || skip.contains(&name) {
            continue;
        }
        if p.is_dir() {
            files(&p, skip, out);
        } else if ["rs", "md", "toml", "py", "sh"]
            .iter()
            .any(|x| p.extension().is_some_and(|e| e == *x))
        {
            out.push(p);
        }
    }
}

/// Regression: 47 doc references pointed at a SPEC in a shared folder outside the repository.
#[test]
fn every_spec_reference_names_a_section_of_docs_spec() {
    let spec = std::fs::read_to_string(repo().join("docs/SPEC.md")).expect("docs/SPEC.md exists");
    let sections: Vec<u32> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter_map(|l| l.split('.').next()?.trim().parse().ok())
        .collect();
    assert!(sections.len() >= 11, "{sections:?}");
    let mut all = Vec::new();
    files(&repo(), &ignored_folders(), &mut all);
    let mut refs = 0;
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        assert!(
            !text.contains(concat!("shared/", "SPEC.md")),
            "{} points at a SPEC outside the repository",
            f.display()
        );
        let needle = concat!("SPEC ", "§");
        for (i, _) in text.match_indices(needle) {
            let n: String = text[i + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            // A placeholder such as "§N" is not a reference.
            let Ok(n) = n.parse::<u32>() else { continue };
            assert!(
                sections.contains(&n),
                "{} refers to section {n} of the SPEC, which docs/SPEC.md does not have",
                f.display()
            );
            refs += 1;
        }
    }
    assert!(
        refs > 40,
        "only {refs} references found: is the walk right?"
    );
}
