// Starts the Temporal CLI dev server through the SDK, with one retry: the SDK gives a server
// about 5 s to answer, which a briefly overloaded 2-core machine can miss.
import {
  TestWorkflowEnvironment,
  type LocalTestWorkflowEnvironmentOptions,
} from '@temporalio/testing';

/** `TestWorkflowEnvironment.createLocal`, tried once more if the server did not answer in time. */
export async function createLocalTemporal(
  options: LocalTestWorkflowEnvironmentOptions,
): Promise<TestWorkflowEnvironment> {
  try {
    return await TestWorkflowEnvironment.createLocal(options);
  } catch (first) {
    if (!(first instanceof Error && /did not start within/.test(first.message))) throw first;
    process.stderr.write(
      `Temporal dev server was slow to start (${first.message}); trying once more\n`,
    );
    return TestWorkflowEnvironment.createLocal(options);
  }
}
