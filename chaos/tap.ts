// A wire tap between the simulator's webhook deliveries and the receiver: it forwards every
// attempt unchanged and records, independently of both, whether its signature was valid (HMAC
// with the real secret, within Stripe's 300 s tolerance), what the receiver answered and when.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Stripe's signature tolerance. */
const TOLERANCE_S = 300;
/** Longer than the receiver's deadline; the simulator's own attempt timeout is 10 s. */
const FORWARD_TIMEOUT_MS = 9_500;

export const SignatureCheck = {
  valid: 'valid',
  wrongSecret: 'wrong_secret',
  stale: 'stale',
  future: 'future',
  missing: 'missing',
  malformed: 'malformed',
} as const;
export type SignatureCheck = (typeof SignatureCheck)[keyof typeof SignatureCheck];

/** One delivery attempt as it crossed the wire. */
export interface TapRecord {
  eventId: string | undefined;
  type: string | undefined;
  /** Sent by the chaos driver (an event Stripe never emitted), not by the simulator. */
  injected: boolean;
  signature: SignatureCheck;
  /** The receiver's HTTP status, or the network error. */
  status: number | string;
  /** The receiver's account of where the event went (`workflow`, `closed`, `unmatched`). */
  delivery: string | undefined;
  workflowIds: string[];
  /** Wall-clock ms when the receiver's answer arrived. */
  answeredAt: number;
  thin: boolean;
  strippedMetadata: boolean;
}

/** Checks a `Stripe-Signature` header the way Stripe's libraries do. */
export function checkSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  nowMs: number,
): SignatureCheck {
  if (header === undefined || header === '') return SignatureCheck.missing;
  const parts = header.split(',').map((p) => p.split('=', 2) as [string, string | undefined]);
  const timestamp = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(timestamp) || signatures.length === 0) return SignatureCheck.malformed;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest();
  const matches = signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return SignatureCheck.wrongSecret;
  const age = Math.floor(nowMs / 1000) - timestamp;
  if (age > TOLERANCE_S) return SignatureCheck.stale;
  if (-age > TOLERANCE_S) return SignatureCheck.future;
  return SignatureCheck.valid;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface ParsedBody {
  id?: unknown;
  type?: unknown;
  data?: { object?: Record<string, unknown> };
}

function describeBody(
  rawBody: string,
): Pick<TapRecord, 'eventId' | 'type' | 'thin' | 'strippedMetadata'> {
  let parsed: ParsedBody;
  try {
    parsed = JSON.parse(rawBody) as ParsedBody;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { eventId: undefined, type: undefined, thin: false, strippedMetadata: false };
  }
  const object = parsed.data?.object ?? {};
  const metadata = object.metadata;
  return {
    eventId: typeof parsed.id === 'string' ? parsed.id : undefined,
    type: typeof parsed.type === 'string' ? parsed.type : undefined,
    thin: Object.keys(object).length <= 2,
    strippedMetadata:
      typeof metadata === 'object' && metadata !== null && Object.keys(metadata).length === 0,
  };
}

export interface WebhookTap {
  /** Give this to the simulator as its webhook URL. */
  url: string;
  records: TapRecord[];
  /** Sends a body the driver made (a forgery) to the receiver, recorded as injected. */
  inject(rawBody: string, signatureHeader: string | undefined): Promise<TapRecord>;
  close(): Promise<void>;
}

/** Starts a tap forwarding to `receiverUrl`, checking signatures against `secret`. */
export async function startWebhookTap(receiverUrl: string, secret: string): Promise<WebhookTap> {
  const records: TapRecord[] = [];

  async function forward(
    rawBody: string,
    signature: string | undefined,
    injected: boolean,
  ): Promise<{ record: TapRecord; body: string }> {
    const check = checkSignature(rawBody, signature, secret, Date.now());
    let status: number | string;
    let body = '';
    try {
      const response = await fetch(receiverUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          ...(signature !== undefined && { 'stripe-signature': signature }),
        },
        body: rawBody,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
      body = await response.text();
      status = response.status;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      status = cause?.code ?? (error instanceof Error ? error.name : String(error));
    }
    let claim: { delivery?: unknown; workflowIds?: unknown } = {};
    if (typeof status === 'number' && status < 300) {
      try {
        claim = JSON.parse(body) as typeof claim;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
    }
    const record: TapRecord = {
      ...describeBody(rawBody),
      injected,
      signature: check,
      status,
      delivery: typeof claim.delivery === 'string' ? claim.delivery : undefined,
      workflowIds: Array.isArray(claim.workflowIds)
        ? claim.workflowIds.filter((id): id is string => typeof id === 'string')
        : [],
      answeredAt: Date.now(),
    };
    records.push(record);
    return { record, body };
  }

  const server: Server = createServer((req, res) => {
    readBody(req)
      .then(async (rawBody) => {
        const header = req.headers['stripe-signature'];
        const { record, body } = await forward(
          rawBody,
          typeof header === 'string' ? header : undefined,
          false,
        );
        res
          .writeHead(typeof record.status === 'number' ? record.status : 502, {
            'content-type': 'application/json',
          })
          .end(body);
      })
      .catch((error: unknown) => {
        process.stderr.write(`[chaos tap] ${String(error)}\n`);
        if (!res.headersSent) res.writeHead(502).end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    records,
    inject: async (rawBody, signatureHeader) =>
      (await forward(rawBody, signatureHeader, true)).record,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
