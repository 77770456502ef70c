{{/* Chart name, truncated to 63 characters. */}}
{{- define "codesign-playground.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "codesign-playground.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "codesign-playground.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "codesign-playground.labels" -}}
helm.sh/chart: {{ include "codesign-playground.chart" . }}
{{ include "codesign-playground.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
environment: {{ .Values.config.environment }}
{{- end }}

{{- define "codesign-playground.selectorLabels" -}}
app.kubernetes.io/name: {{ include "codesign-playground.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "codesign-playground.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "codesign-playground.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "codesign-playground.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "codesign-playground.secretName" -}}
{{- default (printf "%s-secrets" (include "codesign-playground.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* DATABASE_URL: the bundled PostgreSQL, or the required external URL. */}}
{{- define "codesign-playground.databaseUrl" -}}
{{- if .Values.postgresql.enabled }}
{{- $auth := .Values.postgresql.auth }}
{{- printf "postgresql://%s:%s@%s-postgresql:5432/%s" $auth.username $auth.password .Release.Name $auth.database }}
{{- else }}
{{- required "externalDatabase.url is required when postgresql.enabled=false (or set existingSecret)" .Values.externalDatabase.url }}
{{- end }}
{{- end }}

{{/* REDIS_URL: the bundled Redis master, or the required external URL. */}}
{{- define "codesign-playground.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
{{- printf "redis://:%s@%s-redis-master:6379/0" .Values.redis.auth.password .Release.Name }}
{{- else }}
{{- printf "redis://%s-redis-master:6379/0" .Release.Name }}
{{- end }}
{{- else }}
{{- required "externalRedis.url is required when redis.enabled=false (or set existingSecret)" .Values.externalRedis.url }}
{{- end }}
{{- end }}

{{/* ALLOWED_HOSTS: configured hosts, the service names, localhost and the pod IP. */}}
{{- define "codesign-playground.allowedHosts" -}}
{{- $svc := include "codesign-playground.fullname" . }}
{{- $hosts := concat .Values.allowedHosts (list $svc (printf "%s.%s.svc" $svc .Release.Namespace) "localhost" "127.0.0.1" "$(POD_IP)") }}
{{- join "," $hosts }}
{{- end }}

{{/* Environment shared by the API, the migrations and the worker. */}}
{{- define "codesign-playground.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: ALLOWED_HOSTS
  value: {{ include "codesign-playground.allowedHosts" . | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "codesign-playground.secretName" . }}
      key: DATABASE_URL
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "codesign-playground.secretName" . }}
      key: REDIS_URL
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "codesign-playground.secretName" . }}
      key: SECRET_KEY
{{- with .Values.config.artifacts.credentialsSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- end }}
