// The standalone receiver on node:http: `POST /webhooks/stripe` (raw body, size-limited, handed
// to the framework-agnostic handler), `GET /healthz` and `GET /metrics`. node:http because the
// receiver needs the exact body bytes and three routes; a framework adds body parsers to undo.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookLogger, WebhookRequest, WebhookResponse } from './handler.js';
import { declaredLength, readBody } from './body.js';
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
  /**
   * Larger bodies get 413 and `Connection: close`: at once, unread and without `100 Continue`,
   * when `Content-Length` declares more; a chunked body as soon as it grows past the limit.
   */
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
  /**
   * Answers 413 and lets node close the connection once the answer is flushed (`Connection:
   * close`): the client reads it, and the rest of the body, however long, is neither buffered
   * nor waited for.
   */
  function refuseTooLarge(
    res: ServerResponse,
    started: number,
    size: { contentLength: number } | { received: number },
  ): void {
    metrics?.received();
    metrics?.rejected(RejectionReason.bodyTooLarge);
    metrics?.answered(413, (performance.now() - started) / 1000);
    logger?.warn({ reason: RejectionReason.bodyTooLarge, ...size }, 'webhook rejected');
    sendJson(
      res,
      413,
      { error: RejectionReason.bodyTooLarge, message: `the limit is ${bodyLimitBytes} bytes` },
      { connection: 'close' },
    );
  }

  /** `expectsContinue`: the client waits for `100 Continue` before it sends the body. */
  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    expectsContinue: boolean,
  ): Promise<void> {
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
    const contentLength = declaredLength(req);
    if (contentLength !== undefined && contentLength > bodyLimitBytes)
      return refuseTooLarge(res, started, { contentLength });
    // Only now: a final answer without it (the 413 above, 404, 405) says the body is not
    // wanted, and node closes the connection after that answer (RFC 9110, 10.1.1).
    if (expectsContinue) res.writeContinue();
    const body = await readBody(req, bodyLimitBytes);
    if ('aborted' in body) {
      res.destroy();
      return;
    }
    if (!body.ok) return refuseTooLarge(res, started, { received: body.received });
    send(res, await handler({ rawBody: body.body, headers: req.headers }));
  }

  // Requests still being handled, also those whose client went away: close() waits for them,
  // so no Temporal call outlives the receiver (and its client connection).
  const inFlight = new Set<Promise<void>>();
  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const handled = serve(req, res, expectsContinue).catch((error: unknown) => {
      // Only a bug lands here (the handler answers every Temporal failure itself).
      if (logger) logger.error({ err: error }, 'webhook receiver: unexpected error');
      else console.error('webhook receiver: unexpected error', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  };
  const server = createServer((req, res) => onRequest(req, res, false));
  // With a listener here node no longer answers `Expect: 100-continue` by itself, so serve()
  // decides: 100 for a body it will read, a final answer (413) for one it refuses.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
    onRequest(req, res, true),
  );
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
