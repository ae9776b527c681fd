// Remembers the newest failure of every check, so the status page can say "failed 40 s ago:
// connection refused" although the check is ok again. Fed by every round (not only by page
// views) through a thin wrapper around the round executor.
import type { RoundExecutor } from '../checks/scheduler.ts';
import type { RoundResult } from '../checks/round.ts';
import type { LastError } from './types.ts';

/** Error texts come from remote peers and the network stack; the page shows a readable prefix. */
export const MAX_MESSAGE_CHARS = 1000;

export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export class LastErrors {
  private readonly byType = new Map<string, LastError>();

  record(result: RoundResult): void {
    const at = result.finishedAt.toISOString();
    for (const [type, outcome] of result.outcomes) {
      if (outcome.status === 'error')
        this.byType.set(type, { message: clip(outcome.message), event: outcome.event, at });
    }
    // Bounded like the metrics: a check that is no longer part of the round is forgotten.
    for (const type of [...this.byType.keys()])
      if (!result.outcomes.has(type)) this.byType.delete(type);
  }

  get(type: string): LastError | null {
    return this.byType.get(type) ?? null;
  }

  /** The executor the scheduler should use: the same rounds, recorded on the way out. */
  observe(executor: RoundExecutor): RoundExecutor {
    return {
      run: async (signal) => {
        const result = await executor.run(signal);
        this.record(result);
        return result;
      },
    };
  }
}
