// A neighbour's /status.json at the input limits of issue #14 item 1: 10,000 failed checks with
// long messages, just under 2 MB — what the status page's bounds are measured against
// (bench/lib/status-neighbours.ts serves it).

export function hostileStatusDocument(index: number): string {
  const checks = [];
  for (let i = 0; i < 10_000; i++) {
    const type = i % 2 === 0 ? `path_ghost-${i}` : `extra_${index}_${i}`;
    checks.push({ type, status: 'error', durationMs: 1, event: 'e', message: 'm'.repeat(120) });
  }
  return JSON.stringify({ kind: 'kubenurse-ts-status', node: `node-${index}`, checks });
}
