// Fake PaymentIntent activities for workflow tests on the time-skipping server: intents made per
// create key as Stripe makes them, scripted confirm outcomes, and settlement measured in the
// server's (virtual) time. They throw the same typed failures the real activities throw, so the
// workflow's branches are exercised. The fake can be wrong where Stripe cannot: it records every
// success, even a second one on one intent, so a workflow that charges twice shows 2.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FinalActionRequest } from '../../src/activities/final-action.js';
import type { BillingActivities } from '../../src/activities/index.js';
import type {
  CancelPaymentIntentInput,
  ConfirmPaymentIntentInput,
  CreatePaymentIntentInput,
} from '../../src/activities/payment-intents.js';
import { IntentStatus, type PaymentIntentSnapshot } from '../../src/shared/payment-intent.js';
import type { CustomerNotification } from '../../src/shared/notifications.js';
import { StripeFailureType, type StripeErrorInfo } from '../../src/shared/stripe-failures.js';

/** What one confirm does. */
export type ConfirmScript =
  | { kind: 'succeed' }
  | { kind: 'decline'; declineCode: string; adviceCode?: string }
  | { kind: 'requires_action' }
  /** Goes to `processing` and settles `after` ms of server time later. */
  | {
      kind: 'processing';
      settlesAfterMs: number;
      settlesTo: 'succeeded' | 'requires_payment_method';
    }
  /** A 5xx; `moved` says whether the confirm took effect before Stripe failed. */
  | { kind: 'ambiguous'; moved: boolean }
  /**
   * No response (connection errors, retried by Temporal with the same key) for every attempt
   * with the key of the first one, so only a new key gets through; the next step answers it.
   */
  | { kind: 'unreachable' };

/** A payment method Stripe refuses outright (400 on `payment_method`, e.g. detached). */
export const UNUSABLE_METHOD = 'pm_card_detached';

/** The activities chargeCustomer uses (the worker registers more, e.g. for webhooks). */
export type ChargeActivities = Pick<
  BillingActivities,
  | 'createPaymentIntent'
  | 'confirmPaymentIntent'
  | 'retrievePaymentIntent'
  | 'cancelPaymentIntent'
  | 'retrieveDefaultPaymentMethod'
  | 'retrievePaymentMethod'
  | 'notifyCustomer'
  | 'runFinalAction'
>;

export interface FakeStripe {
  activities: ChargeActivities;
  /** Every call, in order, with its idempotency key where it has one and the server time. */
  calls: {
    name: string;
    key?: string;
    paymentMethodId?: string | undefined;
    lookFirst?: CreatePaymentIntentInput['lookFirst'];
    searchFirst?: boolean | undefined;
    /** The run that sent it (a confirm or cancel key is scoped to it). */
    runId?: string | undefined;
    at: number;
  }[];
  /** Notifications sent (deduplicated by id, as a real notifier does). */
  notifications: (CustomerNotification & { at: number })[];
  /** Final actions run. */
  finalActions: FinalActionRequest[];
  /** What `retrieveDefaultPaymentMethod` answers. */
  defaultPaymentMethod: string | null;
  /**
   * Payment methods Stripe knows, and whose they are (`null`: attached to nobody). Stripe's
   * documented test ids (`pm_card_…`) exist unattached unless attached here; others are unknown.
   */
  paymentMethods: Map<string, string | null>;
  /** Attaches a method to a customer, as the customer would through Stripe. */
  attach(paymentMethodId: string, customerId: string): void;
  /** The intent made last (an order normally has one: `pi_fake_1`). */
  intent(): PaymentIntentSnapshot;
  /** Every intent made, in order of creation. */
  intents(): PaymentIntentSnapshot[];
  /** Changes the last intent as if the customer or bank did something outside the workflow. */
  setStatus(
    status: PaymentIntentSnapshot['status'],
    error?: PaymentIntentSnapshot['lastPaymentError'],
  ): void;
  /**
   * Every success, in order: a confirm that succeeded (under its key), a settlement, or a
   * status set to `succeeded` from outside. A second success is recorded too, on the same
   * intent (Stripe would refuse that confirm) or on a second intent of the order.
   */
  successes: { paymentIntentId: string; via: 'confirm' | 'settlement' | 'outside'; key?: string }[];
  /** Successful charges so far, `successes.length` (must never exceed 1). */
  charges(): number;
}

function failure(type: string, info: StripeErrorInfo): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message: `fake ${type}`,
    nonRetryable: true,
    details: [info],
  });
}

/** Server time of the current activity attempt (virtual on the time-skipping server). */
const serverNow = () => Context.current().info.currentAttemptScheduledTimestampMs;
const runIdNow = () => Context.current().info.workflowExecution?.runId;

/**
 * A call's key with its run scope taken out (`db/<workflowId>/confirm/<n>`), when the scope is
 * the run that sent it; any other key is returned unchanged, so a wrong scope shows in a diff.
 */
export function unscopedKey(call: { key?: string | undefined; runId?: string | undefined }) {
  return call.runId ? call.key?.replace(`/${call.runId}/`, '/') : call.key;
}

export interface FakeOptions {
  /** The first create fails with a 5xx; `created` says whether Stripe made the intent anyway. */
  createAmbiguous?: { created: boolean };
  /** Runs after a confirm changed the intent and before the activity returns (e.g. a racing webhook). */
  afterConfirm?: (fake: FakeStripe, workflowId: string) => Promise<void>;
}

export function createFakeStripe(script: ConfirmScript[], options: FakeOptions = {}): FakeStripe {
  const calls: FakeStripe['calls'] = [];
  const notifications: FakeStripe['notifications'] = [];
  const finalActions: FinalActionRequest[] = [];
  const successes: FakeStripe['successes'] = [];
  /** The intents Stripe holds, with what a look-up by workflow or order id reads. */
  const intents = new Map<
    string,
    { intent: PaymentIntentSnapshot; workflowId: string; orderId: string; createdMs: number }
  >();
  let lastId: string | undefined;
  const settlements = new Map<
    string,
    { at: number; to: 'succeeded' | 'requires_payment_method' }
  >();
  const keysSeen = new Map<string, PaymentIntentSnapshot>();
  const createKeys = new Map<string, string>();
  let unreachableKey: string | undefined;
  let chargeSeq = 0;

  const missing = () =>
    ApplicationFailure.create({
      type: StripeFailureType.invalidRequest,
      message: 'no intent',
      nonRetryable: true,
      details: [{ statusCode: 404, code: 'resource_missing' }],
    });
  const store = (next: PaymentIntentSnapshot): PaymentIntentSnapshot => {
    const held = intents.get(next.id);
    if (!held) throw missing();
    held.intent = next;
    return next;
  };

  /** An intent by id; inside an activity (`settle`), a due settlement is applied first. */
  const current = (id: string | undefined = lastId, settle = true): PaymentIntentSnapshot => {
    const held = id === undefined ? undefined : intents.get(id);
    if (!held) throw missing();
    const settlement = settlements.get(held.intent.id);
    if (settle && settlement && serverNow() >= settlement.at) {
      const intent = held.intent;
      store(
        settlement.to === 'succeeded'
          ? { ...intent, status: IntentStatus.succeeded, amountReceived: intent.amount }
          : {
              ...intent,
              status: IntentStatus.requiresPaymentMethod,
              lastPaymentError: {
                code: 'payment_intent_payment_attempt_failed',
                message: 'debit failed',
              },
            },
      );
      if (settlement.to === 'succeeded')
        successes.push({ paymentIntentId: intent.id, via: 'settlement' });
      settlements.delete(intent.id);
    }
    return held.intent;
  };

  /** Charges the intent, whatever its status: a second success is recorded, not refused. */
  const succeed = (id: string, key: string): PaymentIntentSnapshot => {
    const intent = current(id);
    successes.push({ paymentIntentId: id, via: 'confirm', key });
    return store({
      ...intent,
      status: IntentStatus.succeeded,
      amountReceived: intent.amountReceived + intent.amount,
      lastPaymentError: undefined,
    });
  };

  /** What the real activity's look-ups would find: by order id (search), by workflow id (list). */
  const lookUp = (input: CreatePaymentIntentInput): PaymentIntentSnapshot | undefined => {
    const held = [...intents.values()];
    const { lookFirst } = input;
    const sinceMs = lookFirst ? (lookFirst.createdSince ?? 0) * 1000 : 0;
    const found =
      (input.searchFirst ? held.find((h) => h.orderId === input.orderId) : undefined) ??
      (lookFirst === false
        ? undefined
        : held.find((h) => h.workflowId === input.workflowId && h.createdMs >= sinceMs));
    return found && current(found.intent.id);
  };

  const activities: ChargeActivities = {
    async createPaymentIntent(input: CreatePaymentIntentInput) {
      calls.push({
        name: 'create',
        key: input.idempotencyKey,
        lookFirst: input.lookFirst,
        searchFirst: input.searchFirst,
        at: serverNow(),
      });
      const ambiguous = options.createAmbiguous;
      options.createAmbiguous = undefined;
      if (ambiguous && !ambiguous.created)
        throw failure(StripeFailureType.ambiguous, { statusCode: 500 });
      // Like Stripe: a key seen before answers with its intent; a new key makes a new intent
      // unless the real activity's look-ups (search by order, list by workflow) would find one.
      const replayed = createKeys.get(input.idempotencyKey);
      const existing = replayed === undefined ? lookUp(input) : current(replayed);
      const intent =
        existing ??
        ({
          id: `pi_fake_${intents.size + 1}`,
          status: input.paymentMethodId
            ? IntentStatus.requiresConfirmation
            : IntentStatus.requiresPaymentMethod,
          amount: input.amount,
          amountReceived: 0,
          currency: input.currency,
          customerId: input.customerId,
          paymentMethodId: input.paymentMethodId,
        } satisfies PaymentIntentSnapshot);
      if (!existing) {
        intents.set(intent.id, {
          intent,
          workflowId: input.workflowId,
          orderId: input.orderId,
          createdMs: serverNow(),
        });
        lastId = intent.id;
      }
      createKeys.set(input.idempotencyKey, intent.id);
      if (ambiguous?.created) throw failure(StripeFailureType.ambiguous, { statusCode: 500 });
      return intent;
    },
    async confirmPaymentIntent(input: ConfirmPaymentIntentInput) {
      calls.push({
        name: 'confirm',
        key: input.idempotencyKey,
        paymentMethodId: input.paymentMethodId,
        runId: runIdNow(),
        at: serverNow(),
      });
      const replay = keysSeen.get(input.idempotencyKey);
      if (replay) return replay;
      if (input.paymentMethodId === UNUSABLE_METHOD) {
        throw failure(StripeFailureType.invalidRequest, {
          statusCode: 400,
          code: 'resource_missing',
          param: 'payment_method',
        });
      }
      const head = script[0];
      if (head?.kind === 'unreachable') {
        unreachableKey ??= input.idempotencyKey;
        if (input.idempotencyKey === unreachableKey) {
          throw ApplicationFailure.create({
            type: StripeFailureType.connection,
            message: 'fake: no response',
          });
        }
        script.shift();
      }
      const step = script.shift() ?? { kind: 'succeed' };
      const id = input.paymentIntentId;
      let intent = current(id);
      switch (step.kind) {
        case 'succeed':
          intent = succeed(id, input.idempotencyKey);
          break;
        case 'decline': {
          const lastPaymentError = {
            chargeId: `ch_fake_${++chargeSeq}`,
            code: 'card_declined',
            declineCode: step.declineCode,
            adviceCode: step.adviceCode,
            message: 'Your card was declined.',
          };
          intent = store({
            ...intent,
            status: IntentStatus.requiresPaymentMethod,
            lastPaymentError,
          });
          throw failure(StripeFailureType.declined, {
            statusCode: 402,
            ...lastPaymentError,
            paymentIntent: intent,
          });
        }
        case 'requires_action':
          intent = store({
            ...intent,
            status: IntentStatus.requiresAction,
            nextActionType: 'use_stripe_sdk',
          });
          break;
        case 'processing':
          intent = store({ ...intent, status: IntentStatus.processing });
          settlements.set(id, { at: serverNow() + step.settlesAfterMs, to: step.settlesTo });
          break;
        case 'ambiguous':
          if (step.moved) succeed(id, input.idempotencyKey);
          throw failure(StripeFailureType.ambiguous, { statusCode: 500, message: 'fake 500' });
      }
      const result = intent;
      keysSeen.set(input.idempotencyKey, result);
      await options.afterConfirm?.(
        fake,
        Context.current().info.workflowExecution?.workflowId ?? '',
      );
      return result;
    },
    async retrievePaymentIntent(id: string) {
      calls.push({ name: 'retrieve', at: serverNow() });
      return current(id);
    },
    async cancelPaymentIntent(input: CancelPaymentIntentInput) {
      calls.push({ name: 'cancel', key: input.idempotencyKey, runId: runIdNow(), at: serverNow() });
      const now = current(input.paymentIntentId);
      if (now.status === IntentStatus.succeeded || now.status === IntentStatus.processing) {
        throw failure(StripeFailureType.unexpectedState, {
          code: 'payment_intent_unexpected_state',
        });
      }
      return store({ ...now, status: IntentStatus.canceled });
    },
    async retrieveDefaultPaymentMethod() {
      calls.push({ name: 'defaultPaymentMethod', at: serverNow() });
      return fake.defaultPaymentMethod;
    },
    async retrievePaymentMethod(id: string) {
      calls.push({ name: 'retrievePaymentMethod', paymentMethodId: id, at: serverNow() });
      const owner = fake.paymentMethods.get(id);
      if (owner !== undefined) return { id, customerId: owner };
      return id.startsWith('pm_card_') ? { id, customerId: null } : null;
    },
    async notifyCustomer(n: CustomerNotification) {
      const duplicate = notifications.some((sent) => sent.id === n.id);
      if (!duplicate) notifications.push({ ...n, at: serverNow() });
      return { id: n.id, duplicate };
    },
    async runFinalAction(request: FinalActionRequest) {
      finalActions.push(request);
    },
  };

  const fake: FakeStripe = {
    activities,
    calls,
    notifications,
    finalActions,
    defaultPaymentMethod: null,
    paymentMethods: new Map(),
    attach(paymentMethodId, customerId) {
      fake.paymentMethods.set(paymentMethodId, customerId);
    },
    intent: () => current(lastId, false),
    intents: () => [...intents.values()].map((h) => h.intent),
    setStatus(status, error) {
      const intent = current(lastId, false);
      store({
        ...intent,
        status,
        lastPaymentError: error,
        ...(status === IntentStatus.succeeded && {
          amountReceived: intent.amountReceived + intent.amount,
        }),
      });
      if (status === IntentStatus.succeeded)
        successes.push({ paymentIntentId: intent.id, via: 'outside' });
    },
    successes,
    charges: () => successes.length,
  };
  return fake;
}
