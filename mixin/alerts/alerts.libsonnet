// The alerting rules. Every alert copies the check's `severity` label where
// there is one and links a section of docs/runbooks.md. A check a waiver
// lets through (prodready_check_waived == 1) raises no failure or
// regression alert; its waiver's expiry raises its own.
local utils = import '../lib/utils.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local f(s) = s % c,
    local runbook(anchor) = utils.runbookURL(c.runbookURLPattern, anchor),
    local checkDashboard =
      std.rstripChars(c.grafanaExternalURL, '/') + '/d/' + c.dashboardUIDs.checkDetail +
      '/prodready-check-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-check={{ $labels.check }}',
    local overviewDashboard =
      std.rstripChars(c.grafanaExternalURL, '/') + '/d/' + c.dashboardUIDs.overview +
      '/prodready-overview?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}',
    local unlessWaived = f('unless on (job, instance, check) prodready_check_waived{%(prodreadySelector)s} == 1\n'),
    local failing(name, severity, forDuration, summary, extra='') = {
      alert: name,
      expr: f('prodready_check_state{state="fail", severity="%s", %%(prodreadySelector)s} == 1\n' % severity) + unlessWaived,
      'for': forDuration,
      labels: { severity: severity },
      annotations: {
        summary: summary,
        description: 'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has been in state fail for %s.%s'
                     % [utils.humanizeDuration(forDuration), extra],
        runbook_url: runbook('check-failing'),
        dashboard_url: checkDashboard,
      },
    },
    local tlsExpiry(name, days, forDuration, severity) = {
      alert: name,
      expr: f(|||
        prodready_check_observed_value{%(prodreadySelector)s}
        * on (job, instance, check) group_left (target)
        prodready_check_info{kind="tls_certificate", %(prodreadySelector)s}
      |||) + '< %d * 86400\n' % days,
      'for': forDuration,
      labels: { severity: severity },
      annotations: {
        summary: 'TLS certificate of {{ $labels.target }} expires in under %d days' % days,
        description: 'Check {{ $labels.check }} on {{ $labels.instance }}: the earliest certificate in the chain expires in {{ $value | humanizeDuration }}.',
        runbook_url: runbook('tls-certificate-expiring'),
        dashboard_url: checkDashboard,
      },
    },

    groups+: [
      {
        name: 'prodready',
        rules: [
          failing(
            'ProdreadyCheckFailingCritical',
            'critical',
            c.failingCriticalFor,
            'Critical readiness check {{ $labels.check }} is failing',
            " See its message on the exporter's status page or /api/v1/checks.",
          ),
          failing(
            'ProdreadyCheckFailing',
            'warning',
            c.failingWarningFor,
            'Readiness check {{ $labels.check }} is failing',
          ),
          failing(
            'ProdreadyCheckFailingInfo',
            'info',
            c.failingInfoFor,
            'Informational readiness check {{ $labels.check }} is failing',
          ),
          {
            alert: 'ProdreadyCheckError',
            expr: f('prodready_check_state{state="error", %(prodreadySelector)s} == 1\n'),
            'for': c.errorFor,
            annotations: {
              summary: 'Readiness check {{ $labels.check }} cannot be evaluated',
              description: 'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has been in state error for %s: the exporter cannot reach or read its target, so nothing is verified.'
                           % utils.humanizeDuration(c.errorFor),
              runbook_url: runbook('check-error'),
              dashboard_url: checkDashboard,
            },
          },
          {
            alert: 'ProdreadyCheckRegressed',
            expr: f(|||
              prodready_check_state{state=~"fail|error", %(prodreadySelector)s} == 1
              and on (job, instance, check)
              max_over_time(prodready_check_success{%(prodreadySelector)s}[%(regressionWindow)s]) == 1
            |||) + unlessWaived,
            'for': c.regressedFor,
            annotations: {
              summary: 'Readiness check {{ $labels.check }} regressed',
              description: 'Check {{ $labels.check }} on {{ $labels.instance }} passed less than %s ago and is in state {{ $labels.state }} now.'
                           % utils.humanizeDuration(c.regressionWindow),
              runbook_url: runbook('check-regressed'),
              dashboard_url: checkDashboard,
            },
          },
          {
            alert: 'ProdreadyCheckWarning',
            expr: f('prodready_check_state{state="warn", %(prodreadySelector)s} == 1\n'),
            'for': c.warningFor,
            labels: { severity: 'info' },
            annotations: {
              summary: 'Readiness check {{ $labels.check }} warns',
              description: 'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has been in state warn for %s: a suspicion (a suspected leak or N+1 pattern, a stale database, files that could not be scanned) that nobody has looked at.'
                           % utils.humanizeDuration(c.warningFor),
              runbook_url: runbook('check-warning'),
              dashboard_url: checkDashboard,
            },
          },
          {
            alert: 'ProdreadyCheckUnknown',
            expr: f(|||
              prodready_check_state{state="unknown", %(prodreadySelector)s} == 1
              and on (job, instance, check) prodready_check_runs_total{%(prodreadySelector)s} >= %(unknownMinRuns)d
              and on (job, instance, check)
              (time() - prodready_check_last_success_timestamp_seconds{%(prodreadySelector)s} > %(staleIntervals)d * prodready_check_interval_seconds{%(prodreadySelector)s})
            |||),
            'for': c.unknownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Readiness check {{ $labels.check }} stays unknown',
              description: 'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has run at least %d times without a verdict: not enough data to judge, so nothing is verified.'
                           % c.unknownMinRuns,
              runbook_url: runbook('check-unknown'),
              dashboard_url: checkDashboard,
            },
          },
          {
            alert: 'ProdreadyChecklistCoverageDropped',
            expr: f('prodready_checklist_coverage_ratio{%(prodreadySelector)s} < max_over_time(prodready_checklist_coverage_ratio{%(prodreadySelector)s}[%(scoreDropOffset)s])\n'),
            'for': c.coverageDroppedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Fewer checklist items are covered by checks',
              description: '{{ $labels.instance }} covers {{ $value | humanizePercentage }} of the checklist, less than at its highest in the last %s: a check was removed or renamed (see prodready_checklist_item_covered).'
                           % utils.humanizeDuration(c.scoreDropOffset),
              runbook_url: runbook('coverage-dropped'),
              dashboard_url: overviewDashboard,
            },
          },
          {
            alert: 'ProdreadyScoreDropped',
            expr: f('prodready_score_ratio{%(prodreadySelector)s} < (prodready_score_ratio{%(prodreadySelector)s} offset %(scoreDropOffset)s)\n'),
            'for': c.scoreDroppedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Production readiness score dropped',
              description: 'The overall score of {{ $labels.instance }} is {{ $value | humanizePercentage }}, below its value %s ago.'
                           % utils.humanizeDuration(c.scoreDropOffset),
              runbook_url: runbook('score-dropped'),
              dashboard_url: overviewDashboard,
            },
          },
          {
            alert: 'ProdreadyCategoryScoreDropped',
            expr: f('prodready_category_score_ratio{%(prodreadySelector)s} < (prodready_category_score_ratio{%(prodreadySelector)s} offset %(scoreDropOffset)s)\n'),
            'for': c.scoreDroppedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $labels.category }} readiness score dropped',
              description: 'The {{ $labels.category }} score of {{ $labels.instance }} is {{ $value | humanizePercentage }}, below its value %s ago.'
                           % utils.humanizeDuration(c.scoreDropOffset),
              runbook_url: runbook('score-dropped'),
              dashboard_url: overviewDashboard,
            },
          },
          {
            alert: 'ProdreadyResultsStale',
            expr: f('time() - prodready_check_last_run_timestamp_seconds{%(prodreadySelector)s} > %(staleIntervals)d * prodready_check_interval_seconds{%(prodreadySelector)s} + 60\n'),
            'for': c.resultsStaleFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Results of check {{ $labels.check }} are stale',
              description: 'Check {{ $labels.check }} on {{ $labels.instance }} last ran {{ $value | humanizeDuration }} ago, more than %d intervals.'
                           % c.staleIntervals,
              runbook_url: runbook('results-stale'),
              dashboard_url: checkDashboard,
            },
          },
          {
            alert: 'ProdreadyExporterDown',
            expr: f('up{%(prodreadySelector)s} == 0 or absent(up{%(prodreadySelector)s})\n'),
            'for': c.exporterDownFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'prodready-exporter is down or not scraped',
              description: f('Prometheus cannot scrape prodready-exporter{{ with $labels.instance }} at {{ . }}{{ end }} (%(prodreadySelector)s): no readiness check is being reported.'),
              runbook_url: utils.runbookURL(c.runbookURLPattern, 'exporter-down', instanceMayBeAbsent=true),
            },
          },
          {
            alert: 'ProdreadyConfigReloadFailed',
            expr: f('prodready_config_last_reload_successful{%(prodreadySelector)s} == 0\n'),
            'for': c.configReloadFailedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'prodready-exporter rejected its new config',
              description: 'The last config reload of {{ $labels.instance }} failed; the previous config keeps running.',
              runbook_url: runbook('config-reload-failed'),
            },
          },
          tlsExpiry('ProdreadyTlsCertificateExpiringSoon', c.tlsExpiryWarningDays, c.tlsExpiryWarningFor, 'warning'),
          tlsExpiry('ProdreadyTlsCertificateExpiryCritical', c.tlsExpiryCriticalDays, c.tlsExpiryCriticalFor, 'critical'),
          {
            alert: 'ProdreadyWaiverExpiringSoon',
            expr: f(|||
              prodready_waiver_expiry_timestamp_seconds{%(prodreadySelector)s} - time() < %(waiverExpiringDays)d * 86400
              and prodready_waiver_expiry_timestamp_seconds{%(prodreadySelector)s} - time() > 0
            |||),
            labels: { severity: 'info' },
            annotations: {
              summary: 'Waiver {{ $labels.waiver }} of {{ $labels.owner }} expires within %d days' % c.waiverExpiringDays,
              description: 'The waiver {{ $labels.waiver }} (on {{ if $labels.check }}check {{ $labels.check }}{{ else }}item {{ $labels.item }}{{ end }}) on {{ $labels.instance }} stops holding in {{ $value | humanizeDuration }}; then what it covers fails the gate and alerts again. Renew it with a new expiry and reason, or fix what it covers.',
              runbook_url: runbook('waiver-expiring'),
            },
          },
          {
            alert: 'ProdreadyWaiverExpired',
            expr: f('prodready_waiver_expiry_timestamp_seconds{%(prodreadySelector)s} <= time()\n'),
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Waiver {{ $labels.waiver }} of {{ $labels.owner }} has expired',
              description: 'The waiver {{ $labels.waiver }} (on {{ if $labels.check }}check {{ $labels.check }}{{ else }}item {{ $labels.item }}{{ end }}) on {{ $labels.instance }} no longer holds: what it covered fails the gate and alerts as before. Remove it from the config, or renew it.',
              runbook_url: runbook('waiver-expired'),
            },
          },
        ],
      },
    ],
  },
}
