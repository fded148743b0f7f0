// Settings of the prodready mixin. Override any of them:
//   (import 'mixin.libsonnet') + { _config+:: { prodreadySelector: 'job="readiness"' } }
// Durations take any Prometheus duration ('90s', '1h30m', '2d').
{
  _config+:: {
    // Selects the exporter's series in every rule (and names the job that
    // ProdreadyExporterDown expects to see scraped).
    prodreadySelector: 'job="prodready"',

    // The address the exporter is reached at, as given to its
    // --web.external-url (e.g. 'https://ops.example.com/prodready'). Empty:
    // each alert links the exporter that raised it, at its instance label.
    exporterExternalURL: '',
    // Where an alert's runbook is; %s is the section anchor of
    // docs/runbooks.md. The exporter serves those sections at /runbooks.
    runbookURLPattern:
      if self.exporterExternalURL == ''
      then 'http://{{ $labels.instance }}/runbooks#%s'
      else std.rstripChars(self.exporterExternalURL, '/') + '/runbooks#%s',
    // The runbook of ProdreadyExporterDown must be readable while the
    // exporter is down, so it never links the exporter: empty (the
    // default) links the scrape's state on the Prometheus that raised the
    // alert ($externalURL/targets) and carries the runbook's steps in the
    // alert's `runbook` annotation. Set it to a page of your own (a wiki).
    exporterDownRunbookURL: '',
    // Grafana's root URL (its server.root_url), for the alerts'
    // dashboard_url. Empty: no dashboard_url annotation.
    grafanaExternalURL: '',

    // How long a state lasts before its alert fires.
    failingCriticalFor: '5m',
    failingWarningFor: '15m',
    failingInfoFor: '1h',
    errorFor: '15m',
    // A target its checks cannot reach, handshake with or log in to.
    targetDownFor: '5m',
    // A failing check that passed within this window is a regression; its
    // alert says so (the recording rule check:prodready_check_regressed:bool).
    regressionWindow: '1d',
    warningFor: '6h',
    unknownFor: '15m',
    // Runs without a verdict before ProdreadyCheckUnknown can fire.
    unknownMinRuns: 3,
    coverageDroppedFor: '10m',
    scoreDroppedFor: '30m',
    // Scores are compared with their value this long ago.
    scoreDropOffset: '1d',
    // Results are stale after this many check intervals (plus a minute).
    staleIntervals: 3,
    resultsStaleFor: '5m',
    // With a 30s scrape interval a dead exporter is notified within 2 minutes.
    exporterDownFor: '1m',
    configReloadFailedFor: '5m',
    // The TLS expiry tiers. The tls_certificate check's own threshold
    // (params.min_days_left, default 14) decides its state and is the one
    // source: the warning tier fires this many days before it (21 days left
    // with the default); the critical tier pages at a fixed number of days
    // left. docs/reference.md.
    tlsExpiryWarningMarginDays: 7,
    tlsExpiryWarningFor: '15m',
    tlsExpiryCriticalDays: 7,
    tlsExpiryCriticalFor: '5m',
    waiverExpiringDays: 7,
    waiverExpiringFor: '1h',
    waiverExpiredFor: '5m',

    // Dashboards.
    dashboardNamePrefix: 'Prodready / ',
    dashboardTags: ['prodready'],
    dashboardUIDs: { overview: 'prodready-overview', checkDetail: 'prodready-check' },
    dashboardPeriod: 'now-24h',
    dashboardRefresh: '1m',
    dashboardTimezone: 'browser',
    rateInterval: '$__rate_interval',
    // A cluster variable and the cluster label in every dashboard query and
    // alert join, for a Prometheus (Thanos, Mimir) that holds several
    // clusters.
    showMultiCluster: false,
    clusterLabel: 'cluster',
  },
}
