// The test's handle on the fake apiserver running in its own namespace.
import type { NodeInit, PodInit } from '../../../dev/fakes/fake-apiserver.ts';
import type { ApiServerChildConfig } from './children/apiserver.ts';
import { startRpcHelper } from './helpers.ts';
import type { ManagedProcess, ProcessGroup } from './processes.ts';
import type { RpcClient } from './rpc.ts';

export class ApiServerControl {
  readonly process: ManagedProcess;
  private readonly rpc: RpcClient;

  private constructor(process: ManagedProcess, rpc: RpcClient) {
    this.process = process;
    this.rpc = rpc;
  }

  /** Resolves once the server listens (the helper answers only after that). */
  static async start(
    group: ProcessGroup,
    ns: string,
    config: ApiServerChildConfig,
  ): Promise<ApiServerControl> {
    const { process, rpc } = startRpcHelper(group, ns, 'fake-apiserver', 'apiserver.ts', [
      JSON.stringify(config),
    ]);
    const control = new ApiServerControl(process, rpc);
    try {
      await rpc.call('ping', {}, 15_000);
    } catch (error) {
      throw new Error(
        `fake apiserver did not start: ${(error as Error).message}\n${process.log()}`,
        { cause: error },
      );
    }
    return control;
  }

  addNode(node: NodeInit): Promise<void> {
    return this.rpc.call('addNode', { ...node });
  }

  addPod(pod: PodInit): Promise<void> {
    return this.rpc.call('addPod', { ...pod });
  }

  cordon(name: string, on = true): Promise<void> {
    return this.rpc.call('cordon', { name, on });
  }

  fail(status: number, scope: 'all' | 'version' = 'all'): Promise<void> {
    return this.rpc.call('fail', { status, scope });
  }

  hang(scope: 'all' | 'version' = 'all'): Promise<void> {
    return this.rpc.call('hang', { scope });
  }

  heal(): Promise<void> {
    return this.rpc.call('heal');
  }

  watchCount(): Promise<number> {
    return this.rpc.call<number>('watchCount');
  }
}
