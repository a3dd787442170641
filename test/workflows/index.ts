// The test bundle: the production workflows plus small fixtures used to prove the servers are real.
export * from '../../src/workflows/index.js';
export * from './fixtures.js';
