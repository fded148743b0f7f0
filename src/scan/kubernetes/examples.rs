//! The manifests the rules' examples share: a workload ready for
//! production, and a bare one that fails every rule it can.

pub(super) const DEPLOYMENT_OK: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  revisionHistoryLimit: 5
  strategy: { type: RollingUpdate }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 30
      securityContext: { runAsNonRoot: true }
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: web } } }
      containers:
        - name: app
          image: registry.example/web:1.4.2
          ports: [{ containerPort: 8080 }]
          resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
          readinessProbe: { httpGet: { path: /ready, port: 8080 } }
          livenessProbe: { httpGet: { path: /live, port: 8080 }, periodSeconds: 20 }
          lifecycle: { preStop: { exec: { command: ["sleep", "5"] } } }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: web } } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web }
spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }
"#;

pub(super) const BARE_DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  revisionHistoryLimit: 0
  strategy: { type: Recreate }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 0
      hostNetwork: true
      containers:
        - name: app
          image: web:latest
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /health, port: 8080 } }
          livenessProbe: { httpGet: { path: /health, port: 8080 } }
          securityContext: { privileged: true, runAsUser: 0, capabilities: { add: [SYS_ADMIN] } }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web-blocking }
spec: { maxUnavailable: 0, selector: { matchLabels: { app: web } } }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: other }
spec: { scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: gone }, minReplicas: 2, maxReplicas: 4 }
"#;
