// Stripe's error model: one error class carrying the HTTP status, the JSON body Stripe sends
// (`{ error: { type, code, decline_code, … } }`), extra headers, and whether the idempotency
// layer may save it (validation failures are never saved, per Stripe's idempotency docs).

/** Stripe's `error.type` values. */
export const StripeErrorType = {
  apiError: 'api_error',
  cardError: 'card_error',
  idempotencyError: 'idempotency_error',
  invalidRequestError: 'invalid_request_error',
} as const;
export type StripeErrorType = (typeof StripeErrorType)[keyof typeof StripeErrorType];

/** The body of Stripe's `error` object, as sent on the wire (absent fields are omitted). */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  advice_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  setup_intent?: unknown;
  request_log_url?: string;
}

/** Whether a failed request's response is stored under its idempotency key. */
export const Saved = { yes: true, no: false } as const;

/** A Stripe API error response, thrown by handlers and rendered by the server. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Stripe saves a result only once an endpoint started executing; validation failures are not saved. */
    readonly saveUnderIdempotencyKey: boolean = Saved.yes,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = 'StripeApiError';
  }

  /** The JSON Stripe sends for this error. */
  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

function docUrl(code: string | undefined): string | undefined {
  return code ? `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` : undefined;
}

/** 400 for a bad parameter: never saved under the idempotency key. */
export function invalidParam(
  message: string,
  param: string | undefined,
  code?: string,
): StripeApiError {
  return new StripeApiError(
    400,
    {
      type: StripeErrorType.invalidRequestError,
      message,
      ...(code ? { code, doc_url: docUrl(code) } : {}),
      ...(param ? { param } : {}),
    },
    Saved.no,
  );
}

/** 404 for an id that does not exist (`resource_missing`); not saved, nothing executed. */
export function resourceMissing(kind: string, id: string, param?: string): StripeApiError {
  return new StripeApiError(
    404,
    {
      type: StripeErrorType.invalidRequestError,
      code: 'resource_missing',
      doc_url: docUrl('resource_missing'),
      message: `No such ${kind}: '${id}'`,
      ...(param ? { param } : {}),
    },
    Saved.no,
  );
}

/** 400 `payment_intent_unexpected_state` (the endpoint ran, so it is saved like Stripe does). */
export function unexpectedState(
  message: string,
  paymentIntent: unknown,
  code = 'payment_intent_unexpected_state',
): StripeApiError {
  return new StripeApiError(400, {
    type: StripeErrorType.invalidRequestError,
    code,
    doc_url: docUrl(code),
    message,
    payment_intent: paymentIntent,
  });
}

/** 500 `api_error`, the shape Stripe uses for its own failures. */
export function internalError(): StripeApiError {
  return new StripeApiError(500, {
    type: StripeErrorType.apiError,
    message:
      'An unknown error occurred while processing your request (simulated). The request may or may not have been executed.',
  });
}

/** A card error (402) with Stripe's fields; `decline_code` / `advice_code` only where Stripe sets them. */
export function cardError(fields: {
  code: string;
  message: string;
  declineCode?: string;
  adviceCode?: string;
  param?: string;
  charge?: string;
  paymentIntent?: unknown;
  paymentMethod?: unknown;
  setupIntent?: unknown;
}): StripeApiError {
  return new StripeApiError(402, {
    type: StripeErrorType.cardError,
    code: fields.code,
    doc_url: docUrl(fields.code),
    message: fields.message,
    ...(fields.declineCode ? { decline_code: fields.declineCode } : {}),
    ...(fields.adviceCode ? { advice_code: fields.adviceCode } : {}),
    ...(fields.param ? { param: fields.param } : {}),
    ...(fields.charge ? { charge: fields.charge } : {}),
    ...(fields.paymentIntent ? { payment_intent: fields.paymentIntent } : {}),
    ...(fields.paymentMethod ? { payment_method: fields.paymentMethod } : {}),
    ...(fields.setupIntent ? { setup_intent: fields.setupIntent } : {}),
  });
}

/** A refused `/_sim/` control call (404 unknown object, 409 wrong state); the message says why. */
export class SimControlError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'SimControlError';
  }
}

/**
 * 400 `invalid_request_error` for a request the object's state refuses (over-refund, already
 * refunded, disputed): the endpoint ran, so the answer is saved under the idempotency key.
 */
export function refused(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: StripeErrorType.invalidRequestError,
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}
