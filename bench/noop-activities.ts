// The no-op activity behind `noopCharge` (bench/workflows.ts): what remains of an activity when
// it does nothing, so the floor measures only Temporal's cost.

export function createNoopActivities() {
  return {
    /** Does nothing and returns its label (so the result payload is not empty). */
    async benchNoop(label: string): Promise<string> {
      return label;
    },
  };
}

export type NoopActivities = ReturnType<typeof createNoopActivities>;
