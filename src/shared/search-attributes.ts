// The search attributes operators filter on in the Temporal UI (DESIGN.md, Contracts).
// Pure definitions: imported by workflow code, the client, the receiver and the test setup.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BillingOrderId = defineSearchAttributeKey(
  'BillingOrderId',
  SearchAttributeType.KEYWORD,
);
export const BillingCustomerId = defineSearchAttributeKey(
  'BillingCustomerId',
  SearchAttributeType.KEYWORD,
);
export const BillingPaymentIntentId = defineSearchAttributeKey(
  'BillingPaymentIntentId',
  SearchAttributeType.KEYWORD,
);
export const BillingStatus = defineSearchAttributeKey('BillingStatus', SearchAttributeType.KEYWORD);
export const BillingAttempt = defineSearchAttributeKey('BillingAttempt', SearchAttributeType.INT);
export const BillingNextAttemptAt = defineSearchAttributeKey(
  'BillingNextAttemptAt',
  SearchAttributeType.DATETIME,
);
// Refunds and disputes (issue 14): the amount of a refund or dispute, and a dispute's evidence
// deadline, so operators can filter disputes due in the next N days.
export const BillingAmount = defineSearchAttributeKey('BillingAmount', SearchAttributeType.INT);
export const BillingDisputeDueBy = defineSearchAttributeKey(
  'BillingDisputeDueBy',
  SearchAttributeType.DATETIME,
);

/** Every search attribute the project registers on a namespace. */
export const billingSearchAttributes = [
  BillingOrderId,
  BillingCustomerId,
  BillingPaymentIntentId,
  BillingStatus,
  BillingAttempt,
  BillingNextAttemptAt,
  BillingAmount,
  BillingDisputeDueBy,
] as const;
