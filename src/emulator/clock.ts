/**
 * The emulator's clock for state transitions, shared by its cloud models: a transition walks
 * through its steps in equal slices of its duration, computed from timestamps when asked
 * (no timers), and can be paused (a test "hold") without the paused time counting.
 */
export interface Timed<S> {
  steps: S[];
  startedAt: number;
  durationMs: number;
  /** While set, elapsed time stands still here (paused); `resume` rebases `startedAt`. */
  capMs?: number;
  capIndex?: number;
}

function elapsed(t: Timed<unknown>, now: number): number {
  const raw = Math.max(0, now - t.startedAt);
  return t.capMs === undefined ? raw : Math.min(raw, t.capMs);
}

/** Index of the step the transition is in at `now`. */
export function stepIndex(t: Timed<unknown>, now: number): number {
  const last = t.steps.length - 1;
  const stepMs = t.durationMs / t.steps.length;
  // the epsilon keeps a cap placed exactly on a step boundary from rounding down a step
  const idx = stepMs > 0 ? Math.floor(elapsed(t, now) / stepMs + 1e-9) : last;
  return Math.min(idx, t.capIndex ?? last, last);
}

/** Stops the transition where it is now. */
export function pause(t: Timed<unknown>, now: number): void {
  t.capIndex = stepIndex(t, now);
  t.capMs = Math.min(t.capMs ?? Infinity, elapsed(t, now));
}

/** Lets a paused transition go on from where it stopped. */
export function resume(t: Timed<unknown>, now: number): void {
  if (t.capMs === undefined) return;
  t.startedAt = now - elapsed(t, now);
  t.capMs = undefined;
  t.capIndex = undefined;
}
