// The HTTP pipeline for Stripe API requests, in the order Stripe's own layers act: auth →
// injected "network" faults → route → idempotency (replay / mismatch / in use) → latency →
// execute → save the response under the key → injected post-execution faults → log → respond.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StripeApiError, StripeErrorType, internalError, invalidParam } from './errors.js';
import type { FaultBook, FaultRule } from './faults.js';
import { FaultKind } from './faults.js';
import { parseForm, type FormObject } from './form.js';
import {
  IDEMPOTENCY_KEY_MAX_LENGTH,
  requestFingerprint,
  type IdempotencyStore,
  type SavedResponse,
} from './idempotency.js';
import type { IdGenerator } from './random.js';
import { requestSubject, type RequestLog } from './request-log.js';
import type { Router, SimContext } from './router.js';
import { SIM_API_VERSION } from './store.js';

/** What the API pipeline needs from the simulator. */
export interface ApiPipeline {
  context: SimContext;
  ids: IdGenerator;
  router: Router;
  faults: FaultBook;
  idempotency: IdempotencyStore;
  /** Where every request and its answer are recorded. */
  requests: RequestLog;
  /** Settles whatever is due on the simulated clock before a request is served. */
  tick(): void;
  /** A real-time wait that `close()` cuts short. */
  sleep(ms: number): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function json(body: unknown): string {
  return `${JSON.stringify(body, null, 2)}\n`;
}

function errorReply(error: StripeApiError): Reply {
  return { status: error.status, body: json(error.toJSON()), headers: error.headers };
}

function send(res: ServerResponse, reply: Reply, base: Record<string, string>): void {
  res.writeHead(reply.status, {
    ...base,
    ...reply.headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(reply.body)),
  });
  res.end(reply.body);
}

/** Drops the connection without a response (what a client sees as ECONNRESET). */
function drop(req: IncomingMessage, res: ServerResponse): void {
  res.socket?.destroy();
  req.socket.destroy();
}

function apiKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic)
    return Buffer.from(basic[1] ?? '', 'base64')
      .toString('utf8')
      .split(':')[0];
  return undefined;
}

const retryable = { 'Stripe-Should-Retry': 'true' };

function faultReply(
  kind: FaultRule['kind'],
  idempotencyKey: string | undefined,
): Reply | undefined {
  switch (kind) {
    case FaultKind.rateLimit429:
      return errorReply(
        new StripeApiError(
          429,
          {
            type: StripeErrorType.invalidRequestError,
            code: 'rate_limit',
            message:
              'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
          },
          false,
          retryable,
        ),
      );
    case FaultKind.lockTimeout409:
      return errorReply(
        new StripeApiError(
          409,
          {
            type: StripeErrorType.invalidRequestError,
            code: 'lock_timeout',
            message:
              'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.',
          },
          false,
          retryable,
        ),
      );
    case FaultKind.idempotencyKeyInUse:
      return errorReply(keyInUse(idempotencyKey ?? ''));
    default:
      return undefined;
  }
}

function keyInUse(key: string): StripeApiError {
  return new StripeApiError(
    409,
    {
      type: StripeErrorType.invalidRequestError,
      code: 'idempotency_key_in_use',
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
    },
    false,
    retryable,
  );
}

/** How one request was answered, for the response and the request log. */
interface Outcome {
  /** Undefined when the connection is dropped before anything ran. */
  reply: Reply | undefined;
  executed: boolean;
  replayed: boolean;
  dropped: boolean;
  faults: FaultKind[];
  params: FormObject | undefined;
}

/** What serveApi knows about a request before answering it. */
interface Received {
  method: string;
  url: URL;
  requestId: string;
  idempotencyKey: string | undefined;
}

/** Serves one Stripe API request (`body` is the raw body) and records it in the request log. */
export async function serveApi(
  pipeline: ApiPipeline,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = (req.method ?? 'GET').toUpperCase();
  const requestId = pipeline.ids.next('req', 14);
  const idempotencyKey =
    typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
  const base: Record<string, string> = {
    'Request-Id': requestId,
    'Stripe-Version':
      typeof req.headers['stripe-version'] === 'string'
        ? req.headers['stripe-version']
        : SIM_API_VERSION,
    ...(idempotencyKey !== undefined ? { 'Idempotency-Key': idempotencyKey } : {}),
  };
  const at = pipeline.context.clock.now();
  pipeline.tick();

  const outcome = await respond(pipeline, req, { method, url, requestId, idempotencyKey }, body);
  // Recorded before answering, so a client that has its response finds the entry.
  pipeline.requests.record({
    at,
    method,
    path: url.pathname,
    requestId,
    idempotencyKey: idempotencyKey ?? null,
    replayed: outcome.replayed,
    executed: outcome.executed,
    status: outcome.reply?.status ?? null,
    ...(outcome.dropped ? { dropped: true } : {}),
    ...(outcome.faults.length > 0 ? { faults: outcome.faults } : {}),
    ...requestSubject(
      pipeline.context.store,
      method,
      url.pathname,
      outcome.params,
      outcome.reply?.body,
    ),
  });
  if (outcome.dropped || !outcome.reply) return drop(req, res);
  send(res, outcome.reply, base);
}

/** Runs a request through auth, faults, routing, idempotency and the handler; sends nothing. */
async function respond(
  pipeline: ApiPipeline,
  req: IncomingMessage,
  { method, url, requestId, idempotencyKey }: Received,
  body: string,
): Promise<Outcome> {
  const unexecuted: Omit<Outcome, 'reply'> = {
    executed: false,
    replayed: false,
    dropped: false,
    faults: [],
    params: undefined,
  };
  const apiKey = apiKeyOf(req);
  if (apiKey === undefined || !/^(sk|rk)_/.test(apiKey)) {
    const message =
      apiKey === undefined
        ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        : `Invalid API Key provided: ${apiKey.slice(0, 8)}****`;
    return {
      ...unexecuted,
      reply: errorReply(
        new StripeApiError(401, { type: StripeErrorType.invalidRequestError, message }, false),
      ),
    };
  }

  const params = parseForm(method === 'POST' ? body : url.search.slice(1));
  const faults = pipeline.faults.take({ method, path: url.pathname });
  const has = (kind: FaultRule['kind']) => faults.find((f) => f.kind === kind);
  const early = { ...unexecuted, params, faults: faults.map((f) => f.kind) };
  if (has(FaultKind.dropBefore)) return { ...early, reply: undefined, dropped: true };
  for (const fault of faults) {
    const reply = faultReply(fault.kind, idempotencyKey);
    if (reply) return { ...early, reply };
  }

  const match = pipeline.router.match(method, url.pathname);
  if (!match) {
    const message = `Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;
    return {
      ...early,
      reply: errorReply(
        new StripeApiError(404, { type: StripeErrorType.invalidRequestError, message }, false),
      ),
    };
  }

  // Stripe honours keys on POST only; GET and DELETE are idempotent by definition.
  let finish: ((response: SavedResponse | undefined) => void) | undefined;
  if (method === 'POST' && idempotencyKey !== undefined) {
    if (idempotencyKey.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      return {
        ...early,
        reply: errorReply(
          invalidParam(
            `Invalid idempotency key: must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`,
            undefined,
          ),
        ),
      };
    }
    const scope =
      typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : apiKey;
    const lookup = pipeline.idempotency.begin(
      scope,
      idempotencyKey,
      requestFingerprint(method, url.pathname, params),
    );
    switch (lookup.kind) {
      case 'replay':
        return {
          ...early,
          replayed: true,
          dropped: has(FaultKind.dropAfter) !== undefined,
          reply: {
            status: lookup.response.status,
            body: lookup.response.body,
            headers: {
              'Idempotent-Replayed': 'true',
              'Original-Request': lookup.response.requestId,
            },
          },
        };
      case 'mismatch':
        return {
          ...early,
          reply: errorReply(
            new StripeApiError(
              400,
              {
                type: StripeErrorType.idempotencyError,
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              },
              false,
            ),
          ),
        };
      case 'in_use':
        return { ...early, reply: errorReply(keyInUse(idempotencyKey)) };
      case 'fresh':
        finish = lookup.finish;
    }
  }

  let reply: Reply;
  let save = true;
  let executed = false;
  try {
    const latency = has(FaultKind.latency);
    if (latency) await pipeline.sleep(latency.latencyMs ?? 0);
    if (has(FaultKind.error500Before)) {
      reply = errorReply(internalError());
    } else {
      executed = true;
      try {
        const result = match.route.handler(
          {
            method,
            path: url.pathname,
            pathParams: match.pathParams,
            params,
            origin: { requestId, idempotencyKey },
          },
          pipeline.context,
        );
        reply = { status: result.status, body: json(result.body), headers: {} };
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        reply = errorReply(error);
        save = error.saveUnderIdempotencyKey;
      }
      // The side effect has happened; the client is told 500 and the key keeps that 500.
      if (has(FaultKind.error500After) && save) {
        reply = errorReply(internalError());
        save = true;
      }
    }
  } catch (error) {
    // A simulator bug: answer like Stripe's 500 but keep the key free, and say what broke.
    process.stderr.write(
      `[stripe-sim] ${method} ${url.pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    reply = errorReply(internalError());
    save = false;
  }
  finish?.(save ? { status: reply.status, body: reply.body, requestId } : undefined);
  return { ...early, executed, reply, dropped: has(FaultKind.dropAfter) !== undefined };
}
