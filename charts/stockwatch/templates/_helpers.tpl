{{/* Chart name, overridable. */}}
{{- define "stockwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>` (or just the release when it already contains the chart name), 63 chars max. */}}
{{- define "stockwatch.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `<fullname>-<component>`: call with (dict "ctx" $ "component" "operator"). */}}
{{- define "stockwatch.componentName" -}}
{{- printf "%s-%s" (include "stockwatch.fullname" .ctx | trunc 50 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "stockwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component: call with (dict "ctx" $ "component" "operator"). */}}
{{- define "stockwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stockwatch.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every label of a component's objects: call with (dict "ctx" $ "component" "operator"). */}}
{{- define "stockwatch.labels" -}}
{{ include "stockwatch.selectorLabels" . }}
app.kubernetes.io/part-of: stockwatch
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ include "stockwatch.chart" .ctx }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* An image reference: call with (dict "ctx" $ "image" .Values.images.pipeline). Digest wins over tag. */}}
{{- define "stockwatch.image" -}}
{{- $repo := .image.repository -}}
{{- with .ctx.Values.images.registry }}{{ $repo = printf "%s/%s" . $repo }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "stockwatch.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "stockwatch.componentName" (dict "ctx" . "component" "operator")) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Kafka bootstrap servers the clients use. */}}
{{- define "stockwatch.kafkaBootstrap" -}}
{{- if .Values.kafka.enabled -}}
{{- printf "%s-kafka-bootstrap:9092" .Values.kafka.clusterName -}}
{{- else -}}
{{- required "externalKafka.bootstrapServers is required when kafka.enabled is false" .Values.externalKafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* Pod-level fields shared by every pod: service account token, security context, pull secrets. */}}
{{- define "stockwatch.podCommon" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Scheduling fields of a component: call with its values (nodeSelector, tolerations, affinity). */}}
{{- define "stockwatch.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* KAFKA_* environment of the pipeline containers. */}}
{{- define "stockwatch.kafkaEnv" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "stockwatch.kafkaBootstrap" . | quote }}
- name: KAFKA_TOPIC
  value: {{ .Values.kafka.topics.quotes.name | quote }}
- name: KAFKA_DLQ_TOPIC
  value: {{ .Values.kafka.topics.dlq.name | quote }}
{{- end -}}

{{/* SNOWFLAKE_* environment: plain settings as values, credentials by reference to the Secret only; with
     `localWarehouse.enabled`, the in-cluster warehouse's address and no credentials at all. */}}
{{- define "stockwatch.snowflakeEnv" -}}
{{- $sf := .Values.snowflake -}}
{{- if .Values.localWarehouse.enabled }}
- name: SNOWFLAKE_ACCOUNT
  value: fakesnow
# The Snowflake connector insists on a user and a password; the local warehouse checks neither.
- name: SNOWFLAKE_USER
  value: stockwatch
- name: SNOWFLAKE_PASSWORD
  value: fakesnow
- name: SNOWFLAKE_DATABASE
  value: {{ $sf.database | quote }}
- name: SNOWFLAKE_HOST
  value: {{ include "stockwatch.localWarehouse.host" . | quote }}
- name: SNOWFLAKE_PORT
  value: {{ .Values.localWarehouse.port | quote }}
- name: SNOWFLAKE_PROTOCOL
  value: http
{{- else }}
- name: SNOWFLAKE_ACCOUNT
  valueFrom:
    secretKeyRef: {name: {{ $sf.existingSecret }}, key: {{ $sf.secretKeys.account }}}
- name: SNOWFLAKE_USER
  valueFrom:
    secretKeyRef: {name: {{ $sf.existingSecret }}, key: {{ $sf.secretKeys.user }}}
{{- if eq $sf.auth "password" }}
- name: SNOWFLAKE_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $sf.existingSecret }}, key: {{ $sf.secretKeys.password }}}
{{- else }}
- name: SNOWFLAKE_PRIVATE_KEY_PATH
  value: /var/run/secrets/snowflake/{{ $sf.secretKeys.privateKey }}
{{- end }}
- name: SNOWFLAKE_DATABASE
  value: {{ $sf.database | quote }}
{{- range $key, $value := dict "ROLE" $sf.role "WAREHOUSE" $sf.warehouse "HOST" $sf.host "PORT" (toString $sf.port) "PROTOCOL" $sf.protocol }}
{{- if $value }}
- name: SNOWFLAKE_{{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The in-cluster warehouse's Service address (localWarehouse). */}}
{{- define "stockwatch.localWarehouse.host" -}}
{{ include "stockwatch.componentName" (dict "ctx" . "component" "warehouse") }}.{{ .Release.Namespace }}.svc
{{- end -}}

{{/* The private-key volume (auth=keypair only). */}}
{{- define "stockwatch.snowflakeVolume" -}}
{{- if and (eq .Values.snowflake.auth "keypair") (not .Values.localWarehouse.enabled) }}
- name: snowflake-key
  secret:
    secretName: {{ .Values.snowflake.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.snowflake.secretKeys.privateKey }}
        path: {{ .Values.snowflake.secretKeys.privateKey }}
{{- end }}
{{- end -}}

{{- define "stockwatch.snowflakeVolumeMount" -}}
{{- if and (eq .Values.snowflake.auth "keypair") (not .Values.localWarehouse.enabled) }}
- name: snowflake-key
  mountPath: /var/run/secrets/snowflake
  readOnly: true
{{- end }}
{{- end -}}
