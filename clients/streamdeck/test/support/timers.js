// A fake clock and timer queue for the hub: tests run its timers one at a time instead of waiting.

export class FakeTimers {
  /** @type {{id: number, at: number, fn: () => void}[]} */
  queue = [];
  #nextId = 1;

  /** @param {number} start epoch ms */
  constructor(start = Date.now()) {
    this.time = start;
    this.now = () => this.time;
    this.setTimeout = (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
      const id = this.#nextId++;
      this.queue.push({ id, at: this.time + ms, fn });
      return id;
    };
    this.clearTimeout = (/** @type {number} */ id) => {
      this.queue = this.queue.filter((t) => t.id !== id);
    };
  }

  /** Delays (ms from now) of the timers waiting, soonest first. */
  pending() {
    return this.queue.map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Move the clock to the soonest timer and run it. */
  runNext() {
    this.queue.sort((a, b) => a.at - b.at);
    const timer = this.queue.shift();
    if (!timer) throw new Error("no timer pending");
    this.time = Math.max(this.time, timer.at);
    timer.fn();
    return timer.at;
  }
}
