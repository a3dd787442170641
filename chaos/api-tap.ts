// A wire tap between the workers' stripe-node and the simulator: it forwards every API request
// unchanged (a connection the simulator drops is dropped downstream too) and records, for each
// PaymentIntent create, confirm and cancel, the payment method it named and what came back. The
// checker reads it to prove that no request from a forged signal reached Stripe; the adversary
// uses its hooks to act at a precise moment (a create in flight, a confirm being retried).
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

const PAYMENT_INTENTS = /^\/v1\/payment_intents(?:\/([^/?]+)(?:\/(confirm|cancel))?)?$/;

/** One mutating PaymentIntent request as it crossed the wire. */
export interface ApiTapRecord {
  /** Wall-clock ms when the request arrived. */
  at: number;
  operation: 'create' | 'confirm' | 'cancel';
  /** The `Idempotency-Key` header (run-scoped for confirms and cancels: it names the run). */
  idempotencyKey: string | undefined;
  /** The `payment_method` form parameter, as sent (a test id such as `pm_card_visa`, or an object id). */
  paymentMethod: string | undefined;
  /** The order: `metadata[order_id]` of a create, else the order of the intent in the path. */
  orderId: string | undefined;
  paymentIntentId: string | undefined;
  /**
   * The simulator's HTTP status, or the network error when it dropped the connection; `reset by
   * the tap` for a create the tap refused because its search came before a clock jump.
   */
  status: number | string;
}

/** What a hook sees of a request: enough to decide, nothing to change. */
export interface ApiTapRequest {
  operation: ApiTapRecord['operation'];
  orderId: string | undefined;
  paymentIntentId: string | undefined;
}

export interface ApiTap {
  /** Give this to the workers as `STRIPE_API_BASE`. */
  url: string;
  records: ApiTapRecord[];
  /** Requests forwarded in all (every method and path). */
  forwarded(): number;
  /** The order's intent, once a create or a read of it has passed the tap. */
  intentOf(orderId: string): string | undefined;
  /**
   * Runs `hook` when a PaymentIntent request of `orderId` arrives, before it is forwarded (the
   * request waits for the hook: a create held in flight); `answered` runs once Stripe answered
   * it, before the answer goes back (a fault rule added there is in place for the next request).
   */
  /**
   * Holds new creates and waits until none is in flight (at most 30 s); the returned function
   * marks a clock jump and lets them go. From then on a create whose order was last searched
   * before the jump is reset unforwarded (see `startApiTap`).
   */
  quiesce(): Promise<() => void>;
  watch(
    orderId: string,
    hook: {
      arrived?: (request: ApiTapRequest) => Promise<void> | void;
      answered?: (request: ApiTapRequest, status: number | string, body: unknown) => void;
    },
  ): () => void;
  close(): Promise<void>;
}

/** Headers that describe one hop, not the request. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'host',
  'proxy-connection',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** `{id, metadata.order_id}` of a PaymentIntent in an answer (also inside a 402's error). */
function intentIn(body: unknown): { id: string; orderId: string | undefined } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as {
    object?: unknown;
    id?: unknown;
    metadata?: { order_id?: unknown };
    error?: { payment_intent?: unknown };
  };
  if (b.object === 'payment_intent' && typeof b.id === 'string')
    return {
      id: b.id,
      orderId: typeof b.metadata?.order_id === 'string' ? b.metadata.order_id : undefined,
    };
  return b.error?.payment_intent ? intentIn(b.error.payment_intent) : undefined;
}

/** The order a search pins (`metadata['order_id']:'…'`), if any. */
function searchedOrder(url: string): string | undefined {
  const query = new URL(url, 'http://tap').searchParams.get('query') ?? '';
  const match = /metadata\['order_id'\]:'((?:[^'\\]|\\.)*)'/.exec(query);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/** How long a refund key without an answer is expected back: past Temporal's longest backoff. */
const REFUND_RETRY_WINDOW_MS = 90_000;

/**
 * Starts a tap forwarding to the simulator at `upstreamUrl`.
 *
 * A Stripe clock jump stands for a day passing, but Temporal's clock does not move: an activity
 * attempt that searched for its order's intent before the jump and creates after it would see its
 * key pruned within seconds, which no deployment can (keys live 24 h, the create activity's
 * retries stop after an hour). So around a jump the tap lets no create straddle it: creates in
 * flight finish first, and a create whose order's last search came before the jump is reset
 * unforwarded (nothing executed: the activity retries, searches again and finds what exists).
 * Refund creates likewise: a jump waits for those in flight, and for every refund key whose last
 * attempt got no definitive answer (dropped, reset, 409, 429, 5xx) to get one: Temporal retries it
 * with the same key within seconds, where Stripe, a day later in the simulator, would run it
 * afresh: a second refund no deployment could make.
 */
export async function startApiTap(upstreamUrl: string): Promise<ApiTap> {
  const upstream = new URL(upstreamUrl);
  const records: ApiTapRecord[] = [];
  const orderOfIntent = new Map<string, string>();
  const intentOfOrder = new Map<string, string>();
  const hooks = new Map<string, Set<Parameters<ApiTap['watch']>[1]>>();
  let forwarded = 0;
  const lastSearchAt = new Map<string, number>();
  let lastJumpAt = 0;
  let createsInFlight = 0;
  let gate: Promise<void> | undefined;
  /**
   * Refund-create keys whose last attempt got no definitive answer, and when: a retry with the
   * key comes within seconds (Temporal's backoff reaches a minute), unless the workflow moved on.
   */
  const unansweredRefundKeys = new Map<string, number>();
  const awaitingRetry = () => {
    for (const [key, at] of unansweredRefundKeys)
      if (Date.now() - at > REFUND_RETRY_WINDOW_MS) unansweredRefundKeys.delete(key);
    return unansweredRefundKeys.size;
  };

  const learn = (body: unknown) => {
    for (const item of Array.isArray((body as { data?: unknown })?.data)
      ? ((body as { data: unknown[] }).data ?? [])
      : [body]) {
      const intent = intentIn(item);
      if (!intent?.orderId) continue;
      orderOfIntent.set(intent.id, intent.orderId);
      if (!intentOfOrder.has(intent.orderId)) intentOfOrder.set(intent.orderId, intent.id);
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const match = req.method === 'POST' ? PAYMENT_INTENTS.exec(path) : null;
        let record: ApiTapRecord | undefined;
        let seen: ApiTapRequest | undefined;
        if (match && path !== '/v1/payment_intents/search') {
          const form = new URLSearchParams(body.toString('utf8'));
          const paymentIntentId = match[1];
          // POST /v1/payment_intents creates; …/:id/confirm and …/:id/cancel; …/:id alone updates.
          const operation = (match[2] ?? (paymentIntentId === undefined ? 'create' : undefined)) as
            ApiTapRecord['operation'] | undefined;
          if (operation !== undefined) {
            const orderId =
              operation === 'create'
                ? (form.get('metadata[order_id]') ?? undefined)
                : paymentIntentId && orderOfIntent.get(paymentIntentId);
            const key = req.headers['idempotency-key'];
            record = {
              at: Date.now(),
              operation,
              idempotencyKey: typeof key === 'string' ? key : undefined,
              paymentMethod: form.get('payment_method') ?? undefined,
              orderId: orderId || undefined,
              paymentIntentId,
              status: 'pending',
            };
            records.push(record);
            seen = { operation, orderId: record.orderId, paymentIntentId };
            for (const hook of hooks.get(record.orderId ?? '') ?? []) await hook.arrived?.(seen);
          }
        }
        const searched = req.method === 'GET' && path === '/v1/payment_intents/search';
        const searchOrder = searched ? searchedOrder(req.url ?? '') : undefined;
        if (searchOrder !== undefined) lastSearchAt.set(searchOrder, Date.now());
        const refundKey =
          req.method === 'POST' && path === '/v1/refunds'
            ? String(req.headers['idempotency-key'] ?? '')
            : undefined;
        const unanswered = (answered: boolean) => {
          if (refundKey === undefined) return;
          if (answered) unansweredRefundKeys.delete(refundKey);
          else unansweredRefundKeys.set(refundKey, Date.now());
        };
        const creating = record?.operation === 'create' || refundKey !== undefined;
        if (creating) {
          // Held while a clock jump waits for the creates in flight (they are not counted).
          // A retry of a refund key that got no answer is what a jump waits for: it goes through.
          while (gate && !(refundKey !== undefined && unansweredRefundKeys.has(refundKey)))
            await gate;
          createsInFlight++;
        }
        let settled = !creating;
        const settle = () => {
          if (!settled) createsInFlight--;
          settled = true;
        };
        if (
          creating &&
          record?.orderId !== undefined &&
          (lastSearchAt.get(record.orderId) ?? Infinity) < lastJumpAt
        ) {
          record.status = 'reset by the tap';
          settle();
          res.destroy();
          return;
        }
        forwarded++;
        const forward = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            // One connection per request: a kept-alive socket the simulator closed would add
            // resets of the tap's own, which the seed does not replay.
            headers: {
              ...endToEnd(req.headers),
              connection: 'close',
              'content-length': body.length,
            },
            agent: false,
          },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => parts.push(chunk));
            answer.on('error', () => {
              if (record) record.status = 'reset';
              unanswered(false);
              settle();
              res.destroy();
            });
            answer.on('end', () => {
              settle();
              if (!answer.complete) {
                if (record) record.status = 'reset';
                unanswered(false);
                res.destroy();
                return;
              }
              const text = Buffer.concat(parts);
              const status = answer.statusCode ?? 502;
              // 409 and 429 ran nothing: Stripe asks for the same request again, and it comes.
              unanswered(status < 500 && status !== 409 && status !== 429);
              const json = path.startsWith('/v1/payment_intents')
                ? parseJson(text.toString('utf8'))
                : undefined;
              if (json !== undefined) learn(json);
              if (record) {
                record.status = status;
                if (record.operation === 'create') record.paymentIntentId = intentIn(json)?.id;
                for (const hook of hooks.get(record.orderId ?? '') ?? [])
                  hook.answered?.(
                    { ...seen!, paymentIntentId: record.paymentIntentId },
                    status,
                    json,
                  );
              }
              res.writeHead(status, { ...endToEnd(answer.headers), 'content-length': text.length });
              res.end(text);
            });
          },
        );
        forward.on('error', (error: NodeJS.ErrnoException) => {
          // The simulator dropped the connection (a drop fault): so does the tap.
          if (record) record.status = error.code ?? error.message;
          unanswered(false);
          settle();
          res.destroy();
        });
        forward.end(body);
      })().catch((error: unknown) => {
        process.stderr.write(`[chaos api tap] ${String(error)}\n`);
        res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    forwarded: () => forwarded,
    intentOf: (orderId) => intentOfOrder.get(orderId),
    async quiesce() {
      let open = () => undefined as void;
      gate = new Promise<void>((resolve) => (open = resolve));
      const deadline = Date.now() + 30_000;
      while ((createsInFlight > 0 || awaitingRetry() > 0) && Date.now() < deadline) await delay(20);
      return () => {
        lastJumpAt = Date.now();
        gate = undefined;
        open();
      };
    },
    watch(orderId, hook) {
      const set = hooks.get(orderId) ?? new Set();
      set.add(hook);
      hooks.set(orderId, set);
      return () => set.delete(hook);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
