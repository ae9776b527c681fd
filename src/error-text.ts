// Turning a caught value into text for logs, check messages and /alive: probes, discovery and
// the status page describe failures the same way, so one error reads the same everywhere.

const MAX_DESCRIPTION_CHARS = 300;

/**
 * The errno-style code that says what failed (ECONNREFUSED, CERT_HAS_EXPIRED, …). undici wraps
 * the socket error in `cause`, so the code may be one or two levels down; its own wrapper codes
 * (socket closed, aborted) say nothing about what went wrong and are passed over.
 */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (
      typeof code === 'string' &&
      code !== 'UND_ERR_SOCKET' &&
      code !== 'UND_ERR_ABORTED' &&
      code !== 'ABORT_ERR'
    )
      return code;
    current = current.cause;
  }
  return undefined;
}

/** A caught value as an Error, for what must be rejected or aborted with one: non-errors become their text. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The message alone, for errors we raised ourselves and whose text is the whole story. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One line, bounded, secret-free: the message, the cause's message when it adds something,
 * and the error code first when the message does not name it.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return oneLine(String(error));
  const code = errorCode(error);
  let message = error.message || error.name;
  const cause = error.cause;
  if (cause instanceof Error && cause.message && !message.includes(cause.message))
    message = `${message}: ${cause.message}`;
  message = oneLine(message);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, MAX_DESCRIPTION_CHARS);
}
