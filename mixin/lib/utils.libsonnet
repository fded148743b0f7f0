// Small helpers shared by the alerts and the dashboards.
{
  // '5m' -> '5 minutes', '1h' -> '1 hour', '1d' -> '1 day'.
  humanizeDuration(d)::
    local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
    local unit = {
      s: 'second',
      m: 'minute',
      h: 'hour',
      d: 'day',
      w: 'week',
    }[d[std.length(d) - 1]];
    '%d %s%s' % [n, unit, if n == 1 then '' else 's'],

  // A runbook link for an alert whose series may have no instance label
  // (absent()): the link is left empty there rather than half a URL.
  runbookURL(pattern, anchor, instanceMayBeAbsent=false)::
    local url = pattern % anchor;
    if instanceMayBeAbsent && std.length(std.findSubstr('{{ $labels.instance }}', url)) > 0
    then '{{ with $labels.instance }}' + std.strReplace(url, '{{ $labels.instance }}', '{{ . }}') + '{{ end }}'
    else url,
}
