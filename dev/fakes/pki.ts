// A throw-away CA and server certificates made at test time with the openssl CLI, so TLS
// tests verify against a real chain instead of switching verification off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly dir: string;
  readonly caCertPath: string;
  readonly caCert: string;
  issue(
    name: string,
    altNames: readonly string[],
  ): { cert: string; key: string; certPath: string; keyPath: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** openssl req: a new unencrypted P-256 key next to the certificate (CA or leaf). */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createTestCa(commonName = 'kubenurse-ts test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'kubenurse-pki-'));
  openssl(
    [
      'req',
      '-x509',
      ...NEW_P256_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
    ],
    dir,
  );
  const caCertPath = join(dir, 'ca.crt');
  return {
    dir,
    caCertPath,
    caCert: readFileSync(caCertPath, 'utf8'),
    issue(name, altNames) {
      const san = altNames
        .map((alt) => (/^[\d.]+$|:/.test(alt) ? `IP:${alt}` : `DNS:${alt}`))
        .join(',');
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`,
      );
      openssl(
        [
          'req',
          ...NEW_P256_KEY,
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/CN=${name}`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          '-extfile',
          `${name}.ext`,
        ],
        dir,
      );
      const certPath = join(dir, `${name}.crt`);
      const keyPath = join(dir, `${name}.key`);
      return {
        cert: readFileSync(certPath, 'utf8'),
        key: readFileSync(keyPath, 'utf8'),
        certPath,
        keyPath,
      };
    },
  };
}
