// The scrape reader the metrics tests rely on: a missing metric or label set is an error, so
// "is 0" cannot pass for a metric that was renamed away.
import { describe, expect, it } from 'vitest';
import { metricValue } from './prometheus.js';

const scrape = [
  '# TYPE billing_webhook_rejected_total counter',
  'billing_webhook_rejected_total{reason="signature_mismatch"} 2',
  'billing_webhook_rejected_total{reason="malformed_body"} 0',
  'billing_webhook_received_total 8',
].join('\n');

describe('metricValue', () => {
  it('reads a sample by name and labels, a zero included', () => {
    expect(metricValue(scrape, 'billing_webhook_received_total')).toBe(8);
    expect(
      metricValue(scrape, 'billing_webhook_rejected_total', { reason: 'malformed_body' }),
    ).toBe(0);
  });

  it('throws for a metric the scrape does not have', () => {
    expect(() => metricValue(scrape, 'billing_webhook_renamed_total')).toThrow(
      'no sample billing_webhook_renamed_total{} in the scrape, nor any billing_webhook_renamed_total',
    );
  });

  it('throws for a label set the metric does not have, naming those it has', () => {
    expect(() =>
      metricValue(scrape, 'billing_webhook_rejected_total', { reason: 'stale' }),
    ).toThrow(/reason="signature_mismatch"/);
  });
});
