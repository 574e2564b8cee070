import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  from: string;
  to: string[];
  /** the raw message, quoted-printable soft breaks and escapes undone */
  text: string;
  auth: string | null;
}

export interface SmtpSink {
  port: number;
  mails: SunkMail[];
  /** the next mail to `to` not yet taken, waiting up to `timeoutMs` */
  next(to: string, timeoutMs?: number): Promise<SunkMail>;
  close(): Promise<void>;
}

const decodeQuotedPrintable = (s: string) =>
  s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/** A real SMTP server on a free loopback port that keeps what it is sent (AUTH PLAIN/LOGIN required). */
export async function startSmtpSink(credentials: { user: string; pass: string }): Promise<SmtpSink> {
  const mails: SunkMail[] = [];
  const taken = new Set<SunkMail>();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.username === credentials.user && auth.password === credentials.pass)
        return done(null, { user: auth.username });
      return done(new Error('invalid credentials'));
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          text: decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8')),
          auth: typeof session.user === 'string' ? session.user : null,
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async next(to, timeoutMs = 10_000) {
      const started = Date.now();
      for (;;) {
        const mail = mails.find((m) => !taken.has(m) && m.to.includes(to));
        if (mail) {
          taken.add(mail);
          return mail;
        }
        if (Date.now() - started > timeoutMs) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token of the invitation link in a mail, and the link itself. */
export function linkOf(mail: SunkMail): { link: string; token: string } {
  const m = /(https?:\/\/\S+\/invite#token=([A-Za-z0-9_-]+))/.exec(mail.text);
  if (!m) throw new Error(`no invitation link in:\n${mail.text}`);
  return { link: m[1]!, token: m[2]! };
}
