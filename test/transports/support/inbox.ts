/**
 * Collects what a real client receives (socket.io events, ws frames, ...), in arrival order, and
 * hands them out one at a time: `next()` resolves with the next message, waiting for it if need
 * be, and rejects after `timeoutMs` of real time so a missing message fails the test instead of
 * hanging it. The timeout is a safety net, never a timing assumption.
 */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private readonly waiters: Array<{ resolve: (message: T) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }> = [];
  private received = 0;

  constructor(private readonly name: string) {}

  /** Every message so far, taken or not. */
  get count(): number {
    return this.received;
  }

  /** Messages that arrived and have not been taken by `next()`. */
  get unread(): readonly T[] {
    return [...this.queue];
  }

  push(message: T): void {
    this.received++;
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  next(what = 'a message', timeoutMs = 5_000): Promise<T> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms (received ${this.received} in all)`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Fails every pending `next()` (the connection closed): nothing is left waiting on a timer. */
  close(reason: string): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${this.name}: ${reason}`));
    }
  }
}
