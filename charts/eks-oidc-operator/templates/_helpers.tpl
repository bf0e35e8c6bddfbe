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
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "eks-oidc-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eks-oidc-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The rules the operator needs where it watches objects: in the ClusterRole when it watches every
namespace, else in a Role per watched namespace. One definition, so the two cannot drift.
*/}}
{{- define "eks-oidc-operator.namespacedRules" -}}
# Framework: kopf posts our Events as core v1 Events.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# Application: watch the objects, add/remove the finalizer and kopf's annotations.
- apiGroups: [eksoidc.io]
  resources: [oidcidentityproviders]
  verbs: [list, watch, patch]
# Application: status is written only through the status subresource.
- apiGroups: [eksoidc.io]
  resources: [oidcidentityproviders/status]
  verbs: [patch]
{{- end -}}
