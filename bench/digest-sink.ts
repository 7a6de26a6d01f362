/**
 * The SMTP sink of bench/digest.ts and bench/scale.ts, in a process of its own so that its CPU is
 * not the measured one's: `smtp-server` on 127.0.0.1 (no TLS, no auth, no reverse DNS lookup) that accepts
 * every message and discards it, counting messages, bytes and distinct Message-IDs (read from the
 * message's header, not parsed further) — the check that each digest arrived exactly once.
 *
 * Started with an IPC channel (child_process.fork): it sends `{type: 'ready', port}`; answers
 * `{type: 'stats'}` with ScaleSinkStats; `{type: 'reset'}` forgets everything counted (between
 * runs); `{type: 'stop'}` closes it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SinkStats } from './digest-lib.ts';

let messages = 0;
let bytes = 0;
let connections = 0;
let withoutId = 0;
let ids = new Set<string>();

const ID = /^Message-ID:[ \t]*<([^>\r\n]+)>/im;
const HEADER_LIMIT = 64 * 1024;

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
    let head = '';
    let headDone = false;
    stream.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (!headDone) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          head = head.slice(0, end);
          headDone = true;
        } else if (head.length > HEADER_LIMIT) headDone = true;
      }
    });
    stream.on('end', () => {
      messages++;
      bytes += n;
      // Header lines may be folded: unfold before matching.
      const id = ID.exec(head.replace(/\r\n[ \t]+/g, ' '))?.[1];
      if (id) ids.add(id);
      else withoutId++;
      callback(null);
    });
  },
});

server.on('error', (err) => process.stderr.write(`sink: ${err.message}\n`));

const send = (m: unknown) => process.send?.(m);

process.on('message', (m: { type?: string }) => {
  if (m.type === 'stats') {
    const u = process.cpuUsage();
    const s: SinkStats = { messages, distinct: ids.size, withoutId, bytes, connections, cpuSeconds: (u.user + u.system) / 1e6 };
    send({ type: 'stats', stats: s });
  } else if (m.type === 'reset') {
    messages = 0;
    bytes = 0;
    connections = 0;
    withoutId = 0;
    ids = new Set();
    send({ type: 'reset-done' });
  } else if (m.type === 'stop') {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.server.address() as AddressInfo).port }));
