import type { AnyAuthMethod, AuthenticationType, KeyboardInteractiveAuthMethod } from 'ssh2';
import { describe, expect, it } from 'vitest';
import type { IdentityAgent } from '../../client/identity-agent.js';
import { type AuthSettings, AuthPlan, printable } from '../../client/ssh-auth.js';
import { PromptCancelledError } from '../../client/tty-prompt.js';
import { ScriptedPrompter } from '../support/scripted-prompter.js';

const ALL: AuthenticationType[] = ['publickey', 'keyboard-interactive', 'password'];
const settings: AuthSettings = {
  user: 'alice',
  host: 'example.com',
  preferred: ['publickey', 'keyboard-interactive', 'password'],
  pubkey: true,
  password: true,
  kbdInteractive: true,
  tries: 2,
  batchMode: false,
};
const identities = { count: 2 } as unknown as IdentityAgent;

/** Calls the handler as ssh2 would and resolves with what it chose (false when it gave up). */
function nextChoice(plan: AuthPlan, methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> {
  return new Promise((resolve) => {
    plan.handler(methodsLeft as AuthenticationType[], false, (choice) => resolve(choice as AnyAuthMethod | false));
  });
}

async function sequence(plan: AuthPlan, methodsLeft: AuthenticationType[], steps: number): Promise<string[]> {
  const chosen: string[] = [];
  for (let i = 0; i < steps; i++) {
    const choice = await nextChoice(plan, methodsLeft);
    chosen.push(choice === false ? 'give up' : choice.type);
    if (choice === false) break;
  }
  return chosen;
}

describe('AuthPlan', () => {
  it('starts with none, then follows OpenSSH\'s order with bounded tries', async () => {
    const prompter = new ScriptedPrompter([
      { match: /password/, answer: 'p1' },
      { match: /password/, answer: 'p2' },
    ]);
    const plan = new AuthPlan(settings, identities, prompter, () => {});
    expect(await nextChoice(plan, null)).toEqual({ type: 'none', username: 'alice' });
    expect(await sequence(plan, ALL, 10)).toEqual(['agent', 'keyboard-interactive', 'keyboard-interactive', 'password', 'password', 'give up']);
    expect(plan.tried).toEqual(['publickey', 'keyboard-interactive', 'password']);
    expect(prompter.asked).toEqual([
      { question: "alice@example.com's password: ", secret: true },
      { question: "alice@example.com's password: ", secret: true },
    ]);
  });

  it('skips what the server does not offer and honours PreferredAuthentications', async () => {
    const prompter = new ScriptedPrompter([{ match: /password/, answer: 'p' }]);
    const plan = new AuthPlan({ ...settings, preferred: ['password', 'publickey'], tries: 1 }, identities, prompter, () => {});
    expect(await sequence(plan, ['publickey', 'password'], 5)).toEqual(['password', 'agent', 'give up']);
    const noKeys = new AuthPlan(settings, { count: 0 } as unknown as IdentityAgent, new ScriptedPrompter(), () => {});
    expect(await sequence(noKeys, ['publickey'], 5)).toEqual(['give up']);
    expect(noKeys.tried).toEqual([]);
  });

  it('asks nothing in batch mode or after a changed host key was accepted', async () => {
    const batch = new AuthPlan({ ...settings, batchMode: true }, identities, new ScriptedPrompter(), () => {});
    expect(await sequence(batch, ALL, 5)).toEqual(['agent', 'give up']);
    const restricted = new AuthPlan(settings, identities, new ScriptedPrompter(), () => {});
    restricted.restrictToKeys();
    expect(await sequence(restricted, ALL, 5)).toEqual(['agent', 'give up']);
  });

  it('answers keyboard-interactive prompts through the prompter, echo as the server asks, control characters removed', async () => {
    const prompter = new ScriptedPrompter([
      { match: /^Password: $/, answer: 'secret' },
      { match: /^Code\?: $/, answer: '123456' },
    ]);
    const plan = new AuthPlan({ ...settings, preferred: ['keyboard-interactive'] }, identities, prompter, () => {});
    const choice = (await nextChoice(plan, ['keyboard-interactive'])) as KeyboardInteractiveAuthMethod;
    const answers = await new Promise<string[]>((resolve) =>
      choice.prompt('Login', 'Two steps\x1b[2J', '', [{ prompt: 'Password: ', echo: false }, { prompt: 'Code\x07: ', echo: true }], resolve),
    );
    expect(answers).toEqual(['secret', '123456']);
    expect(prompter.asked).toEqual([
      { question: 'Password: ', secret: true },
      { question: 'Code?: ', secret: false },
    ]);
    expect(prompter.told).toEqual(['Login\nTwo steps?[2J']);
  });

  it('aborts when the user cancels a prompt', async () => {
    const aborted: Error[] = [];
    const plan = new AuthPlan({ ...settings, preferred: ['password'] }, identities, new ScriptedPrompter(), (error) => aborted.push(error));
    expect(await nextChoice(plan, ['password'])).toBe(false);
    expect(aborted[0]).toBeInstanceOf(PromptCancelledError);
  });
});

describe('printable', () => {
  it('keeps text and newlines, replaces other control characters', () => {
    expect(printable('a\tb\r\nc\x1b]0;x\x07\x9b')).toBe('a\tb\nc?]0;x??');
  });
});
