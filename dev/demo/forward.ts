// One HTTP hop of the demo's stand-ins (the Ingress, the pod and node networks): the request
// goes on to the upstream as it came, the answer comes back as it is; an upstream that fails
// before answering becomes a 502 whose text says which hop could not reach what.
import {
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

/** An upstream that accepts the connection but never answers is given up after this long. */
const UPSTREAM_TIMEOUT_MS = 10_000;

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: { readonly host: string; readonly port: number },
  options: {
    readonly headers: IncomingHttpHeaders;
    /** The 502's text when the upstream fails before its answer started. */
    readonly failure: (error: Error) => string;
  },
): void {
  const outgoing = request(
    {
      host: upstream.host,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: options.headers,
      timeout: UPSTREAM_TIMEOUT_MS,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  outgoing.on('timeout', () => outgoing.destroy(new Error('upstream timeout')));
  outgoing.on('error', (error) => {
    if (!res.headersSent)
      res.writeHead(502, { 'content-type': 'text/plain' }).end(options.failure(error));
    else res.destroy();
  });
  req.pipe(outgoing);
}
