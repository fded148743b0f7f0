// Settings of the prodready mixin. Override any of them:
//   (import 'mixin.libsonnet') + { _config+:: { prodreadySelector: 'job="readiness"' } }
{
  _config+:: {
    // Selects the exporter's series in every alert (and names the job that
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
    // Grafana's root URL (its server.root_url), for the alerts' dashboard_url.
    grafanaExternalURL: 'http://localhost:3000',

    // How long a state lasts before its alert fires.
    failingCriticalFor: '5m',
    failingWarningFor: '15m',
    failingInfoFor: '1h',
    errorFor: '15m',
    regressedFor: '5m',
    // A check regressed when it passed within this window.
    regressionWindow: '1d',
    warningFor: '6h',
    unknownFor: '5m',
    // Runs without a verdict before ProdreadyCheckUnknown can fire.
    unknownMinRuns: 3,
    coverageDroppedFor: '10m',
    scoreDroppedFor: '30m',
    // Scores are compared with their value this long ago.
    scoreDropOffset: '1d',
    // Results are stale after this many check intervals (plus a minute).
    staleIntervals: 3,
    resultsStaleFor: '5m',
    exporterDownFor: '5m',
    configReloadFailedFor: '5m',
    tlsExpiryWarningDays: 21,
    tlsExpiryWarningFor: '15m',
    tlsExpiryCriticalDays: 7,
    tlsExpiryCriticalFor: '5m',
    waiverExpiringDays: 7,

    // Dashboards.
    dashboardTags: ['prodready'],
    dashboardUIDs: { overview: 'prodready-overview', checkDetail: 'prodready-check' },
    dashboardPeriod: 'now-24h',
    dashboardRefresh: '1m',
    dashboardTimezone: 'browser',
    rateInterval: '$__rate_interval',
    // A cluster variable and the cluster label in every dashboard query,
    // for a Prometheus (Thanos, Mimir) that holds several clusters.
    showMultiCluster: false,
    clusterLabel: 'cluster',
  },
}
