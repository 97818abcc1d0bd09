/*
Package agent is the cluster agent of machinery-status-collector: it
watches Crossplane claims in one cluster and sends their status to the
collector's POST /api/v1/statuses. agent/cmd is its main.

# Configuration (environment)

	CLUSTER_NAME              required; this cluster's name (DNS-1123 label)
	COLLECTOR_URL             required; collector base URL (http or https)
	CLAIM_GROUP               API group of the claim resource; in discovery
	                          mode it limits discovery to that group
	CLAIM_VERSION             default v1alpha1 (single-resource mode)
	CLAIM_RESOURCE            plural resource name; unset = discovery mode:
	                          every resource in the "claim" category
	CLAIM_NAMESPACE           namespace to watch; empty = all
	KUBECONFIG                used when not running in a pod; default ~/.kube/config
	COLLECTOR_TOKEN           bearer token for the collector, or
	COLLECTOR_TOKEN_FILE      a file holding it (re-read per request, so a
	                          rotated Secret applies without a restart)
	COLLECTOR_CA_FILE         PEM CA to trust for an https collector
	AGENT_BATCH_SIZE          records per request, default 500, max 1000
	AGENT_FLUSH_INTERVAL      longest wait to fill a batch, default 1s
	AGENT_RESYNC_PERIOD       full re-send period, default 10m (±10% jitter), 0 = off
	AGENT_DISCOVERY_INTERVAL  discovery poll period, default 30s
	AGENT_MAX_BACKOFF         retry delay cap, default 1m
	AGENT_METRICS_ADDR        listen address of /healthz /readyz /metrics, default :8080
	AGENT_LOG_LEVEL           debug, info (default), warn, error

All problems are reported at once at start; no token value is ever logged.

# Behaviour

Informers (package watch) cache a compact form of each claim (package
claim: identity, generation, Ready and Synced conditions; managedFields,
spec, labels and annotations are dropped in the informer transform), and
queue a claim key when a claim is added, deleted or its status-relevant
fields change; label- or annotation-only updates and informer resyncs queue
nothing. A typed rate-limited workqueue coalesces keys per claim. One loop
(package controller) takes up to AGENT_BATCH_SIZE keys or what arrived
within AGENT_FLUSH_INTERVAL, builds each record from the latest cached
state, skips those whose content hash equals what the collector last
acknowledged, and posts the rest as one batch (package sender).

A failed batch is retried with capped exponential backoff and jitter,
honouring Retry-After, each attempt rebuilt from the latest state, so
while the collector is down nothing is dropped and the latest status wins.
401/403 are logged with a hint (never the token) and retried slowly, since
an operator may fix the token. A 400 naming one item drops that item from
the batch and retries it alone later with per-item backoff; 413 splits the
batch. Deletions, including DeletedFinalStateUnknown tombstones, are sent
as deleted: true with the last known status. Every AGENT_RESYNC_PERIOD the
agent forgets all acknowledgements and re-sends every claim (a collector
whose Redis was wiped heals; the collector answers "unchanged" otherwise),
costing ceil(claims / AGENT_BATCH_SIZE) requests.

In discovery mode the discovery API is polled every
AGENT_DISCOVERY_INTERVAL; one informer per claim resource is started when
its CRD appears and stopped when it disappears (claims of a deleted CRD are
reported deleted through their watch events first).

/healthz answers 200 while the process serves; /readyz answers 200 once
every informer has synced and the last request to the collector succeeded;
/metrics exports machinery_agent_queue_depth, machinery_agent_claims_watched,
machinery_agent_sends_total{result}, machinery_agent_items_total{verdict},
machinery_agent_sent_bytes_total, machinery_agent_resyncs_total,
machinery_agent_watched_resources and machinery_agent_last_send_ok on a
registry of its own.

# RBAC

list and watch on the claim resources, nothing else: see rbac.yaml beside
this file. Discovery mode reads the discovery API, which the default
system:discovery role opens to every authenticated identity; it needs no
access to CustomResourceDefinitions.
*/
package agent
