/**
 * The ways the SSH bootstrap fails, each one plain sentence the CLI can print as is.
 * (Host key, configuration, destination and prompt errors live with their modules.)
 */

export class NameNotResolvedError extends Error {
  override readonly name = 'NameNotResolvedError';
  /** `family` names the address family asked for, when one was (e.g. "IPv6"). */
  constructor(
    readonly host: string,
    family?: string,
  ) {
    super(family === undefined ? `Could not resolve the host name "${host}".` : `Could not resolve the host name "${host}" to an ${family} address.`);
  }
}

export class ConnectionRefusedError extends Error {
  override readonly name = 'ConnectionRefusedError';
  constructor(host: string, port: number) {
    super(`Connection to ${host} port ${port} was refused.`);
  }
}

export class ConnectionTimedOutError extends Error {
  override readonly name = 'ConnectionTimedOutError';
  constructor(host: string, port: number, timeoutMs: number) {
    super(`Connection to ${host} port ${port} timed out after ${formatSeconds(timeoutMs)}.`);
  }
}

export class ConnectionFailedError extends Error {
  override readonly name = 'ConnectionFailedError';
  constructor(host: string, port: number, reason: string) {
    super(`Cannot connect to ${host} port ${port}: ${reason}.`);
  }
}

export class SshHandshakeError extends Error {
  override readonly name = 'SshHandshakeError';
  constructor(host: string, reason: string) {
    super(`The SSH handshake with ${host} failed: ${reason}.`);
  }
}

export class AuthenticationFailedError extends Error {
  override readonly name = 'AuthenticationFailedError';
  constructor(user: string, host: string, tried: readonly string[]) {
    const what = tried.length === 0 ? 'no usable authentication method' : `tried ${tried.join(', ')}`;
    super(`Permission denied for ${user}@${host} (${what}).`);
  }
}

export class JumpHostError extends Error {
  override readonly name = 'JumpHostError';
  constructor(jumpHost: string, target: string, port: number, reason: string) {
    super(`The jump host ${jumpHost} could not connect to ${target} port ${port}: ${reason}.`);
  }
}

export class ProxyCommandError extends Error {
  override readonly name = 'ProxyCommandError';
  constructor(reason: string) {
    super(`The ProxyCommand failed: ${reason}.`);
  }
}

export class ServerNotInstalledError extends Error {
  override readonly name = 'ServerNotInstalledError';
  constructor(serverCommand: string, host: string) {
    super(
      // A path the user gave cannot be "put on the PATH"; the path itself is what to check.
      serverCommand.includes('/')
        ? `${serverCommand} was not found on ${host}: check the path given with --server, or install tsmosh there (npm install -g tsmosh).`
        : `${serverCommand} was not found on ${host}: install tsmosh there (npm install -g tsmosh) so that ${serverCommand} is on the PATH ` +
            'of a non-interactive login, or give its full path with --server.',
    );
  }
}

export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
  constructor(host: string, reason: string) {
    super(`Could not start the server on ${host}: ${reason}.`);
  }
}

export class NoConnectLineError extends Error {
  override readonly name = 'NoConnectLineError';
  constructor(serverCommand: string, host: string, how: string) {
    super(`${serverCommand} on ${host} ${how} without printing its TSMOSH CONNECT line.`);
  }
}

export class SshConnectionLostError extends Error {
  override readonly name = 'SshConnectionLostError';
  constructor(host: string) {
    super(`The SSH connection to ${host} closed unexpectedly.`);
  }
}

export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
