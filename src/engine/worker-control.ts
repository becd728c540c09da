/**
 * One word the user layer and the audio worker share: the user layer raises
 * it to stop the worker, and the clock-paced worker sleeps on it between
 * blocks. Atomics.wait wakes on the stop at once or after its timeout and,
 * unlike a timer, allocates nothing, so a clock-paced worker makes no
 * garbage at all: no garbage collection in the audio worker's steady state.
 */
export class WorkerControl {
  readonly #word: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.#word = new Int32Array(buffer, 0, 1);
  }

  /** User layer: asks the worker to stop, waking it if it sleeps. */
  requestStop(): void {
    Atomics.store(this.#word, 0, 1);
    Atomics.notify(this.#word, 0);
  }

  get stopRequested(): boolean { return Atomics.load(this.#word, 0) !== 0; }

  /** Audio worker only: sleeps up to `ms`, less if a stop is requested. */
  sleep(ms: number): void {
    Atomics.wait(this.#word, 0, 0, ms);
  }
}
