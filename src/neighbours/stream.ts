// Reading apiserver responses without trusting their size. A list is decoded as it arrives:
// each element of `items` is cut out, parsed and handed over alone, so memory holds one
// object's text at a time, never the whole response nor its parsed tree (60 MB of `{}`
// items parsed whole take gigabytes). A watch stream is split into lines of bounded length,
// so one endless line cannot grow the process. Both work on bytes: every JSON structural
// character is ASCII, and bytes of multi-byte UTF-8 characters are all ≥ 0x80.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const CARRIAGE_RETURN = 0x0d;
const TAB = 0x09;
/** Top-level keys are short ("items", "metadata", "kind"); longer ones are skipped unread. */
const MAX_KEY_BYTES = 64;
/** The list's own metadata: resourceVersion, continue token, remainingItemCount. */
const MAX_LIST_METADATA_BYTES = 64 * 1024;

export class StreamLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamLimitError';
  }
}

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === NEWLINE || byte === CARRIAGE_RETURN || byte === TAB;
}

/** A growing byte range that may span chunks, bounded. */
class Capture {
  private parts: Buffer[] = [];
  private size = 0;
  private readonly limit: number;
  private readonly what: string;

  constructor(limit: number, what: string) {
    this.limit = limit;
    this.what = what;
  }

  add(part: Buffer): void {
    this.size += part.length;
    if (this.size > this.limit)
      throw new StreamLimitError(`${this.what} larger than ${this.limit} bytes`);
    this.parts.push(part);
  }

  text(): string {
    const text =
      this.parts.length === 1
        ? (this.parts[0] as Buffer).toString('utf8')
        : Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    return text;
  }
}

export interface ListMetadata {
  readonly resourceVersion?: string;
  readonly continue?: string;
}

export interface ListDecoderLimits {
  /** Largest single item accepted (its JSON text). */
  readonly maxItemBytes: number;
  /** Most items accepted in this response. */
  readonly maxItems: number;
}

/**
 * Incremental decoder of `{"kind":…,"metadata":{…},"items":[{…},{…}]}`: `onItem` gets each
 * parsed item as soon as it is complete; `finish()` returns the list metadata. Throws
 * StreamLimitError past a limit and SyntaxError on malformed JSON.
 */
export class ListDecoder {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1: the next string is a key. */
  private expectKey = false;
  private key: Capture | undefined;
  private currentKey = '';
  /** What the depth-1 value being read is. */
  private section: 'items' | 'metadata' | 'other' | undefined;
  private capture: Capture | undefined;
  /** Depth at which the captured value started (its closing bracket returns there). */
  private captureDepth = 0;
  private metadataText: string | undefined;
  private items = 0;
  private sawItems = false;
  private readonly itemCapture: Capture;
  private readonly limits: ListDecoderLimits;
  private readonly onItem: (item: unknown) => void;

  constructor(limits: ListDecoderLimits, onItem: (item: unknown) => void) {
    this.limits = limits;
    this.onItem = onItem;
    this.itemCapture = new Capture(limits.maxItemBytes, 'list item');
  }

  push(chunk: Buffer): void {
    let start = this.capture ? 0 : -1;
    let keyStart = this.key ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          if (this.key) {
            this.key.add(chunk.subarray(keyStart, i));
            this.currentKey = this.key.text();
            this.key = undefined;
            keyStart = -1;
          }
        }
        continue;
      }
      if (isSpace(byte)) continue;
      if (byte === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.expectKey = false;
          this.key = new Capture(MAX_KEY_BYTES, 'list key');
          keyStart = i + 1;
        }
        continue;
      }
      if (this.depth === 0) {
        if (byte !== OPEN_BRACE) throw new SyntaxError('list response is not a JSON object');
        this.depth = 1;
        this.expectKey = true;
        continue;
      }
      if (this.depth === 1 && byte === COLON) {
        this.section =
          this.currentKey === 'items'
            ? 'items'
            : this.currentKey === 'metadata'
              ? 'metadata'
              : 'other';
        if (this.section === 'metadata') {
          this.capture = new Capture(MAX_LIST_METADATA_BYTES, 'list metadata');
          this.captureDepth = 1;
          start = -1;
        }
        continue;
      }
      if (this.depth === 1 && byte === COMMA) {
        this.expectKey = true;
        this.section = undefined;
        // A metadata value that was not an object (null): nothing to keep.
        this.capture = undefined;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (this.depth === 1 && this.section === 'items') {
          if (byte !== OPEN_BRACKET) throw new SyntaxError('list items is not an array');
          this.sawItems = true;
        } else if (this.depth === 2 && this.section === 'items') {
          if (byte !== OPEN_BRACE) throw new SyntaxError('list item is not an object');
          if (++this.items > this.limits.maxItems)
            throw new StreamLimitError(`list has more than ${this.limits.maxItems} items`);
          this.capture = this.itemCapture;
          this.captureDepth = 2;
          start = i;
        } else if (this.depth === 1 && this.section === 'metadata') {
          start = i;
        }
        this.depth++;
        continue;
      }
      if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth < 0) throw new SyntaxError('unbalanced list response');
        if (this.capture && this.depth === this.captureDepth && start >= 0) {
          this.capture.add(chunk.subarray(start, i + 1));
          this.completed(this.capture.text());
          this.capture = undefined;
          start = -1;
        }
        continue;
      }
      if (this.depth === 2 && this.section === 'items' && byte !== COMMA)
        throw new SyntaxError('list item is not an object');
    }
    if (this.capture && start >= 0) this.capture.add(chunk.subarray(start));
    if (this.key && keyStart >= 0) this.key.add(chunk.subarray(keyStart));
  }

  /** After the last chunk: the list metadata, or an error if the response was cut short. */
  finish(): ListMetadata {
    if (this.depth !== 0 || this.inString) throw new SyntaxError('list response is truncated');
    if (!this.sawItems) throw new SyntaxError('list response has no items');
    if (this.metadataText === undefined) return {};
    const raw = JSON.parse(this.metadataText) as Record<string, unknown> | null;
    const resourceVersion = raw?.resourceVersion;
    const token = raw?.continue;
    return {
      ...(typeof resourceVersion === 'string' && resourceVersion !== '' ? { resourceVersion } : {}),
      ...(typeof token === 'string' && token !== '' ? { continue: token } : {}),
    };
  }

  private completed(text: string): void {
    if (this.section === 'metadata') this.metadataText = text;
    else this.onItem(JSON.parse(text));
  }
}

/**
 * Splits a stream into newline-terminated lines of at most `maxLineBytes`; a longer line
 * throws StreamLimitError as soon as it is that long, whatever follows.
 */
export class LineSplitter {
  private readonly pending: Capture;

  constructor(maxLineBytes: number) {
    this.pending = new Capture(maxLineBytes, 'watch event');
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      this.pending.add(chunk.subarray(start, end));
      const line = this.pending.text();
      if (line.trim() !== '') lines.push(line);
      start = end + 1;
    }
    if (start < chunk.length) this.pending.add(chunk.subarray(start));
    return lines;
  }
}
