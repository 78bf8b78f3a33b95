{{/* pizza.name is the chart name, or nameOverride. */}}
{{- define "pizza.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* pizza.fullname is the object name prefix: the release name (pizza-a) unless it lacks the chart name. */}}
{{- define "pizza.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* pizza.chart is the chart name and version for the helm.sh/chart label. */}}
{{- define "pizza.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* pizza.selectorLabels identify this release's pods; they never change after install. */}}
{{- define "pizza.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pizza.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* pizza.webSelectorLabels select only the web pods (not the migration or test pods). */}}
{{- define "pizza.webSelectorLabels" -}}
{{ include "pizza.selectorLabels" . }}
app.kubernetes.io/component: web
{{- end }}

{{/* pizza.labels go on every object: selector labels plus version, variant and theme. */}}
{{- define "pizza.labels" -}}
helm.sh/chart: {{ include "pizza.chart" . }}
{{ include "pizza.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | trunc 63 | trimSuffix "-" | trimSuffix "." | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pizza
pizza.example.com/variant: {{ .Values.variant | quote }}
pizza.example.com/theme: {{ .Values.theme | quote }}
pizza.example.com/environment: {{ .Values.environment | quote }}
{{- end }}

{{/* pizza.serviceAccountName is the ServiceAccount the web pods run as. */}}
{{- define "pizza.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pizza.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* pizza.imageRef is <repository>:<tag>, or <repository>:<tag>@<digest> when a digest pins it (the kubelet pulls by digest). */}}
{{- define "pizza.imageRef" -}}
{{- $ref := printf "%s:%s" .repository .tag }}
{{- if .digest }}{{ printf "%s@%s" $ref .digest }}{{ else }}{{ $ref }}{{ end }}
{{- end }}

{{/* pizza.image is the one app image, pinned to its digest when one is given (always by the deploy). */}}
{{- define "pizza.image" -}}
{{- include "pizza.imageRef" (dict "repository" .Values.image.repository "tag" .Values.image.tag "digest" .Values.image.digest) }}
{{- end }}

{{/* pizza.canaryImage is the canary's image: the same repository, the canary's tag and digest. */}}
{{- define "pizza.canaryImage" -}}
{{- include "pizza.imageRef" (dict "repository" .Values.image.repository "tag" .Values.canary.image.tag "digest" (.Values.canary.image.digest | default "")) }}
{{- end }}

{{/* pizza.secretName is the Secret the web pods read username, password and SECRET_KEY from. */}}
{{- define "pizza.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-secrets" (include "pizza.fullname" .) }}
{{- end }}
{{- end }}

{{/* pizza.migrateSecretName is the Secret the migration hook reads: its own hook-made copy, since the release's Secret does not exist yet at pre-install. */}}
{{- define "pizza.migrateSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate-secrets" (include "pizza.fullname" .) }}
{{- end }}
{{- end }}

{{/* pizza.useExternalSecret is "true" when the chart renders ExternalSecrets. */}}
{{- define "pizza.useExternalSecret" -}}
{{- if and (not .Values.secrets.existingSecret) .Values.secrets.externalSecret.enabled }}true{{ end }}
{{- end }}

{{/* pizza.externalSecretSpec is the ExternalSecret spec shared by the release's and the hook's copies; arg: dict "root" $ "target" <secret name> ["owner" true: add the owner role, for the migration hook only]. */}}
{{- define "pizza.externalSecretSpec" -}}
{{- $es := .root.Values.secrets.externalSecret }}
{{- $dbKey := default (printf "pizza/%s/database" .root.Values.environment) $es.databaseKey }}
{{- $ownerKey := default (printf "pizza/%s/database-owner" .root.Values.environment) $es.databaseOwnerKey }}
{{- $djangoKey := default (printf "pizza/%s/django" .root.Values.environment) $es.djangoKey }}
refreshInterval: {{ $es.refreshInterval }}
secretStoreRef:
  kind: {{ $es.storeKind }}
  name: {{ $es.storeName }}
target:
  name: {{ .target }}
  creationPolicy: Owner
  deletionPolicy: Retain
data:
  - secretKey: username
    remoteRef:
      key: {{ $dbKey }}
      property: username
  - secretKey: password
    remoteRef:
      key: {{ $dbKey }}
      property: password
  - secretKey: SECRET_KEY
    remoteRef:
      key: {{ $djangoKey }}
      property: SECRET_KEY
  {{- if .root.Values.cache.enabled }}
  - secretKey: REDIS_URL
    remoteRef:
      key: {{ default (printf "pizza/%s/cache" .root.Values.environment) .root.Values.cache.key }}
      property: url
  {{- end }}
  {{- if .owner }}
  - secretKey: owner_username
    remoteRef:
      key: {{ $ownerKey }}
      property: username
  - secretKey: owner_password
    remoteRef:
      key: {{ $ownerKey }}
      property: password
  {{- end }}
{{- end }}

{{/* pizza.settings are the non-secret settings as NAME: "value" (the ConfigMap's data, and the migration Job's env). */}}
{{- define "pizza.settings" -}}
{{- $origins := .Values.csrfTrustedOrigins }}
{{- if not $origins }}
{{- $origins = list }}
{{- range .Values.allowedHosts }}
{{- $origins = append $origins (printf "%s://%s" $.Values.publicScheme (trimPrefix "." .)) }}
{{- end }}
{{- end }}
DJANGO_SETTINGS_MODULE: "config.settings.production"
VARIANT: {{ .Values.variant | quote }}
THEME: {{ .Values.theme | quote }}
DEPLOY_ENV: {{ .Values.environment | quote }}
APP_VERSION: {{ .Values.image.tag | quote }}
ALLOWED_HOSTS: {{ join "," .Values.allowedHosts | quote }}
CSRF_TRUSTED_ORIGINS: {{ join "," $origins | quote }}
LOG_LEVEL: {{ .Values.logLevel | quote }}
SHOP_TIME_ZONE: {{ .Values.shopTimeZone | quote }}
PORT: {{ .Values.containerPort | quote }}
METRICS_PORT: {{ .Values.metrics.port | quote }}
WEB_CONCURRENCY: {{ .Values.gunicorn.workers | quote }}
GUNICORN_GRACEFUL_TIMEOUT: {{ .Values.gunicorn.gracefulTimeoutSeconds | quote }}
DATABASE_HOST: {{ .Values.database.host | quote }}
DATABASE_PORT: {{ .Values.database.port | quote }}
DATABASE_NAME: {{ .Values.database.name | quote }}
DATABASE_SSLMODE: {{ .Values.database.sslMode | quote }}
GUNICORN_THREADS: {{ .Values.gunicorn.threads | quote }}
DATABASE_POOLED: {{ .Values.database.pooled | quote }}
{{- with .Values.database.replicaHost }}
DATABASE_REPLICA_HOST: {{ . | quote }}
{{- end }}
PUBLIC_SCHEME: {{ .Values.publicScheme | quote }}
{{- range $name, $value := .Values.extraEnv }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* pizza.secretEnv maps the Secret's keys to the app's variables; arg: the Secret's name. */}}
{{- define "pizza.secretEnv" -}}
- name: DATABASE_USER
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: username
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: password
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: SECRET_KEY
# REDIS_URL is optional: without it the app keeps a per-process cache.
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: REDIS_URL
      optional: true
{{- end }}

{{/* pizza.migrateSecretEnv connects the migration hook as the owner and names the web role it keeps in step; arg: the Secret's name. */}}
{{- define "pizza.migrateSecretEnv" -}}
- name: DATABASE_USER
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: owner_username
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: owner_password
- name: WEB_DATABASE_USER
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: username
- name: WEB_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: password
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: SECRET_KEY
{{- end }}

{{/* pizza.podSecurityContext is the restricted pod security the web, migration and test pods share. */}}
{{- define "pizza.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* pizza.containerSecurityContext is the restricted container security every container shares. */}}
{{- define "pizza.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* pizza.targetGroup is the target group this release binds to, ARN first, for labels and NOTES. */}}
{{- define "pizza.targetGroup" -}}
{{- coalesce .Values.targetGroupBinding.targetGroupARN .Values.targetGroupBinding.targetGroupName "(none)" }}
{{- end }}

{{/* pizza.validate stops the render on combinations the schema cannot express. */}}
{{- define "pizza.validate" -}}
{{- $drain := add .Values.preStopSleepSeconds .Values.gunicorn.gracefulTimeoutSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $drain) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + gunicorn.gracefulTimeoutSeconds (%d)" (int .Values.terminationGracePeriodSeconds) (int $drain)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and (not .Values.secrets.existingSecret) (not .Values.secrets.externalSecret.enabled) }}
{{- fail "secrets: set secrets.existingSecret or enable secrets.externalSecret; the chart never takes credentials as values" }}
{{- end }}
{{- if and .Values.targetGroupBinding.enabled (not (or .Values.targetGroupBinding.targetGroupARN .Values.targetGroupBinding.targetGroupName)) }}
{{- fail "targetGroupBinding: set targetGroupBinding.targetGroupARN (or targetGroupName), or disable targetGroupBinding.enabled" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.targetGroupBinding.enabled (not .Values.networkPolicy.ingressCidrs) }}
{{- fail "networkPolicy.ingressCidrs: set the ALB's subnets (Terraform output alb_subnet_cidrs); empty would open the app port to every pod in the cluster" }}
{{- end }}
{{- $floor := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and .Values.podDisruptionBudget.enabled (lt (int $floor) 2) }}
{{- fail (printf "podDisruptionBudget needs at least two replicas (%s is %d): with one, a node drain evicts it and the variant goes offline; raise it or disable podDisruptionBudget.enabled" (ternary "autoscaling.minReplicas" "replicaCount" .Values.autoscaling.enabled) (int $floor)) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled is true" }}
{{- end }}
{{- end }}

{{/* pizza.migrationImage is the newest code present: the canary's when one starts, so its migrations run once, before any of its pods. */}}
{{- define "pizza.migrationImage" -}}
{{- if .Values.canary.enabled }}
{{- include "pizza.canaryImage" . }}
{{- else }}
{{- include "pizza.image" . }}
{{- end }}
{{- end }}
