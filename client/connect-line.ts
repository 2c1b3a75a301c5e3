/**
 * The one line `tsmosh-server new` prints for the client: `TSMOSH CONNECT <port> <key>`.
 *
 * It arrives among whatever the remote login prints (motd, shell start-up noise, a PTY's `\r\n`),
 * so the scanner splits the SSH output into lines, hands every other line back for display, and
 * stops at the connect line. A line that mentions `TSMOSH CONNECT` but is not exactly a connect
 * line is an error, never displayed: it may hold a key.
 */

export interface ConnectInfo {
  /** The server's UDP port. */
  readonly port: number;
  /** The session key, 43 characters of base64 without padding. Never print or log it. */
  readonly key: string;
}

export const CONNECT_LINE_MARKER = 'TSMOSH CONNECT';
/** Long enough for any motd line; a longer "line" is cut so a server that never sends `\n` costs bounded memory. */
export const MAX_LINE_BYTES = 64 * 1024;

const KEY_TEXT_LENGTH = 43;
// 43 base64 characters carry 258 bits; 32 bytes use 256, so the last character's low 2 bits must be 0.
const KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;
const PORT_PATTERN = /^[1-9][0-9]{0,4}$/;

export class MalformedConnectLineError extends Error {
  override readonly name = 'MalformedConnectLineError';
  constructor() {
    super('The server printed a malformed TSMOSH CONNECT line.');
  }
}

/**
 * Parses one line (without its line break). Returns null when the line is not a connect line at all;
 * throws MalformedConnectLineError when it mentions one but is not exactly `TSMOSH CONNECT <port> <key>`.
 */
export function parseConnectLine(line: string): ConnectInfo | null {
  if (!line.includes(CONNECT_LINE_MARKER)) return null;
  const fields = line.trim().split(' ');
  if (fields.length !== 4 || fields[0] !== 'TSMOSH' || fields[1] !== 'CONNECT') throw new MalformedConnectLineError();
  const portText = fields[2] ?? '';
  const key = fields[3] ?? '';
  if (!PORT_PATTERN.test(portText)) throw new MalformedConnectLineError();
  const port = Number(portText);
  if (port > 65535) throw new MalformedConnectLineError();
  if (key.length !== KEY_TEXT_LENGTH || !KEY_PATTERN.test(key)) throw new MalformedConnectLineError();
  return { port, key };
}

/**
 * Feeds SSH output in arbitrary chunks; returns the connect info once its line is complete.
 * Every other complete line goes to `onLine` (without `\r\n`). Bytes after the connect line are ignored.
 */
export class ConnectLineScanner {
  readonly #onLine: (line: string) => void;
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #found: ConnectInfo | null = null;

  constructor(onLine: (line: string) => void, maxLineBytes: number = MAX_LINE_BYTES) {
    this.#onLine = onLine;
    this.#maxLineBytes = maxLineBytes;
  }

  get found(): ConnectInfo | null {
    return this.#found;
  }

  feed(chunk: Uint8Array): ConnectInfo | null {
    if (this.#found !== null) return this.#found;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      this.#append(chunk.subarray(start, newline));
      start = newline + 1;
      if (this.#completeLine()) return this.#found;
    }
    this.#append(chunk.subarray(start));
    return null;
  }

  /** The end of the output: a last line without `\n` still counts. */
  end(): ConnectInfo | null {
    if (this.#found === null && this.#pendingBytes > 0) this.#completeLine();
    return this.#found;
  }

  #append(part: Uint8Array): void {
    const room = this.#maxLineBytes - this.#pendingBytes;
    if (room <= 0 || part.length === 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    this.#pending.push(Buffer.from(kept));
    this.#pendingBytes += kept.length;
  }

  /** Returns true once the connect line has been found. */
  #completeLine(): boolean {
    const line = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8').replace(/\r+$/, '');
    this.#pending = [];
    this.#pendingBytes = 0;
    const info = parseConnectLine(line);
    if (info !== null) {
      this.#found = info;
      return true;
    }
    this.#onLine(line);
    return false;
  }
}
