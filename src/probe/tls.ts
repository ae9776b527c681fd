// Trust for probes: system roots + the service-account CA + KUBENURSE_EXTRA_CA, as kubenurse.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';

export interface TrustOptions {
  readonly ca: string[];
  readonly insecure: boolean;
}

export function buildTrust(options: {
  serviceAccountDir: string;
  extraCaPem: string | undefined;
  insecure: boolean;
}): TrustOptions & { serviceAccountCa: boolean } {
  const ca = [...rootCertificates];
  let serviceAccountCa = false;
  try {
    ca.push(readFileSync(join(options.serviceAccountDir, 'ca.crt'), 'utf8'));
    serviceAccountCa = true;
  } catch {
    // Outside a pod there is no service-account CA; system roots and the extra CA remain.
  }
  if (options.extraCaPem !== undefined) ca.push(options.extraCaPem);
  return { ca, insecure: options.insecure, serviceAccountCa };
}

/**
 * Read per apiserver request, because projected service-account tokens rotate under us.
 * Returns undefined when there is none; the caller then sends no Authorization header.
 */
export function readToken(serviceAccountDir: string): string | undefined {
  try {
    const token = readFileSync(join(serviceAccountDir, 'token'), 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}
