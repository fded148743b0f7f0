//! The `/metrics` page (Prometheus text format) rendered incrementally: the
//! sample lines of each check are kept per family and encoded again only
//! when the check's result or metadata changed; a render copies the kept
//! lines under each family's header and encodes only what is not per check
//! (scores, checklist, waivers, the daemon's own families). The bytes are
//! those of a full render (a test compares them).

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
    /// `Cached`, so the address cannot be reused while cached).
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

#[derive(Debug)]
struct Cached {
    key: RowKey,
    /// The meta the key's pointer points at, kept alive so that the pointer
    /// cannot be reused by another check's meta while cached.
    _meta: Arc<CheckMeta>,
    lines: [String; ROW_FAMILIES],
    /// Bytes of `lines`.
    size: usize,
}

/// The kept lines, by check id, and the families' headers.
#[derive(Debug, Default)]
pub struct Incremental {
    rows: HashMap<u64, Cached>,
    headers: Vec<String>,
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

impl Incremental {
    /// The page now, encoding only the checks that changed since the last
    /// render.
    pub fn render(&mut self, engine: &Engine) -> String {
        let rows = engine.store.map_sorted(Row::from_record);
        let changed: Vec<Row> = rows
            .iter()
            .filter(|r| {
                self.rows
                    .get(&r.meta.check_id)
                    .is_none_or(|c| c.key != RowKey::of(r))
            })
            .cloned()
            .collect();
        if !changed.is_empty() || self.headers.is_empty() {
            self.encode_rows(changed);
        }
        if self.rows.len() > rows.len() {
            let live: std::collections::HashSet<u64> =
                rows.iter().map(|r| r.meta.check_id).collect();
            self.rows.retain(|id, _| live.contains(id));
        }
        // One lookup per check; then each family is a run of copies.
        let kept: Vec<&Cached> = rows
            .iter()
            .filter_map(|r| self.rows.get(&r.meta.check_id))
            .collect();
        let size: usize = kept.iter().map(|c| c.size).sum();
        let mut page = String::with_capacity(size + 64 * 1024);
        for (family, header) in self.headers.iter().enumerate() {
            page.push_str(header);
            for c in &kept {
                page.push_str(&c.lines[family]);
            }
        }
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

    /// Encodes the per-check families of `rows` and keeps each check's lines.
    fn encode_rows(&mut self, rows: Vec<Row>) {
        let by_name: HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.meta.name.clone(), i))
            .collect();
        let mut lines: Vec<[String; ROW_FAMILIES]> = vec![Default::default(); rows.len()];
        let text = encode(
            Snapshot {
                rows: rows.clone(),
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
            } else if let Some(i) = check_of(line).and_then(|name| by_name.get(&name)) {
                lines[*i][family].push_str(line);
            }
        }
        if headers.len() == ROW_FAMILIES {
            self.headers = headers;
        }
        for (r, lines) in rows.into_iter().zip(lines) {
            self.rows.insert(
                r.meta.check_id,
                Cached {
                    key: RowKey::of(&r),
                    _meta: r.meta.clone(),
                    size: lines.iter().map(String::len).sum(),
                    lines,
                },
            );
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
        // Before any result, after some, after a change of one.
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
        let planned = &running.checks[7];
        engine.store.record(
            &planned.spec.name,
            planned.id,
            &evaluation(Outcome::error("gone")),
        );
        let page = inc.render(&engine);
        same(&page, &render_metrics(&engine, Format::Prometheus));
        assert!(page.contains("prodready_check_state{check=\"check_7\",category=\"deployment\",severity=\"warning\",team=\"t\\\\\\\"7\",state=\"error\"} 1"), "{page}");
    }
}
