{{- define "frameforge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "frameforge.fullname" -}}
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

{{- define "frameforge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "frameforge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: frameforge
{{- end -}}

{{/* Selector labels of one component: (list $ "api") */}}
{{- define "frameforge.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "frameforge.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "frameforge.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "frameforge.configMapName" -}}
{{- printf "%s-env" (include "frameforge.fullname" .) -}}
{{- end -}}

{{- define "frameforge.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "frameforge.fullname" .)) -}}
{{- end -}}

{{/* The worker's and the steps' identity (no Kubernetes permissions); the API's is "-api", the
run pods' "-run" (they start a long video's segments as Jobs). */}}
{{- define "frameforge.serviceAccountName" -}}
{{- include "frameforge.fullname" . -}}
{{- end -}}

{{- define "frameforge.runServiceAccountName" -}}
{{- printf "%s-run" (include "frameforge.fullname" .) -}}
{{- end -}}

{{- define "frameforge.apiServiceAccountName" -}}
{{- printf "%s-api" (include "frameforge.fullname" .) -}}
{{- end -}}

{{/* Restarts the pods when the settings change. */}}
{{- define "frameforge.configChecksum" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{- define "frameforge.envFrom" -}}
- configMapRef:
    name: {{ include "frameforge.configMapName" . }}
- secretRef:
    name: {{ include "frameforge.secretName" . }}
{{- end -}}

{{- define "frameforge.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Refuses a setting given both by its former name (its name without FRAMEFORGE_) and by
its name now: a values file from before the names changed, merged with this chart's
defaults, would otherwise give one setting two values and the chart's would win. */}}
{{- define "frameforge.oneNamePerSetting" -}}
{{- $given := merge (deepCopy .Values.config) (deepCopy .Values.secrets) -}}
{{- range $name, $value := $given -}}
{{- $former := trimPrefix "FRAMEFORGE_" $name -}}
{{- if and (ne $former $name) (ne (toString $value) "") (ne (toString (get $given $former)) "") -}}
{{- fail (printf "%s and %s name one setting (%s is its former name): keep %s only (docs/configuration.md)" $former $name $former $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
