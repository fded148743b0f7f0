(import 'overview.libsonnet') +
(import 'check-detail.libsonnet')
