// Where the provisioned Temporal server binaries live (outside the repository, so fresh
// clones reuse them) and how the SDK is told about them. Written by scripts/provision.ts,
// read by the test harness and by `npm start`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DevServerConfig, TimeSkippingServerConfig } from '@temporalio/testing';

/** Temporal CLI version built with `go install` (later tags carry a `replace` directive). */
export const DEV_SERVER_VERSION = '1.5.1';
/** io.temporal:temporal-test-server version fetched from Maven Central. */
export const TEST_SERVER_VERSION = '1.38.0';

/** The cache root; `DURABLE_BILLING_CACHE` overrides `~/.cache/durable-billing`. */
export const CACHE_DIR =
  process.env.DURABLE_BILLING_CACHE ?? join(homedir(), '.cache', 'durable-billing');

const MANIFEST = join(CACHE_DIR, 'servers.json');

/** Paths found or built by the provisioning script; `undefined` means "let the SDK download". */
export interface ServerManifest {
  devServer: string | undefined;
  testServer: string | undefined;
  /** stripe-mock (Stripe's OpenAPI-validating mock), for the simulator's contract test; `undefined` = not available. */
  stripeMock?: string | undefined;
}

export function devServerCachePath(): string {
  return join(CACHE_DIR, `temporal-cli-${DEV_SERVER_VERSION}`, 'temporal');
}

export function testServerCachePath(): string {
  return join(CACHE_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`, 'temporal-test-server');
}

/** Where `go install github.com/stripe/stripe-mock@latest` puts the stripe-mock binary (GOBIN). */
export function stripeMockCachePath(): string {
  return join(CACHE_DIR, 'stripe-mock', 'stripe-mock');
}

export function writeManifest(manifest: ServerManifest): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readManifest(): ServerManifest | undefined {
  if (!existsSync(MANIFEST)) return undefined;
  const parsed = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Partial<ServerManifest>;
  return {
    devServer: parsed.devServer ?? undefined,
    testServer: parsed.testServer ?? undefined,
    stripeMock: parsed.stripeMock ?? undefined,
  };
}

type Executable = NonNullable<DevServerConfig['executable']>;

function executable(path: string | undefined): Executable {
  return path
    ? { type: 'existing-path', path }
    : { type: 'cached-download', downloadDir: join(CACHE_DIR, 'sdk-download') };
}

/** The dev server's executable: the provisioned binary, or the SDK's download as a fallback. */
export function devServerExecutable(): Executable {
  return executable(readManifest()?.devServer);
}

/** The time-skipping server's executable: the provisioned launcher, or the SDK's download. */
export function testServerExecutable(): NonNullable<TimeSkippingServerConfig['executable']> {
  return executable(readManifest()?.testServer);
}
