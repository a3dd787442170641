// Reads one sample from Prometheus exposition text, for tests that scrape /metrics.

/** The value of `name{labels}` (labels matched exactly, in any order); 0 when absent. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '')
      .split(',')
      .filter((pair) => pair !== '')
      .sort()
      .join(',');
    if (have === wanted) return Number(match[3]);
  }
  return 0;
}
