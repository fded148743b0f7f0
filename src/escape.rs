//! Escaping text for where it goes: XML and HTML content and attribute
//! values (the status page, the runbooks, JUnit), Markdown table cells
//! (the markdown report), and URI components. A
//! leaf: it imports nothing of the crate.

/// What a URI component keeps unencoded: RFC 3986's unreserved characters
/// (letters, digits, `-_.~`); add what a place allows besides (`/` in a path).
pub const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Escapes text for XML and HTML content and attribute values; drops the
/// control characters XML 1.0 forbids.
pub fn markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for one cell of a GitHub-flavoured Markdown table, shown as it is:
/// markup, HTML and emphasis characters escaped with a backslash or an
/// entity, line breaks and control characters as spaces, and cut to `max`
/// characters (with `…`), so that a target's answer cannot break the table,
/// inject links or images, or grow a job summary without bound.
pub fn markdown_cell(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 2));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // No autolink: `http://…` from a target's answer stays text.
            ':' => out.push_str("&#58;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::markup("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&#39;"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_link() {
        assert_eq!(
            super::markdown_cell("a|b\n![x](http://e/) <img> `c`", 100),
            "a\\|b \\!\\[x\\](http&#58;//e/) &lt;img&gt; \\`c\\`"
        );
        assert_eq!(super::markdown_cell("abcdef", 3), "abc…");
    }
}
