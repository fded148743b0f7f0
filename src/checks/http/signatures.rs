//! Signature tables that recognise leaked internals in response bodies:
//! stack traces and framework debug pages, and database error messages.
//! Every signature carries examples it must match and negative examples it
//! must not; a test runs them all.

use std::sync::OnceLock;

use regex::Regex;

/// One recognisable pattern.
#[derive(Debug)]
pub struct Signature {
    pub id: &'static str,
    pub pattern: &'static str,
    pub examples: &'static [&'static str],
    pub negative_examples: &'static [&'static str],
}

/// Stack traces and framework error/debug pages.
pub static ERROR_PAGES: &[Signature] = &[
    Signature {
        id: "python-traceback",
        pattern: r"Traceback \(most recent call last\):",
        examples: &["Traceback (most recent call last):\n  File \"app.py\", line 3"],
        negative_examples: &["We traced back your order."],
    },
    Signature {
        id: "java-stack-trace",
        pattern: r"(?m)^\s*at [\w$.]+\([\w$]+\.java:\d+\)|Exception in thread \x22",
        examples: &[
            "java.lang.NullPointerException\n\tat com.shop.Cart.total(Cart.java:42)",
            "Exception in thread \"main\" java.lang.Error",
        ],
        negative_examples: &["Meet us at Java Cafe (Main St. 12)"],
    },
    Signature {
        id: "dotnet-stack-trace",
        pattern: r"(?m)^\s*at [\w.<>`]+\(.*\) in .+:line \d+|Server Error in '/' Application|System\.[A-Za-z]+Exception:",
        examples: &[
            "   at Shop.Controllers.Cart.Get(Int32 id) in C:\\src\\Cart.cs:line 17",
            "<h1>Server Error in '/' Application.</h1>",
            "System.NullReferenceException: Object reference not set",
        ],
        negative_examples: &["The system is down for maintenance."],
    },
    Signature {
        id: "node-stack-trace",
        pattern: r"(?m)^\s*at .+\((/|[A-Za-z]:\\|node:)[^)]*:\d+:\d+\)",
        examples: &[
            "TypeError: x is undefined\n    at Object.<anonymous> (/app/index.js:3:9)",
            "    at Module._compile (node:internal/modules/cjs/loader:1105:14)",
        ],
        negative_examples: &["Meet us at noon (12:30)"],
    },
    Signature {
        id: "go-panic",
        pattern: r"goroutine \d+ \[running\]:|panic: runtime error",
        examples: &["panic: runtime error: index out of range\n\ngoroutine 1 [running]:"],
        negative_examples: &["Don't panic, your order is safe."],
    },
    Signature {
        id: "rust-panic",
        pattern: r"thread '[^']*' panicked at ",
        examples: &["thread 'main' panicked at src/main.rs:4:5:"],
        negative_examples: &["The thread about panic attacks is closed."],
    },
    Signature {
        id: "php-error",
        pattern: r"(Fatal error|Warning|Parse error|Notice)</b>?:? .+ on line <b>?\d+|(Fatal error|Parse error): .+ in /.+ on line \d+|Stack trace:\s*#0 ",
        examples: &[
            "<b>Fatal error</b>:  Uncaught Error in /var/www/index.php on line <b>12</b>",
            "PHP Parse error: syntax error in /var/www/a.php on line 3",
            "Stack trace:\n#0 /var/www/index.php(3): foo()",
        ],
        negative_examples: &["No errors found on line 3 of your order."],
    },
    Signature {
        id: "django-debug",
        pattern: r"You're seeing this error because you have <code>DEBUG = True</code>|<title>\w+ at /.*</title>",
        examples: &["You're seeing this error because you have <code>DEBUG = True</code> in"],
        negative_examples: &["<title>Shop</title>"],
    },
    Signature {
        id: "rails-debug",
        pattern: r"Action Controller: Exception caught|<h2 style=\x22margin-top: 30px\x22>Extracted source",
        examples: &["<title>Action Controller: Exception caught</title>"],
        negative_examples: &["Our controller caught the ball."],
    },
    Signature {
        id: "laravel-symfony-debug",
        pattern: r"Whoops, looks like something went wrong|Illuminate\\[A-Za-z\\]+Exception|Symfony\\Component\\[A-Za-z\\]+",
        examples: &[
            "Whoops, looks like something went wrong.",
            "Illuminate\\Database\\QueryException",
        ],
        negative_examples: &["Oops, that page does not exist."],
    },
    Signature {
        id: "werkzeug-debugger",
        pattern: r"Werkzeug Debugger|The debugger caught an exception in your WSGI application",
        examples: &["<title>ValueError // Werkzeug Debugger</title>"],
        negative_examples: &["Debug your WSGI apps with our guide."],
    },
    Signature {
        id: "spring-whitelabel",
        pattern: r"Whitelabel Error Page",
        examples: &["<h1>Whitelabel Error Page</h1>"],
        negative_examples: &["White label products on sale"],
    },
    Signature {
        id: "express-error",
        pattern: r"<pre>\w*Error: [^<]*<br> &nbsp; &nbsp;at ",
        examples: &["<pre>SyntaxError: Unexpected token } in JSON<br> &nbsp; &nbsp;at JSON.parse"],
        negative_examples: &["<pre>No error here</pre>"],
    },
];

/// Database error messages leaking through an application.
pub static DB_ERRORS: &[Signature] = &[
    Signature {
        id: "postgresql",
        pattern: r"(?i)syntax error at or near|unterminated quoted string at or near|PSQLException|PG::SyntaxError|pg_query\(\)|ERROR:\s+invalid input syntax for (type )?\w+",
        examples: &[
            "ERROR:  syntax error at or near \"'\" at character 34",
            "ERROR:  unterminated quoted string at or near \"'\"",
            "org.postgresql.util.PSQLException: ERROR",
            "ERROR:  invalid input syntax for type integer: \"1'\"",
        ],
        negative_examples: &["Your search near 'Berlin' had no results."],
    },
    Signature {
        id: "mysql-mariadb",
        pattern: r"(?i)You have an error in your SQL syntax|check the manual that (corresponds to|fits) your (MySQL|MariaDB) server version|mysqli?_fetch|Warning: mysqli?_|com\.mysql\.jdbc",
        examples: &[
            "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax",
            "check the manual that corresponds to your MariaDB server version",
            "Warning: mysqli_fetch_array() expects parameter 1",
        ],
        negative_examples: &["Check the manual that came with your router."],
    },
    Signature {
        id: "sqlite",
        pattern: r#"(?i)SQLITE_ERROR|sqlite3\.OperationalError|unrecognized token: "|near "[^"]*": syntax error|SQLiteException"#,
        examples: &[
            "sqlite3.OperationalError: near \"'\": syntax error",
            "SQLITE_ERROR: unrecognized token: \"'\"",
        ],
        negative_examples: &["The token was unrecognized by our loyalty program."],
    },
    Signature {
        id: "mssql",
        pattern: r"(?i)Unclosed quotation mark after the character string|Incorrect syntax near '|Microsoft OLE DB Provider for SQL Server|System\.Data\.SqlClient\.SqlException|\[SQL Server\]",
        examples: &[
            "Unclosed quotation mark after the character string ''.",
            "Incorrect syntax near '1'.",
            "[Microsoft][ODBC SQL Server Driver][SQL Server]Invalid",
        ],
        negative_examples: &["Incorrect password, try again."],
    },
    Signature {
        id: "oracle",
        pattern: r"\bORA-\d{5}\b|(?i)quoted string not properly terminated|oracle\.jdbc",
        examples: &[
            "ORA-01756: quoted string not properly terminated",
            "ORA-00933: SQL command not properly ended",
        ],
        negative_examples: &["ORANGE-12345 is your order code", "Our oracle predicts sunshine."],
    },
];

/// A compiled table: the first signature whose pattern matches.
pub struct Matcher {
    table: &'static [Signature],
    compiled: Vec<Regex>,
}

impl Matcher {
    fn new(table: &'static [Signature]) -> Matcher {
        let compiled = table
            .iter()
            .map(|s| {
                Regex::new(s.pattern)
                    .unwrap_or_else(|e| unreachable!("signature {} does not compile: {e}", s.id))
            })
            .collect();
        Matcher { table, compiled }
    }

    pub fn find(&self, text: &str) -> Option<&'static str> {
        self.compiled
            .iter()
            .zip(self.table)
            .find(|(re, _)| re.is_match(text))
            .map(|(_, s)| s.id)
    }
}

pub fn error_pages() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(ERROR_PAGES))
}

pub fn db_errors() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(DB_ERRORS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_table(table: &'static [Signature]) {
        for sig in table {
            let re = Regex::new(sig.pattern).unwrap();
            assert!(!sig.examples.is_empty(), "{} has no examples", sig.id);
            assert!(
                !sig.negative_examples.is_empty(),
                "{} has no negative examples",
                sig.id
            );
            for e in sig.examples {
                assert!(
                    re.is_match(e),
                    "{} does not match its example {e:?}",
                    sig.id
                );
            }
            for n in sig.negative_examples {
                assert!(
                    !re.is_match(n),
                    "{} matches its negative example {n:?}",
                    sig.id
                );
            }
        }
    }

    #[test]
    fn error_page_signatures_match_their_examples_only() {
        run_table(ERROR_PAGES);
        assert_eq!(error_pages().find("<h1>Welcome</h1>"), None);
    }

    #[test]
    fn db_error_signatures_match_their_examples_only() {
        run_table(DB_ERRORS);
        assert_eq!(db_errors().find("ORA-01756: quoted string"), Some("oracle"));
        assert_eq!(db_errors().find("{\"items\": []}"), None);
    }
}
