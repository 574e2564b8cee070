/** What each benchmark request is: a path under /v1, a body, and a check of a full answer. */
export interface Scenario {
  name: string;
  path: string;
  body(model: string): string;
  /** returns an error message when a (pre-flight) answer is not what a client expects */
  check(status: number, text: string): string | undefined;
}

const messages = [{ role: 'user', content: 'Give me a short line about gateways and benchmarks.' }];

export const SCENARIOS: Scenario[] = [
  {
    name: 'chat-json',
    path: '/chat/completions',
    body: (model) => JSON.stringify({ model, messages, max_tokens: 20 }),
    check(status, text) {
      if (status !== 200) return `status ${status}: ${text.slice(0, 300)}`;
      const body = JSON.parse(text);
      if (!body.choices?.[0]?.message?.content) return `no message content: ${text.slice(0, 300)}`;
      return undefined;
    },
  },
  {
    name: 'chat-stream',
    path: '/chat/completions',
    body: (model) =>
      JSON.stringify({
        model,
        messages,
        max_tokens: 20,
        stream: true,
        stream_options: { include_usage: true },
      }),
    check(status, text) {
      if (status !== 200) return `status ${status}: ${text.slice(0, 300)}`;
      const events = text.split('\n').filter((line) => line.startsWith('data: '));
      if (events.at(-1) !== 'data: [DONE]') return `stream does not end with [DONE]: ${text.slice(-300)}`;
      const chunks = events.length - 1;
      if (chunks < 20) return `expected at least 20 chunks, got ${chunks}`;
      return undefined;
    },
  },
];
