{{- define "actor.name" -}}
{{- default .Release.Name .Values.name }}
{{- end }}

{{- define "actor.namespace" -}}
{{- default .Release.Namespace .Values.namespace }}
{{- end }}

{{- define "actor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "actor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: asya
{{- end }}

{{/* Drops keys whose value is empty ("" or {} or []), keeping false and 0. */}}
{{- define "actor.compact" -}}
{{- $out := dict }}
{{- range $k, $v := . }}
{{- if or (kindIs "bool" $v) (kindIs "float64" $v) (kindIs "int" $v) (kindIs "int64" $v) $v }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* The AsyncActor spec, as JSON. */}}
{{- define "actor.spec" -}}
{{- $s := .Values.scaling }}
{{- $scaling := dict "enabled" $s.enabled "minReplicas" $s.minReplicas "maxReplicas" $s.maxReplicas "pollingInterval" $s.pollingInterval "cooldownPeriod" $s.cooldownPeriod "queueLength" $s.queueLength }}
{{- $adv := dict }}
{{- with $s.advanced }}
{{- $adv = include "actor.compact" (dict "formula" .formula "target" .target "activationTarget" .activationTarget "metricType" .metricType) | fromJson }}
{{- if .restoreToOriginalReplicaCount }}{{ $_ := set $adv "restoreToOriginalReplicaCount" true }}{{ end }}
{{- end }}
{{- if $adv }}{{ $_ := set $scaling "advanced" $adv }}{{ end }}
{{- $w := .Values.workload }}
{{- $workload := dict "kind" $w.kind "replicas" $w.replicas "pythonExecutable" $w.pythonExecutable "template" $w.template }}
{{- with $w.volumeClaimTemplates }}{{ $_ := set $workload "volumeClaimTemplates" . }}{{ end }}
{{- $spec := dict "transport" .Values.transport "scaling" $scaling "workload" $workload }}
{{- with .Values.sidecar }}{{ $_ := set $spec "sidecar" . }}{{ end }}
{{- with .Values.timeout }}{{ $_ := set $spec "timeout" . }}{{ end }}
{{- toJson $spec }}
{{- end }}

{{- define "actor.validate" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (include "actor.name" .)) }}
{{- fail (printf "name %q must be a DNS-1123 label (lowercase letters, digits and -): it names the actor's queue" (include "actor.name" .)) }}
{{- end }}
{{- if and .Values.scaling.enabled (gt (len (include "actor.name" .)) 54) }}
{{- fail (printf "name %q is longer than 54 characters: KEDA names its HPA keda-hpa-<name> (at most 63)" (include "actor.name" .)) }}
{{- end }}
{{- if gt (int .Values.scaling.minReplicas) (int .Values.scaling.maxReplicas) }}
{{- fail (printf "scaling.minReplicas (%v) must be <= scaling.maxReplicas (%v)" .Values.scaling.minReplicas .Values.scaling.maxReplicas) }}
{{- end }}
{{- if and .Values.scaling.advanced.formula (not .Values.scaling.advanced.target) }}
{{- fail "scaling.advanced.target is required when scaling.advanced.formula is set" }}
{{- end }}
{{- if and .Values.workload.volumeClaimTemplates (ne .Values.workload.kind "StatefulSet") }}
{{- fail (printf "workload.volumeClaimTemplates needs workload.kind=StatefulSet (kind is %s)" .Values.workload.kind) }}
{{- end }}
{{- $runtime := 0 }}
{{- range .Values.workload.template.spec.containers }}{{ if eq .name "asya-runtime" }}{{ $runtime = add1 $runtime }}{{ end }}{{ end }}
{{- if ne $runtime 1 }}
{{- fail "workload.template.spec.containers must have exactly one container named asya-runtime" }}
{{- end }}
{{- end }}
