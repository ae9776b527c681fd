import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseImageRuntime } from '../../bench/lib/image-runtime.ts';

describe('parseImageRuntime', () => {
  it("reads the runtime stage's ENTRYPOINT flags and ENV, not the build stage's", () => {
    const runtime = parseImageRuntime(
      [
        'FROM node:24 AS build',
        'ENV NODE_ENV=development',
        'ENTRYPOINT ["node", "--inspect", "build.js"]',
        'FROM distroless AS runtime',
        'ENV NODE_ENV=production',
        'ENV MALLOC_ARENA_MAX=2',
        'ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--no-opt", "/app/dist/main.js"]',
      ].join('\n'),
    );
    expect(runtime.nodeFlags).toEqual(['--max-semi-space-size=1', '--no-opt']);
    expect(runtime.env).toEqual({ NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' });
  });

  it('fails loudly without an exec-form ENTRYPOINT running a script', () => {
    expect(() => parseImageRuntime('FROM x\nENTRYPOINT node main.js')).toThrow(/ENTRYPOINT/);
    expect(() => parseImageRuntime('FROM x\nENTRYPOINT ["node"]')).toThrow(/no \.js script/);
  });

  it("parses the project's own Dockerfile", () => {
    const runtime = parseImageRuntime(readFileSync('Dockerfile', 'utf8'));
    expect(runtime.nodeFlags.every((flag) => flag.startsWith('--'))).toBe(true);
    expect(runtime.env.NODE_ENV).toBe('production');
  });
});
