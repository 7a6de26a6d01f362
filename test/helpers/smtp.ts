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
  readonly received: Received[] = [];
  /** Decides per message: null accepts; a code rejects; 'drop' closes the connection after DATA. */
  fault: (to: string[], attempt: number) => Fault = () => null;
  /** Messages that reached DATA (accepted or not), per Message-ID. */
  readonly attempts = new Map<string, number>();
  private server!: SMTPServer;
  port = 0;

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
            const parsed = await simpleParser(raw);
            this.received.push({ raw, parsed, to, messageId: id });
            callback(null);
          })();
        });
      },
    });
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
