// Reading a response body from outside without trusting its size: stop and destroy the
// stream as soon as it passes the limit, instead of buffering whatever the peer sends.

type Body = AsyncIterable<Buffer> & { destroy(): unknown };

/** The whole body (`keep`), or null when only draining it; 'too-large' past `limit` bytes. */
export async function readBounded(
  body: Body,
  limit: number,
  keep: true,
): Promise<Buffer | 'too-large'>;
export async function readBounded(
  body: Body,
  limit: number,
  keep: boolean,
): Promise<Buffer | null | 'too-large'>;
export async function readBounded(
  body: Body,
  limit: number,
  keep: boolean,
): Promise<Buffer | null | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return 'too-large';
    }
    if (keep) chunks.push(chunk);
  }
  return keep ? Buffer.concat(chunks) : null;
}
