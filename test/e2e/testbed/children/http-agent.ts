// Runs inside a test namespace and makes HTTP requests for the test process, which has no
// route to the test network. Bounded: per-request deadline and body size.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { serveRpc } from '../rpc.ts';

const MAX_BODY = 16 * 1024 * 1024;

interface Answer {
  status: number;
  body: string;
}

function get(params: Record<string, unknown>): Promise<Answer> {
  const url = new URL(String(params.url));
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`only http(s):// URLs, got ${url.href}`);
  // https only with an explicit CA file: the agent trusts nothing else.
  const ca = url.protocol === 'https:' ? readFileSync(String(params.caPath), 'utf8') : undefined;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = typeof params.timeoutMs === 'number' ? params.timeoutMs : 3000;
  const headers = (params.headers ?? {}) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers, agent: false, ca, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error(`body larger than ${MAX_BODY} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

serveRpc({ get }, () => process.exit(0));
