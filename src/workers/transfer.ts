import { move, transferableSymbol, valueSymbol } from 'piscina';

/** Returns `value` from a task with `buffers` transferred to the caller instead of copied. */
export function transferring<T extends object>(value: T, buffers: readonly ArrayBuffer[]): T {
  const unique = [...new Set(buffers)];
  return move({ [transferableSymbol]: unique, [valueSymbol]: value } as never) as unknown as T;
}
