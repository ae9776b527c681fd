// One prober's layer checks, inside its node's network namespace: the neighbours come from
// argv (JSON, as discovery would select them), the checks and the verdict are the shipped
// modules (path_<node> as NeighbourMesh builds it, LayerChecks, RoundRunner, LayerDiagnosis).
// Prints one JSON line per round: { verdicts: { node: layer }, alive: what /alive adds }.
import { pino } from 'pino';
import { LayerChecks } from '../../../src/checks/node-paths.ts';
import { RoundRunner } from '../../../src/checks/round.ts';
import type { CheckSource } from '../../../src/checks/types.ts';
import { parseConfig } from '../../../src/config.ts';
import { aliveVerdicts } from '../../../src/alive.ts';
import { LayerDiagnosis } from '../../../src/layers.ts';
import { ProbeMetrics } from '../../../src/metrics.ts';
import type { NeighbourPod } from '../../../src/neighbours/filter.ts';
import { podPathRequest } from '../../../src/neighbours/pod-path.ts';
import { Prober } from '../../../src/probe/http.ts';
import { buildTrust } from '../../../src/probe/tls.ts';

const [podName = 'checker', neighboursJson = '[]'] = process.argv.slice(2);
const neighbours = JSON.parse(neighboursJson) as NeighbourPod[];
const config = parseConfig({
  KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent',
  KUBENURSE_POD_NAME: podName,
  KUBENURSE_CHECK_INTERVAL: '1s',
  KUBENURSE_CHECK_TIMEOUT: '800ms',
  KUBENURSE_CHECK_NODE_PATHS: 'true',
  KUBENURSE_CHECK_ALL_IP_FAMILIES: 'true',
});
const logger = pino({ level: 'silent' });
const metrics = new ProbeMetrics({
  buckets: [0.1, 1],
  legacyMetrics: false,
  incomingChecks: () => 0,
});
const prober = new Prober({
  metrics,
  trust: buildTrust({ serviceAccountDir: '/nonexistent', extraCaPem: undefined, insecure: false }),
  timeoutMs: config.checkTimeoutMs,
  reuseConnections: false,
});
const mesh: CheckSource = {
  checks: () =>
    neighbours.map((neighbour) => {
      const type = `path_${neighbour.nodeName}`;
      const request = podPathRequest(config, neighbour.podIp);
      return {
        type,
        run: async (signal: AbortSignal) =>
          (await prober.probe({ type, ...request }, signal)).outcome,
      };
    }),
};
const layerChecks = new LayerChecks({ config, metrics, logger, prober }, () => neighbours);
const diagnosis = new LayerDiagnosis(metrics, layerChecks);
const runner = diagnosis.observe(
  new RoundRunner({ sources: [mesh, layerChecks], metrics, logger, roundTimeoutMs: 1500 }),
);

for (;;) {
  const started = Date.now();
  const result = await runner.run();
  const verdicts = Object.fromEntries(
    [...(result.verdicts ?? [])].map(([node, verdict]) => [node, verdict.layer]),
  );
  process.stdout.write(
    `${JSON.stringify({ verdicts, alive: { neighbour_verdicts: aliveVerdicts(result) } })}\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
}
