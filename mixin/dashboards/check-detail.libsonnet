local d = import '../lib/dashboard.libsonnet';

// Grafana units for the exporter's units; any other is shown as a number.
local grafanaUnits = { seconds: 's', bytes: 'bytes', ratio: 'percentunit' };
local joinUnit(metric, unitMatcher) =
  metric + '{check="$check",%(sel)s} * on (%(by)sjob, instance, check) prodready_check_info{unit' + unitMatcher + ',check="$check",%(sel)s}';
local observedByUnit = [
  {
    ref: std.asciiUpper(unit[0]) + unit[1:],
    grafana: grafanaUnits[unit],
    observed: joinUnit('prodready_check_observed_value', '="%s"' % unit),
    threshold: joinUnit('prodready_check_threshold_value', '="%s"' % unit),
  }
  for unit in std.objectFields(grafanaUnits)
] + [{
  local others = '!~"%s"' % std.join('|', std.objectFields(grafanaUnits)),
  ref: 'Other',
  grafana: 'short',
  observed: joinUnit('prodready_check_observed_value', others),
  threshold: joinUnit('prodready_check_threshold_value', others),
}];

{
  grafanaDashboards+:: {
    local c = $._config,
    'prodready-check-detail.json': d.dashboard(
      c,
      c.dashboardUIDs.checkDetail,
      c.dashboardNamePrefix + 'Check detail',
      'One check over time: state, observed value against its threshold, duration, runs and errors.',
      d.variables(c, [d.queryVariable('check', 'Check', d.query(c, 'label_values(prodready_check_info{%(sel)s}, check)'))]),
      [
        d.panel(
          1,
          'stat',
          'Current state',
          "The check's state now.",
          { x: 0, y: 0, w: 6, h: 5 },
          'none',
          [
            d.target(
              c,
              'max by (state) (prodready_check_state{check="$check",%(sel)s}) == 1',
              'A',
              '{{state}}',
              instant=true,
            ),
          ],
          options={
            textMode: 'name',
            colorMode: 'background',
          },
        ),
        d.panel(
          2,
          'table',
          'Check',
          'Kind, category, severity, target and unit of the check.',
          { x: 6, y: 0, w: 18, h: 5 },
          'none',
          [
            d.target(
              c,
              'prodready_check_info{check="$check",%(sel)s}',
              'A',
              '__auto',
              instant=true,
              format='table',
            ),
          ],
          extra={
            transformations: [
              {
                id: 'organize',
                options: {
                  excludeByName: {
                    Time: true,
                    Value: true,
                    __name__: true,
                  },
                  renameByName: {},
                },
              },
            ],
          },
        ),
        d.panel(
          3,
          'state-timeline',
          'State history',
          "The check's state over time, per instance: pass green, warn orange, fail red, error purple (nothing verified), unknown grey.",
          { x: 0, y: 5, w: 24, h: 5 },
          'none',
          [
            d.target(
              c,
              |||
                max by (%(by)sinstance) (
                  (prodready_check_state{state="pass",check="$check",%(sel)s} == 1) * 1
                  or (prodready_check_state{state="warn",check="$check",%(sel)s} == 1) * 2
                  or (prodready_check_state{state="fail",check="$check",%(sel)s} == 1) * 3
                  or (prodready_check_state{state="error",check="$check",%(sel)s} == 1) * 4
                  or (prodready_check_state{state="unknown",check="$check",%(sel)s} == 1) * 5
                )
              |||,
              'A',
              '{{instance}}',
            ),
          ],
          defaults={
            mappings: [
              {
                type: 'value',
                options: {
                  '1': {
                    text: 'pass',
                    color: 'green',
                    index: 0,
                  },
                  '2': {
                    text: 'warn',
                    color: 'orange',
                    index: 1,
                  },
                  '3': {
                    text: 'fail',
                    color: 'red',
                    index: 2,
                  },
                  '4': {
                    text: 'error',
                    color: 'purple',
                    index: 3,
                  },
                  '5': {
                    text: 'unknown',
                    color: 'text',
                    index: 4,
                  },
                },
              },
            ],
            color: {
              mode: 'thresholds',
            },
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'text',
                  value: null,
                },
              ],
            },
          },
          options={
            showValue: 'never',
            mergeValues: true,
          },
        ),
        // One panel whose unit follows the check's (prodready_check_info's
        // unit label): a pair of queries per unit, each answering only for
        // checks of its unit, and a unit override per query.
        d.panel(
          4,
          'timeseries',
          'Observed value vs threshold',
          "What the check measured and the limit it was compared with, in the check's unit (seconds, bytes, ratio; other units as plain numbers).",
          { x: 0, y: 10, w: 24, h: 9 },
          'short',
          std.flattenArrays([
            [
              d.target(c, u.observed, u.ref + 'O', 'observed'),
              d.target(c, u.threshold, u.ref + 'T', 'threshold'),
            ]
            for u in observedByUnit
          ]),
          overrides=[
            {
              matcher: { id: 'byFrameRefID', options: u.ref + kind },
              properties: [{ id: 'unit', value: u.grafana }],
            }
            for u in observedByUnit
            for kind in ['O', 'T']
          ],
        ),
        d.panel(
          5,
          'timeseries',
          'Evaluation duration',
          'How long each evaluation took.',
          { x: 0, y: 19, w: 12, h: 7 },
          's',
          [
            d.target(
              c,
              'prodready_check_duration_seconds{check="$check",%(sel)s}',
              'A',
              'duration',
            ),
          ],
        ),
        d.panel(
          6,
          'timeseries',
          'Runs and errors',
          'Evaluations per second, and those ending in error.',
          { x: 12, y: 19, w: 12, h: 7 },
          'ops',
          [
            d.target(
              c,
              'rate(prodready_check_runs_total{check="$check",%(sel)s}[%(rate)s])',
              'A',
              'runs',
            ),
            d.target(
              c,
              'rate(prodready_check_errors_total{check="$check",%(sel)s}[%(rate)s])',
              'B',
              'errors',
            ),
          ],
        ),
      ],
    ),
  },
}
