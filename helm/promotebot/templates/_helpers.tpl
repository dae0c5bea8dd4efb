{{/*
Names and labels as `helm create` makes them, plus promotebot's checks of the values.
*/}}

{{/*
Expand the name of the chart.
*/}}
{{- define "promotebot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "promotebot.fullname" -}}
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

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "promotebot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "promotebot.labels" -}}
helm.sh/chart: {{ include "promotebot.chart" . }}
{{ include "promotebot.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "promotebot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "promotebot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "promotebot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "promotebot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding the tokens: the user's existingSecret or the one this chart makes.
*/}}
{{- define "promotebot.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "promotebot.fullname" . }}
{{- end }}
{{- end }}

{{/*
The image reference: a digest wins over a tag; the tag defaults to the appVersion.
*/}}
{{- define "promotebot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Checks that need more than the schema. Included by deployment.yaml, so `helm template`,
`helm lint` and `helm install` all stop with the message.
*/}}
{{- define "promotebot.validate" -}}
{{- if and .Values.redis.url .Values.redis.sentinels }}
{{- fail "set redis.url or redis.sentinels, not both" }}
{{- end }}
{{- if eq .Values.github.auth "app" }}
{{- if or (lt (int64 .Values.github.app.id) 1) (lt (int64 .Values.github.app.installationId) 1) }}
{{- fail "github.auth is app: set github.app.id and github.app.installationId" }}
{{- end }}
{{- end }}
{{- end }}
