// Package knative holds no code: its tests prove the deploy manifests in
// this directory. They render every kustomization with the kustomize API,
// apply each object with a server-side dry run and strict field validation
// to a real kube-apiserver (shared/kubetest) that has Knative's CRDs from
// the Go module proxy, run the agent with exactly the shipped RBAC, and
// check that the environment each manifest sets is what the code reads.
//
// Layout:
//
//	base/              namespace, Redis, settings for ingest and reconcile
//	agent/             the per-cluster agent with its least-privilege RBAC
//	secrets/           Secret templates, applied once, never by an overlay
//	overlays/knative/  Knative Services, PingSource (+ base, agent)
//	overlays/cronjob/  Deployment + Service, CronJob (+ base, agent)
//	examples/remote-cluster/  the agent for another cluster, to copy
package knative
