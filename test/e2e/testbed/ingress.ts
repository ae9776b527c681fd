// The ingress controller: Debian's nginx in its own namespace, proxying the Ingress' paths to
// the prober Service's ClusterIP (through that namespace's kube-proxy rules, as an ingress
// controller pod on a node would). Everything it writes stays in its own temp directory.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ManagedProcess, ProcessGroup } from './processes.ts';

export interface IngressRoute {
  readonly path: string;
  readonly pathType: 'Exact' | 'Prefix';
  readonly upstream: string; // host:port
}

export interface IngressRule {
  readonly host: string;
  readonly paths: readonly {
    path: string;
    pathType: 'Exact' | 'Prefix';
    serviceName: string;
    servicePort: string | number;
  }[];
}

/** The first rule of examples/ingress.yaml: the host and paths the operator would publish. */
export function readIngress(path: string): IngressRule {
  const manifest = parse(readFileSync(path, 'utf8')) as {
    kind?: string;
    spec?: {
      rules?: {
        host?: string;
        http?: {
          paths?: {
            path: string;
            pathType: string;
            backend: { service: { name: string; port: { name?: string; number?: number } } };
          }[];
        };
      }[];
    };
  };
  const rule = manifest.spec?.rules?.[0];
  if (manifest.kind !== 'Ingress' || !rule?.host)
    throw new Error(`${path}: expected an Ingress with a host rule`);
  return {
    host: rule.host,
    paths: (rule.http?.paths ?? []).map((entry) => {
      if (entry.pathType !== 'Exact' && entry.pathType !== 'Prefix')
        throw new Error(`${path}: pathType ${entry.pathType} is not emulated`);
      return {
        path: entry.path,
        pathType: entry.pathType,
        serviceName: entry.backend.service.name,
        servicePort: entry.backend.service.port.name ?? entry.backend.service.port.number ?? 0,
      };
    }),
  };
}

export interface IngressServer {
  readonly listen: string; // address:port
  readonly host: string;
  readonly tls: { readonly certPath: string; readonly keyPath: string } | undefined;
  readonly routes: readonly IngressRoute[];
}

export function renderNginxConf(dir: string, server: IngressServer): string {
  const { listen, host, tls, routes } = server;
  const locations = routes.map((route) =>
    [
      `    location ${route.pathType === 'Exact' ? '= ' : ''}${route.path} {`,
      `      proxy_pass http://${route.upstream};`,
      '      proxy_connect_timeout 2s;',
      '      proxy_read_timeout 5s;',
      '      proxy_set_header Host $host;',
      '    }',
    ].join('\n'),
  );
  return [
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    `  client_body_temp_path ${join(dir, 'client_body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'scgi')};`,
    '  server {',
    `    listen ${listen}${tls ? ' ssl' : ''};`,
    `    server_name ${host};`,
    ...(tls
      ? [`    ssl_certificate ${tls.certPath};`, `    ssl_certificate_key ${tls.keyPath};`]
      : []),
    ...locations,
    '    location / { return 404; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function startNginx(
  group: ProcessGroup,
  ns: string,
  runDir: string,
  server: IngressServer,
): ManagedProcess {
  const dir = join(runDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), renderNginxConf(dir, server));
  return group.spawn(
    ns,
    'nginx',
    'nginx',
    ['-p', dir, '-c', 'nginx.conf', '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    },
  );
}
