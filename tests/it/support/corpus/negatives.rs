//! Clean files that look like secrets to a careless rule: placeholders,
//! documentation examples, public keys and certificates, hashes, UUIDs and
//! identifiers, references to the environment, test fixtures, mentions.

use super::{expand, in_syntax, Rng};

const SECRET_KEYS: &[&str] = &[
    "password",
    "DB_PASSWORD",
    "api_key",
    "API_TOKEN",
    "secret",
    "client_secret",
    "token",
    "AWS_SECRET_ACCESS_KEY",
    "private_key",
    "auth_token",
];

const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "CHANGEME",
    "change_me",
    "xxxxxxxxxxxxxxxx",
    "XXXXXXXXXXXXXXXXXXXX",
    "****************",
    "################",
    "<your-api-key>",
    "<password>",
    "<TOKEN>",
    "${API_KEY}",
    "${DB_PASSWORD}",
    "${{ secrets.DEPLOY_TOKEN }}",
    "{{ .Values.token }}",
    "{{ vault_db_password }}",
    "%s",
    "{password}",
    "%(password)s",
    "your_token_here",
    "REPLACE_ME",
    "dummy",
    "example",
    "secret",
    "password",
    "TODO",
    "none",
    "null",
    "redacted",
    "$DB_PASSWORD",
    "@DB_PASSWORD@",
    "%DB_PASSWORD%",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "AKIAXXXXXXXXXXXXXXXX",
    "xoxb-your-bot-token",
    "glpat-xxxxxxxxxxxxxxxxxxxx",
    "<redacted>",
];

/// Examples providers publish in their own documentation.
const DOC_EXAMPLES: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws_access_key_id", "AKIAI44QH8DHBEXAMPLE"),
    ("aws_secret_access_key", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"),
    ("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
];

fn public_key(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => expand("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA{B 20}\n{B 64}\n{B 64}\n{B 20}IDAQAB\n-----END PUBLIC KEY-----\n", rng),
        1 => expand("-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE{B 44}\n{B 64}\n{B 64}\n{B 32}==\n-----END CERTIFICATE-----\n", rng),
        2 => expand("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{B 43} deploy@ci\n", rng),
        _ => expand("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{B 300} ops@bastion\n", rng),
    }
}

/// An elided or placeholder private key body: no key.
fn elided_key(rng: &mut Rng) -> String {
    let body = *rng.pick(&[
        "...",
        "<your private key here>",
        "MIIEvQIBADANBg...",
        "(redacted)",
        "${PRIVATE_KEY}",
    ]);
    format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n")
}

fn hashes(rng: &mut Rng) -> (String, String) {
    match rng.below(7) {
        0 => ("SHA256SUMS".into(), expand("{h 64}  dist/shop-1.4.2.tar.gz\n{h 64}  dist/shop-1.4.2.zip\n", rng)),
        1 => ("package-lock.fragment.json".into(), expand("{\n  \"resolved\": \"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\",\n  \"integrity\": \"sha512-{B 86}==\"\n}\n", rng)),
        2 => ("CHANGELOG.md".into(), expand("## 1.4.2\n\n* Fix rounding ({h 40})\n* Merge {h 7} into main\n", rng)),
        3 => ("deploy/image.yaml".into(), expand("image: registry.example.com/shop@sha256:{h 64}\n", rng)),
        4 => ("go.sum.txt".into(), expand("golang.org/x/net v0.25.0 h1:{B 43}=\n", rng)),
        5 => ("users.sql".into(), expand("INSERT INTO users (email, password_hash) VALUES ('ann@example.com', '$2b$12${u 53}');\n", rng)),
        _ => ("build/manifest.json".into(), expand("{\n  \"app.js\": \"app.{h 8}.js\",\n  \"vendor.css\": \"vendor.{h 20}.css\"\n}\n", rng)),
    }
}

fn identifiers(rng: &mut Rng) -> (String, String) {
    match rng.below(8) {
        0 => ("events.json".into(), expand("{\"request_id\": \"{uuid}\", \"trace_id\": \"{h 32}\", \"span_id\": \"{h 16}\"}\n", rng)),
        1 => ("config/tenant.yaml".into(), expand("tenant_id: {uuid}\nsubscription_id: {uuid}\nregion: westeurope\n", rng)),
        2 => ("src/ids.ts".into(), expand("export const CHANNEL_ID = \"C{U 10}\";\nexport const TEAM_ID = \"T{U 10}\";\n", rng)),
        3 => ("test/data.csv".into(), expand("id,sku,created\n{uuid},SKU-{d 6},2026-01-0{d 1}\n{uuid},SKU-{d 6},2026-02-1{d 1}\n", rng)),
        4 => ("web/styles.css".into(), expand(".btn-{h 6} { color: #{h 6}; }\n.card-{l 8} { margin: 0; }\n", rng)),
        5 => ("deploy/job.yaml".into(), expand("metadata:\n  name: migrate-{l 5}\n  uid: {uuid}\n  resourceVersion: \"{d 8}\"\n", rng)),
        6 => ("src/routes.py".into(), expand("ROUTE_KEY = \"orders_v{d 1}\"\nCACHE_KEY_PREFIX = \"shop:{l 6}\"\n", rng)),
        _ => ("analytics.html".into(), expand("<script>gtag('config', 'G-{U 10}');</script>\n", rng)),
    }
}

fn references(rng: &mut Rng) -> (String, String) {
    let key = *rng.pick(SECRET_KEYS);
    match rng.below(8) {
        0 => (
            "app/settings.py".into(),
            format!(
                "import os\n{} = os.environ[\"{}\"]\n",
                key.to_uppercase(),
                key.to_uppercase()
            ),
        ),
        1 => (
            "src/config.js".into(),
            format!("const token = process.env.{};\n", key.to_uppercase()),
        ),
        2 => (
            "deploy/values.yaml".into(),
            format!("{key}:\n  valueFrom:\n    secretKeyRef:\n      name: app\n      key: {key}\n"),
        ),
        3 => (
            "config/database.yml".into(),
            format!(
                "production:\n  {key}: <%= ENV['{}'] %>\n",
                key.to_uppercase()
            ),
        ),
        4 => (
            "main.go".into(),
            format!(
                "package main\n\nimport \"os\"\n\nvar {key} = os.Getenv(\"{}\")\n",
                key.to_uppercase()
            ),
        ),
        5 => (
            "config/app.yaml".into(),
            format!("{key}_file: /run/secrets/{key}\n{key}_ttl: 3600\n"),
        ),
        6 => (
            ".github/workflows/ci.yml".into(),
            format!(
                "env:\n  {}: ${{{{ secrets.{} }}}}\n",
                key.to_uppercase(),
                key.to_uppercase()
            ),
        ),
        _ => (
            "src/auth.rs".into(),
            format!(
                "let {} = std::env::var(\"{}\")?;\n",
                key.to_lowercase(),
                key.to_uppercase()
            ),
        ),
    }
}

fn mentions(rng: &mut Rng) -> (String, String) {
    let text = *rng.pick(&[
        "GitHub personal access tokens start with ghp_ and fine-grained ones with github_pat_.\n",
        "Create a Slack bot token (xoxb-...) and paste it into the settings page.\n",
        "Set STRIPE_SECRET_KEY in the environment; keys look like sk_live_... in production.\n",
        "The password must be at least 12 characters long and contain a digit.\n",
        "Rotate the api_key every 90 days; the token expires after 1 hour.\n",
        "Use `aws configure` to set your AWS access key and secret access key.\n",
        "-----BEGIN PRIVATE KEY----- marks the start of a PEM-encoded key.\n",
        "password_policy: { min_length: 12, require_digit: true }\n",
        "See https://docs.gitlab.com/ee/security/token_overview.html for glpat- tokens.\n",
        "Bearer tokens go in the Authorization header: Authorization: Bearer <token>\n",
    ]);
    ("docs/security.md".into(), text.to_owned())
}

fn fixtures(rng: &mut Rng) -> (String, String) {
    let value = *rng.pick(&[
        "test",
        "test123",
        "password123",
        "secret",
        "fake-token",
        "foo",
        "bar",
        "letmein",
        "hunter2",
        "testtesttest",
    ]);
    let key = *rng.pick(SECRET_KEYS);
    in_syntax(rng, key, value)
}

/// URLs, query strings and netrc entries whose credential is a reference,
/// an interpolation or a documented example, not a secret.
fn url_references(rng: &mut Rng) -> (String, String) {
    let text = *rng.pick(&[
        "DATABASE_URL = \"postgres://#{ENV['DB_USER']}:#{ENV['DB_PASS']}@#{db_host}/shop\"\n",
        "url = \"mysql2://#{username}:#{password}@#{host}:3306/#{database}\"\n",
        "MONGO_URL=mongodb://%2Ftmp%2Fmongodb-27017.sock/shop\n",
        "dsn = \"postgresql://{user}:{password}@{host}:{port}/{db}\".format(**cfg)\n",
        "git clone https://oauth2:${CI_JOB_TOKEN}@gitlab.com/shop/app.git\n",
        "git clone https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/shop/app.git\n",
        "ftp://anonymous:anonymous@ftp.example.com/pub/\n",
        "proxy: http://user:pass@proxy.example.com:3128\n",
        "See https://user:password@example.com/ for the URL form with credentials.\n",
        "curl \"https://api.example.com/v1/items?access_token=YOUR_ACCESS_TOKEN\"\n",
        "<script src=\"https://maps.googleapis.com/maps/api/js?key=${GOOGLE_MAPS_KEY}&callback=init\"></script>\n",
        "GET /oauth/callback?code=<code>&state=<state>&token=<token>\n",
        "machine api.example.com login deploy password ${NETRC_PASSWORD}\n",
        "export DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@$DB_HOST/shop\n",
        "link: https://ci.shop.example/job/deploy/?token=build-trigger&cause=docs\n",
    ]);
    ("config/urls.conf".into(), text.to_owned())
}

/// The negative files: (family, file name, text).
pub fn generate(rng: &mut Rng) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for _ in 0..120 {
        let key = *rng.pick(SECRET_KEYS);
        let value = *rng.pick(PLACEHOLDERS);
        let (name, text) = in_syntax(rng, key, value);
        out.push(("placeholder", name, text));
    }
    for i in 0..60 {
        let (key, value) = DOC_EXAMPLES[i % DOC_EXAMPLES.len()];
        let (name, text) = in_syntax(rng, key, value);
        out.push(("doc-example", name, text));
    }
    for i in 0..60 {
        if i % 3 == 0 {
            out.push((
                "public-key",
                "certs/placeholder.key".into(),
                elided_key(rng),
            ));
        } else {
            out.push(("public-key", "certs/server.pub".into(), public_key(rng)));
        }
    }
    for _ in 0..80 {
        let (name, text) = hashes(rng);
        out.push(("hash", name, text));
    }
    for _ in 0..80 {
        let (name, text) = identifiers(rng);
        out.push(("identifier", name, text));
    }
    for _ in 0..60 {
        let (name, text) = references(rng);
        out.push(("env-reference", name, text));
    }
    for _ in 0..30 {
        let (name, text) = mentions(rng);
        out.push(("mention", name, text));
    }
    for _ in 0..40 {
        let (name, text) = fixtures(rng);
        out.push(("test-fixture", name, text));
    }
    for _ in 0..60 {
        let (name, text) = url_references(rng);
        out.push(("url-reference", name, text));
    }
    for _ in 0..60 {
        let (name, text) = settings(rng);
        out.push(("setting", name, text));
    }
    out
}

/// Settings whose names say password, token or key but whose values are
/// not secrets: `name value` config lines, Ruby interpolation, base64 of a
/// certificate, colours and anchors with `#`.
fn settings(rng: &mut Rng) -> (String, String) {
    const LINES: &[&str] = &[
        "token_ttl 3600",
        "password_min_length 12",
        "secret_name shop-db-credentials",
        "api_key_header X-Api-Key",
        "auth_key_path /etc/shop/auth.key",
        "password_hash_algorithm argon2id",
        "credentials_file ~/.aws/credentials",
        "token_endpoint https://auth.shop.example/oauth/token",
        "private_key_file certs/tls.key",
        "requirepass \"\"",
    ];
    match rng.below(5) {
        0 | 1 => (
            "conf/service.conf".into(),
            format!("port 8080\n{}\n{}\n", rng.pick(LINES), rng.pick(LINES)),
        ),
        2 => (
            "config/database.rb".into(),
            "url = \"postgres://#{user}:#{password}@db.internal:5432/shop\"\nheaders = { 'Authorization' => \"Bearer #{ENV['API_TOKEN']}\" }\n".into(),
        ),
        3 => {
            let cert = expand("-----BEGIN CERTIFICATE-----\nMIID{B 60}\n{B 64}\n{B 64}\n-----END CERTIFICATE-----\n", rng);
            ("deploy/values.yaml".into(), format!("tls:\n  ca: {}\n", super::base64(cert.as_bytes())))
        }
        _ => (
            "config/theme.yml".into(),
            "password_strength_color: \"#e5484d\"\ntoken_badge: \"#3e63dd\"\ncredentials: shop/infra#deploy-keys\n".into(),
        ),
    }
}
