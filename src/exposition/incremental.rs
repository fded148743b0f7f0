//! The `/metrics` page (Prometheus text format) rendered incrementally.
//! Each check's lines (of the 11 per-check families) are kept, one buffer
//! per check; a render encodes only the checks whose result or metadata
//! changed and swaps their buffers, then encodes what is not per check
//! (scores, checklist, waivers, the daemon's own families). The page is
//! never concatenated: a scrape streams it in chunks from the kept buffers
//! (`TextPage::chunks`), so its cost is the changed checks plus the copy
//! into the socket. When the set or order of checks changed (a reload) a
//! render encodes all of them. The bytes are those of a full render (a test
//! compares them).

use std::collections::HashMap;
use std::sync::Arc;

use super::{daemon_facts, encode, Format, Part, Row, Snapshot};
use crate::checks::State;
use crate::engine::Engine;

/// The per-check families, in the order the page has them.
const ROW_FAMILIES: usize = 11;

/// What a check's lines depend on besides the planned check itself (its
/// metadata; a rebuilt check has a new id, which renders the page anew):
/// a change of any re-encodes them.
#[derive(Debug, Clone, PartialEq)]
struct RowKey {
    state: State,
    values: [Option<u64>; 5],
    runs: u64,
    errors: u64,
}

impl RowKey {
    fn of(r: &Row) -> RowKey {
        RowKey {
            state: r.state,
            values: [
                r.observed.map(f64::to_bits),
                r.threshold.map(f64::to_bits),
                r.duration.map(f64::to_bits),
                r.last_run.map(f64::to_bits),
                Some(r.last_success.to_bits()),
            ],
            runs: r.runs,
            errors: r.errors,
        }
    }
}

/// One check's lines, family after family.
#[derive(Debug)]
struct CheckLines {
    text: Box<str>,
    /// Where each family's lines end in `text`.
    ends: [u32; ROW_FAMILIES],
}

impl CheckLines {
    fn new(families: [String; ROW_FAMILIES]) -> CheckLines {
        let mut text = String::with_capacity(families.iter().map(String::len).sum());
        let mut ends = [0; ROW_FAMILIES];
        for (end, family) in ends.iter_mut().zip(&families) {
            text.push_str(family);
            // A check's lines are far below 4 GiB (labels are bounded).
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        CheckLines {
            text: text.into_boxed_str(),
            ends,
        }
    }

    fn family(&self, f: usize) -> &str {
        let start = if f == 0 { 0 } else { self.ends[f - 1] as usize };
        self.text
            .get(start..self.ends[f] as usize)
            .unwrap_or_default()
    }
}

/// A rendered page: the family headers, every check's kept lines and the
/// rest, shared with the renderer (nothing is copied to make it).
#[derive(Debug)]
pub struct TextPage {
    headers: Arc<Vec<String>>,
    lines: Arc<Vec<Arc<CheckLines>>>,
    globals: String,
    len: usize,
}

impl TextPage {
    /// The page's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the page is empty (it never is: the daemon's families are
    /// always there).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks on the page.
    pub(super) fn checks(&self) -> usize {
        self.lines.len()
    }

    /// Whether check `c`'s lines are the very ones `other` has (kept by the
    /// renderer since): then their text is the same, read without reading it.
    pub(super) fn same_lines(&self, other: &TextPage, c: usize) -> bool {
        match (self.lines.get(c), other.lines.get(c)) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Families on the page, each a header and one piece per check.
    pub(super) fn families(&self) -> usize {
        self.headers.len()
    }

    /// The `p`th piece of the page: family `f`'s header, then each check's
    /// lines of `f`, for every family; then the rest. `None` past the end.
    pub(super) fn piece(&self, p: usize) -> Option<&str> {
        let n = self.lines.len() + 1;
        let (f, j) = (p / n, p % n);
        if f < self.headers.len() {
            Some(match j {
                0 => &self.headers[f],
                j => self.lines[j - 1].family(f),
            })
        } else if p == self.headers.len() * n {
            Some(&self.globals)
        } else {
            None
        }
    }

    /// The page as one string (tests, benchmarks).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.len);
        let mut p = 0;
        while let Some(piece) = self.piece(p) {
            out.push_str(piece);
            p += 1;
        }
        out
    }

    /// The page in chunks of about `size` bytes, copied from the kept lines
    /// as they are asked for.
    pub fn chunks(self: Arc<Self>, size: usize) -> impl Iterator<Item = Vec<u8>> + Send {
        let mut p = 0;
        std::iter::from_fn(move || {
            let mut chunk = Vec::with_capacity(size);
            while chunk.len() < size {
                match self.piece(p) {
                    Some(piece) => chunk.extend_from_slice(piece.as_bytes()),
                    None => break,
                }
                p += 1;
            }
            (!chunk.is_empty()).then_some(chunk)
        })
    }
}

/// The checks of the last page and their kept lines.
#[derive(Debug, Default)]
pub struct Incremental {
    headers: Arc<Vec<String>>,
    /// The checks, in page order: planned check id and key.
    ids: Vec<u64>,
    keys: Vec<RowKey>,
    lines: Arc<Vec<Arc<CheckLines>>>,
}

/// The check a sample line is of: its first label, `check="..."`
/// (borrowed from the line unless the name has escapes).
fn check_of(line: &str) -> Option<std::borrow::Cow<'_, str>> {
    let rest = &line[line.find("{check=\"")? + 8..];
    let end = rest.find(['"', '\\'])?;
    if rest.as_bytes()[end] == b'"' {
        return Some(std::borrow::Cow::Borrowed(&rest[..end]));
    }
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            '"' => return Some(std::borrow::Cow::Owned(out)),
            c => out.push(c),
        }
    }
    None
}

/// The per-check families of `rows` encoded, split into their headers and
/// each row's lines per family.
fn encode_rows(rows: &[Row]) -> (Vec<String>, Vec<[String; ROW_FAMILIES]>) {
    let by_name: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.meta.name(), i))
        .collect();
    let mut lines: Vec<[String; ROW_FAMILIES]> = vec![Default::default(); rows.len()];
    let text = encode(
        Snapshot {
            rows: rows.to_vec(),
            daemon: None,
            part: Part::Rows,
        },
        Format::Prometheus,
    );
    let mut headers: Vec<String> = Vec::with_capacity(ROW_FAMILIES);
    for line in text.split_inclusive('\n') {
        if line.starts_with("# HELP ") {
            headers.push(String::new());
        }
        let family = headers.len().saturating_sub(1).min(ROW_FAMILIES - 1);
        if line.starts_with('#') {
            if let Some(h) = headers.last_mut() {
                h.push_str(line);
            }
        } else if let Some(i) = check_of(line).and_then(|name| by_name.get(name.as_ref())) {
            lines[*i][family].push_str(line);
        }
    }
    (headers, lines)
}

impl Incremental {
    /// The page now, encoding only the checks that changed since the last
    /// render.
    pub fn render(&mut self, engine: &Engine) -> TextPage {
        let rows = engine.store.map_sorted(Row::from_record);
        let same_checks = rows.len() == self.ids.len()
            && rows
                .iter()
                .zip(&self.ids)
                .all(|(r, id)| r.meta.check_id() == *id)
            && self.headers.len() == ROW_FAMILIES;
        if same_checks {
            let changed: Vec<usize> = rows
                .iter()
                .zip(&self.keys)
                .enumerate()
                .filter(|(_, (r, key))| RowKey::of(r) != **key)
                .map(|(i, _)| i)
                .collect();
            if !changed.is_empty() {
                self.patch(&rows, &changed);
            }
        } else {
            self.rebuild(&rows);
        }
        let globals = encode(
            Snapshot {
                rows,
                daemon: Some(daemon_facts(engine)),
                part: Part::Globals,
            },
            Format::Prometheus,
        );
        let len = self.headers.iter().map(String::len).sum::<usize>()
            + self.lines.iter().map(|l| l.text.len()).sum::<usize>()
            + globals.len();
        TextPage {
            headers: self.headers.clone(),
            lines: self.lines.clone(),
            globals,
            len,
        }
    }

    /// Encodes every check (the first render, or after a reload).
    fn rebuild(&mut self, rows: &[Row]) {
        let (headers, lines) = encode_rows(rows);
        self.headers = Arc::new(headers);
        self.lines = Arc::new(
            lines
                .into_iter()
                .map(|l| Arc::new(CheckLines::new(l)))
                .collect(),
        );
        self.ids = rows.iter().map(|r| r.meta.check_id()).collect();
        self.keys = rows.iter().map(RowKey::of).collect();
    }

    /// Encodes the checks at `changed` (indexes into `rows`) and swaps their
    /// lines; pages still being served keep the old ones.
    fn patch(&mut self, rows: &[Row], changed: &[usize]) {
        let fresh: Vec<Row> = changed.iter().map(|&i| rows[i].clone()).collect();
        let (_, lines) = encode_rows(&fresh);
        // Copies the list of pointers when a scrape still holds it.
        let kept = Arc::make_mut(&mut self.lines);
        for (&i, l) in changed.iter().zip(lines) {
            kept[i] = Arc::new(CheckLines::new(l));
            self.keys[i] = RowKey::of(&rows[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::checks::Outcome;
    use crate::engine::{load_plan, Evaluation};
    use crate::exposition::render_metrics;

    fn evaluation(outcome: Outcome) -> Evaluation {
        Evaluation {
            outcome,
            duration: Duration::from_millis(3),
            finished: SystemTime::now(),
            trace: Vec::new(),
        }
    }

    /// Without the process and histogram lines, which move between renders.
    fn stable(page: &str) -> Vec<String> {
        page.lines()
            .filter(|l| {
                !l.starts_with("process_") && !l.starts_with("prodready_scheduler_lateness")
            })
            .map(str::to_owned)
            .collect()
    }

    /// The first line where two pages differ, if any.
    fn same(a: &str, b: &str) {
        let (a, b) = (stable(a), stable(b));
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            panic!("line {i}: incremental {:?}, full {:?}", a.get(i), b.get(i));
        }
    }

    #[test]
    fn incremental_pages_are_the_full_render() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        let mut config = String::from(
            "global: { labels: { team: platform }, series_labels: [team] }\nchecks:\n",
        );
        for i in 0..50 {
            config.push_str(&format!(
                "  - {{ name: check_{i}, kind: command, labels: {{ team: \"t\\\\\\\"{i}\" }}, params: {{ argv: [\"true\"] }} }}\n"
            ));
        }
        std::fs::write(&file, config).unwrap();
        let plan = load_plan(&file).unwrap();
        let engine = Engine::new(&file, plan, None);
        let running = engine.plan();
        let mut inc = Incremental::default();
        // Before any result, after some, after a change of a few (the first,
        // the last, and neighbours).
        same(
            &inc.render(&engine).to_text(),
            &render_metrics(&engine, Format::Prometheus),
        );
        for (i, planned) in running.checks.iter().enumerate() {
            let outcome = if i % 3 == 0 {
                Outcome::fail("no").observed(i as f64).threshold(1.5)
            } else {
                Outcome::pass("ok")
            };
            engine
                .store
                .record(&planned.spec.name, planned.id, &evaluation(outcome));
        }
        same(
            &inc.render(&engine).to_text(),
            &render_metrics(&engine, Format::Prometheus),
        );
        for i in [0, 7, 8, 49] {
            let planned = &running.checks[i];
            engine.store.record(
                &planned.spec.name,
                planned.id,
                &evaluation(Outcome::error("gone").observed(2.5)),
            );
        }
        let page = inc.render(&engine).to_text();
        same(&page, &render_metrics(&engine, Format::Prometheus));
        assert!(page.contains("prodready_check_state{check=\"check_7\",category=\"deployment\",severity=\"warning\",team=\"t\\\\\\\"7\",state=\"error\"} 1"), "{page}");
        // Nothing changed: the same page again.
        same(&inc.render(&engine).to_text(), &page);
        // Served in chunks, the same bytes.
        let chunked: Vec<u8> = Arc::new(inc.render(&engine))
            .chunks(100)
            .flatten()
            .collect();
        same(&String::from_utf8(chunked).unwrap(), &page);
    }
}
