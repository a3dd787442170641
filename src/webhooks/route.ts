// The receiver's routing is the shared router in src/routing/route.ts (the re-routing and backfill
// activities use it too); re-exported here for the handler and for code that imported it from here.
export * from '../routing/route.js';
