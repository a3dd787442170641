// Where the provisioned Temporal server binaries live (outside the repository, so fresh
// clones reuse them) and how the SDK is told about them. Written by scripts/provision.ts,
// read by the test harness and by `npm start`.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DevServerConfig, TimeSkippingServerConfig } from '@temporalio/testing';

/** Temporal CLI version built with `go install` (later tags carry a `replace` directive). */
export const DEV_SERVER_VERSION = '1.5.1';
/**
 * How the CLI is built; a new value builds into a new cache directory, so a run still using
 * the previous binary keeps it. 2: `-ldflags -X …temporalcli.Version` (it said 0.0.0-DEV).
 */
export const DEV_SERVER_BUILD = 2;
/** io.temporal:temporal-test-server version fetched from Maven Central. */
export const TEST_SERVER_VERSION = '1.38.0';
/** github.com/stripe/stripe-mock version built with `go install` (the one the Go proxy serves here). */
export const STRIPE_MOCK_VERSION = '0.203.0';

/** The cache root; `DURABLE_BILLING_CACHE` overrides `~/.cache/durable-billing`. */
export const CACHE_DIR =
  process.env.DURABLE_BILLING_CACHE ?? join(homedir(), '.cache', 'durable-billing');

const MANIFEST = join(CACHE_DIR, 'servers.json');

/** Paths found or built by the provisioning script; `undefined` means "let the SDK download". */
export interface ServerManifest {
  devServer: string | undefined;
  testServer: string | undefined;
  /** stripe-mock (Stripe's OpenAPI-validating mock), for the contract check; `undefined` = not available. */
  stripeMock?: string | undefined;
  /** Headless Chromium for the UI test (Debian's package, or `CHROMIUM_PATH`). */
  chromium?: string | undefined;
}

export function devServerCachePath(): string {
  return join(CACHE_DIR, `temporal-cli-${DEV_SERVER_VERSION}-b${DEV_SERVER_BUILD}`, 'temporal');
}

export function testServerCachePath(): string {
  return join(CACHE_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`, 'temporal-test-server');
}

/** Where `go install github.com/stripe/stripe-mock@v<version>` puts the stripe-mock binary (GOBIN). */
export function stripeMockCachePath(): string {
  return join(CACHE_DIR, `stripe-mock-${STRIPE_MOCK_VERSION}`, 'stripe-mock');
}

/** Writes the manifest atomically (rename), so a run reading it mid-write sees old or new, whole. */
export function writeManifest(manifest: ServerManifest): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  const staging = `${MANIFEST}.${process.pid}.partial`;
  writeFileSync(staging, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(staging, MANIFEST);
}

export function readManifest(): ServerManifest | undefined {
  if (!existsSync(MANIFEST)) return undefined;
  const parsed = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Partial<ServerManifest>;
  return {
    devServer: parsed.devServer ?? undefined,
    testServer: parsed.testServer ?? undefined,
    stripeMock: parsed.stripeMock ?? undefined,
    chromium: parsed.chromium ?? undefined,
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
