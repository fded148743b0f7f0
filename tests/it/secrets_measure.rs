//! The built-in rules measured on the labelled corpus: recall over every
//! token type and syntax, false positives over the clean files, per family.

use std::collections::BTreeMap;

use crate::support::corpus::{generate, Sample};
use prodready_exporter::scan::secrets::{compile_rules, Scanner};

/// Per family: (files, files with a finding).
type Table = BTreeMap<&'static str, (usize, usize)>;

fn measure(scanner: &Scanner, corpus: &[Sample]) -> (Table, Table, Vec<String>) {
    let mut recall = Table::new();
    let mut noise = Table::new();
    let mut misses = Vec::new();
    for s in corpus {
        let mut out = Vec::new();
        scanner.scan_text(&s.path, &s.text, &mut out);
        scanner.scan_path(&s.path, &mut out);
        let found = !out.is_empty();
        match (s.secret, s.decoy) {
            (Some(t), _) => {
                let e = recall.entry(t.family).or_default();
                e.0 += 1;
                e.1 += usize::from(found);
                if !found {
                    misses.push(format!("{}/{}: {}", t.family, t.name, s.path));
                }
            }
            (None, Some(family)) => {
                let e = noise.entry(family).or_default();
                e.0 += 1;
                e.1 += usize::from(found);
                if found {
                    misses.push(format!(
                        "FALSE POSITIVE {} ({:?}): {}",
                        s.path,
                        out.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
                        s.text.lines().next().unwrap_or_default()
                    ));
                }
            }
            (None, None) => {}
        }
    }
    (recall, noise, misses)
}

fn total(t: &Table) -> (usize, usize) {
    t.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
}

#[test]
fn built_in_rules_find_99_percent_and_flag_under_1_percent() {
    let corpus = generate(20261205, 15);
    let scanner = Scanner::new(compile_rules(&[], &[]).unwrap(), vec![], vec![], 1 << 20).unwrap();
    let (recall, noise, misses) = measure(&scanner, &corpus);
    let mut report = String::from("family            files  found  recall\n");
    for (family, (n, found)) in &recall {
        report.push_str(&format!(
            "{family:<17} {n:>5}  {found:>5}  {:>5.1}%\n",
            100.0 * *found as f64 / *n as f64
        ));
    }
    report.push_str("negatives         files flagged  rate\n");
    for (family, (n, flagged)) in &noise {
        report.push_str(&format!(
            "{family:<17} {n:>5}  {flagged:>5}  {:>5.1}%\n",
            100.0 * *flagged as f64 / *n as f64
        ));
    }
    let (positives, found) = total(&recall);
    let (negatives, flagged) = total(&noise);
    let recall_rate = found as f64 / positives as f64;
    let fp_rate = flagged as f64 / negatives as f64;
    report.push_str(&format!(
        "overall: recall {:.2}% of {positives}, false positives {:.2}% of {negatives}\n",
        100.0 * recall_rate,
        100.0 * fp_rate
    ));
    println!("{report}");
    for miss in misses.iter().take(60) {
        println!("  {miss}");
    }
    let types: std::collections::HashSet<&str> = corpus
        .iter()
        .filter_map(|s| s.secret.map(|t| t.name))
        .collect();
    assert!(positives >= 3000 && types.len() >= 150 && negatives >= 500);
    let shown: Vec<&String> = misses.iter().take(60).collect();
    assert!(
        recall_rate >= 0.99 && fp_rate <= 0.01,
        "{report}\n{shown:#?}"
    );
}
