// The operator's view, proven in a browser: headless Chromium on the Temporal UI of a dev server
// of its own finds charges by BillingStatus and BillingCustomerId, and reads a dunning charge's
// story (summaries, keys, the stripeEvent signal, the status query). UPDATE_UI_SCREENSHOTS=1 → docs/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { BillingClient, ChargeState, type ChargeHandle } from '../../src/client/index.js';
import { devServerExecutable, readManifest } from '../../src/embedded/servers.js';
import { OutboxNotifier } from '../../src/notifications/index.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { stripeEventSignal } from '../../src/workflows/messages.js';
import { freePort } from '../helpers/ports.js';
import { quietRuntime } from '../helpers/temporal.js';
import { createLocalTemporal } from '../../src/embedded/dev-server.js';

/**
 * The Chromium provisioning found (Debian's package, installed with apt-get where missing, or
 * `CHROMIUM_PATH`). Playwright never downloads a browser here.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? readManifest()?.chromium;
/** Without the background-networking flags Chromium's own connections are refused on a closed network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots go to test-results/ (ignored) unless the docs' copies are being refreshed. */
const SHOTS =
  process.env.UPDATE_UI_SCREENSHOTS === '1' ? join(REPO, 'docs') : join(REPO, 'test-results', 'ui');
const MAX_SCREENSHOT_BYTES = 300_000;

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: Worker;
let notifier: OutboxNotifier | undefined;
let running: Promise<void>;
let browser: Browser;
let page: Page;
let ui: string;
let dir: string;
/** Customer A: one paid charge and one in dunning; customer B: one paid charge. */
let customerA: string;
let customerB: string;
let paidA: ChargeHandle;
let dunningA: ChargeHandle;
let paidB: ChargeHandle;
/** In dunning too, but its next attempt is 5 days away: outside "due within two days". */
let dunningLater: ChargeHandle;

beforeAll(async () => {
  quietRuntime();
  if (CHROMIUM === undefined || !existsSync(CHROMIUM))
    throw new Error(
      `no Chromium ${CHROMIUM === undefined ? 'provisioned' : `at ${CHROMIUM}`}: run \`npx tsx scripts/provision.ts --chromium\` (it installs Debian's package with apt-get where it may), or set CHROMIUM_PATH`,
    );
  dir = mkdtempSync(join(tmpdir(), 'durable-billing-ui-'));
  const uiPort = await freePort();
  [env, sim, browser] = await Promise.all([
    createLocalTemporal({
      server: {
        executable: devServerExecutable(),
        ip: '127.0.0.1',
        ui: true,
        uiPort,
        searchAttributes: [...billingSearchAttributes],
      },
    }),
    startSimulator({ port: 0 }),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
  ui = `http://127.0.0.1:${uiPort}/namespaces/${env.namespace ?? 'default'}`;
  const stripe = createStripeClient({ secretKey: 'sk_test_ui', apiBase: sim.url });
  // The server is this file's own: the contract's queue name reads better in the screenshots.
  const taskQueue = 'billing';
  notifier = new OutboxNotifier({ path: join(dir, 'outbox.jsonl') });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({
      stripe,
      notifier,
    }),
  });
  running = worker.run();

  const [a, b, c] = await Promise.all(
    ['a@example.com', 'b@example.com', 'c@example.com'].map(
      async (email) => (await stripe.customers.create({ email })).id,
    ),
  );
  [customerA, customerB] = [a!, b!];
  const billing = new BillingClient(env.client, { taskQueue });
  const charge = (
    orderId: string,
    customerId: string,
    paymentMethodId: string,
    dunning?: { retryDelaysDays: number[] },
  ) =>
    billing.startCharge({
      orderId,
      customerId,
      amount: 4200,
      currency: 'usd',
      paymentMethodId,
      ...(dunning && { dunning }),
    });
  [paidA, dunningA, paidB, dunningLater] = await Promise.all([
    charge('ui-paid-a', customerA, 'pm_card_visa'),
    // A soft decline under the default policy: the charge waits a day for attempt 2.
    charge('ui-dunning-a', customerA, 'pm_card_chargeDeclinedInsufficientFunds'),
    charge('ui-paid-b', customerB, 'pm_card_visa'),
    // The same decline under a policy whose next attempt is 5 days away.
    charge('ui-dunning-later', c!, 'pm_card_chargeDeclinedInsufficientFunds', {
      retryDelaysDays: [5],
    }),
  ]);
  await Promise.all([paidA.result(), paidB.result()]);
  const inDunning = await vi.waitFor(
    async () => {
      const status = await dunningA.status();
      expect(status.state).toBe(ChargeState.dunning);
      return status;
    },
    { timeout: 15_000, interval: 100 },
  );
  // A Stripe wake-up, as the receiver would send it (a late or forged-looking "succeeded"): the
  // workflow re-reads the intent, finds it still unpaid, and waits on — Stripe is the truth.
  await dunningA.workflow.signal(stripeEventSignal, {
    id: 'evt_ui_succeeded',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    objectId: inDunning.paymentIntentId!,
  });
  await vi.waitFor(
    async () => {
      const status = await dunningA.status();
      expect(status).toMatchObject({ state: ChargeState.dunning, events: { received: 1 } });
    },
    { timeout: 15_000, interval: 100 },
  );
  // The list pages read the visibility store, which the workflow updates with its own tasks.
  await vi.waitFor(
    async () => {
      const count = await env.client.workflow.count(
        'BillingStatus = "dunning" AND BillingNextAttemptAt IS NOT NULL',
      );
      expect(count.count).toBe(2);
    },
    { timeout: 15_000, interval: 100 },
  );

  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  worker?.shutdown();
  await running;
  await sim?.close();
  await notifier?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the workflow list filtered by a visibility query, as an operator's bookmark would. */
async function openList(query: string): Promise<void> {
  await page.goto(`${ui}/workflows?query=${encodeURIComponent(query)}`);
}

/** Waits for the rows of `expected` and returns every workflow id the list shows. */
async function listedWorkflowIds(expected: readonly string[]): Promise<string[]> {
  for (const id of expected) await workflowLink(id).waitFor();
  return (await page.getByRole('link', { name: /^charge:/ }).allInnerTexts()).sort();
}

function workflowLink(workflowId: string) {
  return page.getByRole('link', { name: workflowId, exact: true });
}

/** The first visible element with `text` (the timeline keeps hidden copies of some labels). */
function visibleText(text: string | RegExp) {
  return page.getByText(text).filter({ visible: true }).first();
}

/** From the list, as an operator would: customer A's charges in dunning, then the row's link. */
async function openDunningCharge(): Promise<void> {
  await openList(`BillingCustomerId = "${customerA}" AND BillingStatus = "dunning"`);
  await workflowLink(dunningA.workflowId).click();
  await page.getByRole('heading', { name: dunningA.workflowId }).waitFor();
}

/**
 * Opens a tab of the workflow page and waits until its page shows. The page re-renders while a
 * running workflow's history refreshes, which can swallow a click: click again until it took.
 */
async function openTab(name: string | RegExp): Promise<void> {
  const tab = page.getByRole('tab', { name });
  const href = await tab.getAttribute('href');
  await vi.waitFor(
    async () => {
      if (href && new URL(page.url()).pathname === href) return;
      await tab.click({ timeout: 2_000 });
      if (href) await page.waitForURL((url) => url.pathname === href, { timeout: 2_000 });
    },
    { timeout: 15_000, interval: 100 },
  );
}

async function screenshot(name: string): Promise<void> {
  const path = join(SHOTS, name);
  await page.screenshot({ path });
  expect(statSync(path).size).toBeLessThan(MAX_SCREENSHOT_BYTES);
}

describe('the Temporal UI shows an operator what happened to a charge', () => {
  it('lists the charges in dunning, and only those', async () => {
    await openList('BillingStatus = "dunning"');
    const dunning = [dunningA.workflowId, dunningLater.workflowId].sort();
    expect(await listedWorkflowIds(dunning)).toEqual(dunning);
  });

  it('lists the charges whose next attempt is due before a time, not those due after it', async () => {
    const inTwoDays = new Date(Date.now() + 2 * 24 * 3600 * 1000).toISOString();
    await openList(`BillingNextAttemptAt < "${inTwoDays}"`);
    expect(await listedWorkflowIds([dunningA.workflowId])).toEqual([dunningA.workflowId]);
    expect(await workflowLink(dunningLater.workflowId).count()).toBe(0);
    // The one left out is there for a later time: the query, not its absence, excluded it.
    await openList(`BillingNextAttemptAt >= "${inTwoDays}"`);
    expect(await listedWorkflowIds([dunningLater.workflowId])).toEqual([dunningLater.workflowId]);
  });

  it("lists one customer's charges, and only that customer's", async () => {
    await openList(`BillingCustomerId = "${customerA}"`);
    expect(await listedWorkflowIds([paidA.workflowId, dunningA.workflowId])).toEqual(
      [paidA.workflowId, dunningA.workflowId].sort(),
    );
    expect(await workflowLink(paidB.workflowId).count()).toBe(0);
    await screenshot('ui-list.png');

    // The same, typed into the filter bar's raw query box (its toggle has no accessible name).
    await page.getByTestId('toggle-manual-query').click();
    await page.getByPlaceholder('Enter a query').fill(`BillingCustomerId = "${customerB}"`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/[?&]query=BillingCustomerId/);
    expect(await listedWorkflowIds([paidB.workflowId])).toEqual([paidB.workflowId]);
  });

  it("reads the dunning charge's history: activity and timer summaries with keys, the stripeEvent signal", async () => {
    await openDunningCharge();

    await visibleText(`create PaymentIntent 4200 usd (key …/create/0)`).waitFor();
    await visibleText('confirm attempt 1 off-session (key …/confirm/0)').waitFor();
    await visibleText('notify customer: payment_failed').waitFor();
    await visibleText(/^dunning: attempt 2 in \d+ days?$/).waitFor();
    await visibleText(/a Stripe event arrived during dunning/).waitFor();
    await screenshot('ui-dunning.png');

    // The charge's one-line summary (set at start) is under User Metadata, rendered as markdown
    // in an iframe of its own.
    await openTab('User Metadata');
    const summary = `charge 4200 usd to ${customerA} for order ui-dunning-a`;
    await vi.waitFor(
      async () => {
        const bodies = await Promise.all(
          page.frames().map((frame) => frame.locator('body').innerText({ timeout: 1_000 })),
        );
        expect(bodies.some((body) => body.includes(summary))).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
    await openTab(/^History/);

    // The signal's row in the event table expands to its payload.
    await visibleText('Workflow Execution Signaled').click();
    await visibleText('"evt_ui_succeeded"').waitFor();
    await visibleText('"payment_intent.succeeded"').waitFor();
  });

  it('runs the status query from the Queries tab', async () => {
    await openDunningCharge();
    await openTab('Queries');
    // The query types come from the workflow's metadata; the menu button has no accessible name.
    await page.getByTestId('query-select-button').click();
    await page.getByRole('option', { name: 'status', exact: true }).click();
    expect(await page.getByTestId('query-select').inputValue()).toBe('status');
    await page.getByRole('button', { name: 'Run Query' }).click();
    const result = page
      .getByRole('textbox')
      .filter({ hasText: /"state": "dunning"/ })
      .first();
    await result.waitFor();
    const text = await result.innerText();
    expect(text).toMatch(/"attempt": 1\b/);
    expect(text).toMatch(/"declineCode": "insufficient_funds"/);
    expect(text).toMatch(/"received": 1\b/);
    expect(text).toMatch(/"nextAttemptAt": "\d{4}-/);
    await screenshot('ui-status-query.png');
  });
});
