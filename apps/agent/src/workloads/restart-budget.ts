// Whether a supervised program that exited on its own may be started again:
// at most `restarts` restarts within any `windowMs`, so a program that
// crashes once a day keeps running while one that crashes at start-up fails
// the workload after a few tries instead of looping. Pure: the caller owns
// the clock and the list.

export interface RestartBudget {
  restarts: number;
  windowMs: number;
}

/** The restarts still counted at `nowMs` (those within the window), oldest first. */
export function restartsInWindow(restartedAtMs: readonly number[], nowMs: number, budget: RestartBudget): number[] {
  return restartedAtMs.filter((at) => nowMs - at < budget.windowMs);
}

export function mayRestart(restartedAtMs: readonly number[], nowMs: number, budget: RestartBudget): boolean {
  return restartsInWindow(restartedAtMs, nowMs, budget).length < budget.restarts;
}
