// Reads one sample from Prometheus exposition text, for tests that scrape /metrics.

/**
 * The value of `name{labels}` (labels matched exactly, in any order). Throws when the scrape has
 * no such sample: a renamed metric or label must fail a test, not read as 0 (the receiver's
 * labelled counters are exported at 0 before their first event).
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  const others: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '')
      .split(',')
      .filter((pair) => pair !== '')
      .sort()
      .join(',');
    if (have === wanted) return Number(match[3]);
    others.push(`{${have}}`);
  }
  throw new Error(
    `no sample ${name}{${wanted}} in the scrape${others.length > 0 ? `; ${name} has ${others.join(' ')}` : `, nor any ${name}`}`,
  );
}
