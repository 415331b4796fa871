import type { JobProgress } from './work/jobs.ts';
import { EventEmitter } from 'node:events';
import type { AlarmChange } from './alarms/types.ts';
import type { IncidentChange } from './runbooks/types.ts';

// HubEvents: the typed event map every plug-in talks through. Listeners are
// registered with an owner key so a plug-in's stop() can remove exactly its own
// (the pattern of zigbee2mqtt's lib/eventBus.ts).

/** Every value that leaves a driver carries a quality and a source timestamp. */
export type Quality = 'good' | 'stale' | 'bad';

export interface PointValue {
  device: string;
  point: string;
  /** null when the read failed or decoded to no value (NaN). */
  value: number | null;
  unit: string;
  quality: Quality;
  /** Why the quality is not 'good', e.g. "suspect zero" or the failed read's error. */
  error?: string;
  /** ms since epoch, when the device was read (or the source says the event happened). */
  sourceTime: number;
}

export type CommStatus = 'online' | 'offline';

export interface DeviceStatus {
  device: string;
  bus: string;
  status: CommStatus;
  error?: string;
  at: number;
}

export interface SignalState {
  /** The configured signal id, e.g. `FZ-A-07` for the fire zone of tower A floor 7. */
  signal: string;
  kind: 'fire-zone' | 'leak' | 'power-feeder' | 'gas' | 'typhoon' | 'rainstorm';
  state: string;
  sourceTime: number;
  seq?: number;
  retained: boolean;
}

/** A signal source (fire panel, leak or gas gateway, power monitor, weather feed) is heard from, or has gone silent. */
export interface SourceStatus {
  /** The source id, e.g. the fire panel `FP-A` or an OPC-UA server's configured id. */
  source: string;
  status: CommStatus;
  /** What told us: 'lwt', 'heartbeat', 'keepalive', 'opcua', 'connect'. */
  via: string;
  reason?: string;
  at: number;
}

export interface HubEvents {
  /** One device poll's decoded values. */
  'meter.values': { device: string; values: PointValue[] };
  'device.status': DeviceStatus;
  'signal.state': SignalState;
  'source.status': SourceStatus;
  /** A payload that could not be decoded: counted and named, never silently dropped. */
  'input.rejected': { source: string; reason: string; at: number };
  /** Every change of every alarm (gateway/alarms), emitted at once: never coalesced or delayed. */
  'alarm.changed': AlarmChange;
  /** Every change of every incident (gateway/runbooks), emitted at once: never coalesced or delayed. */
  'incident.changed': IncidentChange;
  /** What some screens show has changed (gateway/display): the live layer pushes each its new content. */
  'display.changed': { screens: string[]; reason: string; at: number };
  /** A long job's progress (gateway/work/jobs.ts): in order, ending with 'done' or 'failed'. */
  'job.progress': JobProgress;
}

type Listener<K extends keyof HubEvents> = (payload: HubEvents[K]) => void;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly owners = new Map<string, Array<{ event: keyof HubEvents; fn: (payload: unknown) => void }>>();

  constructor() {
    // Every plug-in may listen; the default limit of 10 is a leak detector we do not want here.
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof HubEvents>(event: K, payload: HubEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  on<K extends keyof HubEvents>(owner: string, event: K, fn: Listener<K>): void {
    // A throwing listener must not break the emitter or the other listeners.
    const safe = (payload: HubEvents[K]) => {
      try {
        fn(payload);
      } catch (err) {
        this.emitter.emit('listener.error', { owner, event, err });
      }
    };
    this.emitter.on(event, safe);
    const list = this.owners.get(owner) ?? [];
    list.push({ event, fn: safe as (payload: unknown) => void });
    this.owners.set(owner, list);
  }

  onListenerError(fn: (e: { owner: string; event: string; err: unknown }) => void): void {
    this.emitter.on('listener.error', fn);
  }

  /** Removes every listener the owner registered. */
  removeOwner(owner: string): void {
    for (const { event, fn } of this.owners.get(owner) ?? []) this.emitter.off(event, fn);
    this.owners.delete(owner);
  }
}
