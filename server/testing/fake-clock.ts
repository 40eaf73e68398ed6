// A manual clock for tests: time moves only when a test calls advance(), so timeouts and expiry
// are exact and no test sleeps. Implements the server's Clock.

import type { Clock, TimerHandle } from "../clock.ts";

interface Timer {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private timers = new Set<Timer>();
  constructor(private nowMs = 1_700_000_000_000) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.nowMs + ms, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  /** Pending timers; a cleared or fired timer is gone. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.timers.delete(next);
      this.nowMs = next.at;
      next.fn();
    }
    this.nowMs = target;
  }
}
