/*
Package agent is the cluster agent of machinery-status-collector: it
watches Crossplane claims in one cluster and sends their status to the
collector's POST /api/v1/statuses. agent/cmd is its main.

# Configuration (environment)

The agent reads its settings from the environment through shared/config,
like the functions; the variables, their defaults and meanings are in the
README's Configuration table, and `agent --help` lists them with their
defaults. All problems are reported at once at start; no token value is
ever logged.

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
