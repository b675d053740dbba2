{{/* Names */}}
{{- define "asya.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "asya.fullname" -}}
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

{{/* <fullname>-<suffix>, kept within 63 characters. */}}
{{- define "asya.componentName" -}}
{{- printf "%s-%s" (include "asya.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-") .suffix }}
{{- end }}

{{- define "asya.webhookName" -}}{{ include "asya.componentName" (dict "root" . "suffix" "webhook") }}{{- end }}
{{- define "asya.reconcilerName" -}}{{ include "asya.componentName" (dict "root" . "suffix" "reconciler") }}{{- end }}
{{- define "asya.configName" -}}{{ include "asya.componentName" (dict "root" . "suffix" "config") }}{{- end }}
{{- define "asya.tlsSecretName" -}}{{ include "asya.componentName" (dict "root" . "suffix" "webhook-tls") }}{{- end }}
{{- define "asya.runtimeConfigMapName" -}}
{{- if eq .Values.runtime.source "configMap" }}{{ .Values.runtime.configMap.name }}{{ else }}{{ include "asya.componentName" (dict "root" . "suffix" "runtime-script") }}{{ end }}
{{- end }}

{{- define "asya.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: call with (dict "root" $ "component" "webhook"). */}}
{{- define "asya.labels" -}}
helm.sh/chart: {{ include "asya.chart" .root }}
{{ include "asya.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: asya
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "asya.selectorLabels" -}}
app.kubernetes.io/name: {{ include "asya.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "asya.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{- define "asya.webhookServiceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create }}{{ default (include "asya.webhookName" .) .Values.webhook.serviceAccount.name }}{{ else }}{{ default "default" .Values.webhook.serviceAccount.name }}{{ end }}
{{- end }}

{{- define "asya.reconcilerServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ default (include "asya.reconcilerName" .) .Values.serviceAccount.name }}{{ else }}{{ default "default" .Values.serviceAccount.name }}{{ end }}
{{- end }}

{{/* True when the webhook runs in the cluster (not at webhook.url). */}}
{{- define "asya.webhookInCluster" -}}
{{- if not .Values.webhook.url }}true{{ end }}
{{- end }}

{{/* Namespaces never sent to the webhook: system namespaces, the release namespace and webhook.excludedNamespaces. */}}
{{- define "asya.excludedNamespaces" -}}
{{- $ns := list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace }}
{{- range .Values.webhook.excludedNamespaces }}{{ $ns = append $ns . }}{{ end }}
{{- toJson (uniq $ns) }}
{{- end }}

{{- define "asya.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "asya.excludedNamespaces" . }}
{{- end }}

{{/* Path of the runtime script inside the reconciler container. */}}
{{- define "asya.runtimeScriptPath" -}}
{{- if eq .Values.runtime.source "local" }}{{ .Values.runtime.local.path }}{{ else }}/etc/asya-runtime/asya_runtime.py{{ end }}
{{- end }}

{{/* The configuration file both processes read (src/config/schema.ts); unknown keys stop them at start-up. */}}
{{- define "asya.config" -}}
{{- $transports := dict }}
{{- range $name, $t := .Values.transports }}
{{- $_ := set $transports $name (dict "enabled" $t.enabled "type" $t.type "config" (deepCopy ($t.config | default dict))) }}
{{- end }}
{{- range include "asya.passwordMounts" . | fromJsonArray }}
{{- $_ := set (index $transports .transport).config "passwordFile" (printf "%s/password" .dir) }}
{{- end }}
{{- $cfg := dict
  "transports" $transports
  "sidecar" (dict "image" .Values.sidecar.image "imagePullPolicy" .Values.sidecar.imagePullPolicy "defaultResources" .Values.sidecar.defaultResources "logLevel" .Values.sidecar.logLevel "native" .Values.sidecar.native)
  "runtime" (dict "scriptPath" (include "asya.runtimeScriptPath" .))
  "gatewayURL" .Values.gatewayURL
  "webhook" (dict "excludedNamespaces" (include "asya.excludedNamespaces" . | fromJsonArray))
  "reconciler" (dict
    "concurrency" .Values.reconciler.concurrency
    "resyncPeriodSeconds" .Values.reconciler.resyncPeriodSeconds
    "deleteQueues" .Values.reconciler.deleteQueues
    "queueDeletionTimeoutSeconds" .Values.reconciler.queueDeletionTimeoutSeconds
    "queueCheckSeconds" .Values.reconciler.queueCheckSeconds
    "leaderElection" (dict "enabled" .Values.leaderElection.enabled "leaseName" (include "asya.reconcilerName" .) "leaseNamespace" .Release.Namespace "leaseDurationSeconds" .Values.leaderElection.leaseDurationSeconds))
}}
{{- toYaml $cfg }}
{{- end }}

{{/* RabbitMQ passwords the reconciler reads from files: one Secret volume per enabled transport with a
     passwordSecretRef (in the release namespace) and no passwordFile of its own. JSON list of
     {transport, secret, key, dir}. */}}
{{- define "asya.passwordMounts" -}}
{{- $mounts := list }}
{{- range $name, $t := .Values.transports }}
{{- $c := $t.config | default dict }}
{{- if and $t.enabled (eq $t.type "rabbitmq") $c.passwordSecretRef (not $c.passwordFile) }}
{{- $mounts = append $mounts (dict "transport" $name "secret" $c.passwordSecretRef.name "key" $c.passwordSecretRef.key "dir" (printf "/var/run/asya/transports/%s" $name)) }}
{{- end }}
{{- end }}
{{- toJson $mounts }}
{{- end }}

{{/* Pod-level settings shared by both Deployments. */}}
{{- define "asya.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{- define "asya.validateValues" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true: two reconcilers without a leader would both write" }}
{{- end }}
{{- if and .Values.webhook.url (not (hasPrefix "https://" .Values.webhook.url)) }}
{{- fail (printf "webhook.url must start with https:// (got %q): the API server only calls webhooks over TLS" .Values.webhook.url) }}
{{- end }}
{{- if and .Values.webhook.url (not .Values.webhook.caBundle) }}
{{- fail "webhook.url needs webhook.caBundle (base64 PEM of the CA that signed the webhook's certificate)" }}
{{- end }}
{{- if and .Values.webhook.caBundle (not .Values.webhook.url) }}
{{- fail "webhook.caBundle is only used with webhook.url (in the cluster, cert-manager or the chart provides the CA)" }}
{{- end }}
{{- if and (eq .Values.runtime.source "inline") (not .Values.runtime.script) }}
{{- fail "runtime.source=inline needs runtime.script: --set-file runtime.script=path/to/asya_runtime.py" }}
{{- end }}
{{- if and (eq .Values.runtime.source "configMap") (not .Values.runtime.configMap.name) }}
{{- fail "runtime.source=configMap needs runtime.configMap.name (a ConfigMap in the release namespace)" }}
{{- end }}
{{- if and (eq .Values.runtime.source "github") (not .Values.runtime.github.version) }}
{{- fail "runtime.source=github needs runtime.github.version (a tag of runtime.github.repo, e.g. v1.0.0)" }}
{{- end }}
{{- /* A transport's required keys (host, region...) are in values.schema.json, generated from its plugin's schema. */}}
{{- end }}

{{/* clientConfig of one webhook: call with (dict "root" $ "path" "/..." "caBundle" $b64). */}}
{{- define "asya.clientConfig" -}}
clientConfig:
  {{- if .root.Values.webhook.url }}
  url: {{ printf "%s%s" (trimSuffix "/" .root.Values.webhook.url) .path | quote }}
  {{- else }}
  service:
    name: {{ include "asya.webhookName" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- end }}
  {{- if .caBundle }}
  caBundle: {{ .caBundle }}
  {{- end }}
{{- end }}
{{- define "asya.webhookAnnotations" -}}
{{- if and (include "asya.webhookInCluster" .) .Values.certManager.enabled }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "asya.tlsSecretName" .) }}
{{- end }}
{{- end }}

{{/* "true" when an enabled SQS transport has an actorRoleArn (the reconciler then manages ServiceAccounts). */}}
{{- define "asya.irsaEnabled" -}}
{{- range $name, $t := .Values.transports }}
{{- if and $t.enabled (eq $t.type "sqs") $t.config $t.config.actorRoleArn }}true{{- end }}
{{- end }}
{{- end }}
