//! The token types of the labelled corpus, written from each provider's
//! documented format (prefix, alphabet, length), independently of the
//! detection rules. Templates: literal text with `{SET LEN}` or
//! `{SET MIN-MAX}` runs drawn from an alphabet: `A` base62, `l` lowercase
//! alphanumeric, `U` uppercase alphanumeric, `h` lowercase hex, `H`
//! uppercase hex, `d` digits, `B` base64, `u` base64url, `3` base32, `L`
//! uppercase letters, `x` lowercase letters, `G` bech32 (uppercase); `{uuid}`.

/// How a token appears in a file.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A value with a recognisable form, placed under a key in one of the
    /// corpus' syntaxes. Empty `keys`: neutral key names (the form alone
    /// must give it away).
    Value {
        template: &'static str,
        keys: &'static [&'static str],
    },
    /// A whole file: `{secret}` marks where the generated value goes.
    File {
        name: &'static str,
        template: &'static str,
        value: &'static str,
    },
}

/// One kind of secret: its family (for the per-family table) and name.
#[derive(Debug, Clone, Copy)]
pub struct TokenType {
    pub family: &'static str,
    pub name: &'static str,
    pub shape: Shape,
}

const fn v(family: &'static str, name: &'static str, template: &'static str) -> TokenType {
    TokenType {
        family,
        name,
        shape: Shape::Value {
            template,
            keys: &[],
        },
    }
}

const fn kv(
    family: &'static str,
    name: &'static str,
    template: &'static str,
    keys: &'static [&'static str],
) -> TokenType {
    TokenType {
        family,
        name,
        shape: Shape::Value { template, keys },
    }
}

const fn file(
    family: &'static str,
    name: &'static str,
    file: &'static str,
    template: &'static str,
    value: &'static str,
) -> TokenType {
    TokenType {
        family,
        name,
        shape: Shape::File {
            name: file,
            template,
            value,
        },
    }
}

const PW: &str = "{A4}{d2}{A6}{d1}{A3}";

pub const TOKENS: &[TokenType] = &[
    // AWS: access key ids by prefix, secret keys in context, Bedrock keys.
    v("aws", "access-key-akia", "AKIA{3 16}"),
    v("aws", "access-key-asia", "ASIA{3 16}"),
    v("aws", "access-key-abia", "ABIA{3 16}"),
    v("aws", "access-key-acca", "ACCA{3 16}"),
    v("aws", "access-key-a3t", "A3TQ{3 16}"),
    kv("aws", "secret-access-key", "{B 18}{d2}{B 20}", &["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey", "aws.secret.key"]),
    v("aws", "bedrock-api-key", "ABSKQmVkcm9ja0FQSUtleS{B 108}"),
    // GitHub: every token type.
    v("github", "classic-pat", "ghp_{A 36}"),
    v("github", "oauth", "gho_{A 36}"),
    v("github", "user-to-server", "ghu_{A 36}"),
    v("github", "server-to-server", "ghs_{A 36}"),
    v("github", "refresh", "ghr_{A 76}"),
    v("github", "fine-grained-pat", "github_pat_{A 22}_{A 59}"),
    // GitLab: every token type, routable ones included.
    v("gitlab", "pat", "glpat-{u 20}"),
    v("gitlab", "routable-pat", "glpat-{u 27}.01.{l 9}"),
    v("gitlab", "runner-auth", "glrt-{u 20}"),
    v("gitlab", "runner-registration", "GR1348941{u 20}"),
    v("gitlab", "pipeline-trigger", "glptt-{h 40}"),
    v("gitlab", "deploy", "gldt-{u 20}"),
    v("gitlab", "feed", "glft-{u 20}"),
    v("gitlab", "ci-job", "glcbt-{h 2}_{u 20}"),
    v("gitlab", "scim-oauth", "glsoat-{u 20}"),
    v("gitlab", "oauth-app-secret", "gloas-{h 64}"),
    v("gitlab", "incoming-mail", "glimt-{l 25}"),
    v("gitlab", "agent", "glagent-{u 50}"),
    v("gitlab", "feature-flags", "glffct-{u 20}"),
    // Slack.
    v("slack", "bot", "xoxb-{d 12}-{d 13}-{A 24}"),
    v("slack", "user", "xoxp-{d 12}-{d 12}-{d 13}-{h 32}"),
    v("slack", "app-level", "xapp-1-{U 11}-{d 13}-{h 64}"),
    v("slack", "legacy-workspace", "xoxa-2-{d 12}-{d 12}-{d 13}-{h 32}"),
    v("slack", "refresh", "xoxr-{d 12}-{d 12}-{d 13}-{h 32}"),
    v("slack", "config-access", "xoxe.xoxp-1-{A 140}"),
    v("slack", "config-refresh", "xoxe-1-{A 140}"),
    v("slack", "webhook", "https://hooks.slack.com/services/T{U 10}/B{U 10}/{A 24}"),
    v("slack", "workflow-webhook", "https://hooks.slack.com/triggers/T{U 10}/{d 13}/{h 32}"),
    // Stripe.
    v("stripe", "secret-live", "sk_live_{A 24-99}"),
    v("stripe", "secret-test", "sk_test_{A 24-99}"),
    v("stripe", "restricted-live", "rk_live_{A 24-99}"),
    v("stripe", "restricted-test", "rk_test_{A 24-99}"),
    v("stripe", "webhook-secret", "whsec_{A 32}"),
    // Google.
    v("google", "api-key", "AIza{u 35}"),
    v("google", "oauth-client-secret", "GOCSPX-{u 28}"),
    v("google", "oauth-access-token", "ya29.{u 120}"),
    file("google", "service-account-json", "gcp-sa.json", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"shop-prod-4711\",\n  \"private_key_id\": \"{h 40}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{secret}\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"deployer@shop-prod-4711.iam.gserviceaccount.com\"\n}\n", "MIIEv{B 59}\\n{B 64}\\n{B 64}\\n{B 40}="),
    // Azure.
    v("azure", "ad-client-secret", "{A 3}8Q~{u 34}"),
    v("azure", "storage-connection-string", "DefaultEndpointsProtocol=https;AccountName=shopprod{l 4};AccountKey={B 86}==;EndpointSuffix=core.windows.net"),
    v("azure", "sas-url", "https://shopprod.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co&sp=rwl&se=2027-01-01T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https&sig={B 43}%3D"),
    kv("azure", "storage-account-key", "{B 86}==", &["AZURE_STORAGE_KEY", "azure_storage_account_key", "storageAccountKey"]),
    // JSON Web Tokens.
    v("jwt", "signed", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{u 60}.{u 43}"),
    v("jwt", "rs256", "eyJhbGciOiJSUzI1NiIsImtpZCI6Im{u 20}In0.eyJ{u 120}.{u 342}"),
    v("jwt", "unsigned-alg-none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ{u 60}."),
    v("jwt", "base64-wrapped", "{jwt64}"),
    // Private keys: PEM blocks with a real body.
    file("private-key", "rsa", "deploy/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\n{secret}\n-----END RSA PRIVATE KEY-----\n", "MIIEow{B 58}\n{B 64}\n{B 64}\n{B 64}\n{B 20}"),
    file("private-key", "ec", "certs/server.key", "-----BEGIN EC PRIVATE KEY-----\n{secret}\n-----END EC PRIVATE KEY-----\n", "MHcCAQEEI{B 55}\n{B 64}\n{B 42}=="),
    file("private-key", "pkcs8", "certs/tls.key", "-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n", "MIIEvg{B 58}\n{B 64}\n{B 64}\n{B 30}"),
    file("private-key", "openssh", "keys/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n{B 70}\n{B 70}\n{B 70}\n{B 24}"),
    file("private-key", "encrypted-pkcs8", "certs/enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{secret}\n-----END ENCRYPTED PRIVATE KEY-----\n", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI{B 16}\n{B 64}\n{B 64}\n{B 36}"),
    file("private-key", "dsa", "keys/dsa.pem", "-----BEGIN DSA PRIVATE KEY-----\n{secret}\n-----END DSA PRIVATE KEY-----\n", "MIIBuwIBAAKBgQ{B 50}\n{B 64}\n{B 64}\n{B 16}"),
    file("private-key", "pgp", "keys/release.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{secret}\n-----END PGP PRIVATE KEY BLOCK-----\n", "lQOYBGX{B 57}\n{B 64}\n{B 64}\n={B 4}"),
    file("private-key", "pem-in-json", "config/tls.json", "{\n  \"cert\": \"server.crt\",\n  \"key\": \"-----BEGIN RSA PRIVATE KEY-----\\n{secret}\\n-----END RSA PRIVATE KEY-----\\n\"\n}\n", "MIIEpA{B 58}\\n{B 64}\\n{B 64}"),
    file("private-key", "pkcs12-file", "certs/client.p12", "0\u{82}\n\u{1}\u{0}\u{3}\u{2}\u{1}{secret}", "{B 40}"),
    // curl command lines.
    file("curl", "basic-auth", "scripts/deploy.sh", "#!/bin/sh\ncurl -fsS -u deployer:{secret} https://ci.example.com/api/deploy\n", "{A 4}{d 2}{A 8}{d 2}"),
    file("curl", "user-long-flag", "scripts/sync.sh", "#!/bin/sh\ncurl --user \"svc-sync:{secret}\" https://repo.example.com/upload\n", "{A 6}{d 3}{A 7}"),
    file("curl", "bearer-header", "scripts/call.sh", "curl -H 'Authorization: Bearer {secret}' https://api.example.com/v2/orders\n", "{A 20}{d 4}{A 16}"),
    file("curl", "continued-basic", "scripts/release.sh", "curl -X POST \\\n  -u release-bot:{secret} \\\n  -d @payload.json \\\n  https://hooks.example.com/release\n", "{A 6}{d 2}{A 8}{d 1}"),
    file("curl", "continued-header", "scripts/upload.sh", "curl -sS \\\n  -H \"Authorization: Token {secret}\" \\\n  -F file=@dist.tgz \\\n  https://uploads.example.com/v1/files\n", "{h 40}"),
    file("curl", "api-key-header", "docs/api.md", "```sh\ncurl -H \"X-API-Key: {secret}\" https://api.example.com/v1/me\n```\n", "{A 12}{d 3}{A 17}"),
    // Connection strings.
    v("database", "postgres-url", "postgres://app_rw:{PW}@db.internal:5432/shop"),
    v("database", "postgres-driver-url", "postgresql+psycopg2://shop:{PW}@10.0.3.7:5432/shop"),
    v("database", "mysql-url", "mysql://root:{PW}@mysql.internal:3306/app"),
    v("database", "mysql-driver-url", "mysql+pymysql://svc:{PW}@mysql-primary/app?charset=utf8mb4"),
    v("database", "mongodb-srv", "mongodb+srv://analytics:{PW}@cluster0.{l 5}.mongodb.net/events?retryWrites=true&w=majority"),
    v("database", "mongodb-multi-host", "mongodb://admin:{PW}@mongo-0.db:27017,mongo-1.db:27017,mongo-2.db:27017/admin?replicaSet=rs0"),
    v("database", "redis-userless", "redis://:{PW}@cache.internal:6379/0"),
    v("database", "rediss-user", "rediss://default:{PW}@cache.example.net:6380"),
    v("database", "amqp-url", "amqp://orders:{PW}@rabbitmq.internal:5672/prod"),
    v("database", "jdbc-password-param", "jdbc:postgresql://db.internal:5432/shop?user=shop&password={PW}&ssl=true"),
    v("database", "jdbc-sqlserver", "jdbc:sqlserver://sql.internal:1433;databaseName=shop;user=shop;password={PW};encrypt=true"),
    v("database", "adonet", "Server=tcp:shop.database.windows.net,1433;Database=shop;User ID=shopadmin;Password={PW};Encrypt=True;"),
    v("database", "libpq", "host=db.internal port=5432 dbname=shop user=shop password={PW} sslmode=require"),
    v("database", "mssql-url", "mssql://sa:{PW}@sqlserver:1433/master"),
    // Kubernetes Secret manifests.
    file("kubernetes", "secret-data", "deploy/k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-db\ntype: Opaque\ndata:\n  username: c2hvcA==\n  password: {secret}\n", "{B 22}{d 2}{B 6}=="),
    file("kubernetes", "secret-data-tls", "deploy/k8s/tls.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-api\ndata:\n  api-token: {secret}\n", "{B 38}{d 1}{B 5}"),
    file("kubernetes", "secret-string-data", "deploy/k8s/app.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  DATABASE_PASSWORD: {secret}\n", "{A 6}{d 2}{A 8}"),
    // Generic assignments: the key says it, the value is random.
    kv("generic", "password", PW, &["password", "DB_PASSWORD", "dbPassword", "admin_pass", "spring.datasource.password", "MYSQL_ROOT_PASSWORD", "passwd"]),
    kv("generic", "secret", "{A 8}{d 3}{A 13}", &["secret", "CLIENT_SECRET", "clientSecret", "app_secret", "SECRET_KEY_BASE", "jwtSecret"]),
    kv("generic", "token", "{A 14}{d 4}{A 14}", &["token", "AUTH_TOKEN", "accessToken", "api_token", "X_TOKEN", "session_token"]),
    kv("generic", "api-key", "{A 10}{d 3}{A 19}", &["api_key", "API_KEY", "apiKey", "x-api-key", "service_apikey", "SENDGRID_API_KEY"]),
    kv("generic", "private-key-value", "{B 30}{d 2}{B 12}", &["private_key", "PRIVATE_KEY", "privateKey", "signing_key"]),
    kv("generic", "access-key", "{A 12}{d 2}{A 10}", &["access_key", "ACCESS_KEY_SECRET", "accessKey"]),
    kv("generic", "credentials", "{A 9}{d 3}{A 12}", &["credentials", "db_credential", "SMTP_CREDENTIALS"]),
    // Package and container registries.
    v("registry", "npm", "npm_{A 36}"),
    v("registry", "pypi", "pypi-AgEIcHlwaS5vcmc{u 70}"),
    v("registry", "docker-hub", "dckr_pat_{u 27}"),
    v("registry", "rubygems", "rubygems_{h 48}"),
    v("registry", "nuget", "oy2{l 43}"),
    v("registry", "clojars", "CLOJARS_{l 60}"),
    v("registry", "artifactory-api-key", "AKCp{A 69}"),
    v("registry", "artifactory-reference", "cmVmdGtuOjAxOj{A 50}"),
    v("registry", "pulumi", "pul-{h 40}"),
    v("registry", "terraform-cloud", "{A 14}.atlasv1.{u 67}"),
    v("registry", "doppler", "dp.pt.{A 43}"),
    v("registry", "vault-service", "hvs.{u 95}"),
    v("registry", "vault-batch", "hvb.{u 138}"),
    v("registry", "github-container", "ghp_{A 36}"),
    v("registry", "jfrog-identity", "cmVmdGtuOjAxOjE3{A 48}"),
    // AI APIs.
    v("ai", "openai-legacy", "sk-{A 20}T3BlbkFJ{A 20}"),
    v("ai", "openai-project", "sk-proj-{u 58}T3BlbkFJ{u 58}"),
    v("ai", "openai-service-account", "sk-svcacct-{u 58}T3BlbkFJ{u 58}"),
    v("ai", "anthropic", "sk-ant-api03-{u 93}AA"),
    v("ai", "anthropic-admin", "sk-ant-admin01-{u 93}AA"),
    v("ai", "huggingface", "hf_{x 34}"),
    v("ai", "perplexity", "pplx-{A 48}"),
    v("ai", "groq", "gsk_{A 52}"),
    v("ai", "xai", "xai-{A 80}"),
    v("ai", "replicate", "r8_{A 37}"),
    v("ai", "nvidia", "nvapi-{u 64}"),
    kv("ai", "cohere", "{A 10}{d 3}{A 27}", &["COHERE_API_KEY", "co_api_key"]),
    // Observability.
    kv("observability", "datadog-api-key", "{h 32}", &["DD_API_KEY", "datadog_api_key", "datadogApiKey"]),
    kv("observability", "datadog-app-key", "{h 40}", &["DD_APP_KEY", "datadog_application_key"]),
    v("observability", "newrelic-user-key", "NRAK-{U 27}"),
    v("observability", "newrelic-license", "{h 36}NRAL"),
    v("observability", "newrelic-browser", "NRJS-{h 19}"),
    v("observability", "sentry-org-token", "sntrys_eyJpYXQiOjE3{u 80}_{u 43}"),
    v("observability", "sentry-user-token", "sntryu_{h 64}"),
    v("observability", "grafana-cloud", "glc_{B 80}"),
    v("observability", "grafana-service-account", "glsa_{A 32}_{h 8}"),
    v("observability", "dynatrace", "dt0c01.{U 24}.{U 64}"),
    v("observability", "honeycomb", "hcaik_{l 58}"),
    // Payments.
    v("payments", "square-access", "sq0atp-{u 22}"),
    v("payments", "square-secret", "sq0csp-{u 43}"),
    v("payments", "square-new-access", "EAAA{u 60}"),
    v("payments", "braintree", "access_token$production${l 16}${h 32}"),
    v("payments", "flutterwave", "FLWSECK-{h 32}-X"),
    v("payments", "flutterwave-test", "FLWSECK_TEST-{h 32}-X"),
    v("payments", "gocardless", "live_{u 40}"),
    v("payments", "shippo", "shippo_live_{h 40}"),
    v("payments", "easypost", "EZAK{A 54}"),
    kv("payments", "paypal-secret", "E{u 79}", &["PAYPAL_CLIENT_SECRET", "paypal_secret"]),
    // Messaging.
    v("messaging", "twilio-api-key", "SK{h 32}"),
    v("messaging", "sendgrid", "SG.{u 22}.{u 43}"),
    v("messaging", "mailgun", "key-{h 32}"),
    v("messaging", "mailchimp", "{h 32}-us{d 2}"),
    v("messaging", "brevo", "xkeysib-{h 64}-{A 16}"),
    v("messaging", "discord-bot", "MT{A 24}.{u 6}.{u 38}"),
    v("messaging", "discord-webhook", "https://discord.com/api/webhooks/{d 18}/{u 68}"),
    v("messaging", "telegram-bot", "{d 10}:AA{u 33}"),
    v("messaging", "teams-webhook", "https://shop.webhook.office.com/webhookb2/{uuid}@{uuid}/IncomingWebhook/{h 32}/{uuid}"),
    kv("messaging", "postmark", "{uuid}", &["POSTMARK_SERVER_TOKEN", "postmark_api_token"]),
    // SaaS and developer tools.
    v("saas", "linear", "lin_api_{A 40}"),
    v("saas", "notion", "ntn_{d 11}{A 35}"),
    v("saas", "notion-legacy", "secret_{A 43}"),
    v("saas", "atlassian", "ATATT3xFfGF0{u 178}={H 8}"),
    v("saas", "digitalocean-pat", "dop_v1_{h 64}"),
    v("saas", "digitalocean-oauth", "doo_v1_{h 64}"),
    v("saas", "digitalocean-refresh", "dor_v1_{h 64}"),
    v("saas", "databricks", "dapi{h 32}"),
    v("saas", "sonarqube-user", "squ_{h 40}"),
    v("saas", "sonarqube-project", "sqp_{h 40}"),
    v("saas", "shopify-access", "shpat_{h 32}"),
    v("saas", "shopify-custom", "shpca_{h 32}"),
    v("saas", "shopify-private", "shppa_{h 32}"),
    v("saas", "shopify-shared-secret", "shpss_{h 32}"),
    v("saas", "planetscale-password", "pscale_pw_{u 43}"),
    v("saas", "planetscale-token", "pscale_tkn_{u 43}"),
    v("saas", "planetscale-oauth", "pscale_oauth_{u 43}"),
    v("saas", "prefect", "pnu_{A 36}"),
    v("saas", "readme", "rdme_{l 70}"),
    v("saas", "typeform", "tfp_{u 59}"),
    v("saas", "airtable-pat", "pat{A 14}.{h 64}"),
    v("saas", "sourcegraph", "sgp_{h 16}_{h 40}"),
    v("saas", "alibaba-access-key", "LTAI{A 20}"),
    v("saas", "age-secret-key", "AGE-SECRET-KEY-1{G 58}"),
    v("saas", "infracost", "ico-{A 32}"),
    v("saas", "frameio", "fio-u-{u 64}"),
    v("saas", "duffel", "duffel_live_{u 43}"),
    v("saas", "facebook-access", "EAACEdEose0cBA{A 80}"),
    v("saas", "flyio", "FlyV1 fm2_{B 300}"),
    v("saas", "heroku", "HRKU-AA{u 58}"),
    kv("saas", "heroku-legacy", "{uuid}", &["HEROKU_API_KEY", "heroku_api_key"]),
    kv("saas", "cloudflare-api-token", "{u 40}", &["CLOUDFLARE_API_TOKEN", "cf_api_token"]),
    v("saas", "cloudflare-origin-ca", "v1.0-{h 24}-{h 146}"),
    kv("saas", "okta", "00{u 40}", &["OKTA_API_TOKEN", "okta_token"]),
    v("saas", "mapbox", "sk.eyJ1Ijoi{u 50}.{u 22}"),
    v("saas", "contentful", "CFPAT-{u 43}"),
    v("saas", "netlify", "nfp_{A 36}"),
    v("saas", "supabase", "sbp_{h 40}"),
    v("saas", "supabase-secret", "sb_secret_{u 31}"),
    v("saas", "render", "rnd_{A 32}"),
    v("saas", "circleci", "CCIPAT_{A 22}_{h 40}"),
    v("saas", "buildkite", "bkua_{h 40}"),
    v("saas", "harness", "pat.{u 22}.{u 24}.{u 20}"),
    v("saas", "octopus", "API-{U 26}"),
    v("saas", "openshift", "sha256~{u 43}"),
    v("saas", "hubspot", "pat-na1-{uuid}"),
    v("saas", "asana", "2/{d 16}/{d 16}:{h 32}"),
    v("saas", "figma", "figd_{u 40}"),
    v("saas", "dropbox", "sl.B{u 134}"),
    v("saas", "launchdarkly", "api-{uuid}"),
    v("saas", "pinecone", "pcsk_{A 5}_{A 60}"),
    v("saas", "tailscale", "tskey-auth-{A 11}CNTRL-{A 33}"),
    v("saas", "onepassword-service-account", "ops_eyJ{B 200}"),
    v("saas", "onepassword-secret-key", "A3-{U 6}-{U 11}-{U 5}-{U 5}-{U 5}"),
    kv("saas", "sidekiq", "{h 8}:{h 8}", &["BUNDLE_ENTERPRISE__CONTRIBSYS__COM", "BUNDLE_GEMS__CONTRIBSYS__COM"]),
    v("saas", "scalingo", "tk-us-{u 48}"),
    v("saas", "resend", "re_{A 8}_{A 24}"),
    v("saas", "defined-networking", "dnkey-{U 26}-{U 52}"),
    kv("saas", "snyk", "{uuid}", &["SNYK_TOKEN", "snyk_token"]),
    kv("saas", "algolia-admin", "{h 32}", &["ALGOLIA_ADMIN_KEY", "algolia_api_key"]),
    // Developer services and connection strings (rules/services.rs).
    v("saas", "postman", "PMAK-{h 24}-{h 34}"),
    v("saas", "adafruit-io", "aio_{A 28}"),
    v("ai", "tavily", "tvly-{A 32}"),
    v("ai", "tavily-dev", "tvly-dev-{A 32}"),
    v("azure", "devops-pat", "{A 76}AZDO{A 4}"),
    kv("azure", "devops-pat-legacy", "{x 52}", &["AZURE_DEVOPS_PAT", "ado_pat", "AZURE_DEVOPS_EXT_PAT", "vsts_token"]),
    v("azure", "iot-hub", "HostName=shop{l 6}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={B 43}="),
    v("azure", "service-bus", "Endpoint=sb://shop{l 6}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={B 43}="),
    v("azure", "app-configuration", "Endpoint=https://shop{l 6}.azconfig.io;Id={A 4}-l0-s0:{A 20};Secret={B 43}="),
    v("messaging", "teams-outlook-webhook", "https://outlook.office.com/webhook/{uuid}@{uuid}/IncomingWebhook/{h 32}/{uuid}"),
    file("generic", "netrc", ".netrc", "machine api.shop.example\n  login deploy\n  password {secret}\n", "{A 4}{d 2}{A 6}{d 1}{A 3}"),
    v("generic", "ftp-url-password", "ftp://deploy:{A 4}{d 2}{A 6}{d 1}{A 3}@files.shop.internal/backups/"),
    v("generic", "https-url-password", "https://ci-bot:{A 4}{d 2}{A 6}{d 1}{A 3}@git.shop.internal/app.git"),
    v("generic", "url-query-token", "https://api.shop.internal/v2/orders?access_token={A 32}"),
    v("generic", "django-insecure", "django-insecure-{l 50}"),
    v("stripe", "secret-live-short", "sk_live_{A 15-23}"),
    v("google", "oauth-access-token-short", "ya29.{u 30-59}"),
    file("private-key", "rsa-legacy-encrypted", "deploy/legacy.key", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{H 32}\n\n{secret}\n-----END RSA PRIVATE KEY-----\n", "{B 64}\n{B 64}\n{B 64}\n{B 30}"),
    file("private-key", "pem-concatenated-js", "src/keys.js", "const key =\n  \"-----BEGIN RSA PRIVATE KEY-----\\n\" +\n  \"{secret}\\n\" +\n  \"-----END RSA PRIVATE KEY-----\\n\";\nmodule.exports = key;\n", "MIIEow{B 58}\\n\" +\n  \"{B 64}\\n\" +\n  \"{B 64}\\n\" +\n  \"{B 40}"),
    file("private-key", "pem-concatenated-python", "app/keys.py", "KEY = (\n    \"-----BEGIN PRIVATE KEY-----\\n\"\n    \"{secret}\\n\"\n    \"-----END PRIVATE KEY-----\\n\"\n)\n", "MIIEvg{B 58}\\n\"\n    \"{B 64}\\n\"\n    \"{B 64}\\n\"\n    \"{B 30}"),
    file("private-key", "pem-base64", "deploy/values.yaml", "tls:\n  enabled: true\n  key: {secret}\n", "{pem64}"),
    kv("generic", "password-with-hash", "{A 5}#{d 2}{A 5}!{A 3}", &["password", "DB_PASSWORD", "smtp_pass", "ADMIN_PASSWORD"]),
    kv("generic", "long-token", "{A 120}{d 4}{A 130}", &["token", "AUTH_TOKEN", "session_token"]),
    kv("generic", "provider-keyed", "{A 12}{d 2}{A 12}", &["TWILIO_KEY", "twilio_key", "ADAFRUIT_IO_KEY", "stripeKey", "SENDGRID_KEY", "mailgun_key", "PUSHER_KEY"]),
];

/// The password alphabet used in connection strings.
pub const PASSWORD: &str = PW;
