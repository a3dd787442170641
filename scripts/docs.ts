// `npm run docs`: regenerates the generated parts of README.md: the configuration table (from
// the config schema) and the Performance table (from docs/performance.md, written by the bench).
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference, withPerformance } from '../src/docs/config-reference.js';

const readme = readFileSync('README.md', 'utf8');
const performance = readFileSync('docs/performance.md', 'utf8');
writeFileSync('README.md', withPerformance(withConfigReference(readme), performance));
console.log('README.md: configuration and performance tables regenerated');
