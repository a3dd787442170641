// Workflow ids, made in one place (paired helpers, never assembled inline elsewhere).
// One order = one workflow id = one PaymentIntent (DESIGN.md invariant 1).

const CHARGE_PREFIX = 'charge:';

/** The workflow id of the charge for `orderId`: `charge:<orderId>`. */
export function chargeWorkflowId(orderId: string): string {
  return `${CHARGE_PREFIX}${orderId}`;
}

/** The order id inside a charge workflow id, or `undefined` if `workflowId` is not one. */
export function orderIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(CHARGE_PREFIX) && workflowId.length > CHARGE_PREFIX.length
    ? workflowId.slice(CHARGE_PREFIX.length)
    : undefined;
}
