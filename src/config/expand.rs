//! `${VAR}` expansion in the config text, before YAML parsing.
//! `${VAR:-default}` supplies a default, `$$` is a literal `$`. An unset
//! variable without a default is an error naming the variable and the line.

/// Expands `${VAR}` references; `lookup` returns a variable's value.
/// Returns every unset variable as `(line, name)` when any is missing.
pub fn expand_env(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Vec<(usize, String)>> {
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        // Comments are not expanded, so a commented-out `${VAR}` needs no value.
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(body) = after.strip_prefix('{') {
                match body.find('}') {
                    Some(end) => {
                        let inner = &body[..end];
                        let (name, default) = match inner.split_once(":-") {
                            Some((n, d)) => (n, Some(d)),
                            None => (inner, None),
                        };
                        match lookup(name).or_else(|| default.map(str::to_owned)) {
                            Some(value) => out.push_str(&value),
                            None => missing.push((index + 1, name.to_owned())),
                        }
                        rest = &body[end + 1..];
                    }
                    None => {
                        out.push('$');
                        rest = after;
                    }
                }
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_defaults_and_escapes() {
        let text =
            "url: postgres://${HOST}:${PORT:-5432}/app\nprice: $$5 and $HOME\n# ${NOT_SET}\n";
        let out = expand_env(text, env).unwrap();
        assert_eq!(
            out,
            "url: postgres://db.internal:5432/app\nprice: $5 and $HOME\n# ${NOT_SET}\n"
        );
        assert_eq!(expand_env("a: '${EMPTY}'", env).unwrap(), "a: ''");
    }

    #[test]
    fn reports_every_missing_variable_with_its_line() {
        let err = expand_env("a: ${ONE}\nb: ok\nc: ${TWO}", env).unwrap_err();
        assert_eq!(err, vec![(1, "ONE".into()), (3, "TWO".into())]);
    }
}
