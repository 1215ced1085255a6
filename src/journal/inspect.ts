import type { InspectionEvent, StateValue } from 'xstate';
import type { ActorTransition } from './events.js';
import type { Journal } from './journal.js';

interface InspectedRef {
  id?: string;
  sessionId: string;
}

interface InspectedSnapshot {
  status: ActorTransition['status'];
  value?: StateValue;
  machine?: { id: string };
}

/**
 * An xstate `inspect` observer that journals transitions: a machine actor's state value or status
 * (done, error, stopped) changing becomes an 'actor.transition' event. Snapshots that only change
 * context are skipped, and so are non-machine actors (promises, callbacks). Offline and bounded:
 * it remembers the last state of each live actor and the last event sent to it.
 */
export function journalInspector(journal: Journal): (inspection: InspectionEvent) => void {
  const last = new Map<string, string>();
  const senders = new Map<string, { event: string; source: string }>();
  return (inspection) => {
    const ref = inspection.actorRef as InspectedRef;
    if (inspection.type === '@xstate.event') {
      const source = inspection.sourceRef as InspectedRef | undefined;
      if (source)
        senders.set(ref.sessionId, { event: inspection.event.type, source: source.id ?? source.sessionId });
      else senders.delete(ref.sessionId);
      return;
    }
    if (inspection.type !== '@xstate.snapshot') return;
    const snapshot = inspection.snapshot as InspectedSnapshot;
    if (snapshot.value === undefined || !snapshot.machine) return;
    const state = stateValueString(snapshot.value);
    const key = `${snapshot.status}\u0000${state}`;
    const sender = senders.get(ref.sessionId);
    if (snapshot.status === 'active') {
      if (last.get(ref.sessionId) === key) return;
      last.set(ref.sessionId, key);
    } else {
      last.delete(ref.sessionId);
      senders.delete(ref.sessionId);
    }
    journal.append({
      type: 'actor.transition',
      actorId: ref.id ?? ref.sessionId,
      machine: snapshot.machine.id,
      state,
      event: inspection.event.type,
      source: sender?.event === inspection.event.type ? sender.source : null,
      status: snapshot.status,
    });
  };
}

/** `DEGRADED.calming`; parallel regions as `CRITICAL.{recovery.holding,dependencies.up}`. */
export function stateValueString(value: StateValue): string {
  if (typeof value === 'string') return value;
  const parts = Object.entries(value)
    .filter((entry): entry is [string, StateValue] => entry[1] !== undefined)
    .map(([key, child]) => {
      const inner = stateValueString(child);
      return inner === '' ? key : `${key}.${inner}`;
    });
  return parts.length === 1 ? parts[0]! : `{${parts.join(',')}}`;
}
