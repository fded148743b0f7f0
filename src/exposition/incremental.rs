//! The `/metrics` page (Prometheus text format) rendered incrementally. The
//! per-check families of the last page are kept as one buffer, with each
//! check's span in each family; a render encodes only the checks whose
//! result or metadata changed and copies everything else from the last page
//! in runs, then encodes what is not per check (scores, checklist, waivers,
//! the daemon's own families). When the set or order of checks changed (a
//! reload) it encodes all of them. The bytes are those of a full render (a
//! test compares them).

use std::collections::HashMap;
use std::sync::Arc;

use super::{daemon_facts, encode, Format, Part, Row, Snapshot};
use crate::checks::State;
use crate::engine::{CheckMeta, Engine};

/// The per-check families, in the order the page has them.
const ROW_FAMILIES: usize = 11;

/// What a check's lines depend on: a change of any re-encodes them.
#[derive(Debug, Clone, PartialEq)]
struct RowKey {
    /// The meta's address: a rebuilt check has a new meta (kept alive in
    /// `Incremental::metas`, so the address cannot be reused meanwhile).
    meta: usize,
    state: State,
    values: [Option<u64>; 5],
    runs: u64,
    errors: u64,
}

impl RowKey {
    fn of(r: &Row) -> RowKey {
        RowKey {
            meta: Arc::as_ptr(&r.meta) as usize,
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

/// The last page's per-check part and where each check's lines are.
#[derive(Debug, Default)]
pub struct Incremental {
    /// Every per-check family: header, then each check's lines in order.
    page: String,
    /// The checks, in page order: id, key and meta (kept alive).
    ids: Vec<u64>,
    keys: Vec<RowKey>,
    metas: Vec<Arc<CheckMeta>>,
    /// Per family: where its header starts, and `ids.len() + 1` offsets
    /// into `page`, check `i`'s lines being `spans[f][i]..spans[f][i + 1]`.
    headers: Vec<(usize, usize)>,
    spans: Vec<Vec<usize>>,
}

/// The check a sample line is of: its first label, `check="..."`.
fn check_of(line: &str) -> Option<String> {
    let rest = &line[line.find("{check=\"")? + 8..];
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            '"' => return Some(out),
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
        .map(|(i, r)| (r.meta.name.as_str(), i))
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
        } else if let Some(i) = check_of(line).and_then(|name| by_name.get(name.as_str())) {
            lines[*i][family].push_str(line);
        }
    }
    (headers, lines)
}

impl Incremental {
    /// The page now, encoding only the checks that changed since the last
    /// render.
    pub fn render(&mut self, engine: &Engine) -> String {
        let rows = engine.store.map_sorted(Row::from_record);
        let same_checks = rows.len() == self.ids.len()
            && rows
                .iter()
                .zip(&self.ids)
                .all(|(r, id)| r.meta.check_id == *id)
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
        let mut page = String::with_capacity(self.page.len() + 64 * 1024);
        page.push_str(&self.page);
        page.push_str(&encode(
            Snapshot {
                rows,
                daemon: Some(daemon_facts(engine)),
                part: Part::Globals,
            },
            Format::Prometheus,
        ));
        page
    }

    /// Encodes every check (the first render, or after a reload).
    fn rebuild(&mut self, rows: &[Row]) {
        let (headers, lines) = encode_rows(rows);
        let size: usize = headers.iter().map(String::len).sum::<usize>()
            + lines.iter().flatten().map(String::len).sum::<usize>();
        let mut page = String::with_capacity(size);
        let mut header_spans = Vec::with_capacity(ROW_FAMILIES);
        let mut spans = Vec::with_capacity(ROW_FAMILIES);
        for (family, header) in headers.iter().enumerate() {
            let start = page.len();
            page.push_str(header);
            header_spans.push((start, page.len()));
            let mut offsets = Vec::with_capacity(rows.len() + 1);
            for row in &lines {
                offsets.push(page.len());
                page.push_str(&row[family]);
            }
            offsets.push(page.len());
            spans.push(offsets);
        }
        self.page = page;
        self.headers = header_spans;
        self.spans = spans;
        self.ids = rows.iter().map(|r| r.meta.check_id).collect();
        self.keys = rows.iter().map(RowKey::of).collect();
        self.metas = rows.iter().map(|r| r.meta.clone()).collect();
    }

    /// Encodes the checks at `changed` (indexes into `rows`, ascending) and
    /// copies every other check's lines from the last page, in runs.
    fn patch(&mut self, rows: &[Row], changed: &[usize]) {
        let fresh: Vec<Row> = changed.iter().map(|&i| rows[i].clone()).collect();
        let (_, lines) = encode_rows(&fresh);
        let grown: usize = lines.iter().flatten().map(String::len).sum();
        let mut page = String::with_capacity(self.page.len() + grown);
        let n = self.ids.len();
        let mut spans = Vec::with_capacity(ROW_FAMILIES);
        let previous = std::mem::take(&mut self.spans);
        for (family, old) in previous.iter().enumerate() {
            let (h0, h1) = self.headers[family];
            let start = page.len();
            page.push_str(&self.page[h0..h1]);
            self.headers[family] = (start, page.len());
            let mut offsets = Vec::with_capacity(n + 1);
            let mut next = 0;
            for (k, &i) in changed.iter().enumerate() {
                // The unchanged run before check `i`, copied at once.
                let shift = page.len() as isize - old[next] as isize;
                offsets.extend(old[next..i].iter().map(|&o| (o as isize + shift) as usize));
                page.push_str(&self.page[old[next]..old[i]]);
                offsets.push(page.len());
                page.push_str(&lines[k][family]);
                next = i + 1;
            }
            let shift = page.len() as isize - old[next] as isize;
            offsets.extend(old[next..=n].iter().map(|&o| (o as isize + shift) as usize));
            page.push_str(&self.page[old[next]..old[n]]);
            spans.push(offsets);
        }
        self.page = page;
        self.spans = spans;
        for &i in changed {
            self.keys[i] = RowKey::of(&rows[i]);
            self.metas[i] = rows[i].meta.clone();
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
            &inc.render(&engine),
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
            &inc.render(&engine),
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
        let page = inc.render(&engine);
        same(&page, &render_metrics(&engine, Format::Prometheus));
        assert!(page.contains("prodready_check_state{check=\"check_7\",category=\"deployment\",severity=\"warning\",team=\"t\\\\\\\"7\",state=\"error\"} 1"), "{page}");
        // Nothing changed: the same page again.
        same(&inc.render(&engine), &page);
    }
}
