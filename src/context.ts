// What main hands to every component: one config, one registry, one logger, one prober.
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { ProbeMetrics } from './metrics.ts';
import type { Prober } from './probe/http.ts';

export interface ProberContext {
  readonly config: Config;
  readonly metrics: ProbeMetrics;
  readonly logger: Logger;
  readonly prober: Prober;
}
