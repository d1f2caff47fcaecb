/**
 * Lane faults run side by side (shared); a cluster fault needs the cluster to
 * itself (exclusive): it waits for the lane faults in flight to finish, and
 * lanes wait for it before their next one. Writers are preferred so a cluster
 * fault is not starved.
 */
export class Gate {
  #shared = 0;
  #exclusive = false;
  #writersWaiting = 0;
  #wakers: (() => void)[] = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive || this.#writersWaiting > 0) await this.#wait();
    this.#shared++;
    try {
      return await fn();
    } finally {
      this.#shared--;
      this.#wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#writersWaiting++;
    while (this.#exclusive || this.#shared > 0) await this.#wait();
    this.#writersWaiting--;
    this.#exclusive = true;
    try {
      return await fn();
    } finally {
      this.#exclusive = false;
      this.#wake();
    }
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#wakers.push(resolve));
  }

  #wake(): void {
    for (const wake of this.#wakers.splice(0)) wake();
  }
}
