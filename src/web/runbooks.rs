//! `/runbooks`: docs/runbooks.md, built into the binary and served as HTML
//! with an anchor per section (`#check-failing`, as GitHub names them), so
//! that every alert's `runbook_url` resolves wherever the exporter runs.
//! A small renderer of the Markdown that file uses: headings, paragraphs,
//! numbered and bulleted lists, fenced code, inline code and links.

use crate::escape::markup as escape;

/// The runbooks' Markdown source.
pub const SOURCE: &str = include_str!("../../docs/runbooks.md");

/// A heading's anchor as GitHub makes it: lower case, spaces to `-`,
/// punctuation dropped.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Inline Markdown: `code` and [text](link) (other text escaped).
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                out.push_str(&format!("<code>{}</code>", escape(&after[..end])));
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('[') {
            if let Some((label, tail)) = after.split_once("](") {
                if let Some((href, tail)) = tail.split_once(')') {
                    out.push_str(&format!(
                        "<a href=\"{}\">{}</a>",
                        escape(href),
                        escape(label)
                    ));
                    rest = tail;
                    continue;
                }
            }
        }
        let next = rest[1..].find(['`', '[']).map_or(rest.len(), |i| i + 1);
        out.push_str(&escape(&rest[..next]));
        rest = &rest[next..];
    }
    out
}

/// The runbooks page.
pub fn render() -> String {
    let mut out = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>prodready-exporter runbooks</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:52em;color:#222;line-height:1.45}\
         code{background:#f4f4f4;padding:0 .2em}pre{background:#f4f4f4;padding:.6em;overflow-x:auto}\
         h2{border-top:1px solid #ddd;padding-top:.8em}</style></head><body>\
         <p><a href=\"./\">status page</a></p>",
    );
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<&str> = None;
    let mut item: Vec<&str> = Vec::new();
    let mut code = false;
    let flush_item = |out: &mut String, item: &mut Vec<&str>| {
        if !item.is_empty() {
            out.push_str(&format!("<li>{}</li>", inline(&item.join(" "))));
            item.clear();
        }
    };
    for line in SOURCE.lines() {
        if line.starts_with("```") {
            if code {
                out.push_str("</pre>");
            } else {
                out.push_str("<pre>");
            }
            code = !code;
            continue;
        }
        if code {
            out.push_str(&escape(line));
            out.push('\n');
            continue;
        }
        let trimmed = line.trim_start();
        let numbered = trimmed
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, t)| t);
        let bulleted = trimmed.strip_prefix("- ");
        let starts_item = numbered.or(bulleted);
        let continues = !trimmed.is_empty() && line.starts_with("   ") && list.is_some();
        if starts_item.is_none() && !continues {
            flush_item(&mut out, &mut item);
            if let Some(tag) = list.take() {
                out.push_str(&format!("</{tag}>"));
            }
        }
        if let Some(text) = starts_item {
            if !paragraph.is_empty() {
                out.push_str(&format!("<p>{}</p>", inline(&paragraph.join(" "))));
                paragraph.clear();
            }
            flush_item(&mut out, &mut item);
            let tag = if numbered.is_some() { "ol" } else { "ul" };
            if list.is_none() {
                out.push_str(&format!("<{tag}>"));
                list = Some(tag);
            }
            item.push(text);
        } else if continues {
            item.push(trimmed);
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2 id=\"{}\">{}</h2>", anchor(h), inline(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1 id=\"{}\">{}</h1>", anchor(h), inline(h)));
        } else if trimmed.is_empty() {
            if !paragraph.is_empty() {
                out.push_str(&format!("<p>{}</p>", inline(&paragraph.join(" "))));
                paragraph.clear();
            }
        } else {
            paragraph.push(trimmed);
        }
    }
    flush_item(&mut out, &mut item);
    if let Some(tag) = list {
        out.push_str(&format!("</{tag}>"));
    }
    if !paragraph.is_empty() {
        out.push_str(&format!("<p>{}</p>", inline(&paragraph.join(" "))));
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_get_githubs_anchors_and_markdown_renders() {
        assert_eq!(anchor("Check failing"), "check-failing");
        assert_eq!(
            anchor("TLS certificate expiring"),
            "tls-certificate-expiring"
        );
        let page = render();
        assert!(page.contains("<h2 id=\"check-failing\">Check failing</h2>"));
        assert!(page.contains(
            "<ol><li>Open the check on the status page or <code>GET /api/v1/checks</code>"
        ));
        assert!(page.contains("<a href=\"#check-failing\">Check failing</a>"));
        assert!(!page.contains("## "), "a heading was left as Markdown");
        assert_eq!(inline("a <b> `x<y`"), "a &lt;b&gt; <code>x&lt;y</code>");
    }
}
