// The README's generated parts match their sources (regenerate with `npm run docs`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_END,
  CONFIG_START,
  configReference,
  PERFORMANCE_END,
  PERFORMANCE_START,
  performanceBody,
} from '../src/docs/config-reference.js';

/** Table rows as trimmed cells, so column alignment (prettier) does not matter. */
const cells = (table: string) =>
  table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s-|]+\|$/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));

describe('README', () => {
  it('documents every configuration variable exactly as the schema defines it', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = readme.slice(readme.indexOf(CONFIG_START), readme.indexOf(CONFIG_END));
    expect(cells(documented)).toEqual(cells(configReference()));
  });

  it('shows the Performance table exactly as the last bench run wrote it', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shown = readme.slice(readme.indexOf(PERFORMANCE_START), readme.indexOf(PERFORMANCE_END));
    const written = performanceBody(
      readFileSync(new URL('../docs/performance.md', import.meta.url), 'utf8'),
    );
    expect(cells(shown)).toEqual(cells(written));
  });
});
