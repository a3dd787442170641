// bench/results.json as several runs write it: a partial run (`--only`, `--cluster`) replaces its
// own figures and keeps the others with the date and load of their own runs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildRows,
  clusterTable,
  mergeResults,
  readResults,
  RESULTS_SCHEMA_VERSION,
  type BenchResults,
  type SectionRun,
} from '../../bench/report.js';
import type { ChargeLevel } from '../../bench/charge.js';

const stats = (perSecond: number, p50Ms: number) => ({
  count: 10,
  seconds: 10 / perSecond,
  perSecond,
  p50Ms,
  p99Ms: p50Ms * 2,
});
const level = (concurrency: number, ours: number, floor: number): ChargeLevel => ({
  concurrency,
  ours: stats(ours, 100),
  floor: stats(floor, 80),
  throughputRatio: ours / floor,
  roundRatios: [ours / floor],
  p50Ratio: 100 / 80,
  p99Ratio: 100 / 80,
});
const section = (measuredAt: string, load: number): SectionRun => ({
  measuredAt,
  mode: 'full',
  durationSeconds: 60,
  loadAverage: { start: [load, 0, 0], end: [load, 0, 0] },
});
function results(fields: Partial<BenchResults>): BenchResults {
  const base: Omit<BenchResults, 'rows'> = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    generatedAt: '2026-12-01T10:00:00.000Z',
    mode: 'full',
    durationSeconds: 60,
    machine: { cpus: 2, node: '20', platform: 'linux' },
    sections: {},
    ...fields,
  };
  return { ...base, rows: buildRows(base) };
}

describe('merging bench results', () => {
  it('replaces the figures a partial run measured and keeps the others with their own runs', () => {
    const stream = {
      events: 100,
      rate: 100,
      unhandledShare: 0.7,
      target: 'x',
      answers: { '200': 100 },
      answers503: 0,
      ackMs: { p50: 5, p99: 9, max: 10 },
      seconds: 1,
    };
    const old = results({
      charges: [level(32, 6, 10)],
      stream,
      sections: {
        charge: section('2026-12-01T10:00:00Z', 12),
        stream: section('2026-12-01T10:00:00Z', 12),
      },
    });
    const fresh = results({
      generatedAt: '2026-12-01T16:00:00.000Z',
      charges: [level(32, 9, 10)],
      sections: { charge: section('2026-12-01T16:00:00Z', 1) },
    });
    const merged = mergeResults(old, fresh);
    expect(merged.charges?.[0]?.throughputRatio).toBeCloseTo(0.9);
    expect(merged.stream).toEqual(stream);
    expect(merged.sections.charge?.measuredAt).toBe('2026-12-01T16:00:00Z');
    expect(merged.sections.stream?.measuredAt).toBe('2026-12-01T10:00:00Z');
    expect(merged.rows.find((r) => r.id === 'charge.c32.throughput')).toMatchObject({ met: true });
    expect(merged.rows.map((r) => r.id)).toContain('stream.503');
  });

  it('puts the cluster beside the dev server, row by row, and keeps the cluster across dev-only runs', () => {
    const server = { address: '127.0.0.1:7233', historyShards: 4, services: 5 };
    const withCluster = results({
      charges: [level(32, 6, 10)],
      cluster: { server, charges: [level(32, 8, 10)] },
      sections: { charge: section('a', 1), 'cluster.charge': section('b', 1) },
    });
    const table = clusterTable(withCluster);
    expect(table).toContain(
      '| Card charges/s, 32 in flight | 6 charges/s (0.6×) **missed** | 8 charges/s (0.8×) |',
    );
    expect(table).toContain('4 history shards');
    const devOnly = results({ charges: [level(32, 7, 10)], sections: { charge: section('c', 1) } });
    const merged = mergeResults(withCluster, devOnly);
    expect(merged.cluster?.charges?.[0]?.throughputRatio).toBeCloseTo(0.8);
    expect(merged.rows.filter((r) => r.id.startsWith('cluster.')).length).toBe(3);
  });

  it('reads a schema 3 file as one section per figure, with that run’s date and load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
    const path = join(dir, 'results.json');
    const v4: Partial<BenchResults> = results({ charges: [level(8, 5, 10)] });
    delete v4.sections;
    writeFileSync(
      path,
      JSON.stringify({
        ...v4,
        schemaVersion: 3,
        loadAverage: { start: [2, 0, 0], end: [3, 0, 0] },
      }),
    );
    const read = readResults(path);
    expect(read.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    expect(read.sections).toEqual({
      charge: {
        measuredAt: '2026-12-01T10:00:00.000Z',
        mode: 'full',
        durationSeconds: 60,
        loadAverage: { start: [2, 0, 0], end: [3, 0, 0] },
      },
    });
    writeFileSync(path, JSON.stringify({ schemaVersion: 2 }));
    expect(() => readResults(path)).toThrow(/schema 2/);
  });
});
