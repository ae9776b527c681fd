#!/usr/bin/env node
// `kubenurse-ts check [--json]`: one check round from a terminal or a CI job. The same
// environment variables as the prober; neighbours through KUBECONFIG (or the current
// context) outside a cluster, the service account inside one.
// Exit codes: 0 every check ok (or skipped), 1 a check or neighbour discovery failed,
// 2 bad usage or configuration (one line on stderr).
import { parseArgs } from 'node:util';
import { createLogger } from './log.ts';
import { configFromEnvOrExit, EXIT_BAD_CONFIG } from './config.ts';
import { runOnce } from './oneshot/run.ts';
import { exitCode, toJson, toTable } from './oneshot/report.ts';
import { errorMessage } from './error-text.ts';

const USAGE = `Usage: kubenurse-ts check [--json]

Runs one round of kubenurse's checks and prints the result:
  apiserver (KUBERNETES_SERVICE_HOST/PORT), Service and Ingress (KUBENURSE_SERVICE_URL,
  KUBENURSE_INGRESS_URL), extra checks, neighbours (discovered through KUBECONFIG or the
  in-cluster service account) and kube-proxy (KUBENURSE_HOST_IP or its URLs).
Every KUBENURSE_* variable of the prober applies. Logs go to stderr when
KUBENURSE_LOG_LEVEL is set.

  --json    one JSON document on stdout instead of the table
Exit: 0 all ok, 1 a check failed, 2 bad usage or configuration.
`;

function usageError(message: string): never {
  process.stderr.write(`kubenurse-ts: ${message}\n${USAGE}`);
  process.exit(EXIT_BAD_CONFIG);
}

function parseCommand(): { json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
    });
  } catch (error) {
    usageError(errorMessage(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1 || positionals[0] !== 'check')
    usageError(
      positionals.length === 0 ? 'missing command' : `unknown command "${positionals.join(' ')}"`,
    );
  return { json: values.json };
}

const { json } = parseCommand();
const config = configFromEnvOrExit();
// stdout carries the result; logs, if asked for, go to stderr.
const explicitLevel = process.env.KUBENURSE_LOG_LEVEL?.trim();
const logger = createLogger(explicitLevel ? config.logLevel : 'silent', 2);

try {
  const result = await runOnce(config, logger);
  process.stdout.write(json ? `${JSON.stringify(toJson(result), null, 2)}\n` : toTable(result));
  process.exitCode = exitCode(result);
} catch (error) {
  process.stderr.write(`kubenurse-ts: check failed to run: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
// Watches, keep-alive sockets or a hung target must not keep a one-shot command alive.
process.exit(process.exitCode);
