// `npm run docs`: regenerates the generated parts of README.md (the configuration table).
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference } from '../src/docs/config-reference.js';

writeFileSync('README.md', withConfigReference(readFileSync('README.md', 'utf8')));
console.log('README.md: configuration table regenerated');
