// An app's use of the package, type-checked under --strict against the shipped declarations.
import { Client, Connection } from '@temporalio/client';
import { BillingClient, ChargeOutcome, type ChargeResult } from 'durable-billing';

export async function payOrder(orderId: string, customerId: string): Promise<ChargeResult> {
  const client = new Client({
    connection: await Connection.connect({ address: 'localhost:7233' }),
  });
  const billing = new BillingClient(client, { taskQueue: 'billing' });
  const charge = await billing.startCharge({ orderId, customerId, amount: 1500, currency: 'usd' });
  const result = await charge.result();
  if (result.outcome === ChargeOutcome.succeeded)
    console.log(`paid ${result.amount} ${result.currency}`);
  return result;
}
