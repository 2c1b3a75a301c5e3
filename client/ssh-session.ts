/**
 * One authenticated SSH connection to one resolved host, over a stream we already opened (a TCP
 * socket, a jump host's forwarded channel or a ProxyCommand's pipes): host key check, then
 * authentication. Every failure becomes one of the plain-sentence errors.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as SshClient, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { HostKeyCheck } from './host-key-check.js';
import { IdentityAgent } from './identity-agent.js';
import { hostFileName } from './known-hosts.js';
import { AuthPlan, printable } from './ssh-auth.js';
import type { ResolvedSshHost } from './ssh-config.js';
import { AuthenticationFailedError, ConnectionFailedError, SshConnectionLostError, SshHandshakeError, formatSeconds } from './ssh-errors.js';
import type { Prompter } from './tty-prompt.js';

const { Client } = ssh2;

export interface SessionSettings {
  /** Bounds the SSH version exchange and key exchange (OpenSSH's ConnectTimeout does too); prompts do not count. */
  readonly handshakeTimeoutMs: number;
  readonly log: (message: string) => void;
}

interface SshError extends Error {
  level?: string;
}

/** Connects and authenticates; resolves with a ready client, whose 'error' events the caller must handle from then on. */
export async function openSshSession(hop: ResolvedSshHost, sock: Duplex, prompter: Prompter, settings: SessionSettings): Promise<SshClient> {
  const { log } = settings;
  const recordedName = hop.hostKeyAlias ?? hostFileName(hop.hostName, hop.port);
  const hostKeys = new HostKeyCheck(
    {
      hostFileName: recordedName,
      userKnownHostsFiles: hop.userKnownHostsFiles,
      globalKnownHostsFiles: hop.globalKnownHostsFiles,
      strict: hop.strictHostKeyChecking,
      hashKnownHosts: hop.hashKnownHosts,
      batchMode: hop.batchMode,
    },
    prompter,
  );
  let identities: IdentityAgent | null = null;
  try {
    if (hop.pubkeyAuthentication) {
      identities = await IdentityAgent.load({
        agentSocket: hop.identityAgent,
        identityFiles: hop.identityFiles,
        identityFilesConfigured: hop.identityFilesConfigured,
        identitiesOnly: hop.identitiesOnly,
        passphraseTries: hop.numberOfPasswordPrompts,
        batchMode: hop.batchMode,
        prompter,
        log,
      });
    }
  } catch (error) {
    // E.g. the user cancelled a passphrase prompt: the connection we were handed is of no use now.
    sock.destroy();
    throw error;
  }

  const client = new Client();
  return new Promise<SshClient>((resolve, reject) => {
    let settled = false;
    /** Our own reason for a failure ssh2 will report in its own, vaguer words. */
    let cause: Error | null = null;
    let timer: NodeJS.Timeout | undefined;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      sock.destroy();
      reject(error);
    };
    const startTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(new SshHandshakeError(hop.hostName, `no answer within ${formatSeconds(settings.handshakeTimeoutMs)}`)),
        settings.handshakeTimeoutMs,
      );
    };
    const plan = new AuthPlan(
      {
        user: hop.user,
        host: hop.hostName,
        preferred: hop.preferredAuthentications,
        pubkey: hop.pubkeyAuthentication,
        password: hop.passwordAuthentication,
        kbdInteractive: hop.kbdInteractiveAuthentication,
        tries: hop.numberOfPasswordPrompts,
        batchMode: hop.batchMode,
      },
      identities,
      prompter,
      (error) => {
        cause ??= error;
        fail(error);
      },
    );

    client.on('handshake', () => {
      clearTimeout(timer);
      log(`SSH handshake with ${hop.hostName} done`);
    });
    client.on('banner', (message: string) => prompter.tell(printable(message).replace(/\n$/, '')));
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      log(`authenticated to ${hop.hostName} as ${hop.user}`);
      resolve(client);
    });
    client.on('error', (error: SshError) => {
      // A key that could not be used (say, no passphrase given): ssh2 moves on to the next one.
      if (error.level === 'agent') {
        log(`key skipped: ${error.message}`);
        return;
      }
      fail(cause ?? describe(error, hop, plan));
    });
    client.on('close', () => fail(cause ?? new SshConnectionLostError(hop.hostName)));

    const config: ConnectConfig = {
      sock,
      username: hop.user,
      // ssh2's readyTimeout would also run while the user types a password; ours stops at the handshake.
      readyTimeout: 0,
      keepaliveInterval: 0,
      algorithms: { serverHostKey: hostKeys.preferredAlgorithms() as ServerHostKeyAlgorithm[] },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        clearTimeout(timer);
        hostKeys.verify(key).then(
          (accepted) => {
            log(`host key ${accepted.keyType} ${accepted.fingerprint} accepted for ${recordedName}`);
            if (accepted.keyOnlyAuthentication) plan.restrictToKeys();
            startTimer();
            verify(true);
          },
          (error: unknown) => {
            cause ??= error instanceof Error ? error : new SshHandshakeError(hop.hostName, String(error));
            verify(false);
          },
        );
      },
      authHandler: plan.handler,
    };
    startTimer();
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously on options it cannot use.
      fail(new SshHandshakeError(hop.hostName, error instanceof Error ? error.message.replace(/\.$/, '') : String(error)));
    }
  });
}

function describe(error: SshError, hop: ResolvedSshHost, plan: AuthPlan): Error {
  switch (error.level) {
    case 'client-authentication':
      return new AuthenticationFailedError(hop.user, hop.hostName, plan.tried);
    case 'client-socket':
      return new ConnectionFailedError(hop.hostName, hop.port, error.message);
    case 'client-ssh':
      // The server hung up, e.g. "Too many authentication failures" while we offered keys.
      return plan.tried.length > 0 ? new AuthenticationFailedError(hop.user, hop.hostName, plan.tried) : new SshHandshakeError(hop.hostName, error.message);
    default:
      return new SshHandshakeError(hop.hostName, error.message.replace(/\.$/, ''));
  }
}
