/**
 * What every loopback fake of an AWS API shares: an HTTP server on 127.0.0.1 at a free port, its
 * endpoint for the SDK clients, a close that drops kept-alive connections, and reading a request body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake that answers HTTP on loopback. A subclass implements `handle` and starts with
 * `new Fake(...).listen()`.
 */
export abstract class LoopbackFake {
  private server: Server | undefined;

  /** Listens on 127.0.0.1, port 0 (a free one); every request goes to `handle`. */
  protected async listen(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** http://127.0.0.1:<port> */
  get endpoint(): string {
    if (!this.server) throw new Error('the fake is not listening yet');
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
