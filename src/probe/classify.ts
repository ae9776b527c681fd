// Which kubenurse `event` a failed probe counts under. Pure, so every case is unit-tested.
import { errorCode } from '../error-text.ts';
import type { TraceEvent } from '../metrics.ts';

export interface Progress {
  readonly needsDns: boolean;
  readonly isTls: boolean;
  readonly reached: ReadonlySet<TraceEvent>;
}

export type FailureEvent =
  'dns_done' | 'connect_done' | 'tls_handshake_done' | 'wrote_request' | 'round_trip_error';

const DNS_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'ENODATA',
  'ESERVFAIL',
  'ECONNREFUSED_DNS',
]);
const CONNECT_CODES = new Set([
  'ERR_PROXY_TUNNEL',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'EPROTO'
  );
}

/**
 * A known error code decides first (a DNS failure is a DNS failure whatever else happened);
 * otherwise the first phase the probe had not completed is the one that failed, which is also
 * what a deadline or an abort means: "stuck at".
 */
export function classifyFailure(progress: Progress, error: unknown): FailureEvent {
  const code = errorCode(error);
  if (code !== undefined) {
    if (DNS_CODES.has(code)) return 'dns_done';
    if (CONNECT_CODES.has(code)) return 'connect_done';
    if (isTlsCode(code)) return 'tls_handshake_done';
  }
  const { reached } = progress;
  // got_conn means a usable connection existed (fresh or reused), so no connection phase failed.
  if (!reached.has('got_conn')) {
    if (progress.needsDns && !reached.has('dns_done')) return 'dns_done';
    if (!reached.has('connect_done')) return 'connect_done';
    return progress.isTls ? 'tls_handshake_done' : 'connect_done';
  }
  if (!reached.has('wrote_request')) return 'wrote_request';
  return 'round_trip_error';
}
