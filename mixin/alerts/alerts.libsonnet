// The recording and alerting rules. Alerts page on causes, not symptoms:
// a target the checks cannot reach is one alert (ProdreadyTargetDown), and
// the checks it stops raise no alert of their own; a check that fails on
// its own merits alerts on its own, saying whether it regressed. A check a
// waiver lets through (prodready_check_waived == 1) raises no failure
// alert; its waiver's expiry raises its own. A check `unknown` only because
// the system is too quiet to judge pages nobody.
//
// A dead exporter is not a fix: while its instance is not scraped (or has
// not finished its first round since it started), every alert it raised
// stays firing, read back from ALERTS; it resolves on a scrape that shows
// the check passing. ProdreadyExporterDown fires meanwhile.
local utils = import '../lib/utils.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local on = function(labels) utils.on(c, labels),
    groups+: [
      {
        name: 'prodready.rules',
        rules: [
          {
            // 1 while a check that passed within regressionWindow is not
            // passing: the failing alerts say "regressed" from it.
            record: 'check:prodready_check_regressed:bool',
            expr: |||
              (prodready_check_success{%(sel)s} == bool 0)
              * %(on)s
              (time() - prodready_check_last_success_timestamp_seconds{%(sel)s} < bool %(window)d)
              * %(on)s
              (prodready_check_last_success_timestamp_seconds{%(sel)s} > bool 0)
            ||| % { sel: c.prodreadySelector, on: on(['check']), window: utils.durationSeconds(c.regressionWindow) },
          },
          {
            // Checks per state, as the overview's state panel counts them.
            record: 'job_instance_state:prodready_check_state:sum',
            expr: 'sum by (%s) (prodready_check_state{%s})\n' % [
              std.join(', ', (if c.showMultiCluster then [c.clusterLabel] else []) + ['job', 'instance', 'state']),
              c.prodreadySelector,
            ],
          },
        ],
      },
    ],
  },

  prometheusAlerts+:: {
    local c = $._config,
    local sel = c.prodreadySelector,
    local on = function(labels) utils.on(c, labels),
    local f(s) = s % { sel: sel, on_check: on(['check']), on_target: on(['target']), on_instance: on([]) },
    local runbook(anchor) = c.runbookURLPattern % anchor,
    local dashboard(uid, slug, vars) =
      if c.grafanaExternalURL == '' then {}
      else {
        dashboard_url: std.rstripChars(c.grafanaExternalURL, '/') + '/d/' + uid + '/' + slug +
                       '?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}' + vars,
      },
    local checkDashboard = dashboard(c.dashboardUIDs.checkDetail, 'prodready-check-detail', '&var-check={{ $labels.check }}'),
    local overviewDashboard = dashboard(c.dashboardUIDs.overview, 'prodready-overview', ''),
    // The check's target and kind on its alert, for grouping and inhibition.
    local withTarget(expr) =
      '(\n' + utils.indent(expr) + ')\n' +
      f('* %(on_check)s group_left (target, kind) prodready_check_info{%(sel)s}\n'),
    // The alert as it fired, kept while its exporter cannot show anything
    // newer (not scraped, or its first round since a restart not done).
    // ALERTS' own labels (alertname, alertstate) are dropped and its
    // severity (the rule's, where a fresh series has the check's) ignored,
    // so that a kept series and a fresh one are the same alert.
    local held(name, expr) =
      '(\n' + utils.indent(expr) + ')\nor ignoring (severity)\n(\n' + utils.indent(|||
        label_replace(label_replace(
          ALERTS{alertname="%(name)s", alertstate="firing", %(sel)s},
          "alertstate", "", "", ""), "alertname", "", "", "")
        unless %(on_instance)s
        (up{%(sel)s} == 1 and %(on_instance)s prodready_first_round_completed{%(sel)s} == 1)
      ||| % { name: name, sel: sel, on_instance: on([]) }) + ')\n',
    local alert(name, expr, forDuration, severity, summary, description, anchor, extra={}) = {
      alert: name,
      expr: held(name, expr),
      'for': forDuration,
      labels: { severity: severity },
      annotations: {
        summary: summary,
        description: description,
        runbook_url: runbook(anchor),
      } + extra,
    },
    local regressed = utils.regressionNote(c),
    local failing(name, severity, forDuration, summary) = alert(
      name,
      withTarget(f('prodready_check_state{state="fail", severity="%s", %%(sel)s} == 1\n' % severity) +
                 f('unless %(on_check)s prodready_check_waived{%(sel)s} == 1\n')),
      forDuration,
      severity,
      summary,
      'Check {{ $labels.check }} ({{ $labels.kind }}, {{ $labels.category }}) on {{ $labels.instance }} has been in state fail for %s. %sIts message is on the status page and in /api/v1/checks.'
      % [utils.humanizeDuration(forDuration), regressed],
      'check-failing',
      checkDashboard,
    ),
    // A tier is the earliest expiry (seconds) under `bound`, an expression
    // in seconds matched per check; `under` says what the bound is.
    local tlsExpiry(name, bound, under, forDuration, severity, summary) = alert(
      name,
      f(|||
        prodready_check_observed_value{%(sel)s}
        * %(on_check)s group_left (target, kind) prodready_check_info{kind="tls_certificate", %(sel)s}
      |||) + '< ' + bound + '\n',
      forDuration,
      severity,
      summary,
      'Check {{ $labels.check }} on {{ $labels.instance }}: the earliest certificate in the chain of target {{ $labels.target }} has {{ $value | humanizeDuration }} left (negative: expired), %s.' % under,
      'tls-certificate-expiring',
      checkDashboard,
    ),

    groups+: [
      {
        name: 'prodready',
        rules: [
          alert(
            'ProdreadyTargetDown',
            f('prodready_target_error_checks{%(sel)s} > 0\n'),
            c.targetDownFor,
            'critical',
            'Readiness checks cannot reach or verify their target.',
            '{{ $value }} checks of target {{ $labels.target }} on {{ $labels.instance }} cannot be evaluated for one cause, reason {{ $labels.reason }} (unreachable: connection refused or name not resolved; tls: the TLS handshake fails, e.g. an expired or untrusted certificate; auth: the credentials are rejected). Their own error alerts are held back. Checks in error: {{ range printf `prodready_check_info{job=%q,instance=%q,target=%q} and on (job, instance, check) prodready_check_state{state="error"} == 1` $labels.job $labels.instance $labels.target | query | sortByLabel "check" }}{{ .Labels.check }} {{ end }}',
            'target-down',
            overviewDashboard,
          ),
          failing('ProdreadyCheckFailingCritical', 'critical', c.failingCriticalFor, 'A critical readiness check is failing.'),
          failing('ProdreadyCheckFailing', 'warning', c.failingWarningFor, 'A readiness check is failing.'),
          failing('ProdreadyCheckFailingInfo', 'info', c.failingInfoFor, 'An informational readiness check is failing.'),
          alert(
            'ProdreadyCheckError',
            withTarget(f('prodready_check_state{state="error", %(sel)s} == 1\n')) +
            f('unless %(on_target)s prodready_target_up{%(sel)s} == 0\n'),
            c.errorFor,
            'warning',
            'A readiness check cannot be evaluated.',
            'Check {{ $labels.check }} ({{ $labels.kind }}, {{ $labels.category }}) on {{ $labels.instance }} has been in state error for %s: the exporter cannot read what it needs (a permission, a file, an answer it cannot parse), so nothing is verified. %sA target the check cannot reach at all raises ProdreadyTargetDown instead.'
            % [utils.humanizeDuration(c.errorFor), regressed],
            'check-error',
            checkDashboard,
          ),
          alert(
            'ProdreadyCheckWarning',
            withTarget(f('prodready_check_state{state="warn", %(sel)s} == 1\n')),
            c.warningFor,
            'info',
            'A readiness check warns.',
            'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has been in state warn for %s: a suspicion (a suspected leak or N+1 pattern, a stale database, files that could not be scanned) that nobody has looked at.'
            % utils.humanizeDuration(c.warningFor),
            'check-warning',
            checkDashboard,
          ),
          alert(
            'ProdreadyCheckUnknown',
            withTarget(f(|||
              prodready_check_state{state="unknown", %(sel)s} == 1
              and %(on_check)s prodready_check_runs_total{%(sel)s} >= %%(runs)d
              and %(on_check)s
              (time() - prodready_check_last_success_timestamp_seconds{%(sel)s} > %%(stale)d * prodready_check_interval_seconds{%(sel)s})
              unless %(on_check)s prodready_check_insufficient_data{%(sel)s} == 1
            |||) % { runs: c.unknownMinRuns, stale: c.staleIntervals }),
            c.unknownFor,
            'warning',
            'A readiness check has no verdict.',
            'Check {{ $labels.check }} ({{ $labels.category }}) on {{ $labels.instance }} has run at least %d times without a verdict, for a reason other than a quiet system (which pages nobody): nothing is verified.'
            % c.unknownMinRuns,
            'check-unknown',
            checkDashboard,
          ),
          alert(
            'ProdreadyChecklistCoverageDropped',
            f('prodready_checklist_coverage_ratio{%(sel)s} < max_over_time(prodready_checklist_coverage_ratio{%(sel)s}[') + c.scoreDropOffset + '])\n',
            c.coverageDroppedFor,
            'warning',
            'Fewer checklist items are covered by checks.',
            '{{ $labels.instance }} covers {{ $value | humanizePercentage }} of the checklist, less than at its highest in the last %s: a check was removed or renamed (see prodready_checklist_item_covered).'
            % utils.humanizeDuration(c.scoreDropOffset),
            'coverage-dropped',
            overviewDashboard,
          ),
          alert(
            'ProdreadyScoreDropped',
            f('prodready_score_ratio{%(sel)s} < (prodready_score_ratio{%(sel)s} offset ') + c.scoreDropOffset + ')\n',
            c.scoreDroppedFor,
            'warning',
            'The production readiness score dropped.',
            'The overall score of {{ $labels.instance }} is {{ $value | humanizePercentage }}, below its value %s ago.'
            % utils.humanizeDuration(c.scoreDropOffset),
            'score-dropped',
            overviewDashboard,
          ),
          alert(
            'ProdreadyCategoryScoreDropped',
            f('prodready_category_score_ratio{%(sel)s} < (prodready_category_score_ratio{%(sel)s} offset ') + c.scoreDropOffset + ')\n',
            c.scoreDroppedFor,
            'warning',
            'A category readiness score dropped.',
            'The {{ $labels.category }} score of {{ $labels.instance }} is {{ $value | humanizePercentage }}, below its value %s ago.'
            % utils.humanizeDuration(c.scoreDropOffset),
            'score-dropped',
            overviewDashboard,
          ),
          alert(
            'ProdreadyResultsStale',
            f('time() - prodready_check_last_run_timestamp_seconds{%(sel)s} > %%(stale)d * prodready_check_interval_seconds{%(sel)s} + 60\n') % { stale: c.staleIntervals },
            c.resultsStaleFor,
            'warning',
            'Readiness check results are stale.',
            'Check {{ $labels.check }} on {{ $labels.instance }} last ran {{ $value | humanizeDuration }} ago, more than %d intervals.'
            % c.staleIntervals,
            'results-stale',
            checkDashboard,
          ),
          {
            alert: 'ProdreadyExporterDown',
            expr: f('up{%(sel)s} == 0 or absent(up{%(sel)s})\n'),
            'for': c.exporterDownFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'The prodready-exporter is down or not scraped.',
              description: 'Prometheus cannot scrape prodready-exporter{{ with $labels.instance }} at {{ . }}{{ end }} (%s): no readiness check is being verified. The alerts it raised stay firing until it shows them resolved.' % sel,
              runbook_url:
                if c.exporterDownRunbookURL != '' then c.exporterDownRunbookURL
                else '{{ $externalURL }}/targets',
              runbook: utils.exporterDownRunbook,
            },
          },
          alert(
            'ProdreadyConfigReloadFailed',
            f('prodready_config_last_reload_successful{%(sel)s} == 0\n'),
            c.configReloadFailedFor,
            'warning',
            'The prodready-exporter rejected its new config.',
            'The last config reload of {{ $labels.instance }} failed; the previous config keeps running.',
            'config-reload-failed',
          ),
          // The warning tier follows the check's own threshold (its
          // params.min_days_left, exported as prodready_check_threshold_value):
          // one source, a margin before the check fails.
          tlsExpiry(
            'ProdreadyTlsCertificateExpiringSoon',
            f('%(on_check)s group_left () (prodready_check_threshold_value{%(sel)s} + ') + '%d * 86400)' % c.tlsExpiryWarningMarginDays,
            "within %d days of the check's own min_days_left, below which it fails" % c.tlsExpiryWarningMarginDays,
            c.tlsExpiryWarningFor,
            'warning',
            'A TLS certificate expires soon.'
          ),
          tlsExpiry(
            'ProdreadyTlsCertificateExpiryCritical',
            '%d * 86400' % c.tlsExpiryCriticalDays,
            'under the %d days of this tier' % c.tlsExpiryCriticalDays,
            c.tlsExpiryCriticalFor,
            'critical',
            'A TLS certificate expires within days or has expired.'
          ),
          alert(
            'ProdreadyWaiverExpiringSoon',
            f(|||
              prodready_waiver_expiry_timestamp_seconds{%(sel)s} - time() < %%(days)d * 86400
              and prodready_waiver_expiry_timestamp_seconds{%(sel)s} - time() > 0
            |||) % { days: c.waiverExpiringDays },
            c.waiverExpiringFor,
            'info',
            'A readiness waiver expires soon.',
            'The waiver {{ $labels.waiver }} of {{ $labels.owner }} (on {{ if $labels.check }}check {{ $labels.check }}{{ else }}item {{ $labels.item }}{{ end }}) on {{ $labels.instance }} stops holding in {{ $value | humanizeDuration }}; then what it covers fails the gate and alerts again. Renew it with a new expiry and reason, or fix what it covers.',
            'waiver-expiring',
          ),
          alert(
            'ProdreadyWaiverExpired',
            f('prodready_waiver_expiry_timestamp_seconds{%(sel)s} <= time()\n'),
            c.waiverExpiredFor,
            'warning',
            'A readiness waiver has expired.',
            'The waiver {{ $labels.waiver }} of {{ $labels.owner }} (on {{ if $labels.check }}check {{ $labels.check }}{{ else }}item {{ $labels.item }}{{ end }}) on {{ $labels.instance }} no longer holds: what it covered fails the gate and alerts as before. Remove it from the config, or renew it.',
            'waiver-expired',
          ),
        ],
      },
    ],
  },
}
