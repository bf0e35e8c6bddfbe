{{- define "eks-oidc-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* What every object is named after: the release (two releases never collide, even on
cluster-wide names), with the chart's name unless the release name holds it already (the
default release name, eks-oidc-operator, gives eks-oidc-operator). */}}
{{- define "eks-oidc-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "eks-oidc-operator.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
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

{{/*
The image: a `global.imageRegistry` (an umbrella chart's mirror) replaces the registry of
`image.repository` (its first path part when that names a host), or is put in front of it.
*/}}
{{- define "eks-oidc-operator.image" -}}
{{- $repository := .Values.image.repository -}}
{{- $registry := ((.Values.global | default dict).imageRegistry | default "") -}}
{{- if $registry -}}
{{- $parts := splitn "/" 2 $repository -}}
{{- if and (gt (len (splitList "/" $repository)) 1) (or (contains "." $parts._0) (contains ":" $parts._0) (eq $parts._0 "localhost")) -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $registry) $parts._1 -}}
{{- else -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $registry) $repository -}}
{{- end -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
Pull secrets: the chart's own and an umbrella's `global.imagePullSecrets`, each given as a name
or as {name: ...}.
*/}}
{{- define "eks-oidc-operator.pullSecrets" -}}
{{- $names := list -}}
{{- range (concat ((.Values.global | default dict).imagePullSecrets | default list) (.Values.imagePullSecrets | default list)) -}}
{{- $name := . -}}
{{- if kindIs "map" . -}}{{- $name = get . "name" -}}{{- end -}}
{{- if and $name (not (has $name $names)) -}}{{- $names = append $names $name -}}{{- end -}}
{{- end -}}
{{- range $names }}
- name: {{ . }}
{{- end -}}
{{- end -}}

{{/*
Rules no schema can state: numbers given as text (`--set` passes "0.1" as a string) kept
within their ranges, and the leader election's durations in order. Refused at `helm install`,
naming the value, instead of a pod that crash-loops on it.
*/}}
{{- define "eks-oidc-operator.validate" -}}
{{- $ranges := dict
  "jitter" (list 0.0 1.0 false)
  "pollFactor" (list 1.0 nil false)
  "issuerTimeoutSeconds" (list 0.0 30.0 true)
-}}
{{- range $key, $value := .Values.settings -}}
{{- if and (not (kindIs "invalid" $value)) (kindIs "string" $value) -}}
{{- $number := float64 $value -}}
{{- $range := get $ranges $key | default (list 0.0 nil (or (hasSuffix "Seconds" $key) (has $key (list "namespaceCallsPerSecond" "awsCallsPerSecond")))) -}}
{{- $low := index $range 0 -}}{{- $high := index $range 1 -}}{{- $open := index $range 2 -}}
{{- if or (lt $number $low) (and $open (eq $number $low)) (and (not (kindIs "invalid" $high)) (gt $number $high)) -}}
{{- fail (printf "settings.%s: %s is out of range (%s%v%s)" $key $value (ternary "above " "at least " $open) $low (ternary (printf ", at most %v" $high) "" (not (kindIs "invalid" $high)))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $election := .Values.leaderElection -}}
{{- $lease := float64 $election.leaseDurationSeconds -}}
{{- $renew := float64 $election.renewDeadlineSeconds -}}
{{- $retry := float64 $election.retryPeriodSeconds -}}
{{- if not (and (lt $retry $renew) (lt $renew $lease)) -}}
{{- fail (printf "leaderElection: retryPeriodSeconds (%v) < renewDeadlineSeconds (%v) < leaseDurationSeconds (%v) must hold" $election.retryPeriodSeconds $election.renewDeadlineSeconds $election.leaseDurationSeconds) -}}
{{- end -}}
{{- if and (not $election.enabled) (eq (dig "type" "" .Values.strategy) "RollingUpdate") -}}
{{- fail "strategy.type: RollingUpdate needs leaderElection.enabled (without an election two pods would act at once during a rollout); use Recreate" -}}
{{- end -}}
{{- $monitor := .Values.metrics.serviceMonitor -}}
{{- if and $monitor.scrapeTimeout (gt (include "eks-oidc-operator.milliseconds" $monitor.scrapeTimeout | int64) (include "eks-oidc-operator.milliseconds" $monitor.interval | int64)) -}}
{{- fail (printf "metrics.serviceMonitor.scrapeTimeout (%s) must not exceed interval (%s)" $monitor.scrapeTimeout $monitor.interval) -}}
{{- end -}}
{{- end -}}

{{/* A Prometheus duration of one unit (30s, 1m, 500ms) in milliseconds. */}}
{{- define "eks-oidc-operator.milliseconds" -}}
{{- $number := regexFind "^[0-9]+" . | int64 -}}
{{- $unit := trimPrefix (toString $number) . -}}
{{- $per := get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit | int64 -}}
{{- mul $number $per -}}
{{- end -}}

{{/* The operator's ServiceAccount: serviceAccount.name, else the release's full name. */}}
{{- define "eks-oidc-operator.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "eks-oidc-operator.fullname" .) -}}
{{- end -}}
