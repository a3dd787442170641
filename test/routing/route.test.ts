// The shared router without a server: which types go anywhere at all, which unmatched-events
// shard an event is kept in (and the next one when that refuses), and that the event path has
// no import circle (the router sits where the receiver and the activities both import it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError, type Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createEventRouter, Delivery } from '../../src/routing/route.js';
import {
  isHandledEventType,
  RouteKind,
  UNMATCHED_EVENTS_SHARDS,
  unmatchedEventsShard,
  WEBHOOK_ENDPOINT_EVENT_TYPES,
  type RoutedStripeEvent,
} from '../../src/shared/stripe-events.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** A Temporal client that records signal-with-starts and finds no workflow in visibility. */
function fakeClient(refuse: (workflowId: string) => boolean = () => false) {
  const kept: string[] = [];
  let calls = 0;
  const client = {
    workflow: {
      signalWithStart: (_type: string, options: { workflowId: string }) => {
        calls++;
        if (refuse(options.workflowId))
          return Promise.reject(new Error(`${options.workflowId} refused`));
        kept.push(options.workflowId);
        return Promise.resolve();
      },
      list: () => {
        calls++;
        return (async function* () {})();
      },
    },
  } as unknown as Client;
  return { client, kept, calls: () => calls };
}

function intentEvent(objectId: string, type = 'payment_intent.succeeded'): RoutedStripeEvent {
  return {
    signal: { id: `evt_${objectId}`, type, created: 1, objectId },
    route: { kind: RouteKind.paymentIntent, paymentIntentId: objectId },
  };
}

describe('handled event types', () => {
  it.each([
    ['payment_intent.succeeded', true],
    ['payment_intent.created', false],
    ['payment_intent.payment_failed', true],
    ['payment_method.attached', true],
    ['setup_intent.succeeded', true],
    ['customer.updated', true],
    ['refund.updated', true],
    ['charge.dispute.created', true],
    ['invoice.paid', false],
    ['charge.succeeded', false],
    ['customer.created', false],
    ['payment_method.detached', false],
    ['product.updated', false],
  ])('%s is handled: %s', (type, handled) => {
    expect(isHandledEventType(type)).toBe(handled);
  });

  it('the endpoint subscription lists handled types only, and every handled type the simulator sends', () => {
    for (const type of WEBHOOK_ENDPOINT_EVENT_TYPES)
      expect(isHandledEventType(type), type).toBe(true);
    // What the simulator (Stripe's behaviour here) emits, read from its source.
    const emitted = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else
          for (const [, type] of readFileSync(path, 'utf8').matchAll(/emit\(\s*'([a-z_.]+)'/g))
            emitted.add(type!);
      }
    };
    walk(join(SRC, 'simulator'));
    expect(emitted.size).toBeGreaterThan(10);
    const handledEmitted = [...emitted].filter(isHandledEventType);
    expect(handledEmitted.length).toBeGreaterThan(5);
    for (const type of handledEmitted)
      expect(WEBHOOK_ENDPOINT_EVENT_TYPES as readonly string[], type).toContain(type);
  });

  it('an event of a type no workflow handles is ignored without a single Temporal call', async () => {
    const fake = fakeClient();
    const router = createEventRouter({ client: fake.client, taskQueue: 'billing' });
    const result = await router.route({
      signal: { id: 'evt_1', type: 'invoice.paid', created: 1, objectId: 'in_1' },
      route: { kind: RouteKind.other },
    });
    expect(result).toEqual({
      delivery: Delivery.ignored,
      reason: 'no workflow handles invoice.paid',
    });
    expect(fake.calls()).toBe(0);
  });
});

describe('answers to a charge’s own requests', () => {
  it('an event its charge’s confirm caused (awaitedKey) is answered without a Temporal call', async () => {
    const fake = fakeClient();
    const router = createEventRouter({ client: fake.client, taskQueue: 'billing' });
    const key = 'db/charge:o1/0193a5b2-7c1e-7d2a-9f3b-1c2d3e4f5a6b/confirm/1';
    const event: RoutedStripeEvent = {
      signal: { id: 'evt_1', type: 'payment_intent.succeeded', created: 1, objectId: 'pi_1' },
      route: {
        kind: RouteKind.paymentIntent,
        paymentIntentId: 'pi_1',
        workflowId: 'charge:o1',
        awaitedKey: key,
      },
    };
    const result = await router.route(event);
    expect(result).toEqual({ delivery: Delivery.answered, workflowIds: ['charge:o1'], key });
    expect(fake.calls()).toBe(0);

    // signalAnswers: the same event is signalled like any other.
    const signalled: string[] = [];
    const signalling = {
      workflow: {
        getHandle: (workflowId: string) => ({
          signal: () => {
            signalled.push(workflowId);
            return Promise.resolve();
          },
        }),
      },
    } as unknown as Client;
    const every = createEventRouter({
      client: signalling,
      taskQueue: 'billing',
      signalAnswers: true,
    });
    expect(await every.route(event)).toEqual({
      delivery: Delivery.workflow,
      workflowIds: ['charge:o1'],
      matchedBy: 'metadata',
    });
    expect(signalled).toEqual(['charge:o1']);
  });
});

describe('unmatched-events shards', () => {
  it('keeps an event in the shard its object id hashes to; one object, one shard; all shards used', async () => {
    const fake = fakeClient();
    const router = createEventRouter({ client: fake.client, taskQueue: 'billing' });
    expect(router.unmatchedWorkflowIds).toHaveLength(UNMATCHED_EVENTS_SHARDS);
    const ids = Array.from({ length: 200 }, (_, i) => `pi_shard_${i}`);
    for (const id of ids) {
      const result = await router.route(intentEvent(id));
      expect(result).toMatchObject({
        delivery: Delivery.unmatched,
        workflowId: `stripe-events:unmatched:${unmatchedEventsShard(id)}`,
      });
    }
    expect(new Set(fake.kept)).toEqual(new Set(router.unmatchedWorkflowIds));
    await router.route(intentEvent(ids[0]!, 'payment_intent.processing'));
    expect(fake.kept.at(-1)).toBe(fake.kept[0]);
  });

  it('a shard that refuses (a continue-as-new in flight) hands the event to the next one', async () => {
    const id = 'pi_refused';
    const first = `stripe-events:unmatched:${unmatchedEventsShard(id)}`;
    const next = `stripe-events:unmatched:${(unmatchedEventsShard(id) + 1) % UNMATCHED_EVENTS_SHARDS}`;
    const fake = fakeClient((workflowId) => workflowId === first);
    const router = createEventRouter({ client: fake.client, taskQueue: 'billing' });
    expect(await router.route(intentEvent(id))).toMatchObject({
      delivery: Delivery.unmatched,
      workflowId: next,
    });
  });

  it('when every shard it tries refuses, routing fails (the receiver answers 503)', async () => {
    const fake = fakeClient(() => true);
    const router = createEventRouter({ client: fake.client, taskQueue: 'billing' });
    await expect(router.route(intentEvent('pi_down'))).rejects.toThrow(/refused/);
    expect(fake.calls(), 'one lookup, then three shards').toBe(4);
  });

  it('one unmatched workflow (unmatchedWorkflowId) that refuses is tried again, three times in all', async () => {
    let refusals = 2;
    const fake = fakeClient(() => refusals-- > 0);
    const router = createEventRouter({
      client: fake.client,
      taskQueue: 'billing',
      unmatchedWorkflowId: 'unmatched-test',
    });
    expect(await router.route(intentEvent('pi_busy'))).toMatchObject({
      delivery: Delivery.unmatched,
      workflowId: 'unmatched-test',
    });
    expect(fake.kept).toEqual(['unmatched-test']);
    refusals = 3;
    await expect(router.route(intentEvent('pi_busy_3'))).rejects.toThrow(/refused/);
  });

  it('a visibility lookup refused by the rate limit keeps the event as unmatched instead of failing', async () => {
    const kept: string[] = [];
    const rateLimited = new ServiceError('Failed to list workflows', {
      cause: Object.assign(new Error('8 RESOURCE_EXHAUSTED: namespace rate limit exceeded'), {
        code: 8,
        details: 'namespace rate limit exceeded',
        metadata: {},
      }),
    });
    const client = {
      workflow: {
        list: () => {
          throw rateLimited;
        },
        signalWithStart: (_type: string, options: { workflowId: string }) => {
          kept.push(options.workflowId);
          return Promise.resolve();
        },
      },
    } as unknown as Client;
    const router = createEventRouter({ client, taskQueue: 'billing' });
    expect(await router.route(intentEvent('pi_limited'))).toMatchObject({
      delivery: Delivery.unmatched,
      reason: 'the visibility lookup was rate-limited or too slow; re-routed later',
    });
    expect(kept).toHaveLength(1);
  });

  it('a caller that names one workflow gets exactly that one', async () => {
    const fake = fakeClient();
    const router = createEventRouter({
      client: fake.client,
      taskQueue: 'billing',
      unmatchedWorkflowId: 'stripe-events:unmatched:test',
    });
    await router.route(intentEvent('pi_named'));
    expect(fake.kept).toEqual(['stripe-events:unmatched:test']);
  });
});

/** Relative imports (value and type) of every .ts file under `dir`. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const targets = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gs)].map(
          ([, spec]) => normalize(join(dirname(path), spec!.replace(/\.js$/, '.ts'))),
        );
        graph.set(path, targets);
      }
    }
  };
  walk(dir);
  return graph;
}

describe('the event path', () => {
  it('has no import circle among activities, routing, webhooks and workflows (type imports included)', () => {
    const graph = importGraph(SRC);
    const scope = ['activities', 'routing', 'webhooks', 'workflows'].map((d) => join(SRC, d));
    const inScope = (file: string) => scope.some((d) => file.startsWith(d));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'visiting') {
          const cycle = stack.slice(stack.indexOf(next));
          if (cycle.some(inScope))
            cycles.push([...cycle, next].map((f) => relative(SRC, f)).join(' → '));
        } else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
