//! Tests of `sarif.rs`.

use super::*;

#[test]
fn levels_severities_suppressions_and_bad_input() {
    let log = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "semanticVersion": "1.2.3", "rules": [
        {"id": "r1", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "9.8"}},
        {"id": "r2", "properties": {"security-severity": 5.0}}]}},
      "invocations": [{"executionSuccessful": true, "endTimeUtc": "2026-12-01T10:00:00Z"}],
      "versionControlProvenance": [{"repositoryUri": "x", "revisionId": "abc"}],
      "results": [
        {"ruleId": "r1", "message": {"text": "m1"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.py"}, "region": {"startLine": 3}}}]},
        {"ruleIndex": 1, "level": "note", "message": {"text": "m2"}},
        {"ruleId": "r2", "kind": "pass", "message": {"text": "ok"}},
        {"ruleId": "r1", "suppressions": [{"kind": "inSource", "status": "accepted", "justification": "test data"}]},
        {"ruleId": "r1", "suppressions": [{"kind": "external", "status": "rejected"}]}
      ]}]}"#;
    let mut f = Vec::new();
    let runs = read_sarif_each(log.as_bytes(), &mut |run, tool, finding| {
        assert_eq!((run, tool), (0, "t"));
        f.push(finding);
    })
    .unwrap();
    let r = &runs[0];
    assert_eq!(r.results, f.len() as u64);
    assert_eq!(
        (r.tool.as_str(), r.version.as_deref()),
        ("t", Some("1.2.3"))
    );
    assert_eq!(r.revisions, ["abc"]);
    assert_eq!(
        r.ended,
        crate::clock::parse_timestamp("2026-12-01T10:00:00Z")
    );
    assert_eq!(
        (f[0].level, f[0].severity),
        (Level::Error, Some(SecuritySeverity::Critical))
    );
    assert_eq!(
        (f[0].file.as_deref(), f[0].line),
        (Some("src/a.py"), Some(3))
    );
    assert_eq!(
        (f[1].rule.as_str(), f[1].level, f[1].severity),
        ("r2", Level::Note, Some(SecuritySeverity::Medium))
    );
    assert_eq!((f[2].level, f[2].severity), (Level::None, None));
    assert_eq!(
        f[3].suppressed,
        Some(Suppressed::Accepted("test data".into()))
    );
    assert_eq!(f[4].suppressed, None);
    assert!(read_sarif(&log.as_bytes()[..200])
        .unwrap_err()
        .starts_with("truncated"));
    assert!(read_sarif(r#"{"version": "2.0.0", "runs": []}"#.as_bytes())
        .unwrap_err()
        .contains("SARIF version 2.0.0"));
    assert!(
        read_sarif(r#"{"name": "app", "version": "1.0.0"}"#.as_bytes())
            .unwrap_err()
            .contains("no `runs`")
    );
    let failed = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "invocations": [{"executionSuccessful": false, "toolExecutionNotifications": [{"level": "error", "message": {"text": "parser crashed"}}]}]}]}"#;
    assert_eq!(read_sarif(failed.as_bytes()).unwrap()[0].failures.len(), 2);
}

/// Results written before the run's tool wait for its rules; several runs
/// are told apart; nothing per result is kept by the reader.
#[test]
fn results_before_the_tool_and_several_runs() {
    let log = r#"{"runs": [
        {"results": [{"ruleIndex": 0}, {"ruleId": "b"}], "tool": {"driver": {"name": "late", "rules": [{"id": "a", "defaultConfiguration": {"level": "error"}}]}}},
        {"tool": {"driver": {"name": "second"}}, "results": null}
      ], "version": "2.1.0"}"#;
    let mut seen = Vec::new();
    let runs = read_sarif_each(log.as_bytes(), &mut |run, tool, f| {
        seen.push((run, tool.to_owned(), f.rule, f.level))
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            (0, "late".to_owned(), "a".to_owned(), Level::Error),
            (0, "late".to_owned(), "b".to_owned(), Level::Warning)
        ]
    );
    assert_eq!((runs[0].results, runs[1].results), (2, 0));
    assert_eq!(runs[1].tool, "second");
    assert!(
        read_sarif(r#"{"version": "2.1.0", "runs": [{"results": []}]}"#.as_bytes())
            .unwrap_err()
            .contains("tool")
    );
}
