//! The `/` status page: the checklist grouped by category, server-rendered,
//! with inline styles only (no external assets).

use std::fmt::Write as _;

use crate::checklist::{item_states, Item, ITEMS};
use crate::clock::rfc3339;
use crate::engine::kinds::all_kinds;
use crate::engine::{CheckRecord, Engine};
use crate::escape::{markup as html_escape, URI_COMPONENT};
use crate::report::Summary;
use crate::vocab::{Category, State};

/// A check name in a query: `:` (of `<check>:<target>`) stays readable.
const CHECK_NAME: &percent_encoding::AsciiSet = &URI_COMPONENT.remove(b':');

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;width:100%;margin-bottom:2em}\
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}\
th{background:#f4f4f4}.s{font-weight:bold;border-radius:3px;padding:.1em .5em;color:#fff}\
.pass{background:#2e7d32}.warn{background:#ef8f00}.fail{background:#c62828}\
.error{background:#6a1b9a}.unknown{background:#757575}small{color:#666}\
code{font-size:.9em}details{margin-top:.3em}pre{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:.4em}\
tr.uncovered td{color:#999}.h{display:inline-block;width:.55em;height:.9em;margin-right:1px}\
.waiver{display:block;margin-top:.3em;padding:.2em .4em;border-left:3px solid #1565c0;background:#e3f2fd;font-size:.85em}\
.waiver.expired{border-color:#c62828;background:#ffebee;color:#b71c1c}";

/// Order of states on the page: what needs attention first.
fn attention(state: State) -> u8 {
    match state {
        State::Error => 0,
        State::Fail => 1,
        State::Warn => 2,
        State::Unknown => 3,
        State::Pass => 4,
    }
}

/// Lists in evidence the page shows in full; longer ones show their first
/// entries and the total (the JSON API and reports keep every entry).
const PAGE_LIST_LIMIT: usize = 20;

fn capped(evidence: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
    let shown = evidence
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::Array(list) if list.len() > PAGE_LIST_LIMIT => {
                let mut head: Vec<serde_json::Value> = list[..PAGE_LIST_LIMIT].to_vec();
                head.push(
                    format!(
                        "... {} more ({} in all; see the JSON)",
                        list.len() - PAGE_LIST_LIMIT,
                        list.len()
                    )
                    .into(),
                );
                (k.clone(), serde_json::Value::Array(head))
            }
            _ => (k.clone(), v.clone()),
        })
        .collect();
    serde_json::Value::Object(shown)
}

/// A waiver as the page shows it beside what it covers: reason, owner and
/// days left; an expired one in red (it no longer lets anything through).
fn waiver_note(w: &crate::config::Waiver, now: i64) -> String {
    let days = w.days_left(now);
    let (class, when) = if !w.active_at(now) {
        (
            "waiver expired",
            format!("<b>expired</b> {} (last day {})", ago(-days), w.expires),
        )
    } else if days == 0 {
        ("waiver", format!("last day today ({})", w.expires))
    } else {
        ("waiver", format!("{days} day(s) left, until {}", w.expires))
    };
    format!(
        "<span class=\"{class}\">waived by <b>{}</b>: {} &middot; {when}</span>",
        html_escape(&w.owner),
        html_escape(&w.reason),
    )
}

fn ago(days: i64) -> String {
    if days <= 1 {
        "yesterday".into()
    } else {
        format!("{days} days ago")
    }
}

/// The check's own (or its item's) waiver to show.
fn check_waiver(r: &CheckRecord, now: i64) -> String {
    crate::config::shown_waiver(r.meta.waivers(), now)
        .map_or_else(String::new, |w| waiver_note(w, now))
}

/// The message, the evidence (collapsed) and a link to the check's JSON.
fn message_cell(message: &str, r: &CheckRecord) -> String {
    let mut cell = html_escape(message);
    if let Some(o) = r.outcome.as_ref().filter(|o| o.has_evidence()) {
        let json = serde_json::to_string_pretty(&capped(&o.evidence())).unwrap_or_default();
        cell.push_str(&format!(
            "<details><summary>evidence</summary><pre>{}</pre></details>",
            html_escape(&json)
        ));
    }
    cell.push_str(&format!(
        " <small><a href=\"api/v1/checks?check={}\">json</a></small>",
        // Names of checks over several targets hold the target's: `tls:[::1]:443`.
        html_escape(&percent_encoding::utf8_percent_encode(r.meta.name(), CHECK_NAME).to_string())
    ));
    cell
}

fn score_text(records: &[&CheckRecord]) -> String {
    let evaluated = records.iter().filter(|r| r.state().is_evaluated()).count();
    if evaluated == 0 {
        return "no evaluated checks".into();
    }
    let passed = records.iter().filter(|r| r.state() == State::Pass).count();
    format!(
        "{:.0}% ({passed} of {evaluated} evaluated checks pass)",
        100.0 * passed as f64 / evaluated as f64
    )
}

/// The recent states of a check as small coloured marks, oldest first.
fn history_strip(r: &CheckRecord) -> String {
    let marks: String = r
        .history
        .iter()
        .map(|s| format!("<span class=\"h {s}\" title=\"{s}\"></span>"))
        .collect();
    if marks.is_empty() {
        String::new()
    } else {
        format!("<br><small>recent:</small> {marks}")
    }
}

/// How to cover an item: the kinds that evidence it, and a config line.
fn coverage_hint(item: &Item) -> String {
    let kinds: Vec<&str> = all_kinds()
        .filter(|k| k.item == Some(item.id))
        .map(|k| k.name)
        .collect();
    let (advice, kind) = match kinds.first() {
        Some(first) => (
            format!("add a check of kind {}", kinds.join(" or ")),
            (*first).to_owned(),
        ),
        None => (
            "add an http or command check with this item".to_owned(),
            "http".to_owned(),
        ),
    };
    let name = item.id.replace('.', "_");
    format!(
        "not covered &mdash; {advice}<br><code>- {{ name: {name}, kind: {kind}, target: &lt;target&gt;, item: {} }}</code>",
        item.id
    )
}

/// The waiver of an item to show: the one holding, else the last expired.
fn item_waiver(waivers: &[crate::config::Waiver], id: &str, now: i64) -> String {
    let of_item = waivers.iter().filter(|w| w.item.as_deref() == Some(id));
    crate::config::shown_waiver(of_item, now).map_or_else(String::new, |w| waiver_note(w, now))
}

/// Which items a section of the checklist shows.
type ItemFilter = fn(&Item) -> bool;

/// The 41 items grouped as the seed groups them, each with its state and
/// the checks that evidence it; uncovered items greyed with how to cover them.
fn render_checklist(
    out: &mut String,
    records: &[CheckRecord],
    waivers: &[crate::config::Waiver],
    now: i64,
) {
    let states = item_states(records.iter().map(|r| (r.meta.item(), r.state())));
    let covered = states.iter().filter(|(_, s)| s.is_some()).count();
    let passing = states
        .iter()
        .filter(|(_, s)| *s == Some(State::Pass))
        .count();
    let _ = write!(
        out,
        "<h2>Checklist</h2><p><small>{passing} of {} items pass &middot; {covered} covered by a check</small></p>",
        ITEMS.len()
    );
    let groups: [(&str, ItemFilter); 5] = [
        ("Security", |i| i.category == Category::Security),
        ("Performance", |i| i.category == Category::Performance),
        ("Operations", |i| i.category == Category::Operations),
        ("Pre-deployment checks", |i| i.id.starts_with("deployment.")),
        ("Deployment steps", |i| i.id.starts_with("step.")),
    ];
    for (title, member) in groups {
        let _ = write!(
            out,
            "<h3>{title}</h3><table><tr><th>State</th><th>Item</th><th>Checks</th></tr>"
        );
        for (item, state) in states.iter().filter(|(i, _)| member(i)) {
            let Some(state) = state else {
                let _ = write!(
                    out,
                    "<tr class=\"uncovered\"><td><span class=\"s unknown\">unknown</span></td><td><b>{}</b><br><small>{}</small>{}</td><td>{}</td></tr>",
                    item.id,
                    html_escape(item.title),
                    item_waiver(waivers, item.id, now),
                    coverage_hint(item)
                );
                continue;
            };
            let links: Vec<String> = records
                .iter()
                .filter(|r| r.meta.item() == item.id)
                .map(|r| {
                    let name = html_escape(r.meta.name());
                    let waived = if r.active_waiver(now).is_some() && r.state() != State::Pass {
                        " <small>(waived)</small>"
                    } else {
                        ""
                    };
                    format!(
                        "<a href=\"#check-{name}\">{name}</a> <span class=\"s {0}\">{0}</span>{waived}",
                        r.state()
                    )
                })
                .collect();
            let _ = write!(
                out,
                "<tr><td><span class=\"s {state}\">{state}</span></td><td><b>{}</b><br><small>{}</small>{}</td><td>{}</td></tr>",
                item.id,
                html_escape(item.title),
                item_waiver(waivers, item.id, now),
                links.join("<br>")
            );
        }
        out.push_str("</table>");
    }
}

/// The runbook section for a state that needs attention.
fn runbook_of(state: State) -> Option<&'static str> {
    match state {
        State::Fail => Some("check-failing"),
        State::Error => Some("check-error"),
        State::Warn => Some("check-warning"),
        State::Unknown | State::Pass => None,
    }
}

/// What needs attention, first on the page: every check that errs, fails
/// or warns and every waived one, worst first (then by severity), each
/// with why (its message) and what to do (its runbook, its waiver).
fn render_attention(out: &mut String, records: &[CheckRecord], now: i64) {
    let mut shown: Vec<&CheckRecord> = records
        .iter()
        .filter(|r| {
            runbook_of(r.state()).is_some()
                || crate::config::shown_waiver(r.meta.waivers(), now).is_some()
        })
        .collect();
    shown.sort_by_key(|r| {
        (
            attention(r.state()),
            match r.meta.severity() {
                crate::vocab::Severity::Critical => 0,
                crate::vocab::Severity::Warning => 1,
                crate::vocab::Severity::Info => 2,
            },
            r.meta.index(),
        )
    });
    out.push_str("<h2 id=\"attention\">Needs attention</h2>");
    if shown.is_empty() {
        out.push_str("<p>Nothing: no check errs, fails or warns, and none is waived.</p>");
        return;
    }
    out.push_str("<table><tr><th>State</th><th>Check</th><th>Why</th><th>What to do</th></tr>");
    for r in shown {
        let state = r.state();
        let why = r.outcome.as_ref().map_or("", |o| &*o.message);
        let todo = runbook_of(state).map_or_else(String::new, |anchor| {
            format!("<a href=\"runbooks#{anchor}\">runbook: check {state}</a>")
        });
        let _ = write!(
            out,
            "<tr><td><span class=\"s {state}\">{state}</span></td>\
             <td><a href=\"#check-{name}\"><b>{name}</b></a><br><small>{} &middot; {}</small></td>\
             <td>{}</td><td>{todo}{}</td></tr>",
            r.meta.kind(),
            r.meta.severity(),
            html_escape(why),
            check_waiver(r, now),
            name = html_escape(r.meta.name()),
        );
    }
    out.push_str("</table>");
}

/// The page; `telemetry` is where the metrics are served (linked).
pub fn render(engine: &Engine, telemetry: &str) -> String {
    let records = engine.store.snapshot();
    let now = crate::clock::unix_now();
    let plan = engine.plan();
    let all: Vec<&CheckRecord> = records.iter().collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>prodready-exporter</title>\
         <meta http-equiv=\"refresh\" content=\"30\"><style>{STYLE}</style></head><body>\
         <h1>Production readiness</h1><p>Score: <b>{}</b> &middot; {} &middot; config reload: {}</p>\
         <p><a href=\"{link}\">{telemetry}</a> &middot; <a href=\"api/v1/checks\">/api/v1/checks</a> &middot; <a href=\"runbooks\">runbooks</a></p>",
        score_text(&all),
        Summary::of(&records).line(),
        if engine.reload_status.successful() { "ok" } else { "<b>last reload failed</b>" },
        telemetry = html_escape(telemetry),
        // Relative links: the page works under a route prefix.
        link = html_escape(telemetry.trim_start_matches('/')),
    );
    render_attention(&mut out, &records, now);
    render_checklist(&mut out, &records, &plan.config.waivers, now);
    out.push_str("<h2>Checks</h2>");
    if records.is_empty() {
        out.push_str("<p>No checks are configured.</p>");
    }
    for category in Category::ALL {
        let mut in_category: Vec<&CheckRecord> = records
            .iter()
            .filter(|r| r.meta.category() == category)
            .collect();
        // Failing first: what needs attention is at the top of each category.
        in_category.sort_by_key(|r| (attention(r.state()), r.meta.index()));
        if in_category.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<h3>{category}</h3><p><small>score {}</small></p><table><tr><th>State</th><th>Check</th>\
             <th>Message</th><th>Last run</th><th>Duration</th></tr>",
            score_text(&in_category)
        );
        for r in in_category {
            let state = r.state();
            let message = r.outcome.as_ref().map_or(
                if r.meta.gate_only() {
                    "gate only: evaluated by `prodready-exporter check`, not by the daemon"
                } else {
                    "not evaluated yet"
                },
                |o| &*o.message,
            );
            let _ = write!(
                out,
                "<tr id=\"check-{}\"><td><span class=\"s {state}\">{state}</span></td><td><b>{}</b><br><small>{} &middot; {}{}{}</small>{}{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(r.meta.name()),
                html_escape(r.meta.name()),
                if r.meta.source() == "attestation" {
                    format!("{} (self-reported attestation)", r.meta.kind())
                } else {
                    r.meta.kind().to_owned()
                },
                r.meta.severity(),
                if r.meta.target().is_empty() {
                    String::new()
                } else {
                    format!(" &middot; target <code>{}</code>", html_escape(r.meta.target()))
                },
                if r.meta.item().is_empty() {
                    String::new()
                } else {
                    format!(" &middot; item <code>{}</code>", r.meta.item())
                },
                history_strip(r),
                check_waiver(r, now),
                message_cell(message, r),
                r.last_run.map_or_else(|| "never".to_owned(), rfc3339),
                r.last_run
                    .map_or_else(String::new, |_| format!("{} ms", r.duration.as_millis())),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}
