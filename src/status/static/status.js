// The status page: polls status.json and renders it. Plain JS, no build step, no libraries.
// Everything shown comes from probers (ours and our neighbours'), so text is only ever set
// with textContent, never parsed as HTML.
'use strict';

(function () {
  const PHASES = [
    ['dns_done', 'dns', '#7f56d9'],
    ['connect_done', 'connect', '#2e90fa'],
    ['tls_handshake_done', 'tls', '#0ba5ec'],
    ['wrote_request', 'request', '#98a2b3'],
    ['got_first_resp_byte', 'first byte', '#12b76a'],
  ];
  const SHORT_NAMES = {
    api_server_direct: 'apiserver',
    api_server_dns: 'apiserver dns',
    me_ingress: 'ingress',
    me_service: 'service',
    kube_proxy_metrics: 'kube-proxy metrics',
    kube_proxy_healthz: 'kube-proxy healthz',
  };
  const SOURCE_LABELS = {
    self: 'this prober',
    status: '',
    alive: 'plain kubenurse: no latency',
    unreachable: 'unreachable',
  };

  let lastSuccess = 0;
  let refreshMs = 3000;

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null) continue;
        if (key === 'text') node.textContent = value;
        else if (key === 'className') node.className = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else node.setAttribute(key, value);
      }
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  /** Latency → colour: green at 1 ms or less, through yellow, to orange at 1 s (log scale). Red is for failures only. */
  function latencyColour(ms) {
    const t = Math.min(1, Math.max(0, Math.log10(Math.max(ms, 1)) / 3));
    const hue = 135 - t * 105;
    return `hsl(${hue.toFixed(0)}, 62%, ${(52 + t * 6).toFixed(0)}%)`;
  }

  function formatMs(ms) {
    if (ms === null || ms === undefined) return '';
    if (ms < 10) return ms.toFixed(1);
    return ms.toFixed(0);
  }

  function ago(iso) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 90) return `${seconds} s ago`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }

  /** Names come from the cluster: `constructor` must not read Object.prototype's. */
  function own(object, key) {
    return Object.hasOwn(object, key) ? object[key] : undefined;
  }

  function shortName(type) {
    return own(SHORT_NAMES, type) || type;
  }

  // docs/layers.md: which layer a prober blames for a neighbour, shown in the path cell.
  const LAYER_TEXT = {
    pod_network: ['CNI', 'pod network (CNI / overlay): the node network to it works'],
    node_network: ['node', 'node or underlay: neither its pod nor its node answers'],
    ipv4: ['IPv4', 'IPv4 only: the other address family works'],
    ipv6: ['IPv6', 'IPv6 only: the other address family works'],
    node_endpoint: [
      '',
      "node health endpoint: the pod path works, the node's health port does not",
    ],
    neighbour_pod: ['pod', "the neighbour's prober answered with an error: the network works"],
    unknown: ['✕', 'layer unknown: no node path to compare with'],
  };

  function showVerdict(td, cell) {
    const verdict = cell.verdict;
    if (!verdict) return;
    if (verdict.layer === 'none') {
      td.dataset.layer = 'none';
      return;
    }
    if (!Object.hasOwn(LAYER_TEXT, verdict.layer)) return;
    const [short, meaning] = LAYER_TEXT[verdict.layer];
    td.dataset.layer = verdict.layer;
    td.classList.add(`layer-${verdict.layer}`);
    if (cell.status === 'error' && short) td.textContent = short;
    td.title += `\nlayer: ${meaning}${verdict.detail ? `\n${verdict.detail}` : ''}`;
  }

  function cellTd(cell, from, to, extraClass) {
    const td = el('td', { className: `cell ${extraClass || ''}`.trim(), dataset: { from, to } });
    if (!cell) {
      td.classList.add('none');
      td.dataset.state = 'none';
      td.textContent = '–';
      td.title = `${from} → ${to}: not checked by ${from}`;
      return td;
    }
    td.dataset.state = cell.status;
    td.classList.add(cell.status);
    if (cell.status === 'ok') {
      if (cell.durationMs === null) {
        td.textContent = 'ok';
        td.style.backgroundColor = latencyColour(1);
        td.title = `${from} → ${to}: ok`;
      } else {
        td.textContent = formatMs(cell.durationMs);
        td.style.backgroundColor = latencyColour(cell.durationMs);
        td.title = `${from} → ${to}: ok in ${cell.durationMs} ms`;
      }
    } else if (cell.status === 'error') {
      td.textContent = '✕';
      const event = cell.event ? ` [${cell.event}]` : '';
      const took = cell.durationMs === null ? '' : ` after ${formatMs(cell.durationMs)} ms`;
      td.title = `${from} → ${to}: FAILED${took}${event}\n${cell.message || ''}`;
    } else {
      td.textContent = '–';
      td.title = `${from} → ${to}: skipped${cell.message ? ` (${cell.message})` : ''}`;
    }
    showVerdict(td, cell);
    return td;
  }

  function renderMatrix(cluster) {
    const table = document.getElementById('matrix');
    const nodes = cluster.nodes;
    // The server bounds the columns and the cells of each row (bound.ts).
    const otherTypes = cluster.checkTypes;
    const anyMore = cluster.rows.some((row) => row.more > 0);

    const head = el('tr', null, [el('th', { text: 'from ↓  to →' })]);
    for (const node of nodes)
      head.append(el('th', { text: node, scope: 'col', dataset: { node } }));
    otherTypes.forEach((type, index) =>
      head.append(
        el('th', {
          text: shortName(type),
          title: type,
          scope: 'col',
          className: index === 0 ? 'group' : '',
        }),
      ),
    );

    if (anyMore) head.append(el('th', { text: '', className: 'group' }));

    const body = el('tbody');
    for (const row of cluster.rows) {
      const label = SOURCE_LABELS[row.source];
      const header = el(
        'th',
        {
          className: `row ${row.source}`,
          scope: 'row',
          dataset: { node: row.node, source: row.source },
          title: row.error
            ? `${row.node} (${row.pod}): ${row.error}`
            : `${row.node} (${row.pod}${row.podIP ? `, ${row.podIP}` : ''})`,
        },
        [
          document.createTextNode(row.node),
          label
            ? el('span', {
                className: `badge ${row.source === 'unreachable' ? 'unreachable' : ''}`,
                text: label,
              })
            : null,
        ],
      );
      const tr = el('tr', { dataset: { node: row.node } }, [header]);
      for (const target of nodes) {
        if (target === row.node) {
          tr.append(
            el('td', {
              className: 'cell self',
              dataset: { from: row.node, to: target, state: 'self' },
              title: `${row.node} does not check itself`,
            }),
          );
        } else if (row.source === 'unreachable') {
          tr.append(
            el('td', {
              className: 'cell unreachable',
              text: '?',
              dataset: { from: row.node, to: target, state: 'unreachable' },
              title: `${row.node}'s view is unknown: ${row.error}`,
            }),
          );
        } else {
          tr.append(cellTd(own(row.paths, target), row.node, target));
        }
      }
      otherTypes.forEach((type, index) => {
        const extra = index === 0 ? 'first-check' : '';
        if (row.source === 'unreachable')
          tr.append(
            el('td', {
              className: `cell unreachable ${extra}`,
              text: '?',
              dataset: { from: row.node, to: type, state: 'unreachable' },
              title: row.error,
            }),
          );
        else tr.append(cellTd(own(row.checks, type), row.node, type, extra));
      });
      if (anyMore)
        tr.append(
          el('td', {
            className: 'more',
            text: row.more > 0 ? `… ${row.more} more` : '',
            title: row.more > 0 ? `${row.more} more results of ${row.node} are not shown` : '',
          }),
        );
      body.append(tr);
    }
    table.replaceChildren(el('thead', null, [head]), body);

    const notes = [];
    if (cluster.truncated)
      notes.push(
        `Showing ${cluster.truncated.shown} of ${cluster.truncated.total} neighbours ` +
          "(those this prober checks first). Open another prober's page for its part of the cluster.",
      );
    const hidden = cluster.hiddenColumns;
    if (hidden.nodes > 0 || hidden.checks > 0)
      notes.push(
        `… ${hidden.nodes} more node columns and ${hidden.checks} more check columns not shown (the most checked are).`,
      );
    const truncated = document.getElementById('truncated');
    truncated.hidden = notes.length === 0;
    truncated.textContent = notes.join(' ');
  }

  function renderLegend() {
    // Colours are set through the DOM: the page's CSP blocks style attributes.
    const swatch = (background, title) => {
      const span = el('span', { className: 'swatch', title });
      span.style.background = background;
      return span;
    };
    const scale = el('span', { className: 'scale' });
    for (const ms of [1, 3, 10, 30, 100, 300, 1000])
      scale.append(swatch(latencyColour(ms), `${ms} ms`));
    const hatched = el('span', { className: 'swatch cell unreachable' });
    document
      .getElementById('legend')
      .replaceChildren(
        el('span', null, [
          document.createTextNode('latency 1 ms '),
          scale,
          document.createTextNode(' 1 s'),
        ]),
        el('span', null, [swatch('var(--red)', 'failed'), document.createTextNode('failed')]),
        el('span', null, [
          document.createTextNode(
            'failed, layer at fault: CNI = pod network · node = node or underlay · ' +
              'IPv4/IPv6 = that family only · pod = prober answered an error',
          ),
        ]),
        el('span', null, [
          swatch('var(--grey)', 'not checked'),
          document.createTextNode('not checked / skipped'),
        ]),
        el('span', null, [hatched, document.createTextNode('prober not readable')]),
      );
  }

  function phaseBar(check) {
    if (!check.phases) return null;
    const total = check.phases.got_first_resp_byte || check.durationMs || 0;
    const bar = el('div', { className: 'phases' });
    const parts = [];
    let previous = 0;
    for (const [event, label, colour] of PHASES) {
      const at = check.phases[event];
      if (at === undefined) continue;
      const span = el('span', {
        title: `${label}: ${formatMs(at - previous)} ms (at ${formatMs(at)} ms)`,
      });
      span.style.width = total > 0 ? `${(Math.max(0, at - previous) / total) * 100}%` : '0';
      span.style.background = colour;
      bar.append(span);
      parts.push(`${label} ${formatMs(at)}`);
      previous = at;
    }
    return el('div', null, [bar, el('div', { className: 'phase-text', text: parts.join(' · ') })]);
  }

  function renderChecks(checks, moreChecks) {
    const body = document.querySelector('#checks tbody');
    const rows = checks.map((check) => {
      const result = check.status === 'error' ? `failed: ${check.event || 'error'}` : check.status;
      const now =
        check.status === 'error'
          ? el('div', { text: check.message })
          : check.status === 'skipped'
            ? el('div', { className: 'when', text: check.message })
            : null;
      const last = check.lastError
        ? el('div', null, [
            el('div', { text: check.lastError.message }),
            el('div', {
              className: 'when',
              title: check.lastError.at,
              text: `${check.lastError.event}, ${ago(check.lastError.at)}`,
            }),
          ])
        : el('span', { className: 'when', text: 'none' });
      return el('tr', { dataset: { type: check.type, state: check.status } }, [
        el('td', null, [el('code', { text: check.type })]),
        el('td', null, [el('span', { className: `badge ${check.status}`, text: result }), now]),
        el('td', {
          className: 'num',
          text: check.durationMs === null ? '' : `${formatMs(check.durationMs)} ms`,
        }),
        el('td', null, [phaseBar(check)]),
        el('td', { className: 'message' }, [last]),
      ]);
    });
    if (rows.length === 0)
      rows.push(
        el('tr', null, [
          el('td', { colspan: '5', className: 'when', text: 'no round finished yet' }),
        ]),
      );
    if (moreChecks > 0)
      rows.push(
        el('tr', { className: 'more' }, [
          el('td', {
            colspan: '5',
            className: 'when',
            text: `… ${moreChecks} more checks not listed (failures are listed first)`,
          }),
        ]),
      );
    body.replaceChildren(...rows);
  }

  function flatten(prefix, value, out) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value))
        flatten(prefix ? `${prefix}.${key}` : key, inner, out);
    } else if (typeof value === 'number' && !Number.isInteger(value)) {
      out.push([
        prefix,
        prefix.endsWith('seconds') || prefix.includes('seconds.')
          ? `${value.toFixed(1)} s`
          : value.toFixed(3),
      ]);
    } else out.push([prefix, value === null ? 'unknown' : String(value)]);
    return out;
  }

  function renderKubeProxy(kubeProxy) {
    const target = document.getElementById('kube-proxy');
    if (!kubeProxy) {
      target.replaceChildren(
        el('p', {
          className: 'hint',
          text: 'Not monitored by this prober (KUBENURSE_CHECK_KUBE_PROXY=false, or no KUBENURSE_HOST_IP).',
        }),
      );
      return;
    }
    const list = el('dl', { className: 'kv', id: 'kube-proxy-fields' });
    for (const [key, value] of flatten('', kubeProxy, []))
      list.append(el('dt', { text: key }), el('dd', { text: value, dataset: { field: key } }));
    target.replaceChildren(list);
  }

  function render(data) {
    document.getElementById('identity').textContent =
      `${data.node || '(node unknown)'} · ${data.pod}`;
    document.title = `kubenurse-ts · ${data.node || data.pod}`;
    const state = document.getElementById('neighbourhood-state');
    state.textContent = data.neighbourhoodState ? `neighbourhood: ${data.neighbourhoodState}` : '';
    document.getElementById('round').textContent = data.round
      ? `last round ${ago(data.round.finishedAt)}`
      : 'no round yet';
    renderMatrix(data.cluster);
    renderChecks(data.checks, data.moreChecks);
    renderKubeProxy(data.kubeProxy);
  }

  function showFreshness() {
    const freshness = document.getElementById('freshness');
    if (lastSuccess === 0) return;
    const age = Math.round((Date.now() - lastSuccess) / 1000);
    freshness.textContent = `updated ${age} s ago · refresh every ${Math.round(refreshMs / 1000)} s`;
    freshness.classList.toggle('stale', age * 1000 > refreshMs * 3);
  }

  async function refresh() {
    const banner = document.getElementById('banner');
    try {
      const response = await fetch('status.json', {
        cache: 'no-store',
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      refreshMs = data.refreshMs || refreshMs;
      render(data);
      lastSuccess = Date.now();
      banner.hidden = true;
      document.body.dataset.loaded = 'true';
    } catch (error) {
      banner.hidden = false;
      banner.textContent = `Cannot read this prober's status (${error.message}); showing the last data received.`;
    }
    showFreshness();
    setTimeout(refresh, refreshMs);
  }

  renderLegend();
  setInterval(showFreshness, 1000);
  refresh();
})();
