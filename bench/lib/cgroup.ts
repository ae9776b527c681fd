// What Kubernetes reports for a container's memory, measured instead of assumed: one process
// in a memory cgroup of its own, read the way cAdvisor reads it. container_memory_working_set_bytes
// = the cgroup's usage − its inactive file pages. Page cache is charged to the cgroup that first
// faulted a page in, so whether the node binary's pages count depends on who touched them first:
// privateNodeBinary() gives a copy no one has read yet, as for the only pod on a node that runs
// the image once the pull's page cache is gone. Needs root and the memory controller (v1 or v2).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiB } from './proc.ts';

export interface CgroupMemory {
  /** memory.current (v2) / memory.usage_in_bytes (v1). */
  readonly usageMiB: number;
  /** usage − inactive_file: container_memory_working_set_bytes. */
  readonly workingSetMiB: number;
  readonly anonMiB: number;
  readonly activeFileMiB: number;
  readonly inactiveFileMiB: number;
}

export interface MemoryCgroup {
  /** Write a pid here to move that process into the cgroup. */
  readonly procsFile: string;
  read(): CgroupMemory;
  /** Removes the (empty) cgroup; its remaining charges go to the parent. */
  remove(): void;
}

function statField(stat: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
  if (!match) throw new Error(`memory.stat has no ${name}`);
  return Number(match[1]);
}

/** Where each cgroup version keeps the figures: v1 prefixes hierarchical stats with total_. */
interface MemoryFiles {
  readonly usage: string;
  readonly anon: string;
  readonly activeFile: string;
  readonly inactiveFile: string;
}
const V1_FILES: MemoryFiles = {
  usage: 'memory.usage_in_bytes',
  anon: 'total_rss',
  activeFile: 'total_active_file',
  inactiveFile: 'total_inactive_file',
};
const V2_FILES: MemoryFiles = {
  usage: 'memory.current',
  anon: 'anon',
  activeFile: 'active_file',
  inactiveFile: 'inactive_file',
};

function memoryCgroupAt(dir: string, files: MemoryFiles): MemoryCgroup {
  return {
    procsFile: join(dir, 'cgroup.procs'),
    read() {
      const usage = Number(readFileSync(join(dir, files.usage), 'utf8'));
      const stat = readFileSync(join(dir, 'memory.stat'), 'utf8');
      const inactiveFile = statField(stat, files.inactiveFile);
      return {
        usageMiB: usage / MiB,
        workingSetMiB: (usage - inactiveFile) / MiB,
        anonMiB: statField(stat, files.anon) / MiB,
        activeFileMiB: statField(stat, files.activeFile) / MiB,
        inactiveFileMiB: inactiveFile / MiB,
      };
    },
    remove: () => rmdirSync(dir),
  };
}

/** Creates a memory cgroup under this process's own; throws with the reason if it cannot. */
export function createMemoryCgroup(name: string): MemoryCgroup {
  const own = readFileSync('/proc/self/cgroup', 'utf8');
  const v1Path = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(own)?.[1];
  const v1Root = '/sys/fs/cgroup/memory';
  if (v1Path !== undefined && existsSync(v1Root)) {
    const dir = join(v1Root, v1Path, name);
    mkdirSync(dir);
    return memoryCgroupAt(dir, V1_FILES);
  }
  const v2Path = /^0::(.*)$/m.exec(own)?.[1];
  const v2Root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : undefined;
  if (v2Path !== undefined && v2Root !== undefined) {
    const parent = join(v2Root, v2Path);
    if (!readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').includes('memory'))
      throw new Error(`cgroup v2: the memory controller is not enabled for children of ${parent}`);
    const dir = join(parent, name);
    mkdirSync(dir);
    return memoryCgroupAt(dir, V2_FILES);
  }
  throw new Error('no memory cgroup controller found in /proc/self/cgroup');
}

/**
 * A copy of `binary` whose pages are in no page cache: written and then dropped with
 * posix_fadvise(DONTNEED) (GNU dd's nocache flags), so the first process to run it faults
 * every page it touches in, and that page is charged to that process's cgroup.
 */
export function privateNodeBinary(binary: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'bench-node-')), 'node');
  execFileSync('dd', [`if=${binary}`, `of=${copy}`, 'bs=4M', 'oflag=nocache', 'conv=fsync'], {
    stdio: 'ignore',
  });
  execFileSync('dd', [`if=${copy}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  execFileSync('chmod', ['755', copy]);
  return copy;
}
