import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * TEST CODE. A TCP proxy between the service and ClickHouse that can fail on demand:
 * - `pass`: forwards both ways;
 * - `refuse`: stops listening, so connecting fails with ECONNREFUSED, and drops every
 *   open connection;
 * - `stall`: accepts and holds connections without forwarding anything (a hung
 *   server or a black-holed network); they are dropped when the stall ends;
 * - `cut`: forwards requests, then drops the connection when the answer starts, so
 *   the request may have taken effect but the client never hears it.
 */
export type FaultMode = 'pass' | 'refuse' | 'stall' | 'cut';

export class FaultProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private readonly held = new Set<Socket>();
  mode: FaultMode = 'pass';
  port = 0;
  connections = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(target: { host?: string; port: number }, port = 0): Promise<FaultProxy> {
    const proxy = new FaultProxy(target.host ?? '127.0.0.1', target.port);
    await proxy.listen(port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async set(mode: FaultMode): Promise<void> {
    const previous = this.mode;
    this.mode = mode;
    if (mode === 'refuse') {
      // Drop open connections first: server.close() waits for them to end.
      for (const s of [...this.open, ...this.held]) s.destroy();
      await this.unlisten();
    } else if (previous === 'refuse') {
      await this.listen(this.port);
    }
    if (mode === 'cut') for (const s of this.open) s.destroy();
    if (previous === 'stall' && mode !== 'stall') {
      for (const s of this.held) s.destroy();
      this.held.clear();
    }
  }

  async close(): Promise<void> {
    this.mode = 'refuse';
    for (const s of [...this.open, ...this.held]) s.destroy();
    await this.unlisten();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => this.accept(client));
    server.listen(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private async unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(client: Socket): void {
    this.connections++;
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    client.on('error', () => undefined);
    if (this.mode === 'stall') {
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      client.pause();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    this.open.add(client);
    const drop = () => {
      this.open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk) => {
      if (this.mode === 'stall') {
        this.held.add(client);
        client.pause();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (this.mode === 'cut') return drop();
      if (this.mode === 'stall') return;
      client.write(chunk);
    });
  }
}
