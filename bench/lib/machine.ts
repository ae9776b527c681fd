// The machine a benchmark ran on, printed next to every result.
import { cpus, totalmem, availableParallelism, release } from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
  readonly nproc: number;
  readonly memoryGiB: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly kernel: string;
  readonly blackbox: string;
}

function blackboxVersion(binary = '/usr/bin/prometheus-blackbox-exporter'): string {
  try {
    const out = execFileSync(binary, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return /version (\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch (error) {
    // Older releases print the version on stderr.
    const { stderr } = error as { stderr?: string | Buffer };
    const text = stderr === undefined ? '' : stderr.toString();
    return /version (\S+)/.exec(text)?.[1] ?? 'not installed';
  }
}

export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
    blackbox: blackboxVersion(),
  };
}

export function machineLine(info: MachineInfo): string {
  return (
    `${info.nproc} CPUs (nproc), ${info.memoryGiB} GiB RAM, CPU model "${info.cpuModel}", Node ` +
    `${info.node}, Linux ${info.kernel}, blackbox_exporter ${info.blackbox}`
  );
}
