// The test process sits in the root namespace, which has no route to the test network. It
// talks to helpers running inside namespaces over their stdin/stdout instead: one JSON object
// per line, `{id, method, params}` → `{id, result}` or `{id, error}`. A helper exits when its
// stdin closes, so a crashed test run leaves no helper behind.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

const MAX_LINE = 8 * 1024 * 1024;

type Handler = (params: Record<string, unknown>) => unknown;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private readonly input: Writable;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: string | undefined;
  private readonly label: string;

  constructor(label: string, output: Readable, input: Writable) {
    this.label = label;
    this.input = input;
    const lines = createInterface({ input: output, crlfDelay: Infinity });
    lines.on('line', (line) => this.receive(line));
    lines.on('close', () => this.fail(`${label}: channel closed`));
    input.on('error', (error) => this.fail(`${label}: ${error.message}`));
  }

  call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs = 10_000,
  ): Promise<T> {
    if (this.closed !== undefined) return Promise.reject(new Error(this.closed));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.input.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  close(): void {
    this.input.end();
  }

  private receive(line: string): void {
    let message: { id?: unknown; result?: unknown; error?: unknown };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return; // not ours (a library printing to stdout); the helper's stderr log has the details
    }
    const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!pending) return;
    this.pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.error !== undefined)
      pending.reject(
        new Error(
          `${this.label}: ${typeof message.error === 'string' ? message.error : JSON.stringify(message.error)}`,
        ),
      );
    else pending.resolve(message.result);
  }

  private fail(reason: string): void {
    this.closed ??= reason;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(reason));
      this.pending.delete(id);
    }
  }
}

/** The helper side: answers calls until stdin ends, then runs `onClose` (which should exit). */
export function serveRpc(handlers: Record<string, Handler>, onClose: () => void): void {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const reply = (message: object): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  lines.on('line', (line) => {
    if (line.length > MAX_LINE) return;
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      return;
    }
    const { id, method } = request;
    const handler =
      typeof method === 'string' && Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (!handler) {
      reply({ id, error: `unknown method ${String(method)}` });
      return;
    }
    Promise.resolve()
      .then(() => handler((request.params ?? {}) as Record<string, unknown>))
      .then(
        (result) => reply({ id, result: result ?? null }),
        (error: unknown) =>
          reply({ id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  lines.on('close', onClose);
}
