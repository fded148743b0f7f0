// Builders for the bundled dashboards: every panel and query reads the
// $datasource variable, every query is scoped by the job and instance
// variables (and cluster, with showMultiCluster), rate windows follow
// rateInterval, and nothing is editable in place.
{
  // The label matchers of the variables a query is scoped by, up to and
  // including `last` (job or instance), joined for a query's braces.
  matchers(c, last)::
    std.join(',', (if c.showMultiCluster then ['%s=~"$cluster"' % c.clusterLabel] else []) +
                  ['job=~"$job"'] + (if last == 'instance' then ['instance=~"$instance"'] else [])),

  // The label matchers of the dashboard variables, for a query's braces.
  selector(c):: $.matchers(c, 'instance'),

  // Formats a query: %(sel)s is the variables' selector, %(by)s the
  // cluster label (with its comma) where series are grouped or joined,
  // %(rate)s the rate window.
  query(c, expr):: expr % {
    sel: $.selector(c),
    by: if c.showMultiCluster then c.clusterLabel + ', ' else '',
    rate: c.rateInterval,
  },

  local datasource = { type: 'prometheus', uid: '${datasource}' },
  queryVariable(name, label, query, all=false):: {
    name: name,
    label: label,
    type: 'query',
    datasource: datasource,
    query: { query: query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
  } + (
    if all then {
      includeAll: true,
      multi: true,
      allValue: '.+',
      current: { text: 'All', value: '$__all' },
    } else {
      includeAll: false,
      multi: false,
      current: {},
    }
  ),

  // The datasource, [cluster,] job and instance variables, then `extra`.
  variables(c, extra=[])::
    [{
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
      hide: 0,
      refresh: 1,
    }] + (
      if c.showMultiCluster then [
        $.queryVariable('cluster', 'Cluster', 'label_values(prodready_build_info, %s)' % c.clusterLabel, true),
      ] else []
    ) + [
      $.queryVariable(
        'job',
        'Job',
        if c.showMultiCluster
        then 'label_values(prodready_build_info{%s=~"$cluster"}, job)' % c.clusterLabel
        else 'label_values(prodready_build_info, job)',
        true
      ),
      $.queryVariable('instance', 'Instance', 'label_values(prodready_build_info{%s}, instance)' % $.matchers(c, 'job'), true),
    ] + extra,

  target(c, expr, refId, legend, instant=false, format=null)::
    {
      datasource: datasource,
      expr: std.rstripChars($.query(c, expr), '\n'),
      refId: refId,
      legendFormat: legend,
      range: !instant,
      instant: instant,
    } + (if format == null then {} else { format: format }),

  panel(id, type, title, description, gridPos, unit, targets, defaults={}, options={}, overrides=[], extra={})::
    {
      id: id,
      type: type,
      title: title,
      description: description,
      datasource: datasource,
      gridPos: gridPos,
      targets: targets,
      fieldConfig: { defaults: { unit: unit } + defaults, overrides: overrides },
      options: options,
    } + extra,

  dashboard(c, uid, title, description, variables, panels)::
    {
      uid: uid,
      title: title,
      description: description,
      tags: c.dashboardTags,
      timezone: c.dashboardTimezone,
      schemaVersion: 39,
      version: 1,
      editable: false,
      graphTooltip: 1,
      refresh: c.dashboardRefresh,
      time: { from: c.dashboardPeriod, to: 'now' },
      templating: { list: variables },
      annotations: { list: [] },
      links: [{
        title: 'prodready dashboards',
        type: 'dashboards',
        tags: c.dashboardTags,
        asDropdown: false,
        includeVars: true,
        keepTime: true,
      }],
      panels: panels,
    },
}
