/**
 * An AbortSignal that checks a deadline whenever it is read.
 *
 * Why: after a pause (SIGSTOP, a long GC) Node runs the timers that fell due in
 * order, so user code may run before the timer that ends a term. A signal
 * aborted only by that timer would read "still leading" past the deadline. So
 * reading `aborted` or `reason`, or calling `throwIfAborted()`, first runs the
 * owner's check, which aborts the signal (firing its 'abort' listeners at once)
 * if the deadline has passed.
 *
 * How: AbortSignal cannot be subclassed (its constructor throws "Illegal
 * constructor"; only an AbortController makes one), so the check is three own
 * properties of this one signal object that shadow AbortSignal.prototype's and
 * then call them. The prototype is untouched: every other signal is as Node
 * made it, and this one stays an AbortSignal to the platform (`AbortSignal.any`,
 * `addEventListener`). The properties are shared functions that find the check
 * through a symbol-keyed field, so such signals share one hidden class (about
 * 120 bytes a signal; per-signal closures would cost about 310).
 */

/* eslint-disable @typescript-eslint/unbound-method -- the native accessors are called with an explicit receiver */
const NATIVE_ABORTED = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const NATIVE_REASON = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;
const NATIVE_THROW_IF_ABORTED = AbortSignal.prototype.throwIfAborted;
/* eslint-enable @typescript-eslint/unbound-method */

const CHECK = Symbol('locked.deadlineCheck');
type CheckedSignal = AbortSignal & { [CHECK]: () => void };

const CHECKING_PROPERTIES: PropertyDescriptorMap = {
  aborted: {
    configurable: true,
    get(this: CheckedSignal): boolean {
      this[CHECK]();
      return NATIVE_ABORTED.call(this) as boolean;
    },
  },
  reason: {
    configurable: true,
    get(this: CheckedSignal): unknown {
      this[CHECK]();
      return NATIVE_REASON.call(this);
    },
  },
  throwIfAborted: {
    configurable: true,
    writable: true,
    value(this: CheckedSignal): void {
      this[CHECK]();
      NATIVE_THROW_IF_ABORTED.call(this);
    },
  },
};

/**
 * Makes `controller`'s signal run `check` before each read of its state.
 * `check` aborts the controller when the deadline has passed; it must not read
 * the signal's `aborted` or `reason` itself.
 */
export function checkBeforeRead(controller: AbortController, check: () => void): AbortSignal {
  const signal = controller.signal as CheckedSignal;
  signal[CHECK] = check;
  return Object.defineProperties(signal, CHECKING_PROPERTIES);
}
