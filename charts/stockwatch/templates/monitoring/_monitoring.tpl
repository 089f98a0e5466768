{{/* Labels of the monitoring objects: the chart's labels plus the `release` label kube-prometheus-stack selects
     PodMonitors, ServiceMonitors and PrometheusRules by. Call with (dict "ctx" $ "component" "alerts"). */}}
{{- define "stockwatch.monitoring.labels" -}}
{{ include "stockwatch.labels" . }}
release: {{ .ctx.Values.monitoring.release | quote }}
{{- end -}}

{{/* Scrape interval of the PodMonitors (monitoring.interval, default 30s). */}}
{{- define "stockwatch.monitoring.interval" -}}
{{- dig "interval" "30s" .Values.monitoring -}}
{{- end -}}

{{/* Relabelings every stockwatch scrape gets: `job` is fixed per component so alerts and dashboards can select
     on it (call with the job name). */}}
{{- define "stockwatch.monitoring.jobRelabel" -}}
- action: replace
  targetLabel: job
  replacement: {{ . }}
{{- end -}}
