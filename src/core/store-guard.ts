import { isBotError } from "../errors.js";
import { StoreUnavailableError } from "./errors.js";

/**
 * Wraps a store so that any failure of its backend (Redis gone, disk full, a locked database)
 * reaches callers as one `StoreUnavailableError`: the user is told the state store is
 * unavailable instead of "something went wrong", and callers need to know no driver's errors.
 * Generic over the methods so every store operation, present and future, is covered.
 */
export function guardStore<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          throw isBotError(error) ? error : new StoreUnavailableError(error);
        });
      };
    },
  });
}
