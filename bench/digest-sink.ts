/**
 * The SMTP sink of bench/digest.ts, in a process of its own so its CPU is not in the measured one:
 * `smtp-server` on 127.0.0.1 (no TLS, no auth, no reverse DNS lookup) that accepts every message
 * and discards it, counting messages and bytes without parsing them.
 *
 * Started with an IPC channel (child_process.fork): it sends `{type: 'ready', port}`, answers
 * `{type: 'stats'}` with its counters and CPU seconds (SinkStats), and exits on `{type: 'stop'}`.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { cpuSeconds, type SinkStats } from './digest-lib.ts';

let messages = 0;
let bytes = 0;
let connections = 0;

const server = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  maxClients: 1000,
  onConnect(_session, callback) {
    connections++;
    callback();
  },
  onData(stream, _session, callback) {
    let n = 0;
    stream.on('data', (chunk: Buffer) => (n += chunk.length));
    stream.on('end', () => {
      messages++;
      bytes += n;
      callback(null);
    });
  },
});

server.on('error', (err) => process.stderr.write(`sink: ${err.message}\n`));

const send = (m: unknown) => process.send?.(m);

process.on('message', (m: { type?: string }) => {
  if (m.type === 'stats') {
    const s: SinkStats = { messages, bytes, connections, cpuSeconds: cpuSeconds() };
    send({ type: 'stats', stats: s });
  } else if (m.type === 'stop') {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.server.address() as AddressInfo).port }));
