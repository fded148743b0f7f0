// Small helpers shared by the alerts and the dashboards.
local units = [
  { suffix: 'y', seconds: 365 * 86400, name: 'year' },
  { suffix: 'w', seconds: 7 * 86400, name: 'week' },
  { suffix: 'd', seconds: 86400, name: 'day' },
  { suffix: 'h', seconds: 3600, name: 'hour' },
  { suffix: 'm', seconds: 60, name: 'minute' },
  { suffix: 's', seconds: 1, name: 'second' },
  { suffix: 'ms', seconds: 0.001, name: 'millisecond' },
];
local isDigit(ch) = ch >= '0' && ch <= '9';

{
  // A Prometheus duration ('90s', '1h30m', '2d', '500ms') in seconds;
  // anything else stops the render with the value named.
  durationSeconds(d)::
    local chars = std.stringChars(d);
    local n = std.length(chars);
    // Parses from position i: a number, then a unit ('ms' before 'm').
    local parse(i, total, seen) =
      if i >= n then
        if seen then total else error 'not a Prometheus duration: "%s"' % d
      else
        local digitsEnd = std.foldl(
          function(end, j) if end == j && j < n && isDigit(chars[j]) then j + 1 else end,
          std.range(i, n),
          i,
        );
        local unit =
          if digitsEnd == i then null
          else if digitsEnd + 1 < n && chars[digitsEnd] == 'm' && chars[digitsEnd + 1] == 's' then units[6]
          else if digitsEnd < n then std.filter(function(u) u.suffix == chars[digitsEnd], units[0:6])
          else [];
        local u = if std.isArray(unit) then (if std.length(unit) == 1 then unit[0] else null) else unit;
        if u == null then error 'not a Prometheus duration: "%s"' % d
        else
          local value = std.parseInt(std.join('', chars[i:digitsEnd]));
          parse(digitsEnd + std.length(u.suffix), total + value * u.seconds, true);
    parse(0, 0, false),

  // '5m' -> '5 minutes', '1h30m' -> '1 hour 30 minutes', '90s' -> '1 minute 30 seconds'.
  humanizeDuration(d)::
    local total = $.durationSeconds(d);
    local parts = std.foldl(
      function(acc, u)
        local count = std.floor(acc.left / u.seconds);
        if u.seconds < 1 || count == 0 then acc
        else { left: acc.left - count * u.seconds, out: acc.out + ['%d %s%s' % [count, u.name, if count == 1 then '' else 's']] },
      units,
      { left: total, out: [] },
    ).out;
    if std.length(parts) == 0 then '%d milliseconds' % std.round(total * 1000) else std.join(' ', parts),

  // The labels every join between the exporter's series matches on:
  // job and instance, and the cluster label under showMultiCluster.
  on(c, labels)::
    'on (%s)' % std.join(', ', (if c.showMultiCluster then [c.clusterLabel] else []) + ['job', 'instance'] + labels),

  // Each line of a PromQL expression indented by two spaces.
  indent(expr)::
    std.join('\n', [if line == '' then '' else '  ' + line for line in std.split(expr, '\n')]),

  // A sentence in a check alert's description when the check passed within
  // the regression window (the recording rule check:prodready_check_regressed:bool).
  regressionNote(c)::
    '{{ with printf `check:prodready_check_regressed:bool{job=%q,instance=%q,check=%q} == 1` $labels.job $labels.instance $labels.check | query }}'
    + 'It passed within the last ' + $.humanizeDuration(c.regressionWindow) + ': a regression. {{ end }}',

  // ProdreadyExporterDown's runbook, carried in the alert itself: it must be
  // readable while the exporter that serves /runbooks is down.
  exporterDownRunbook::
    'Open the runbook_url (the scrape state on Prometheus) for the scrape error. '
    + 'Connection refused: the process is not running; on systemd, systemctl status prodready-exporter and journalctl -u prodready-exporter; on Kubernetes, kubectl describe pod and kubectl logs --previous. '
    + 'Timeout: the host or a network policy drops the scrape, or the page takes longer than scrape_timeout (see prodready_scrape_duration in its logs). '
    + '401/403: the scrape lacks the basic auth or client certificate of --web.config.file. '
    + 'No target at all (absent): the scrape job or service discovery lost the exporter. '
    + 'While it is down, the check alerts it raised stay firing; they resolve once it is scraped again and shows the checks passing.',
}
