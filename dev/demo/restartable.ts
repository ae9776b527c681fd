// The demo's stand-ins (Service, Ingress, the pod and node networks' doors) are stopped and
// started by faults: stopping must cut live connections too, or a "down" VIP would keep
// answering on keep-alive sockets.
import type { Server as HttpServer } from 'node:http';
import type { Server as TcpServer, Socket } from 'node:net';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** A server that can be stopped and started again on the same address, cutting live connections. */
export abstract class Restartable {
  protected abstract readonly server: TcpServer | HttpServer;
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private readonly at: Endpoint;

  constructor(at: Endpoint) {
    this.at = at;
  }

  protected track(): void {
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get running(): boolean {
    return this.listening;
  }

  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.at.port, this.at.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
