// The demo's control page and API (served by the demo process, never by the probers):
//   GET  /             page: links to every prober, a button per fault (plain HTML forms, no JS)
//   GET  /api/faults   [{spec, description, active}]
//   POST /api/faults   {"spec": "partition:node-2,node-3", "active": true} → the new state
//   POST /toggle       form field spec=…  (303 back to /)
//   POST /heal         undo every fault   (303 back to /)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FaultSpecError, type FaultBoard } from './faults.ts';
import { NODES, proberUrl, type DemoNode } from './topology.ts';
import { errorMessage } from '../../src/error-text.ts';

const MAX_BODY = 4096;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new FaultSpecError(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

const STYLE =
  'body{font:14px system-ui,sans-serif;margin:2em;color:#1d2330}table{border-collapse:collapse}' +
  'td{padding:.3em .8em .3em 0;border-bottom:1px solid #ddd}\n' +
  'tr.on td{background:#fde8e7}button{font:inherit;padding:.2em 1em}code{font-size:1em}';

function page(board: FaultBoard, nodes: readonly DemoNode[], self: string): string {
  const probers = nodes
    .map((node) => {
      const link = (path: string, text: string): string =>
        `<a href="${proberUrl(node, path)}" target="_blank">${text}</a>`;
      return `<li>${link('/', node.name)} <small>(${link('/alive', '/alive')} · ${link('/metrics', '/metrics')})</small></li>`;
    })
    .join('');
  const faults = board
    .list()
    .map((fault) => {
      const spec = escapeHtml(fault.spec);
      const toggle =
        `<form method="post" action="/toggle"><input type="hidden" name="spec" value="${spec}">` +
        `<button>${fault.active ? 'heal' : 'break'}</button></form>`;
      return (
        `<tr class="${fault.active ? 'on' : ''}"><td><code>${spec}</code></td>` +
        `<td>${escapeHtml(fault.description)}</td>\n<td>${toggle}</td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kubenurse-ts demo controls</title>
<style>${STYLE}</style></head><body>
<h1>kubenurse-ts demo controls</h1>
<p>Status pages (each prober serves one; they refresh by themselves):</p><ul>${probers}</ul>
<h2>Faults</h2><table>${faults}</table>
<form method="post" action="/heal"><p><button>heal everything</button></p></form>
<p><small>Same from a terminal: <code>curl -X POST ${self}/api/faults -d '{"spec":"service","active":true}'</code></small></p>
</body></html>`;
}

export function startControlServer(
  board: FaultBoard,
  at: { host: string; port: number },
  onChange: (message: string) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (req.method === 'GET' && path === '/') {
          res
            .writeHead(200, {
              'content-type': 'text/html; charset=utf-8',
              'cache-control': 'no-store',
            })
            .end(page(board, NODES, `http://${at.host}:${at.port}`));
        } else if (req.method === 'GET' && path === '/api/faults') {
          json(res, 200, board.list());
        } else if (req.method === 'POST' && path === '/api/faults') {
          const body = JSON.parse(await readBody(req)) as { spec?: unknown; active?: unknown };
          if (typeof body.spec !== 'string' || typeof body.active !== 'boolean')
            throw new FaultSpecError('expected {"spec": string, "active": boolean}');
          const state = await board.set(body.spec, body.active);
          onChange(`${state.active ? 'BROKEN' : 'healed'}: ${state.description} (${state.spec})`);
          json(res, 200, state);
        } else if (req.method === 'POST' && path === '/toggle') {
          const spec = new URLSearchParams(await readBody(req)).get('spec') ?? '';
          const state = await board.toggle(spec);
          onChange(`${state.active ? 'BROKEN' : 'healed'}: ${state.description} (${state.spec})`);
          res.writeHead(303, { location: '/' }).end();
        } else if (req.method === 'POST' && path === '/heal') {
          await board.healAll();
          onChange('healed everything');
          res.writeHead(303, { location: '/' }).end();
        } else {
          json(res, 404, { error: 'not found' });
        }
      } catch (error) {
        const known = error instanceof FaultSpecError || error instanceof SyntaxError;
        json(res, known ? 400 : 500, {
          error: errorMessage(error),
        });
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
