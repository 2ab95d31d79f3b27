{% raw -%}
{{/* The selector that finds the pods: the service's name, and the release, so two
releases in one namespace keep to their own pods. */}}
{{- define "service.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object and pod: the selector's, and the id by which Backstage's
Kubernetes plugin finds them (catalog-info.yaml's backstage.io/kubernetes-id). */}}
{{- define "service.labels" -}}
{{ include "service.selectorLabels" . }}
backstage.io/kubernetes-id: {{ .Chart.Name }}
{{- end }}

{{/* The image by digest when one is given, else by tag. */}}
{{- define "service.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end }}
{%- endraw %}
