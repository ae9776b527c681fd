// A Dockerfile and .dockerignore reader for the static image checks (no Docker engine here).

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions in order: comments and parser directives dropped, continuation lines joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending !== '' && line.trimStart().startsWith('#')) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match)
      out.push({
        keyword: (match[1] as string).toUpperCase(),
        args: (match[2] as string).trim(),
        line: startLine,
      });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a continued line');
  return out;
}

export function stages(instructions: readonly Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.args}`);
      out.push({ image: match[1] as string, name: match[2], instructions: [] });
    } else {
      const current = out.at(-1);
      if (!current) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      current.instructions.push(instruction);
    }
  }
  return out;
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly destination: string;
}

/** COPY [--from=x] [--chown=...] src... dest, shell or JSON form. */
export function parseCopy(args: string): Copy {
  let from: string | undefined;
  const words: string[] = [];
  const rest = args.replace(/--(\w+)=(\S+)\s*/g, (_, flag: string, value: string) => {
    if (flag === 'from') from = value;
    return '';
  });
  if (rest.trim().startsWith('[')) words.push(...(JSON.parse(rest) as string[]));
  else words.push(...rest.trim().split(/\s+/));
  if (words.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  return { from, sources: words.slice(0, -1), destination: words.at(-1) as string };
}

/** Image reference → its tag (undefined if none) and whether it is pinned by digest. */
export function imageTag(image: string): { tag: string | undefined; digest: boolean } {
  const [name, digest] = image.split('@');
  const lastSlash = (name as string).lastIndexOf('/');
  const colon = (name as string).lastIndexOf(':');
  return {
    tag: colon > lastSlash ? (name as string).slice(colon + 1) : undefined,
    digest: digest !== undefined,
  };
}

/**
 * Whether the build context keeps `path` under these .dockerignore patterns: the last matching
 * pattern wins, `!` re-includes, `**` spans directories, a pattern matching a directory
 * matches everything under it.
 */
export function keptByDockerignore(path: string, patterns: readonly string[]): boolean {
  let kept = true;
  const parts = path.split('/');
  const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  for (const rawPattern of patterns) {
    const negated = rawPattern.startsWith('!');
    const pattern = (negated ? rawPattern.slice(1) : rawPattern).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map(globPart)
        .join('')}$`,
    );
    if (prefixes.some((prefix) => regex.test(prefix))) kept = negated;
  }
  return kept;
}

function globPart(part: string): string {
  switch (part) {
    case '**/':
      return '(?:.*/)?';
    case '**':
      return '.*';
    case '*':
      return '[^/]*';
    case '?':
      return '[^/]';
    default:
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
}

export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
