// A local SMTP server for the email notifier's tests (smtp-server, on a free loopback port):
// records every accepted message, parsed just enough to assert on, and can refuse on demand.
import { SMTPServer, type SMTPServerError } from 'smtp-server';
import { freePort } from '../helpers/ports.js';

/** One message the server accepted. */
export interface ReceivedMail {
  envelopeFrom: string | undefined;
  envelopeTo: string[];
  headers: Map<string, string>;
  text: string;
  html: string;
}

/** The next DATA gets this reply instead of 250 (e.g. 451 transient, 550 permanent). */
export interface Refusal {
  code: number;
  message: string;
}

export interface SmtpFixture {
  url: string;
  received: ReceivedMail[];
  /** Refuse the next message with `refusal`. */
  refuseNext(refusal: Refusal): void;
  close(): Promise<void>;
}

/** Starts the server; close it in `afterAll`. No TLS and no AUTH: loopback only. */
export async function startSmtpServer(): Promise<SmtpFixture> {
  const received: ReceivedMail[] = [];
  const refusals: Refusal[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const refusal = refusals.shift();
        if (refusal) {
          const error: SMTPServerError = new Error(refusal.message);
          error.responseCode = refusal.code;
          callback(error);
          return;
        }
        const { envelope } = session;
        received.push({
          envelopeFrom: envelope.mailFrom ? envelope.mailFrom.address : undefined,
          envelopeTo: envelope.rcptTo.map((r) => r.address),
          ...parseMessage(Buffer.concat(chunks).toString('utf8')),
        });
        callback(null);
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuseNext: (refusal) => refusals.push(refusal),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Header block → lower-case name → unfolded value. */
function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch (encoding?.toLowerCase()) {
    case 'quoted-printable': {
      const bytes = body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    case 'base64':
      return Buffer.from(body, 'base64').toString('utf8');
    default:
      return body;
  }
}

/** Just enough MIME for a multipart/alternative message: headers, text part, HTML part. */
function parseMessage(raw: string): Pick<ReceivedMail, 'headers' | 'text' | 'html'> {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [body];
  const found = { text: '', html: '' };
  for (const part of parts) {
    const trimmed = part.replace(/^\r\n/, '');
    const at = trimmed.indexOf('\r\n\r\n');
    const partHeaders = boundary ? parseHeaders(trimmed.slice(0, at)) : headers;
    const content = decodeBody(
      (boundary ? trimmed.slice(at + 4) : trimmed).replace(/\r\n$/, ''),
      partHeaders.get('content-transfer-encoding'),
    );
    if (partHeaders.get('content-type')?.startsWith('text/html')) found.html = content;
    else if (partHeaders.get('content-type')?.startsWith('text/plain')) found.text = content;
  }
  return { headers, ...found };
}
