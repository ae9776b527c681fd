// The seam every check plugs into: built-in checks, neighbour paths and the kube-proxy
// scrape all look the same to a round.

/** Result of one check in one round; `detail` is what `/alive` shows for it. */
export type CheckOutcome =
  | {
      readonly status: 'ok';
      readonly durationMs: number;
      readonly phases?: Readonly<Record<string, number>>;
    }
  | { readonly status: 'skipped'; readonly reason: string }
  | {
      readonly status: 'error';
      /** kubenurse's errors_total event: a phase, status_code_<N> or round_trip_error. */
      readonly event: string;
      readonly message: string;
      readonly durationMs: number;
      readonly target?: string;
      readonly phases?: Readonly<Record<string, number>>;
    };

export interface Check {
  /** The `type` label, also the key in `/alive`'s last_check_result. */
  readonly type: string;
  /** Must settle by itself once `signal` aborts; must not throw. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** Supplies checks for the next round; the neighbour module's list changes between rounds. */
export interface CheckSource {
  checks(): readonly Check[];
}

export function outcomeText(outcome: CheckOutcome): string {
  switch (outcome.status) {
    case 'ok':
      return 'ok';
    case 'skipped':
      return 'skipped';
    case 'error':
      return outcome.message;
  }
}
