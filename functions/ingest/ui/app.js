// The fleet status page: reads /api/v1/overview and /api/v1/claims with the
// tab's token and renders them; refreshes every few seconds while visible.
'use strict';
(() => {
  const TOKEN_KEY = 'msc-token'; // sessionStorage: this tab only, never a URL or cookie
  const REFRESH_MS = 5000;
  const LIMIT = 50;
  const $ = (id) => document.getElementById(id);

  let cursors = ['']; // the cursor of every page from the first to the current
  let next = '';
  let timer = 0;
  let seq = 0; // answers to an older refresh are dropped
  const kinds = new Set();

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  // api GETs a JSON path, throwing an Error with the status and the API's message.
  async function api(path) {
    const headers = { Accept: 'application/json' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    const res = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON: use the status text */ }
    if (!res.ok) {
      const err = new Error((body && body.error) || res.status + ' ' + res.statusText);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's ago';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ago';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm ago';
    return Math.floor(h / 24) + 'd ago';
  }

  function cell(tr, text, cls, label) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    if (label) td.dataset.label = label;
    tr.appendChild(td);
    return td;
  }

  function renderOverview(ov) {
    const now = Date.parse(ov.now);
    const pr = $('pr');
    pr.textContent = '';
    if (ov.pullRequest) {
      const a = document.createElement('a');
      a.href = ov.pullRequest.url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      a.textContent = 'PR #' + ov.pullRequest.number;
      pr.append('Open pull request: ', a);
    } else {
      pr.append('No open pull request');
    }
    pr.append(ov.pending > 0 ? ' · ' + ov.pending + ' change' + (ov.pending === 1 ? '' : 's') + ' pending' : ' · nothing pending');

    const body = $('clusters').tBodies[0];
    body.textContent = '';
    for (const c of ov.clusters) {
      const tr = document.createElement('tr');
      tr.dataset.cluster = c.cluster;
      const age = now - Date.parse(c.lastSeen);
      if (age > ov.staleAfterSeconds * 1000) tr.classList.add('stale');
      cell(tr, c.cluster);
      cell(tr, ago(age), 'seen').title = c.lastSeen;
      cell(tr, c.ready.toLocaleString(), 'num');
      cell(tr, c.notReady.toLocaleString(), 'num' + (c.notReady ? ' nr' : ''));
      cell(tr, c.deleted.toLocaleString(), 'num');
      body.appendChild(tr);
    }
    if (!ov.clusters.length) {
      const tr = document.createElement('tr');
      cell(tr, 'No cluster has reported yet.', 'empty').colSpan = 5;
      body.appendChild(tr);
    }

    const sel = $('f-cluster');
    const want = ov.clusters.map((c) => c.cluster).join('\n');
    if (sel.dataset.names !== want) {
      const chosen = sel.value;
      sel.length = 1;
      for (const c of ov.clusters) sel.add(new Option(c.cluster, c.cluster));
      sel.value = chosen;
      sel.dataset.names = want;
    }
    return now;
  }

  function renderClaims(page, now) {
    const body = $('claims').tBodies[0];
    body.textContent = '';
    for (const r of page.items) {
      const tr = document.createElement('tr');
      tr.dataset.key = r.cluster + '/' + r.claimRef + (r.kind ? '#' + r.kind : '');
      const since = r.lastTransitionTime || r.observedAt;
      cell(tr, r.cluster, '', 'Cluster');
      cell(tr, r.claimRef, '', 'Claim');
      cell(tr, r.kind || '', '', 'Kind');
      cell(tr, r.reason || r.ready || 'no Ready', '', 'Reason');
      cell(tr, r.statusMessage, 'msg', 'Message');
      cell(tr, ago(now - Date.parse(since)), '', 'Since').title = since;
      body.appendChild(tr);
      if (r.kind && kinds.size < 200 && !kinds.has(r.kind)) {
        kinds.add(r.kind);
        $('kinds').appendChild(new Option(r.kind));
      }
    }
    if (!page.items.length) {
      const tr = document.createElement('tr');
      cell(tr, 'No claim matches.', 'empty').colSpan = 6;
      body.appendChild(tr);
    }
    next = page.next || '';
    const first = (cursors.length - 1) * LIMIT;
    $('total').textContent = '(' + page.total.toLocaleString() + ')';
    $('range').textContent = page.items.length
      ? (first + 1).toLocaleString() + '–' + (first + page.items.length).toLocaleString() + ' of ' + page.total.toLocaleString()
      : '';
    $('newer').disabled = cursors.length === 1;
    $('older').disabled = !next;
  }

  function showToken(message) {
    clearTimeout(timer);
    $('main').hidden = true;
    $('error').hidden = true;
    $('token-form').hidden = false;
    $('token-error').textContent = message;
    $('token').focus();
  }

  function showError(message) {
    const e = $('error');
    e.textContent = message;
    e.hidden = false;
  }

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function refresh() {
    clearTimeout(timer);
    const my = ++seq;
    const params = new URLSearchParams({ limit: String(LIMIT) });
    const cluster = $('f-cluster').value;
    const kind = $('f-kind').value.trim();
    const q = $('f-q').value.trim();
    if (cluster) params.set('cluster', cluster);
    if (kind) params.set('kind', kind);
    if (q) params.set('q', q);
    const cursor = cursors[cursors.length - 1];
    if (cursor) params.set('cursor', cursor);
    try {
      const [ov, page] = await Promise.all([api('/api/v1/overview'), api('/api/v1/claims?' + params)]);
      if (my !== seq) return;
      const now = renderOverview(ov);
      renderClaims(page, now);
      $('token-form').hidden = true;
      $('main').hidden = false;
      $('error').hidden = true;
      $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (my !== seq) return;
      if (e.status === 401) {
        const had = token() !== '';
        sessionStorage.removeItem(TOKEN_KEY);
        showToken(had ? 'That token was not accepted: ' + e.message + '. Check it and try again.' : '');
        return;
      }
      if (e.status === 400 && cursors.length > 1) { // the cursor's page is gone: start over
        cursors = [''];
        refresh();
        return;
      }
      showError('Could not load the status: ' + e.message);
    }
    schedule();
  }

  function restart() {
    cursors = [''];
    refresh();
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    restart();
  });
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); restart(); });
  $('f-cluster').addEventListener('change', restart);
  let typing = 0;
  for (const id of ['f-kind', 'f-q']) {
    $(id).addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(restart, 300); });
  }
  $('older').addEventListener('click', () => { if (next) { cursors.push(next); refresh(); } });
  $('newer').addEventListener('click', () => { if (cursors.length > 1) { cursors.pop(); refresh(); } });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) clearTimeout(timer); else refresh();
  });
  refresh();
})();
