/**
 * A Prompter for tests: answers questions from a script and records everything asked and told.
 * A question nobody scripted is refused (PromptCancelledError), so an unexpected prompt fails the test.
 */
import { type PromptOptions, type Prompter, PromptCancelledError } from '../../client/tty-prompt.js';

export interface ScriptedAnswer {
  /** Which question this answers (the first unused answer whose pattern matches is taken). */
  readonly match: RegExp;
  readonly answer: string;
}

export interface AskedQuestion {
  readonly question: string;
  readonly secret: boolean;
}

export class ScriptedPrompter implements Prompter {
  readonly asked: AskedQuestion[] = [];
  readonly told: string[] = [];
  readonly #answers: ScriptedAnswer[];

  constructor(answers: readonly ScriptedAnswer[] = []) {
    this.#answers = [...answers];
  }

  ask(question: string, options: PromptOptions): Promise<string> {
    this.asked.push({ question, secret: options.secret });
    const index = this.#answers.findIndex((answer) => answer.match.test(question));
    if (index < 0) return Promise.reject(new PromptCancelledError());
    const [answer] = this.#answers.splice(index, 1);
    return Promise.resolve(answer?.answer ?? '');
  }

  tell(message: string): void {
    this.told.push(message);
  }

  /** Everything told, one message per line. */
  get output(): string {
    return this.told.join('\n');
  }
}
