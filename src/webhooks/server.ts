// The standalone receiver on node:http: `POST /webhooks/stripe` (raw body, size-limited, handed
// to the framework-agnostic handler), `GET /healthz` and `GET /metrics`. node:http because the
// receiver needs the exact body bytes and three routes; a framework adds body parsers to undo.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookLogger, WebhookRequest, WebhookResponse } from './handler.js';
import type { ReceiverMetrics } from './metrics.js';
import { RejectionReason } from './verify.js';

/** The path Stripe posts to (configure it in the Dashboard or `stripe listen --forward-to`). */
export const WEBHOOK_PATH = '/webhooks/stripe';
export const HEALTH_PATH = '/healthz';
/** Prometheus exposition of the receiver's metrics (when the server has them). */
export const METRICS_PATH = '/metrics';

export interface WebhookServerOptions {
  handler: (request: WebhookRequest) => Promise<WebhookResponse>;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Bodies above this get 413 without being buffered. */
  bodyLimitBytes: number;
  /** A request (headers and body) must arrive within this; default 30 s. */
  requestTimeoutMs?: number;
  /** Served at `GET /metrics`; also counts the bodies refused here (413) before the handler. */
  metrics?: ReceiverMetrics;
  /** Unexpected errors, and each request at debug level (headers pass the logger's redaction). */
  logger?: WebhookLogger;
}

export interface WebhookServer {
  /** e.g. `http://127.0.0.1:3000` */
  url: string;
  /** e.g. `http://127.0.0.1:3000/webhooks/stripe` */
  webhookUrl: string;
  port: number;
  server: Server;
  /** Stops accepting, then waits for the requests being handled, also those whose client went away. */
  close(): Promise<void>;
}

/** Drained, not buffered, beyond the limit (so the client reads its 413); past this we hang up. */
const DRAIN_FACTOR = 8;

type Body =
  | { ok: true; body: Buffer }
  | { ok: false; size: number }
  /** The client went away or sent broken framing: nothing to answer. */
  | { ok: false; aborted: true };

/** Reads the body up to `limit` bytes; a larger one is drained (up to a bound) and reported. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * DRAIN_FACTOR) {
        resolve({ ok: false, size });
        req.destroy();
      }
    });
    req.on('end', () =>
      resolve(size <= limit ? { ok: true, body: Buffer.concat(chunks) } : { ok: false, size }),
    );
    req.on('error', () => resolve({ ok: false, aborted: true }));
  });
}

function send(res: ServerResponse, response: WebhookResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extra });
  res.end(JSON.stringify(body));
}

/** Starts the receiver; resolves once it listens. */
export async function startWebhookServer({
  handler,
  host = '127.0.0.1',
  port,
  bodyLimitBytes,
  requestTimeoutMs = 30_000,
  metrics,
  logger,
}: WebhookServerOptions): Promise<WebhookServer> {
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    logger?.debug?.({ req: { method: req.method, path, headers: req.headers } }, 'request');
    if (path === METRICS_PATH && metrics) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
      const { contentType, body } = await metrics.scrape();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (path === HEALTH_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
      return sendJson(res, 200, { ok: true });
    }
    if (path !== WEBHOOK_PATH) return sendJson(res, 404, { error: 'not_found' });
    if (req.method !== 'POST')
      return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
    const started = performance.now();
    const body = await readBody(req, bodyLimitBytes);
    if ('aborted' in body) {
      res.destroy();
      return;
    }
    if (!body.ok) {
      metrics?.received();
      metrics?.rejected(RejectionReason.bodyTooLarge);
      metrics?.answered(413, (performance.now() - started) / 1000);
      logger?.warn({ reason: RejectionReason.bodyTooLarge, size: body.size }, 'webhook rejected');
      return sendJson(
        res,
        413,
        { error: 'body_too_large', message: `the limit is ${bodyLimitBytes} bytes` },
        { connection: 'close' },
      );
    }
    send(res, await handler({ rawBody: body.body, headers: req.headers }));
  }

  // Requests still being handled, also those whose client went away: close() waits for them,
  // so no Temporal call outlives the receiver (and its client connection).
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handled = serve(req, res).catch((error: unknown) => {
      // Only a bug lands here (the handler answers every Temporal failure itself).
      if (logger) logger.error({ err: error }, 'webhook receiver: unexpected error');
      else console.error('webhook receiver: unexpected error', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  });
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(10_000, requestTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    url,
    webhookUrl: `${url}${WEBHOOK_PATH}`,
    port: address.port,
    server,
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      await Promise.allSettled(inFlight);
    },
  };
}
