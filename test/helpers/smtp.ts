/**
 * A real SMTP server for tests (the `smtp-server` package on 127.0.0.1): it keeps every accepted
 * message (parsed back with mailparser), and can be told to answer a recipient or a message with an
 * error code, or to drop the connection after DATA, to test delivery under faults.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface Received {
  raw: string;
  parsed: ParsedMail;
  to: string[];
  /** The Message-ID header, without angle brackets. */
  messageId: string;
}

export type Fault = { code: number; message: string } | 'drop' | null;

export class SmtpSink {
  /** Accepted messages, parsed (unless the sink was made with `parse: false`). */
  readonly received: Received[] = [];
  /** Every accepted message's recipients and Message-ID, parsed or not. */
  readonly accepted: { to: string[]; messageId: string }[] = [];
  /** Decides per message: null accepts; a code rejects; 'drop' closes the connection after DATA. */
  fault: (to: string[], attempt: number) => Fault = () => null;
  /** Messages that reached DATA (accepted or not), per Message-ID. */
  readonly attempts = new Map<string, number>();
  private server!: SMTPServer;
  port = 0;

  /** `parse: false` keeps only `accepted` (parsing tens of thousands of messages costs more than sending them). */
  constructor(private readonly opts: { parse?: boolean } = {}) {}

  async start(): Promise<this> {
    this.server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onData: (stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          void (async () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const to = session.envelope.rcptTo.map((r) => r.address);
            const id = /^Message-ID:\s*<([^>]+)>/im.exec(raw)?.[1] ?? '';
            const n = (this.attempts.get(id) ?? 0) + 1;
            this.attempts.set(id, n);
            const f = this.fault(to, n);
            if (f === 'drop') {
              // Close this connection without a reply: the client cannot know whether it arrived.
              const conns = (this.server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
              for (const c of conns) if (c.id === session.id) c._socket.destroy();
              return;
            }
            if (f) {
              const err = Object.assign(new Error(f.message), { responseCode: f.code });
              callback(err);
              return;
            }
            this.accepted.push({ to, messageId: id });
            if (this.opts.parse !== false) this.received.push({ raw, parsed: await simpleParser(raw), to, messageId: id });
            callback(null);
          })();
        });
      },
    });
    this.server.on('error', () => {}); // a client killed mid-message resets its connection
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): Received[] {
    return this.received.filter((r) => r.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
