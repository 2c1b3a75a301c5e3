import dgram from 'node:dgram';

/**
 * A plain UDP relay on 127.0.0.1 that keeps a copy of what passes, for tests that need real
 * datagrams of a live session: to replay an authentic one from elsewhere, or to reflect one back
 * at its sender. It can also stop forwarding the client's datagrams for a while (`holdUp`), so
 * that during an attack the server hears nobody else. No delay, no loss: for those use
 * LinkEmulator.
 */

/** How many datagrams of each direction are kept (the oldest go first). */
export const DEFAULT_TAP_CAPACITY = 256;

export interface TappedDatagram {
  readonly bytes: Buffer;
  /** Date.now() when it passed. */
  readonly at: number;
}

export class UdpTap {
  readonly #clientFacing: dgram.Socket;
  readonly #serverFacing: dgram.Socket;
  readonly #serverPort: number;
  readonly #capacity: number;
  #client: { address: string; port: number } | undefined;
  #closed = false;
  /** Datagrams from the client to the server, oldest first. */
  readonly up: TappedDatagram[] = [];
  /** Datagrams from the server to the client, oldest first. */
  readonly down: TappedDatagram[] = [];
  /** While true the client's datagrams are recorded but not forwarded. */
  holdUp = false;

  private constructor(clientFacing: dgram.Socket, serverFacing: dgram.Socket, serverPort: number, capacity: number) {
    this.#clientFacing = clientFacing;
    this.#serverFacing = serverFacing;
    this.#serverPort = serverPort;
    this.#capacity = capacity;
    clientFacing.on('message', (bytes, from) => {
      if (this.#closed) return;
      this.#client = { address: from.address, port: from.port };
      this.#keep(this.up, bytes);
      if (!this.holdUp) serverFacing.send(bytes, serverPort, '127.0.0.1');
    });
    serverFacing.on('message', (bytes, from) => {
      if (this.#closed || from.port !== serverPort) return;
      this.#keep(this.down, bytes);
      if (this.#client !== undefined) clientFacing.send(bytes, this.#client.port, this.#client.address);
    });
    // ICMP port-unreachable and the like arrive as 'error'; a test relay must not crash on them.
    clientFacing.on('error', () => {});
    serverFacing.on('error', () => {});
  }

  /** Relays between a client (pointed at `port`) and a server on 127.0.0.1:`serverPort`. */
  static async start(serverPort: number, capacity = DEFAULT_TAP_CAPACITY): Promise<UdpTap> {
    const clientFacing = await boundSocket();
    const serverFacing = await boundSocket();
    return new UdpTap(clientFacing, serverFacing, serverPort, capacity);
  }

  /** Where the client should send. */
  get port(): number {
    return this.#clientFacing.address().port;
  }

  /** The address the server sees the client at. */
  get serverFacing(): { address: string; port: number } {
    const { address, port } = this.#serverFacing.address();
    return { address, port };
  }

  get serverPort(): number {
    return this.#serverPort;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([close(this.#clientFacing), close(this.#serverFacing)]);
  }

  #keep(list: TappedDatagram[], bytes: Buffer): void {
    list.push({ bytes: Buffer.from(bytes), at: Date.now() });
    if (list.length > this.#capacity) list.shift();
  }
}

async function boundSocket(address = '127.0.0.1'): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

function close(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** A socket somewhere else on loopback (e.g. 127.0.0.3), to play an attacker that sends from its own address. */
export class UdpSender {
  readonly #socket: dgram.Socket;
  /** Datagrams that came back to this socket (a server must never answer an attacker). */
  received = 0;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', () => this.received++);
    socket.on('error', () => {});
  }

  static async bind(address: string): Promise<UdpSender> {
    return new UdpSender(await boundSocket(address));
  }

  get address(): { address: string; port: number } {
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /** Sends one datagram and resolves once it has left. */
  send(bytes: Uint8Array, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.send(bytes, port, address, (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return close(this.#socket);
  }
}
