#!/usr/bin/env bash
# Renders the monitoring mixin (mixin/) into the files users load: the
# Prometheus rule file (recording rules, then alerts), the Grafana dashboards, and their copies in
# deploy/kubernetes (the PrometheusRule and the dashboards' ConfigMap
# sources). Writes under ROOT (default: the repository); a test renders into
# a temp dir and fails when a committed file differs. Needs jsonnet (Debian
# package `jsonnet`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-.}"
mixin="import 'mixin/mixin.libsonnet'"
yaml="std.manifestYamlDoc(%s, indent_array_in_object=true, quote_keys=false)"
header="# Generated from mixin/ by scripts/gen-mixin.sh; do not edit."

mkdir -p "$root/alerts" "$root/grafana/dashboards" "$root/deploy/kubernetes/dashboards"
{
  echo "$header"
  echo "# Load with Prometheus rule_files (docs/reference.md \"Alerts and dashboards\")."
  # shellcheck disable=SC2059
  jsonnet -S -e "$(printf "$yaml" "{ groups: ($mixin).prometheusRules.groups + ($mixin).prometheusAlerts.groups }")"
} > "$root/alerts/prodready.rules.yml"
{
  echo "$header"
  # shellcheck disable=SC2059
  jsonnet -S -e "$(printf "$yaml" "{
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'prodready' },
    spec: { groups: ($mixin).prometheusRules.groups + ($mixin).prometheusAlerts.groups },
  }")"
} > "$root/deploy/kubernetes/prometheusrule.yaml"
jsonnet -m "$root/grafana/dashboards" -e "($mixin).grafanaDashboards" > /dev/null
jsonnet -m "$root/deploy/kubernetes/dashboards" -e "($mixin).grafanaDashboards" > /dev/null
