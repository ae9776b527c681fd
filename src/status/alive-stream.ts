// Reads a plain kubenurse's /alive as it streams in, keeping only what the matrix uses:
// the members of `last_check_result` other than `neighbourhood`. kubenurse lists its whole
// neighbourhood there (~200 bytes per pod, megabytes in a large cluster), and a hostile
// neighbour can send anything; buffering and parsing the whole answer cost memory in
// proportion to it. Here memory is bounded by what is kept, whatever is read: the rest is
// only searched for string ends and nesting, then dropped. What is kept is parsed with
// JSON.parse, so it is validated like any answer.

import type { StreamingDecoder } from './fetch.ts';

/** The kept part passed its bound. */
export class KeptTooLargeError extends Error {}
/** The answer is not a JSON object, or `last_check_result` is not one. */
export class AliveFormatError extends Error {}

/** Keys longer than this are not check types (parse.ts refuses types over 300 characters). */
const MAX_KEY_BYTES = 1024;
const TARGET = 'last_check_result';
const SKIPPED = 'neighbourhood';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** What ends a dropped string, and what changes the nesting inside a dropped value. */
const STRING_END = /["\\]/g;
const NESTING = /["{}[\]]/g;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export class AliveReader implements StreamingDecoder {
  private readonly kept: Buffer;
  private keptLength = 0;
  private depth = 0;
  private done = false;
  private inString = false;
  private escaped = false;
  /** At depth 1, or directly inside last_check_result: the next string is a key. */
  private expectKey = false;
  /** The key being read at depth 1 or 2 (its first MAX_KEY_BYTES), or null. */
  private key: number[] | null = null;
  private keyTooLong = false;
  /** The last depth-1 key was last_check_result: its value is the next token. */
  private awaitTarget = false;
  private inTarget = false;
  /** The current member of last_check_result is copied. */
  private copying = false;
  private members = 0;

  constructor(maxKeptBytes: number) {
    this.kept = Buffer.allocUnsafe(maxKeptBytes);
  }

  private emit(byte: number): void {
    if (this.keptLength >= this.kept.length)
      throw new KeptTooLargeError(`last_check_result larger than ${this.kept.length} bytes`);
    this.kept[this.keptLength++] = byte;
  }

  private finishKey(): void {
    const raw = this.key ?? [];
    this.key = null;
    const name = this.keyTooLong ? null : Buffer.from(raw).toString('latin1');
    this.keyTooLong = false;
    if (this.depth === 1) {
      this.awaitTarget = name === TARGET;
      return;
    }
    // A member of last_check_result: copied unless it is the neighbour list (or no check type).
    this.copying = name !== null && name !== SKIPPED;
    if (!this.copying) return;
    if (this.members++ > 0) this.emit(COMMA);
    this.emit(QUOTE);
    for (const byte of raw) this.emit(byte);
    this.emit(QUOTE);
  }

  private stringByte(byte: number): void {
    if (this.key !== null) {
      if (!this.escaped && byte === QUOTE) {
        this.inString = false;
        this.finishKey();
        return;
      }
      if (this.key.length < MAX_KEY_BYTES) this.key.push(byte);
      else this.keyTooLong = true;
    } else if (this.copying) this.emit(byte);
    if (this.escaped) this.escaped = false;
    else if (byte === BACKSLASH) this.escaped = true;
    else if (byte === QUOTE) this.inString = false;
  }

  private structural(byte: number): void {
    if (this.done) throw new AliveFormatError('text after the JSON value');
    if (this.awaitTarget && byte !== 0x3a) {
      this.awaitTarget = false;
      if (byte !== OPEN_OBJECT) throw new AliveFormatError(`${TARGET} is not a JSON object`);
      this.depth = 2;
      this.inTarget = true;
      this.expectKey = true;
      return;
    }
    if (this.depth === 0) {
      if (byte !== OPEN_OBJECT) throw new AliveFormatError('/alive is not a JSON object');
      this.depth = 1;
      this.expectKey = true;
      return;
    }
    const atMembers = this.depth === 1 || (this.inTarget && this.depth === 2);
    if (byte === QUOTE) {
      this.inString = true;
      if (this.expectKey && atMembers) {
        this.expectKey = false;
        this.key = [];
      } else if (this.copying) this.emit(byte);
      return;
    }
    if (byte === COMMA && atMembers) {
      this.expectKey = true;
      this.copying = false;
      return;
    }
    if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      this.depth--;
      if (this.inTarget && this.depth === 1) {
        this.inTarget = false;
        this.copying = false;
        return;
      }
      if (this.copying) this.emit(byte);
      if (this.depth === 0) this.done = true;
      return;
    }
    if (this.copying) this.emit(byte);
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.depth++;
  }

  tooLarge(error: unknown): boolean {
    return error instanceof KeptTooLargeError;
  }

  /** Inside a value that is dropped whole: only strings and nesting matter until it ends. */
  private skippingNested(): boolean {
    return !this.copying && this.depth >= 2 && !(this.inTarget && this.depth === 2);
  }

  push(chunk: Buffer): void {
    // Bytes that matter are found with native searches over a latin1 view (one char per
    // byte), so dropped text costs no JavaScript per byte: the image runs without V8's
    // optimizing compilers, where a per-byte loop over megabytes misses the read deadline.
    const text = chunk.toString('latin1');
    let at = 0;
    while (at < chunk.length) {
      let search: RegExp | undefined;
      if (this.inString && this.key === null && !this.copying && !this.escaped) search = STRING_END;
      else if (!this.inString && this.skippingNested()) search = NESTING;
      if (search) {
        search.lastIndex = at;
        const found = search.exec(text);
        if (found === null) return;
        at = found.index;
      }
      const byte = chunk[at] as number;
      if (this.inString) this.stringByte(byte);
      else if (!isSpace(byte)) this.structural(byte);
      at++;
    }
  }

  /** The answer reduced to `{ last_check_result: { … } }` (empty without one). */
  end(): Record<string, unknown> {
    if (!this.done || this.inString) throw new AliveFormatError('the answer ends inside its JSON');
    const text = `{${this.kept.toString('utf8', 0, this.keptLength)}}`;
    let members: unknown;
    try {
      members = JSON.parse(text);
    } catch {
      throw new AliveFormatError(`${TARGET} is not valid JSON`);
    }
    return { [TARGET]: members };
  }
}
