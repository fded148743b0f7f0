//! Packaging: the Kubernetes base renders offline with kustomize into the
//! objects a restricted cluster accepts, the PrometheusRule and dashboards in
//! it match alerts/ and grafana/, the systemd unit verifies, and the binary
//! runs under the unit's sandboxing.

use std::process::Command;

use crate::support::{repo_root, require_binary, run_ok, run_with_stdin};

/// Every object of `kubectl kustomize deploy/kubernetes`, as JSON.
fn rendered() -> Vec<serde_json::Value> {
    let out = run_ok(
        Command::new(require_binary("kubectl"))
            .args(["kustomize", "deploy/kubernetes"])
            .current_dir(repo_root()),
    );
    String::from_utf8_lossy(&out.stdout)
        .split("\n---\n")
        .map(|doc| prodready_exporter::yaml::from_str::<serde_json::Value>(doc).unwrap())
        .collect()
}

#[test]
fn the_kubernetes_base_renders_restricted_objects() {
    let objects = rendered();
    let of = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} rendered"))
    };
    for kind in [
        "StatefulSet",
        "Service",
        "ServiceAccount",
        "NetworkPolicy",
        "ServiceMonitor",
        "PrometheusRule",
        "PodDisruptionBudget",
    ] {
        let o = of(kind);
        assert_eq!(o["metadata"]["namespace"], "monitoring", "{kind}");
        let labels = &o["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/name"], "prodready-exporter",
            "{kind}"
        );
        assert_eq!(labels["app.kubernetes.io/component"], "exporter", "{kind}");
        assert_eq!(
            labels["app.kubernetes.io/version"],
            env!("CARGO_PKG_VERSION"),
            "{kind}"
        );
    }
    // The StatefulSet's governing Service is headless; one pod (shard) at a
    // time may be drained.
    let set = of("StatefulSet");
    assert_eq!(
        set["spec"]["serviceName"],
        of("Service")["metadata"]["name"]
    );
    assert_eq!(of("Service")["spec"]["clusterIP"], "None");
    let pdb = &of("PodDisruptionBudget")["spec"];
    assert_eq!(pdb["maxUnavailable"], 1);
    assert_eq!(pdb["selector"], set["spec"]["selector"]);
    assert!(
        set["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"].is_string(),
        "pods carry the version label"
    );
    assert!(set["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))));
    let pod = &of("StatefulSet")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/-/healthy");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/-/ready");
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(c["args"].to_string().contains("--shard.index=auto"));
    // The config ConfigMap holds a config the exporter accepts.
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["data"]["config.yaml"].is_string())
        .expect("config ConfigMap");
    let dir = crate::support::ConfigDir::new(config["data"]["config.yaml"].as_str().unwrap());
    let out = crate::support::run_cli(
        &[
            "validate",
            &format!("--config.file={}", dir.config_path().display()),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let dashboards = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("dashboards ConfigMap for the Grafana sidecar");
    assert!(dashboards["data"]["prodready-overview.json"].is_string());
    // The ServiceMonitor gives the job name the alert rules expect.
    assert_eq!(
        of("ServiceMonitor")["spec"]["jobLabel"],
        "app.kubernetes.io/part-of"
    );
    assert_eq!(
        of("Service")["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "prodready"
    );
}

#[test]
fn the_systemd_unit_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let unit =
        std::fs::read_to_string(repo_root().join("deploy/systemd/prodready-exporter.service"))
            .unwrap()
            .replace("/usr/local/bin/prodready-exporter", crate::support::BIN);
    let path = dir.path().join("prodready-exporter.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new(require_binary("systemd-analyze"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("prodready-exporter.service"))
        .collect();
    assert!(out.status.success() && problems.is_empty(), "{text}");
}

/// Every rendered object validates against the Kubernetes and
/// prometheus-operator schemas (npm `kubernetes-models` and
/// `@kubernetes-models/prometheus-operator`, installed by scripts/test.sh),
/// offline; and the validator does reject a broken object.
#[test]
fn rendered_objects_validate_against_the_kubernetes_schemas() {
    let modules = repo_root().join("target/npm-kubernetes/node_modules");
    assert!(
        modules
            .join("@kubernetes-models/prometheus-operator")
            .is_dir(),
        "{} is missing; run scripts/test.sh, which installs the schema packages",
        modules.display()
    );
    let validate = |objects: &[serde_json::Value]| {
        let mut node = Command::new(require_binary("node"));
        node.arg(repo_root().join("scripts/validate-kubernetes.mjs"))
            .arg(&modules);
        run_with_stdin(node, serde_json::to_string(objects).unwrap().as_bytes())
    };
    let objects = rendered();
    let (ok, report) = validate(&objects);
    assert!(ok, "{report}");
    for kind in [
        "StatefulSet",
        "Service",
        "ServiceAccount",
        "NetworkPolicy",
        "ConfigMap",
        "ServiceMonitor",
        "PrometheusRule",
    ] {
        assert!(
            report.contains(&format!("valid {kind}/")),
            "{kind}: {report}"
        );
    }
    // A replica count that is not a number, and a rule without an expression.
    let mut broken = objects.clone();
    for o in &mut broken {
        if o["kind"] == "StatefulSet" {
            o["spec"]["replicas"] = serde_json::json!("three");
        }
        if o["kind"] == "PrometheusRule" {
            o["spec"]["groups"][0]["rules"][0]
                .as_object_mut()
                .unwrap()
                .remove("expr");
        }
    }
    let (ok, report) = validate(&broken);
    assert!(!ok, "{report}");
    assert!(report.contains("INVALID StatefulSet/"), "{report}");
    assert!(report.contains("INVALID PrometheusRule/"), "{report}");
}

/// The binary under the systemd unit's sandboxing, emulated where systemd
/// cannot run it here (it is not PID 1 on the development machines): a
/// user with no passwd entry and no groups (`DynamicUser`), a read-only
/// file system (`ProtectSystem=strict`, `ProtectHome=read-only`), fresh
/// `/tmp` and `/var/tmp` (`PrivateTmp`), no new privileges, no capabilities
/// and `UMask=0077`. It must start, evaluate, serve and reload without
/// writing anywhere. The system-call filter and `MemoryDenyWriteExecute`
/// are not emulated.
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_runs_under_the_units_sandboxing() {
    use crate::support::{ConfigDir, Exporter, TestApp, BIN};
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    let unit =
        std::fs::read_to_string(repo_root().join("deploy/systemd/prodready-exporter.service"))
            .unwrap();
    for line in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "AmbientCapabilities=\n",
        "UMask=0077",
    ] {
        assert!(unit.contains(line), "the unit no longer has {line:?}");
    }
    let app =
        TestApp::start(axum::Router::new().route("/health", axum::routing::get(|| async { "ok" })))
            .await;
    let config = ConfigDir::new(&format!(
        r#"
global: {{ interval: 1s, timeout: 1s }}
targets:
  app: {{ http: {{ url: "{}" }} }}
checks:
  - {{ name: app_health, kind: http, target: app, params: {{ url: /health }} }}
"#,
        app.url("")
    ));
    std::fs::set_permissions(config.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    // The binary and the config may live under /tmp, which the sandbox
    // replaces: they are bound read-only under /mnt first.
    let script = format!(
        "set -e
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir /mnt/bin /mnt/etc
mount --bind '{bin_dir}' /mnt/bin && mount -o remount,bind,ro /mnt/bin
mount --bind '{config_dir}' /mnt/etc && mount -o remount,bind,ro /mnt/etc
mount -o remount,ro /mnt
mount -o remount,bind,ro /
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
umask 0077
exec setpriv --reuid=61234 --regid=61234 --clear-groups --no-new-privs \
  --bounding-set=-all --inh-caps=-all --ambient-caps=-all -- \
  /mnt/bin/{exe} --config.file=/mnt/etc/config.yaml --web.listen-address=127.0.0.1:0 --web.enable-lifecycle",
        bin_dir = bin_dir.display(),
        config_dir = config.dir.path().display(),
        exe = std::path::Path::new(BIN).file_name().unwrap().to_string_lossy(),
    );
    let mut cmd = Command::new(require_binary("unshare"));
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    let exporter = Exporter::spawn(cmd, config);

    let status = std::fs::read_to_string(format!("/proc/{}/status", exporter.pid())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    assert!(field("Uid:").starts_with("61234"), "{status}");
    assert_eq!(field("Groups:"), "", "{status}");
    assert_eq!(field("NoNewPrivs:"), "1", "{status}");
    assert_eq!(field("CapBnd:"), "0000000000000000", "{status}");
    assert_eq!(field("CapEff:"), "0000000000000000", "{status}");
    let mounts = std::fs::read_to_string(format!("/proc/{}/mounts", exporter.pid())).unwrap();
    assert!(
        mounts
            .lines()
            .any(|l| l.split(' ').nth(1) == Some("/") && l.contains(" ro,")),
        "{mounts}"
    );

    let metrics = exporter
        .wait_metrics(Duration::from_secs(15), |m| {
            m.contains(r#"prodready_check_success{check="app_health",category="operations",severity="warning"} 1"#)
        })
        .await;
    assert!(metrics.contains("process_open_fds "), "{metrics}");
    let (code, body) = exporter.post("/-/reload").await;
    assert_eq!(code, 200, "{body}");
    let logs = exporter.logs();
    for bad in ["Read-only file system", "Permission denied", "panicked"] {
        assert!(!logs.contains(bad), "{bad}: {logs}");
    }
}

/// The optional component adds kube-prometheus-stack's `release` label to
/// the ServiceMonitor and the PrometheusRule only.
#[test]
fn the_release_label_component_labels_what_the_operator_selects() {
    // kustomize takes relative roots only: an overlay inside the tree.
    let overlay = repo_root().join("target/test-overlays/release-label");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../../deploy/kubernetes]\ncomponents: [../../../deploy/kubernetes/components/release-label]\n",
    )
    .unwrap();
    let out = run_ok(
        Command::new(require_binary("kubectl"))
            .arg("kustomize")
            .arg(&overlay),
    );
    let objects: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .split("\n---\n")
        .map(|doc| prodready_exporter::yaml::from_str(doc).unwrap())
        .collect();
    for o in &objects {
        let release = &o["metadata"]["labels"]["release"];
        match o["kind"].as_str() {
            Some("ServiceMonitor" | "PrometheusRule") => {
                assert_eq!(release, "kube-prometheus-stack")
            }
            kind => assert!(release.is_null(), "{kind:?} got a release label"),
        }
    }
}

/// The image carries the OCI annotations, and the ones Cargo.toml also
/// states agree with it (no registry or builder is reachable here to build
/// the image itself).
#[test]
fn the_dockerfile_labels_agree_with_cargo_toml() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let label = |key: &str| {
        let at = dockerfile
            .find(&format!("org.opencontainers.image.{key}=\""))
            .unwrap_or_else(|| panic!("no {key} label"));
        let rest = &dockerfile[at..];
        let value = &rest[rest.find('"').unwrap() + 1..];
        value[..value.find('"').unwrap()].to_owned()
    };
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    let package = &manifest["package"];
    assert_eq!(label("title"), package["name"].as_str().unwrap());
    assert_eq!(
        label("description"),
        package["description"].as_str().unwrap()
    );
    assert_eq!(label("licenses"), package["license"].as_str().unwrap());
    assert_eq!(label("version"), "${VERSION}");
    assert!(dockerfile.contains(&format!(
        "ARG VERSION={}",
        package["version"].as_str().unwrap()
    )));
    for key in ["revision", "created", "base.name"] {
        assert!(!label(key).is_empty(), "{key}");
    }
}
