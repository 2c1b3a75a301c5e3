/**
 * Client authentication in OpenSSH's order (PreferredAuthentications, default publickey,
 * keyboard-interactive, password), driven through ssh2's authHandler: public keys from the agent
 * and identity files, then keyboard-interactive and password prompts without echo, each method
 * tried at most NumberOfPasswordPrompts times. Methods the server does not list are skipped.
 */
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, KeyboardInteractiveCallback, Prompt } from 'ssh2';
import type { AuthMethodName } from './ssh-config.js';
import type { IdentityAgent } from './identity-agent.js';
import type { Prompter } from './tty-prompt.js';

export interface AuthSettings {
  readonly user: string;
  /** The host named in the password prompt (`user@host's password: `). */
  readonly host: string;
  readonly preferred: readonly AuthMethodName[];
  readonly pubkey: boolean;
  readonly password: boolean;
  readonly kbdInteractive: boolean;
  /** NumberOfPasswordPrompts. */
  readonly tries: number;
  readonly batchMode: boolean;
}

/** Removes control characters from server-supplied text before it reaches the user's terminal. */
export function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '?');
}

export class AuthPlan {
  readonly #settings: AuthSettings;
  readonly #identities: IdentityAgent | null;
  readonly #prompter: Prompter;
  /** Called when the user cancels a prompt: the connection must be dropped. */
  readonly #abort: (error: Error) => void;
  readonly #tried: AuthMethodName[] = [];
  #publickeyDone = false;
  #keyOnly = false;
  #passwordTries = 0;
  #keyboardTries = 0;
  #serverMethods: readonly string[] = [];

  constructor(settings: AuthSettings, identities: IdentityAgent | null, prompter: Prompter, abort: (error: Error) => void) {
    this.#settings = settings;
    this.#identities = identities;
    this.#prompter = prompter;
    this.#abort = abort;
  }

  /** The methods actually attempted, for the error message. */
  get tried(): readonly AuthMethodName[] {
    return this.#tried;
  }

  /** What the server last said it accepts. */
  get serverMethods(): readonly string[] {
    return this.#serverMethods;
  }

  /** After accepting a changed host key (StrictHostKeyChecking no): never send a password to it. */
  restrictToKeys(): void {
    this.#keyOnly = true;
  }

  readonly handler: AuthHandlerMiddleware = (methodsLeft, _partialSuccess, next) => {
    const { user } = this.#settings;
    // ssh2 passes null the first time; "none" asks the server which methods it offers.
    if ((methodsLeft as AuthenticationType[] | null) === null) {
      next({ type: 'none', username: user });
      return;
    }
    this.#serverMethods = methodsLeft;
    const method = this.#nextMethod(methodsLeft);
    if (method === null) {
      next(false as unknown as AnyAuthMethod);
      return;
    }
    if (!this.#tried.includes(method)) this.#tried.push(method);
    switch (method) {
      case 'publickey':
        this.#publickeyDone = true;
        next({ type: 'agent', username: user, agent: this.#identities as IdentityAgent });
        return;
      case 'keyboard-interactive':
        this.#keyboardTries++;
        next({ type: 'keyboard-interactive', username: user, prompt: this.#answerKeyboard });
        return;
      case 'password':
        this.#passwordTries++;
        this.#prompter.ask(`${user}@${this.#settings.host}'s password: `, { secret: true }).then(
          (password) => next({ type: 'password', username: user, password }),
          (error: unknown) => {
            this.#abort(error instanceof Error ? error : new Error(String(error)));
            next(false as unknown as AnyAuthMethod);
          },
        );
        return;
    }
  };

  #nextMethod(methodsLeft: readonly string[]): AuthMethodName | null {
    const s = this.#settings;
    const interactive = !s.batchMode && !this.#keyOnly;
    for (const method of s.preferred) {
      if (!methodsLeft.includes(method)) continue;
      if (method === 'publickey' && s.pubkey && !this.#publickeyDone && (this.#identities?.count ?? 0) > 0) return method;
      if (method === 'keyboard-interactive' && s.kbdInteractive && interactive && this.#keyboardTries < s.tries) return method;
      if (method === 'password' && s.password && interactive && this.#passwordTries < s.tries) return method;
    }
    return null;
  }

  readonly #answerKeyboard = (name: string, instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void => {
    const header = [name, instructions].filter((text) => text.trim() !== '').map(printable);
    if (header.length > 0) this.#prompter.tell(header.join('\n'));
    const answers: string[] = [];
    const askNext = async (): Promise<void> => {
      for (const prompt of prompts) {
        answers.push(await this.#prompter.ask(printable(prompt.prompt), { secret: prompt.echo !== true }));
      }
    };
    askNext().then(
      () => finish(answers),
      (error: unknown) => {
        this.#abort(error instanceof Error ? error : new Error(String(error)));
        finish([]);
      },
    );
  };
}
