//! Reading manifests: the files of a directory, or what `kubectl kustomize`
//! renders when the directory is a kustomization. Every file or document
//! that cannot be read is named in `problems`; nothing is dropped silently.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::scan::Cancel;

/// Bytes of a manifest file, or of `kubectl kustomize`'s output, read.
const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Documents of one file.
const MAX_DOCUMENTS: usize = 10_000;
/// Directory levels searched below `dir`.
const MAX_DEPTH: usize = 8;
/// The kustomization file names `kubectl kustomize` looks for.
const KUSTOMIZATIONS: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// One Kubernetes object and where it was read.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: String,
    pub name: String,
    /// `metadata.namespace`, empty when the manifest leaves it to `kubectl`.
    pub namespace: String,
    pub doc: Value,
    /// The file relative to the directory, or `kustomize` for rendered output.
    pub file: String,
}

impl Object {
    /// `Kind/name`, as findings and waivers name a workload.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// How the manifests are rendered.
#[derive(Debug, Clone)]
pub struct Render {
    /// The `kubectl` program (a name on `PATH` or a path).
    pub kubectl: String,
    pub timeout: Duration,
}

/// What a directory holds.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// Files and documents that could not be read, each naming the file and
    /// why (invalid YAML, an unrendered Helm template, no `kind`).
    pub problems: Vec<String>,
    /// Files read (1 for a rendered kustomization).
    pub files: usize,
    /// `kubectl kustomize` when the directory is a kustomization.
    pub rendered_with: Option<String>,
}

/// Reads the manifests under `dir`: rendered with `kubectl kustomize` when
/// `dir` holds a kustomization, else every `.yaml`, `.yml` and `.json` file
/// below it. An error only when nothing can be read at all.
pub fn load(dir: &Path, render: &Render, cancel: &Cancel) -> Result<Manifests, String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let mut out = Manifests::default();
    if KUSTOMIZATIONS.iter().any(|k| dir.join(k).is_file()) {
        let text = kustomize(dir, render, cancel)?;
        out.files = 1;
        out.rendered_with = Some(format!("{} kustomize", render.kubectl));
        read_documents(&text, "kustomize", &mut out);
        return Ok(out);
    }
    let mut files = Vec::new();
    find_files(dir, dir, 0, &mut files, &mut out.problems);
    files.sort();
    for path in files {
        if cancel.is_cancelled() {
            return Err("cancelled".into());
        }
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = match crate::files::read_text(&path, MAX_BYTES as u64) {
            Ok(t) => t,
            Err(e) => {
                out.problems.push(e);
                continue;
            }
        };
        out.files += 1;
        if is_helm_template(&text) {
            out.problems.push(format!(
                "{shown}: a Helm template, not rendered (render it with `helm template` and point the check at the output)"
            ));
            continue;
        }
        read_documents(&text, &shown, &mut out);
    }
    Ok(out)
}

/// Manifest files below `dir`, hidden directories skipped, `MAX_DEPTH`
/// levels deep; symbolic links are not followed.
fn find_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<String>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && !name.starts_with('.') {
            if depth + 1 >= MAX_DEPTH {
                let shown = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                problems.push(format!("{shown}: deeper than {MAX_DEPTH} levels, not read"));
            } else {
                find_files(root, &path, depth + 1, out, problems);
            }
        } else if kind.is_file()
            && [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// Whether a file is a Helm template (Go template actions), which is no
/// manifest until rendered.
fn is_helm_template(text: &str) -> bool {
    [
        "{{ .",
        "{{- ",
        "{{.",
        "{{ include",
        "{{ template",
        "{{- include",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// The objects of a YAML or JSON stream; `List` objects give their items.
fn read_documents(text: &str, shown: &str, out: &mut Manifests) {
    let docs: Vec<Value> = match crate::yaml::documents(text, MAX_DOCUMENTS) {
        Ok(d) => d,
        Err(e) => {
            out.problems.push(format!("{shown}: invalid YAML: {e}"));
            return;
        }
    };
    for (n, doc) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        add_object(doc, shown, n + 1, out);
    }
}

fn add_object(doc: Value, shown: &str, n: usize, out: &mut Manifests) {
    let Some(kind) = doc.get("kind").and_then(Value::as_str).map(str::to_owned) else {
        out.problems.push(format!(
            "{shown}: document {n} has no kind: not a Kubernetes object"
        ));
        return;
    };
    if kind.ends_with("List") {
        if let Some(items) = doc.get("items").and_then(Value::as_array) {
            for item in items.clone() {
                add_object(item, shown, n, out);
            }
            return;
        }
    }
    let meta = |k: &str| {
        doc.pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (name, namespace) = (meta("name"), meta("namespace"));
    if name.is_empty() {
        out.problems.push(format!(
            "{shown}: document {n} ({kind}) has no metadata.name"
        ));
        return;
    }
    out.objects.push(Object {
        kind,
        name,
        namespace,
        doc,
        file: shown.to_owned(),
    });
}

/// `kubectl kustomize DIR`'s output, within the timeout.
fn kustomize(dir: &Path, render: &Render, cancel: &Cancel) -> Result<String, String> {
    let mut child = Command::new(&render.kubectl)
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{} is not installed: it renders the kustomization in {} (install kubectl, or point the check at rendered manifests)",
                render.kubectl,
                dir.display()
            ),
            _ => format!("cannot run {}: {e}", render.kubectl),
        })?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.take(MAX_BYTES as u64 + 1).read_to_end(&mut text);
        }
        text
    });
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > render.timeout || cancel.is_cancelled() => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} kustomize {} did not finish within {:?}",
                    render.kubectl,
                    dir.display(),
                    render.timeout
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for {}: {e}", render.kubectl)),
        }
    };
    let text = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        let first = String::from_utf8_lossy(&errors);
        let first: String = first
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        return Err(format!(
            "{} kustomize {} failed ({status}): {first}",
            render.kubectl,
            dir.display()
        ));
    }
    if text.len() > MAX_BYTES {
        return Err(format!(
            "{} kustomize {}: the output is larger than {MAX_BYTES} bytes",
            render.kubectl,
            dir.display()
        ));
    }
    String::from_utf8(text)
        .map_err(|_| format!("{} kustomize: the output is not UTF-8", render.kubectl))
}
