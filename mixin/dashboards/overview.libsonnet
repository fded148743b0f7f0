local d = import '../lib/dashboard.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    'prodready-overview.json': d.dashboard(
      c,
      c.dashboardUIDs.overview,
      c.dashboardNamePrefix + 'Overview',
      'Production-readiness checklist: scores, failing checks, regressions, TLS expiry and exporter health.',
      d.variables(c, []),
      [
        d.panel(
          13,
          'stat',
          'Checklist score',
          'Items of the 41-item checklist whose checks all pass, over all 41: an uncovered item counts as not passing.',
          { x: 0, y: 0, w: 4, h: 7 },
          'percentunit',
          [
            d.target(
              c,
              'prodready_checklist_score_ratio{%(sel)s}',
              'A',
              '{{instance}}',
              instant=true,
            ),
          ],
          defaults={
            min: 0,
            max: 1,
            color: {
              mode: 'thresholds',
            },
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'orange',
                  value: 0.5,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
          },
          options={
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'value',
            graphMode: 'none',
            textMode: 'auto',
          },
        ),
        d.panel(
          15,
          'stat',
          'Checklist',
          'The 41 items of the checklist, each coloured by its state (the worst of its checks; unknown when no check covers it). One grid per instance.',
          { x: 4, y: 0, w: 20, h: 14 },
          'none',
          [
            d.target(
              c,
              |||
                max by (%(by)sinstance, item) (
                  (prodready_checklist_item_state{state="pass",%(sel)s} == 1) * 1
                  or (prodready_checklist_item_state{state="warn",%(sel)s} == 1) * 2
                  or (prodready_checklist_item_state{state="fail",%(sel)s} == 1) * 3
                  or (prodready_checklist_item_state{state="error",%(sel)s} == 1) * 4
                  or (prodready_checklist_item_state{state="unknown",%(sel)s} == 1) * 5
                )
              |||,
              'A',
              '{{item}}',
              instant=true,
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
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'background',
            graphMode: 'none',
            textMode: 'value_and_name',
            orientation: 'auto',
            text: {
              titleSize: 11,
              valueSize: 12,
            },
          },
        ),
        d.panel(
          14,
          'stat',
          'Checklist coverage',
          'Items evidenced by at least one check, over all 41 items.',
          { x: 0, y: 7, w: 4, h: 7 },
          'percentunit',
          [
            d.target(
              c,
              'prodready_checklist_coverage_ratio{%(sel)s}',
              'A',
              '{{instance}}',
              instant=true,
            ),
          ],
          defaults={
            min: 0,
            max: 1,
            color: {
              mode: 'thresholds',
            },
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'orange',
                  value: null,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
          },
          options={
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            colorMode: 'value',
            graphMode: 'none',
            textMode: 'auto',
          },
        ),
        d.panel(
          1,
          'stat',
          'Overall score',
          'Passing checks / evaluated checks (pass, warn, fail, error) over all categories. Unknown checks are left out.',
          { x: 0, y: 14, w: 4, h: 6 },
          'percentunit',
          [
            d.target(
              c,
              'prodready_score_ratio{%(sel)s}',
              'A',
              '{{instance}}',
              instant=true,
            ),
          ],
          defaults={
            min: 0,
            max: 1,
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'orange',
                  value: 0.8,
                },
                {
                  color: 'green',
                  value: 0.95,
                },
              ],
            },
            color: {
              mode: 'thresholds',
            },
          },
        ),
        d.panel(
          2,
          'stat',
          'Score by category',
          'Passing / evaluated checks per category (security, performance, operations, deployment).',
          { x: 4, y: 14, w: 10, h: 6 },
          'percentunit',
          [
            d.target(
              c,
              'prodready_category_score_ratio{%(sel)s}',
              'A',
              '{{category}}',
              instant=true,
            ),
          ],
          defaults={
            min: 0,
            max: 1,
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'orange',
                  value: 0.8,
                },
                {
                  color: 'green',
                  value: 0.95,
                },
              ],
            },
            color: {
              mode: 'thresholds',
            },
          },
        ),
        d.panel(
          3,
          'stat',
          'Checks by state',
          'How many checks are in each state now.',
          { x: 14, y: 14, w: 10, h: 6 },
          'short',
          [
            d.target(
              c,
              'sum by (state) (prodready_check_state{%(sel)s})',
              'A',
              '{{state}}',
              instant=true,
            ),
          ],
        ),
        d.panel(
          4,
          'timeseries',
          'Scores over time',
          "The overall score and each category's score; a drop means a check stopped passing.",
          { x: 0, y: 20, w: 12, h: 8 },
          'percentunit',
          [
            d.target(
              c,
              'prodready_score_ratio{%(sel)s}',
              'A',
              'overall',
            ),
            d.target(
              c,
              'prodready_category_score_ratio{%(sel)s}',
              'B',
              '{{category}}',
            ),
          ],
          defaults={
            min: 0,
            max: 1,
          },
        ),
        d.panel(
          5,
          'table',
          'Non-passing checks',
          "Every check whose state is not pass, with its kind and target. Messages and evidence are on the exporter's status page and /api/v1/checks.",
          { x: 12, y: 20, w: 12, h: 8 },
          'none',
          [
            d.target(
              c,
              '(prodready_check_state{state!="pass",%(sel)s} == 1) * on (%(by)sjob, instance, check) group_left (kind, target) prodready_check_info{%(sel)s}',
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
                    job: true,
                  },
                  renameByName: {},
                },
              },
            ],
          },
        ),
        d.panel(
          6,
          'state-timeline',
          'State per check',
          "Each check's state over time, per instance: pass green, warn orange, fail red, error purple (nothing verified), unknown grey; a check a waiver lets through is blue (waived) while the waiver holds, whatever its state (see the Waivers table for owner and expiry).",
          { x: 0, y: 28, w: 24, h: 10 },
          'none',
          [
            d.target(
              c,
              |||
                max by (%(by)sinstance, check) (
                  (prodready_check_state{state="pass",%(sel)s} == 1) * 1
                  or (prodready_check_state{state="warn",%(sel)s} == 1) * 2
                  or (prodready_check_state{state="fail",%(sel)s} == 1) * 3
                  or (prodready_check_state{state="error",%(sel)s} == 1) * 4
                  or (prodready_check_state{state="unknown",%(sel)s} == 1) * 5
                  or (prodready_check_state{state!="pass",%(sel)s} == 1 and on (%(by)sjob, instance, check) prodready_check_waived{%(sel)s} == 1) * 6
                )
              |||,
              'A',
              '{{check}} ({{instance}})',
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
                  '6': {
                    text: 'waived',
                    color: 'blue',
                    index: 5,
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
            rowHeight: 0.8,
          },
        ),
        d.panel(
          7,
          'table',
          'Recent regressions',
          'Checks that passed within the last day and do not pass now.',
          { x: 0, y: 38, w: 12, h: 8 },
          'none',
          [
            d.target(
              c,
              '(prodready_check_success{%(sel)s} == 0) and on (%(by)sjob, instance, check) (max_over_time(prodready_check_success{%(sel)s}[1d]) == 1)',
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
          8,
          'bargauge',
          'TLS certificate time left',
          "Time until the earliest certificate of each tls_certificate check's chain expires.",
          { x: 12, y: 38, w: 12, h: 8 },
          's',
          [
            d.target(
              c,
              'prodready_check_observed_value{%(sel)s} * on (%(by)sjob, instance, check) group_left (target) prodready_check_info{kind="tls_certificate",%(sel)s}',
              'A',
              '{{target}} ({{check}})',
              instant=true,
            ),
          ],
          defaults={
            thresholds: {
              mode: 'absolute',
              steps: [
                {
                  color: 'red',
                  value: null,
                },
                {
                  color: 'orange',
                  value: 604800,
                },
                {
                  color: 'green',
                  value: 1814400,
                },
              ],
            },
            color: {
              mode: 'thresholds',
            },
          },
          options={
            orientation: 'horizontal',
            displayMode: 'gradient',
          },
        ),
        d.panel(
          16,
          'table',
          'Waivers',
          "Accepted risks (waivers: in the exporter's config): what each covers, who owns it and when it stops holding. An expired waiver does nothing: remove or renew it (alert ProdreadyWaiverExpired).",
          { x: 0, y: 46, w: 24, h: 8 },
          'dateTimeFromNow',
          [
            d.target(
              c,
              'prodready_waiver_expiry_timestamp_seconds{%(sel)s} * 1000',
              'A',
              '__auto',
              instant=true,
              format='table',
            ),
          ],
          defaults={
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
            showHeader: true,
          },
          overrides=[
            {
              matcher: {
                id: 'byName',
                options: 'Value',
              },
              properties: [
                {
                  id: 'displayName',
                  value: 'Expires',
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
              ],
            },
          ],
          extra={
            transformations: [
              {
                id: 'organize',
                options: {
                  excludeByName: {
                    Time: true,
                    __name__: true,
                    job: true,
                  },
                  renameByName: {
                    waiver: 'Waiver',
                    owner: 'Owner',
                    check: 'Check',
                    item: 'Item',
                    instance: 'Instance',
                  },
                },
              },
              {
                id: 'sortBy',
                options: {
                  sort: [
                    {
                      field: 'Value',
                    },
                  ],
                },
              },
            ],
          },
        ),
        d.panel(
          9,
          'stat',
          'Config reload',
          "Whether the exporter's last config (re)load succeeded.",
          { x: 0, y: 54, w: 6, h: 6 },
          'none',
          [
            d.target(
              c,
              'prodready_config_last_reload_successful{%(sel)s}',
              'A',
              '{{instance}}',
              instant=true,
            ),
          ],
          defaults={
            mappings: [
              {
                type: 'value',
                options: {
                  '1': {
                    text: 'OK',
                    color: 'green',
                  },
                  '0': {
                    text: 'FAILED',
                    color: 'red',
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
                  color: 'red',
                  value: null,
                },
                {
                  color: 'green',
                  value: 1,
                },
              ],
            },
          },
        ),
        d.panel(
          10,
          'timeseries',
          'Evaluation duration',
          "How long each check's last evaluation took.",
          { x: 6, y: 54, w: 9, h: 6 },
          's',
          [
            d.target(
              c,
              'prodready_check_duration_seconds{%(sel)s}',
              'A',
              '{{check}}',
            ),
          ],
        ),
        d.panel(
          11,
          'timeseries',
          'Last run age',
          'Seconds since each check last finished; it should stay under its interval.',
          { x: 15, y: 54, w: 9, h: 6 },
          's',
          [
            d.target(
              c,
              'time() - prodready_check_last_run_timestamp_seconds{%(sel)s}',
              'A',
              '{{check}}',
            ),
          ],
        ),
        d.panel(
          12,
          'timeseries',
          'Evaluations ending in error',
          'Rate of evaluations that could not verify anything (unreachable, timeout, permission).',
          { x: 0, y: 60, w: 24, h: 6 },
          'ops',
          [
            d.target(
              c,
              'sum by (%(by)sinstance, check) (rate(prodready_check_errors_total{%(sel)s}[%(rate)s]))',
              'A',
              '{{check}} ({{instance}})',
            ),
          ],
        ),
        d.panel(
          17,
          'table',
          'Causes: targets down, checks waiting for traffic',
          'Targets whose checks cannot reach them, complete a TLS handshake or log in (count of checks by reason; one alert, ProdreadyTargetDown, for each), and checks unknown only because the system saw too little traffic or time to judge (they page nobody).',
          { x: 0, y: 66, w: 24, h: 6 },
          'none',
          [
            d.target(c, 'prodready_target_error_checks{%(sel)s} > 0', 'A', '__auto', instant=true, format='table'),
            d.target(c, 'prodready_check_insufficient_data{%(sel)s} == 1', 'B', '__auto', instant=true, format='table'),
          ],
        ),
      ],
    ),
  },
}
