import { K2Error } from '../errors/index.js';
import type { OpenGap, SymbolState } from './symbol.js';

/**
 * The tracker's state at a partition offset, JSON-safe (64-bit values as decimal strings). It is
 * stored with the Iceberg commit that covers the same offset, so a restore plus a replay from that
 * offset reproduces exactly what the first run saw.
 */
export interface SequenceSnapshot {
  version: 1;
  topic: string;
  partition: number;
  /** Least recently seen first, so a restored tracker forgets symbols in the same order. */
  symbols: SymbolSnapshot[];
}

/** One symbol; `gaps` is flat: from, to, detectedOffset for each open gap, ascending. */
export type SymbolSnapshot = [
  exchange: string,
  symbol: string,
  knownFrom: string,
  highest: string,
  gaps: string[],
];

export class SequenceSnapshotError extends K2Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('K2_SEQUENCE_SNAPSHOT_INVALID', `sequence snapshot: ${message}`, options);
  }
}

export function encodeSymbol(state: SymbolState): SymbolSnapshot {
  const gaps: string[] = [];
  for (const gap of state.gaps) gaps.push(String(gap.from), String(gap.to), String(gap.detectedOffset));
  return [state.exchange, state.symbol, String(state.knownFrom), String(state.highest), gaps];
}

export function decodeSymbol(entry: SymbolSnapshot): SymbolState {
  const [exchange, symbol, knownFrom, highest, flat] = entry;
  if (
    typeof exchange !== 'string' ||
    typeof symbol !== 'string' ||
    !Array.isArray(flat) ||
    flat.length % 3 !== 0
  ) {
    throw new SequenceSnapshotError(`malformed symbol entry ${JSON.stringify(entry)}`);
  }
  const gaps: OpenGap[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    gaps.push({ from: int(flat[i]), to: int(flat[i + 1]), detectedOffset: int(flat[i + 2]) });
  }
  const state: SymbolState = { exchange, symbol, knownFrom: int(knownFrom), highest: int(highest), gaps };
  let floor = state.knownFrom;
  for (const gap of gaps) {
    if (gap.from < floor || gap.to < gap.from || gap.to >= state.highest) {
      throw new SequenceSnapshotError(
        `${exchange}/${symbol}: open gaps out of order or beyond the highest sequence`,
      );
    }
    floor = gap.to + 2n;
  }
  return state;
}

function int(text: string | undefined): bigint {
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) {
    throw new SequenceSnapshotError(`expected an integer string, got ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}
