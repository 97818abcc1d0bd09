// Package monitoring holds no code: its tests prove the Prometheus Operator
// manifests in this directory (kubectl apply -k knative/monitoring). They
// render the kustomization, dry-run each object with strict field
// validation against a real kube-apiserver (shared/kubetest) carrying the
// operator's CRDs (from its module, via the Go module proxy), check that
// the ServiceMonitor selects the ingest of both overlays and that every
// series the alerts use is one the functions export, and run `promtool
// check rules` and `promtool test rules` (testdata/alerts.test.yaml) on the
// PrometheusRule's groups.
package monitoring
