{% raw -%}
{{/* Labels on every object, and the selector that finds the pods: the service's
name, and the release, so two releases in one namespace keep to their own pods. */}}
{{- define "service.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
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
