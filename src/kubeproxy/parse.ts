// A parser for the Prometheus text exposition format 0.0.4, written for kube-proxy's
// /metrics. Pure and synchronous: text in, families out, or an ExpositionError naming the
// line. The input is untrusted, so every dimension that could grow is bounded (bytes, line
// length, families, samples, labels per sample, label sizes). What it accepts is re-exposed in
// our own /metrics, so it is at least as strict as the reference (Go expfmt) parser: a
// body that promtool or Prometheus would reject must fail here, not in our scrape.
//
// Why our own: the npm parsers we checked merge labelled histograms into one series and
// lose the label sets that kube-proxy's ip_family histograms depend on.
//
// Grouping follows the format: `x_bucket`, `x_sum` and `x_count` belong to family `x` when
// `x` is declared a histogram (`x_sum`, `x_count` and `x{quantile=...}` when a summary);
// without a TYPE line each sample name is its own untyped family. A family whose samples are
// split by other families is merged. Like the reference Go parser, a second HELP or TYPE line
// for one family, or a TYPE line after the family's samples, is an error; so is the same
// series twice.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name, e.g. `x_bucket` inside family `x`. */
  readonly name: string;
  /** In source order, values unescaped. */
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
  /** The value exactly as written (e.g. `1.7e+09`, `+Inf`), so re-exposure changes nothing. */
  readonly valueText: string;
  /** Milliseconds since the epoch, as written; absent for almost every exporter. */
  readonly timestamp?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  /** Unescaped docstring; undefined when the family had no HELP line. */
  readonly help: string | undefined;
  readonly samples: readonly Sample[];
}

export interface ParseLimits {
  /** Largest input accepted, in bytes (UTF-8). */
  readonly maxBytes: number;
  /** Most samples (series) in one exposition. */
  readonly maxSamples: number;
  /** Most families, counting those with only HELP/TYPE lines. */
  readonly maxFamilies: number;
  readonly maxLineLength: number;
  readonly maxLabelsPerSample: number;
  readonly maxLabelNameLength: number;
  readonly maxLabelValueLength: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxBytes: 8 * 1024 * 1024,
  maxSamples: 20_000,
  maxFamilies: 5_000,
  maxLineLength: 256 * 1024,
  maxLabelsPerSample: 64,
  maxLabelNameLength: 256,
  maxLabelValueLength: 4096,
};

export class ExpositionError extends Error {
  /** 1-based line number; undefined for errors about the whole input (size, encoding). */
  readonly line: number | undefined;

  constructor(line: number | undefined, reason: string, lineText?: string) {
    const where = line === undefined ? '' : `line ${line}: `;
    const excerpt =
      lineText === undefined
        ? ''
        : ` in ${JSON.stringify(lineText.length > 80 ? `${lineText.slice(0, 80)}…` : lineText)}`;
    super(`${where}${reason}${excerpt}`);
    this.name = 'ExpositionError';
    this.line = line;
  }
}

const METRIC_TYPES: ReadonlySet<string> = new Set([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
]);
const SUFFIXES = ['_bucket', '_sum', '_count'] as const;
const FLOAT =
  /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)$|^[nN][aA][nN]$/;
const TIMESTAMP = /^-?\d{1,19}$/;
/** Timestamps are Go int64 milliseconds: a larger one fails the whole scrape downstream. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt64(text: string): boolean {
  if (!TIMESTAMP.test(text)) return false;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX;
}

interface FamilyBuilder {
  readonly name: string;
  type: MetricType;
  typeDeclared: boolean;
  help: string | undefined;
  readonly samples: Sample[];
}

/** Go's strconv.ParseFloat as the format uses it: decimal, exponent, NaN and ±Inf (any case). */
export function parseFloatToken(text: string): number | undefined {
  if (!FLOAT.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity'))
    return lower.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  // Go's ParseFloat rejects a literal beyond float64 (ErrRange); Number() quietly says Infinity.
  return Number.isFinite(value) ? value : undefined;
}

/** Character codes the scanner compares against (charCodeAt keeps the hot loop free of strings). */
const CHAR = {
  tab: 9,
  carriageReturn: 13,
  space: 32,
  quote: 34, // "
  hash: 35, // #
  comma: 44, // ,
  digit0: 48,
  digit9: 57,
  colon: 58, // :
  upperA: 65,
  upperZ: 90,
  backslash: 92, // \
  underscore: 95, // _
  lowerA: 97,
  lowerN: 110, // n, as in \n
  lowerZ: 122,
  openBrace: 123, // {
  closeBrace: 125, // }
} as const;

function isNameStart(code: number): boolean {
  return (
    (code >= CHAR.upperA && code <= CHAR.upperZ) ||
    (code >= CHAR.lowerA && code <= CHAR.lowerZ) ||
    code === CHAR.underscore
  );
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= CHAR.digit0 && code <= CHAR.digit9);
}

function isBlank(code: number): boolean {
  return code === CHAR.space || code === CHAR.tab;
}

/** Scans one line; positions are indexes into `text`. */
class LineScanner {
  readonly text: string;
  readonly lineNumber: number;
  pos = 0;

  constructor(text: string, lineNumber: number) {
    this.text = text;
    this.lineNumber = lineNumber;
  }

  fail(reason: string): never {
    throw new ExpositionError(this.lineNumber, reason, this.text);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  skipBlanks(): number {
    const start = this.pos;
    while (isBlank(this.peek())) this.pos++;
    return this.pos - start;
  }

  /** Metric names may also contain ':' (recording rules); label names may not. */
  readName(allowColon: boolean): string {
    const start = this.pos;
    const first = this.peek();
    if (!(isNameStart(first) || (allowColon && first === CHAR.colon))) return '';
    this.pos++;
    for (;;) {
      const code = this.peek();
      if (isNameChar(code) || (allowColon && code === CHAR.colon)) this.pos++;
      else break;
    }
    return this.text.slice(start, this.pos);
  }

  readToken(): string {
    const start = this.pos;
    while (!this.atEnd() && !isBlank(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** A label value after its opening quote: `\\`, `\"` and `\n` are the only escapes. */
  readQuoted(maxLength: number): string {
    let value = '';
    let chunkStart = this.pos;
    for (;;) {
      if (this.atEnd()) this.fail('unterminated label value (missing closing quote)');
      const code = this.peek();
      if (code === CHAR.quote) {
        value += this.text.slice(chunkStart, this.pos);
        this.pos++;
        break;
      }
      if (code === CHAR.backslash) {
        value += this.text.slice(chunkStart, this.pos);
        const next = this.text.charCodeAt(this.pos + 1);
        if (next === CHAR.backslash) value += '\\';
        else if (next === CHAR.quote) value += '"';
        else if (next === CHAR.lowerN) value += '\n';
        else if (Number.isNaN(next))
          this.fail('unterminated label value (line ends in a backslash)');
        else this.fail(`invalid escape sequence "\\${String.fromCharCode(next)}" in label value`);
        this.pos += 2;
        chunkStart = this.pos;
      } else {
        this.pos++;
      }
      if (value.length + (this.pos - chunkStart) > maxLength)
        this.fail(`label value longer than ${maxLength} characters`);
    }
    return value;
  }
}

/** HELP docstrings escape only `\\` and `\n`; any other backslash is kept as written. */
function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

function utf8Length(text: string, limit: number): number {
  // Cheap bound first: a UTF-16 unit is at least one and at most three UTF-8 bytes.
  if (text.length * 3 <= limit) return text.length;
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Parses a whole exposition. Throws ExpositionError (and nothing else) on any malformed or
 * oversized input; the message names the line.
 */
export function parseExposition(
  input: string | Uint8Array,
  limits: Partial<ParseLimits> = {},
): MetricFamily[] {
  const lim: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...limits };
  let text: string;
  if (typeof input === 'string') {
    if (utf8Length(input, lim.maxBytes) > lim.maxBytes)
      throw new ExpositionError(undefined, `exposition larger than ${lim.maxBytes} bytes`);
    text = input;
  } else {
    if (input.length > lim.maxBytes)
      throw new ExpositionError(
        undefined,
        `exposition of ${input.length} bytes is larger than the limit of ${lim.maxBytes} bytes`,
      );
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new ExpositionError(undefined, 'exposition is not valid UTF-8');
    }
  }

  const families = new Map<string, FamilyBuilder>();
  const seriesSeen = new Set<string>();
  let sampleCount = 0;

  const newFamily = (name: string, scanner: LineScanner): FamilyBuilder => {
    if (families.size >= lim.maxFamilies)
      scanner.fail(`more than ${lim.maxFamilies} metric families`);
    const family: FamilyBuilder = {
      name,
      type: 'untyped',
      typeDeclared: false,
      help: undefined,
      samples: [],
    };
    families.set(name, family);
    return family;
  };

  const familyOf = (
    sampleName: string,
    scanner: LineScanner,
  ): { family: FamilyBuilder; suffix: string } => {
    const exact = families.get(sampleName);
    if (exact?.typeDeclared) return { family: exact, suffix: '' };
    for (const suffix of SUFFIXES) {
      if (!sampleName.endsWith(suffix)) continue;
      const base = families.get(sampleName.slice(0, -suffix.length));
      if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket')))
        return { family: base, suffix };
    }
    return { family: exact ?? newFamily(sampleName, scanner), suffix: '' };
  };

  const onComment = (scanner: LineScanner): void => {
    scanner.pos++; // '#'
    scanner.skipBlanks();
    const keyword = scanner.readName(false);
    if (keyword !== 'HELP' && keyword !== 'TYPE') return; // an ordinary comment
    if (scanner.skipBlanks() === 0 || scanner.atEnd()) return; // "# HELP" with nothing after it is a comment too
    const name = scanner.readName(true);
    if (name === '') scanner.fail(`invalid metric name after # ${keyword}`);
    const afterName = scanner.skipBlanks();
    if (!scanner.atEnd() && afterName === 0) scanner.fail(`invalid metric name after # ${keyword}`);

    if (keyword === 'HELP') {
      const family = families.get(name) ?? newFamily(name, scanner);
      if (family.help !== undefined) scanner.fail(`second HELP line for ${name}`);
      family.help = unescapeHelp(scanner.text.slice(scanner.pos));
      return;
    }

    const typeText = scanner.readToken().toLowerCase();
    if (!METRIC_TYPES.has(typeText)) scanner.fail(`unknown metric type "${typeText}" for ${name}`);
    scanner.skipBlanks();
    if (!scanner.atEnd()) scanner.fail(`unexpected text after the type of ${name}`);
    const type = typeText as MetricType;
    const family = families.get(name) ?? newFamily(name, scanner);
    if (family.typeDeclared) scanner.fail(`second TYPE line for ${name}`);
    if (family.samples.length > 0) scanner.fail(`TYPE line for ${name} after its samples`);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of SUFFIXES) {
        if ((families.get(name + suffix)?.samples.length ?? 0) > 0)
          scanner.fail(`TYPE line for ${name} after samples of ${name + suffix}`);
      }
    }
    family.type = type;
    family.typeDeclared = true;
  };

  const onSample = (scanner: LineScanner): void => {
    const name = scanner.readName(true);
    if (name === '') scanner.fail('invalid metric name');
    const labels: [string, string][] = [];
    const blanksAfterName = scanner.skipBlanks();
    if (scanner.peek() === CHAR.openBrace) {
      scanner.pos++;
      for (;;) {
        scanner.skipBlanks();
        if (scanner.peek() === CHAR.closeBrace) {
          scanner.pos++;
          break;
        }
        if (scanner.atEnd()) scanner.fail('unterminated label set (missing "}")');
        const labelName = scanner.readName(false);
        if (labelName === '') scanner.fail('invalid label name');
        if (labelName.length > lim.maxLabelNameLength)
          scanner.fail(`label name longer than ${lim.maxLabelNameLength} characters`);
        if (labelName === '__name__') scanner.fail('label name __name__ is reserved');
        scanner.skipBlanks();
        if (scanner.peek() !== 61) scanner.fail(`expected "=" after label name ${labelName}`);
        scanner.pos++;
        scanner.skipBlanks();
        if (scanner.peek() !== 34) scanner.fail(`expected a quoted value for label ${labelName}`);
        scanner.pos++;
        const labelValue = scanner.readQuoted(lim.maxLabelValueLength);
        if (labels.some(([existing]) => existing === labelName))
          scanner.fail(`duplicate label ${labelName}`);
        if (labels.length >= lim.maxLabelsPerSample)
          scanner.fail(`more than ${lim.maxLabelsPerSample} labels`);
        labels.push([labelName, labelValue]);
        scanner.skipBlanks();
        const separator = scanner.peek();
        if (separator === CHAR.comma) scanner.pos++;
        else if (separator !== 125) scanner.fail('expected "," or "}" after a label value');
      }
      scanner.skipBlanks();
    } else if (blanksAfterName === 0) {
      scanner.fail(
        scanner.atEnd()
          ? `missing value for ${name}`
          : `invalid character after metric name ${name}`,
      );
    }

    if (scanner.atEnd()) scanner.fail(`missing value for ${name}`);
    const valueText = scanner.readToken();
    const value = parseFloatToken(valueText);
    if (value === undefined) scanner.fail(`invalid value "${valueText}" for ${name}`);
    scanner.skipBlanks();
    let timestamp: string | undefined;
    if (!scanner.atEnd()) {
      timestamp = scanner.readToken();
      if (!isInt64(timestamp))
        scanner.fail(`invalid timestamp "${timestamp}" for ${name} (expected int64 milliseconds)`);
      scanner.skipBlanks();
      if (!scanner.atEnd()) scanner.fail(`unexpected text after the timestamp of ${name}`);
    }

    const { family, suffix } = familyOf(name, scanner);
    if (family.type === 'histogram') {
      if (suffix === '')
        scanner.fail(`histogram ${family.name} has a sample without _bucket, _sum or _count`);
      if (suffix === '_bucket') requireFloatLabel(scanner, labels, 'le', name);
    } else if (family.type === 'summary' && suffix === '') {
      requireFloatLabel(scanner, labels, 'quantile', name);
    }

    const key = `${name}{${labels
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .sort()
      .join(',')}}`;
    if (seriesSeen.has(key)) scanner.fail(`duplicate series ${key}`);
    if (sampleCount >= lim.maxSamples) scanner.fail(`more than ${lim.maxSamples} samples`);
    seriesSeen.add(key);
    sampleCount++;
    family.samples.push(
      timestamp === undefined
        ? { name, labels, value, valueText }
        : { name, labels, value, valueText, timestamp },
    );
  };

  let lineNumber = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    if (end - start > lim.maxLineLength)
      throw new ExpositionError(lineNumber, `line longer than ${lim.maxLineLength} characters`);
    // Tolerate CRLF: a stray \r is never meaningful in this format.
    const lineEnd = end > start && text.charCodeAt(end - 1) === CHAR.carriageReturn ? end - 1 : end;
    const scanner = new LineScanner(text.slice(start, lineEnd), lineNumber);
    start = end + 1;
    scanner.skipBlanks();
    if (scanner.atEnd()) continue;
    if (scanner.peek() === CHAR.hash) onComment(scanner);
    else onSample(scanner);
  }

  rejectSuffixClashes(families);
  return [...families.values()].map(({ name, type, help, samples }) => ({
    name,
    type,
    help,
    samples,
  }));
}

/**
 * One TYPE per family, counting the names a histogram or summary owns: `x_sum` declared or
 * written as its own family next to histogram `x` (in either order) is two families for one
 * series name, which the reference parser rejects.
 */
function rejectSuffixClashes(families: ReadonlyMap<string, FamilyBuilder>): void {
  for (const family of families.values()) {
    if (family.type !== 'histogram' && family.type !== 'summary') continue;
    for (const suffix of SUFFIXES) {
      if (family.type === 'summary' && suffix === '_bucket') continue;
      if (families.has(family.name + suffix))
        throw new ExpositionError(
          undefined,
          `${family.name + suffix} is a family of its own, but ${family.type} ${family.name} owns that name`,
        );
    }
  }
}

function requireFloatLabel(
  scanner: LineScanner,
  labels: readonly (readonly [string, string])[],
  label: string,
  sampleName: string,
): void {
  const entry = labels.find(([name]) => name === label);
  if (entry === undefined) scanner.fail(`${sampleName} has no "${label}" label`);
  if (parseFloatToken(entry[1]) === undefined)
    scanner.fail(`${sampleName} has a non-numeric "${label}" label "${entry[1]}"`);
}
