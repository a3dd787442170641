// Fake PaymentIntent activities for workflow tests on the time-skipping server: one intent,
// scripted confirm outcomes, and settlement measured in the server's (virtual) time. They throw
// the same typed failures the real activities throw, so the workflow's branches are exercised.
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
  intent(): PaymentIntentSnapshot;
  /** Changes the intent as if the customer or bank did something outside the workflow. */
  setStatus(
    status: PaymentIntentSnapshot['status'],
    error?: PaymentIntentSnapshot['lastPaymentError'],
  ): void;
  /** Successful charges so far (must never exceed 1). */
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
  let intent: PaymentIntentSnapshot | undefined;
  let charges = 0;
  let settlement: { at: number; to: 'succeeded' | 'requires_payment_method' } | undefined;
  const keysSeen = new Map<string, PaymentIntentSnapshot>();
  let unreachableKey: string | undefined;
  let chargeSeq = 0;

  /** The intent; inside an activity (`settle`), a due settlement is applied first. */
  const current = (settle = true): PaymentIntentSnapshot => {
    if (!intent)
      throw ApplicationFailure.create({
        type: StripeFailureType.invalidRequest,
        message: 'no intent',
        nonRetryable: true,
      });
    if (settle && settlement && serverNow() >= settlement.at) {
      intent =
        settlement.to === 'succeeded'
          ? { ...intent, status: IntentStatus.succeeded, amountReceived: intent.amount }
          : {
              ...intent,
              status: IntentStatus.requiresPaymentMethod,
              lastPaymentError: {
                code: 'payment_intent_payment_attempt_failed',
                message: 'debit failed',
              },
            };
      if (settlement.to === 'succeeded') charges++;
      settlement = undefined;
    }
    return intent;
  };

  const succeed = (): void => {
    if (intent!.status === IntentStatus.succeeded)
      throw failure(StripeFailureType.unexpectedState, { code: 'payment_intent_unexpected_state' });
    intent = {
      ...intent!,
      status: IntentStatus.succeeded,
      amountReceived: intent!.amount,
      lastPaymentError: undefined,
    };
    charges++;
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
      // Like the real activity: an intent already made for this workflow is returned, not re-made.
      intent ??= {
        id: 'pi_fake_1',
        status: input.paymentMethodId
          ? IntentStatus.requiresConfirmation
          : IntentStatus.requiresPaymentMethod,
        amount: input.amount,
        amountReceived: 0,
        currency: input.currency,
        customerId: input.customerId,
        paymentMethodId: input.paymentMethodId,
      };
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
      current();
      switch (step.kind) {
        case 'succeed':
          succeed();
          break;
        case 'decline': {
          const lastPaymentError = {
            chargeId: `ch_fake_${++chargeSeq}`,
            code: 'card_declined',
            declineCode: step.declineCode,
            adviceCode: step.adviceCode,
            message: 'Your card was declined.',
          };
          intent = { ...intent!, status: IntentStatus.requiresPaymentMethod, lastPaymentError };
          throw failure(StripeFailureType.declined, {
            statusCode: 402,
            ...lastPaymentError,
            paymentIntent: intent,
          });
        }
        case 'requires_action':
          intent = {
            ...intent!,
            status: IntentStatus.requiresAction,
            nextActionType: 'use_stripe_sdk',
          };
          break;
        case 'processing':
          intent = { ...intent!, status: IntentStatus.processing };
          settlement = { at: serverNow() + step.settlesAfterMs, to: step.settlesTo };
          break;
        case 'ambiguous':
          if (step.moved) succeed();
          throw failure(StripeFailureType.ambiguous, { statusCode: 500, message: 'fake 500' });
      }
      const result = intent!;
      keysSeen.set(input.idempotencyKey, result);
      await options.afterConfirm?.(
        fake,
        Context.current().info.workflowExecution?.workflowId ?? '',
      );
      return result;
    },
    async retrievePaymentIntent(id: string) {
      calls.push({ name: 'retrieve', at: serverNow() });
      if (id !== intent?.id)
        throw failure(StripeFailureType.invalidRequest, {
          statusCode: 404,
          code: 'resource_missing',
        });
      return current();
    },
    async cancelPaymentIntent(input: CancelPaymentIntentInput) {
      calls.push({ name: 'cancel', key: input.idempotencyKey, runId: runIdNow(), at: serverNow() });
      const now = current();
      if (now.status === IntentStatus.succeeded || now.status === IntentStatus.processing) {
        throw failure(StripeFailureType.unexpectedState, {
          code: 'payment_intent_unexpected_state',
        });
      }
      intent = { ...now, status: IntentStatus.canceled };
      return intent;
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
    intent: () => current(false),
    setStatus(status, error) {
      intent = { ...current(false), status, lastPaymentError: error };
      if (status === IntentStatus.succeeded) charges++;
    },
    charges: () => charges,
  };
  return fake;
}
