{{- define "maas.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "maas.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "maas.labels" -}}
app.kubernetes.io/name: {{ include "maas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "maas.selectorLabels" -}}
app.kubernetes.io/name: {{ include "maas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "maas.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "maas.secretName" -}}
{{- default (include "maas.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "maas.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "maas.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* the pod and container security settings every maas container runs with */}}
{{- define "maas.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "maas.containerSecurityContext" -}}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* environment shared by the server and the migration Job */}}
{{- define "maas.env" -}}
- name: NODE_ENV
  value: production
- name: MAAS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: MAAS_SECRET_KEY
  valueFrom:
    secretKeyRef: { name: {{ include "maas.secretName" . }}, key: secret-key }
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: { name: {{ include "maas.secretName" . }}, key: database-url }
- name: MAAS_MIGRATE_TIMEOUT_S
  value: {{ .Values.migrations.waitTimeoutSeconds | quote }}
{{- end -}}
