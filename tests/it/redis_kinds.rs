//! The Redis kinds against real redis-server processes (RDB, AOF, a replica,
//! a password) started by the tests in temp dirs on free loopback ports.
//! One test per kind; each starts the servers it needs.

use std::time::{Duration, Instant};

use crate::support::redis::Redis;
use crate::support::{assert_state, by, run_checks, Results};

/// A `targets:` entry for a Redis server, with an optional password.
fn target(name: &str, redis: &Redis, password: Option<&str>) -> String {
    match password {
        Some(p) => format!(
            "  {name}: {{ redis: {{ url: \"{}\", password: {p} }} }}\n",
            redis.url()
        ),
        None => format!("  {name}: {{ redis: {{ url: \"{}\" }} }}\n", redis.url()),
    }
}

/// Runs `checks` (YAML lines) against `targets` (YAML lines), off the runtime.
async fn run_on(targets: &[String], checks: &str) -> Results {
    let config = format!("targets:\n{}checks:\n{checks}", targets.concat());
    tokio::task::spawn_blocking(move || run_checks(&config, &[]))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_persistence_needs_rdb_or_aof() {
    let nothing = Redis::start(&[]);
    let rdb = Redis::start(&["--save", "3600 1"]);
    let aof = Redis::start(&["--appendonly", "yes"]);
    let r = run_on(
        &[
            target("nothing", &nothing, None),
            target("rdb", &rdb, None),
            target("aof", &aof, None),
        ],
        "  - { name: persist_none, kind: redis_persistence, target: nothing }
  - { name: persist_rdb, kind: redis_persistence, target: rdb }
  - { name: persist_aof, kind: redis_persistence, target: aof }
",
    )
    .await;
    r.expect_states(&[
        ("persist_none", "fail", "nothing is persisted"),
        ("persist_rdb", "pass", "RDB snapshots on"),
        ("persist_aof", "pass", "AOF on and healthy"),
    ]);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_replication_sees_replicas_come_and_go() {
    let primary = Redis::start(&[]);
    let alone = Redis::start(&[]);
    let mut replica = Redis::start(&["--replicaof", "127.0.0.1", &primary.port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    // Both sides must agree: the replica's link is up and the primary lists it online.
    while !(replica
        .cli(&["INFO", "replication"])
        .contains("master_link_status:up")
        && primary
            .cli(&["INFO", "replication"])
            .contains("state=online"))
    {
        assert!(Instant::now() < deadline, "replica never linked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let targets = [
        target("primary", &primary, None),
        target("replica", &replica, None),
        target("alone", &alone, None),
    ];
    let checks = "  - { name: repl_primary, kind: redis_replication, target: primary }
  - { name: repl_replica, kind: redis_replication, target: replica }
  - { name: repl_alone, kind: redis_replication, target: alone }
";
    run_on(&targets, checks).await.expect_states(&[
        ("repl_primary", "pass", "1 replica(s) online"),
        ("repl_replica", "pass", "replica link up"),
        ("repl_alone", "fail", "0 replica(s) online, need 1"),
    ]);

    replica.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    while primary.cli(&["INFO", "replication"]).contains("slave0:") {
        assert!(
            Instant::now() < deadline,
            "primary never noticed the replica leaving"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    run_on(&targets, checks).await.expect_states(&[
        ("repl_primary", "fail", "0 replica(s) online"),
        ("repl_replica", "error", "cannot connect"),
    ]);
}

/// GETs `key` (set first when `set`) over and over for `for_how_long`.
async fn traffic(url: String, key: &'static str, set: bool, for_how_long: Duration) {
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    if set {
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg("v")
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let until = Instant::now() + for_how_long;
    while Instant::now() < until {
        let _: Option<String> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

/// The hit ratio is judged on the lookups made during a window, not on the
/// lifetime totals: a server with a perfect history and misses now fails.
#[tokio::test(flavor = "multi_thread")]
async fn redis_hit_ratio_judges_the_lookups_of_a_window() {
    let hits = Redis::start(&[]);
    let misses = Redis::start(&[]);
    let idle = Redis::start(&[]);
    let locked = Redis::start(&["--requirepass", "Right-Redis-Pass-77"]);
    // A long good history on `misses`, then only misses during the window.
    traffic(misses.url(), "k", true, Duration::from_millis(500)).await;
    let background = [
        tokio::spawn(traffic(hits.url(), "k", true, Duration::from_secs(5))),
        tokio::spawn(traffic(
            misses.url(),
            "missing",
            false,
            Duration::from_secs(5),
        )),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = run_on(
        &[
            target("hits", &hits, None),
            target("misses", &misses, None),
            target("idle", &idle, None),
            target("wrong", &locked, Some("Wrong-Redis-Pass-31")),
        ],
        "  - { name: hits_good, kind: redis_hit_ratio, target: hits, params: { window: 2s } }
  - { name: hits_bad, kind: redis_hit_ratio, target: misses, params: { window: 2s } }
  - { name: hits_unknown, kind: redis_hit_ratio, target: idle, params: { window: 2s } }
  - { name: hits_first_sample, kind: redis_hit_ratio, target: hits }
  - { name: bad_password, kind: redis_hit_ratio, target: wrong }
",
    )
    .await;
    for t in background {
        t.await.unwrap();
    }
    r.expect_states(&[
        ("hits_good", "pass", "keyspace hit ratio 100.0%"),
        ("hits_bad", "fail", "keyspace hit ratio 0.0% is below 80.0%"),
        (
            "hits_unknown",
            "unknown",
            "only 0 key lookups over a 2s window",
        ),
        ("hits_first_sample", "unknown", "first sample taken"),
        ("bad_password", "error", "Password authentication failed"),
    ]);
    assert!(!by(&r, "bad_password")
        .message
        .contains("Wrong-Redis-Pass-31"));
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_memory_needs_a_limit_and_an_accepted_policy() {
    let bounded = Redis::start(&["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]);
    let unbounded = Redis::start(&[]);
    let locked = Redis::start(&["--requirepass", "Right-Redis-Pass-77"]);
    let r = run_on(
        &[
            target("bounded", &bounded, None),
            target("unbounded", &unbounded, None),
            target("right", &locked, Some("Right-Redis-Pass-77")),
        ],
        "  - { name: mem_ok, kind: redis_memory, target: bounded, params: { eviction_policies: [allkeys-lru] } }
  - { name: mem_unbounded, kind: redis_memory, target: unbounded }
  - { name: good_password, kind: redis_memory, target: right }
",
    )
    .await;
    r.expect_states(&[
        ("mem_ok", "pass", "policy allkeys-lru"),
        ("mem_unbounded", "fail", "maxmemory is not set"),
    ]);
    assert_state(by(&r, "good_password"), "fail", "maxmemory is not set");
}

/// ACL users that may not run what a kind needs: each kind is `error`
/// naming the ACL grant; with the grants the real verdict comes back.
#[tokio::test(flavor = "multi_thread")]
async fn redis_kinds_under_acl_users() {
    let redis = Redis::start(&[
        "--user",
        "nothing",
        "on",
        ">Nothing-Pass-77",
        "+ping",
        "--user",
        "infoonly",
        "on",
        ">Info-Pass-77",
        "+ping",
        "+info",
        "--user",
        "mon",
        "on",
        ">Mon-Pass-77",
        "+ping",
        "+info",
        "+config|get",
    ]);
    let as_user = |name: &str, user: &str, password: &str| {
        format!(
            "  {name}: {{ redis: {{ url: \"redis://{user}@127.0.0.1:{}\", password: {password} }} }}\n",
            redis.port
        )
    };
    let r = run_on(
        &[
            as_user("nothing", "nothing", "Nothing-Pass-77"),
            as_user("infoonly", "infoonly", "Info-Pass-77"),
            as_user("mon", "mon", "Mon-Pass-77"),
        ],
        "  - { name: persist_no_info, kind: redis_persistence, target: nothing }
  - { name: persist_no_config, kind: redis_persistence, target: infoonly }
  - { name: persist_mon, kind: redis_persistence, target: mon }
  - { name: memory_no_info, kind: redis_memory, target: nothing }
  - { name: memory_mon, kind: redis_memory, target: mon }
",
    )
    .await;
    r.expect_states(&[
        ("persist_no_info", "error", "ACL SETUSER <user> +info"),
        (
            "persist_no_config",
            "error",
            "ACL SETUSER <user> +config|get",
        ),
        ("persist_mon", "fail", "nothing is persisted"),
        ("memory_no_info", "error", "ACL SETUSER <user> +info"),
        ("memory_mon", "fail", "maxmemory is not set"),
    ]);
    for c in r.iter() {
        assert!(!c.doc.to_string().contains("-Pass-77"), "{}", c.name);
    }
}

/// `rediss://` against a redis-server that speaks only TLS and requires
/// client certificates: verified against the target's CA with a client
/// certificate it reads INFO; without the certificate, without the CA, or
/// with `tls:` on a plain URL it says why instead of passing.
#[tokio::test(flavor = "multi_thread")]
async fn rediss_targets_verify_the_server_and_present_client_certificates() {
    use crate::support::certs::{leaf_params, TestPki, LOCAL};
    let pki = TestPki::new();
    let server_cert = pki.leaf("redis", leaf_params(LOCAL, -1, 30));
    let client_cert = pki.leaf("client", leaf_params(&["prodready"], -1, 30));
    let server = Redis::start_tls(&server_cert, &pki.ca_file, true);
    let url = server.tls_url();
    let (ca, cert, key) = (
        pki.ca_file.display(),
        client_cert.cert.display(),
        client_cert.key.display(),
    );
    let targets = [
        format!("  verified: {{ redis: {{ url: \"{url}\", tls: {{ ca_file: \"{ca}\", cert_file: \"{cert}\", key_file: \"{key}\" }} }} }}\n"),
        format!("  skip_verify: {{ redis: {{ url: \"{url}\", tls: {{ insecure_skip_verify: true, cert_file: \"{cert}\", key_file: \"{key}\" }} }} }}\n"),
        format!("  no_client_cert: {{ redis: {{ url: \"{url}\", tls: {{ ca_file: \"{ca}\" }} }} }}\n"),
        format!("  system_roots: {{ redis: {{ url: \"{url}\" }} }}\n"),
        format!("  plaintext: {{ redis: {{ url: \"{}\" }} }}\n", server.url()),
    ];
    let r = run_on(
        &targets,
        "  - { name: verified, kind: redis_persistence, target: verified }
  - { name: skip_verify, kind: redis_persistence, target: skip_verify }
  - { name: no_client_cert, kind: redis_persistence, target: no_client_cert }
  - { name: system_roots, kind: redis_persistence, target: system_roots }
  - { name: plaintext, kind: redis_persistence, target: plaintext }
",
    )
    .await;
    r.expect_states(&[
        ("verified", "fail", "nothing is persisted"),
        ("skip_verify", "fail", "nothing is persisted"),
        (
            "no_client_cert",
            "error",
            "cannot connect to rediss://127.0.0.1",
        ),
        (
            "system_roots",
            "error",
            "cannot connect to rediss://127.0.0.1",
        ),
        ("plaintext", "error", "cannot connect to redis://127.0.0.1"),
    ]);
    assert!(
        by(&r, "system_roots")
            .message
            .to_lowercase()
            .contains("certificate"),
        "the refusal names the certificate: {}",
        by(&r, "system_roots").message
    );

    // `tls:` on a plain URL, or on a SQL server, is a config error.
    for (target, message) in [
        (
            format!("redis: {{ url: \"{}\", tls: {{ ca_file: \"{ca}\" }} }}", server.url()),
            "field redis.tls: applies to rediss:// URLs",
        ),
        (
            "postgres: { url: \"postgres://u@127.0.0.1:1/db\", tls: { insecure_skip_verify: true } }".to_owned(),
            "field postgres.tls: applies to rediss:// targets",
        ),
    ] {
        let (code, out) =
            crate::support::validate(&format!("targets:\n  t: {{ {target} }}\nchecks: []\n"), &[]);
        assert_eq!(code, 2);
        assert!(out.contains(message), "{out}");
    }
}
