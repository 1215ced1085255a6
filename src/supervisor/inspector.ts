import { createSkyInspector, createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';

type Inspect = (inspection: InspectionEvent) => void;

export interface AttachedInspector {
  /** Feeds every actor's inspection events to the journal and, when attached, to the inspector. */
  inspect: Inspect;
  stop(): void;
}

/**
 * The xstate inspector behind K2_INSPECT: a ws:// URL streams every actor's events and snapshots to
 * a WebSocket receiver such as Stately's inspector server (`k2 inspect`), "sky" to Stately's hosted
 * inspector. Empty leaves only the journal's own inspection. Inspection never blocks an actor: the
 * adapter buffers a bounded number of events until its socket is open and drops the oldest after.
 */
export function attachInspector(
  target: string,
  journal: Inspect,
  log: (message: string, fields?: Record<string, unknown>) => void,
): AttachedInspector {
  if (target === '') return { inspect: journal, stop: () => undefined };
  const inspector =
    target === 'sky' ? createSkyInspector({ autoStart: true }) : createWebSocketInspector({ url: target });
  const observer = inspector.inspect as Observer<InspectionEvent>;
  log('k2 supervisor: xstate inspector attached', { target });
  return {
    inspect: (inspection) => {
      journal(inspection);
      try {
        observer.next?.(inspection);
      } catch {
        // A broken inspector must not break the actor it watches.
      }
    },
    stop: () => inspector.stop(),
  };
}
