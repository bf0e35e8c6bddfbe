{{- define "eks-oidc-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eks-oidc-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "eks-oidc-operator.name" . -}}
{{- end -}}
{{- end -}}

{{- define "eks-oidc-operator.labels" -}}
app.kubernetes.io/name: {{ include "eks-oidc-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "eks-oidc-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eks-oidc-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
