import type { EventBus, PointValue, DeviceStatus, HubEvents, SignalState, SourceStatus } from './events.ts';

/**
 * The latest value of every point, the comm status of every device and the state
 * of every safety signal, kept in memory for the dashboard's first paint and for
 * resync after a reconnect. Also the last status of every signal source and the
 * payloads refused since start, for the devices page (GET /api/devices, issue 8).
 */
export class LatestValues {
  private readonly values = new Map<string, PointValue>();
  private readonly status = new Map<string, DeviceStatus>();
  private readonly signals = new Map<string, SignalState>();
  private readonly sourceStatus = new Map<string, SourceStatus>();
  private rejectedCount = 0;
  private lastRejected?: HubEvents['input.rejected'];

  constructor(private readonly events: EventBus) {}

  start(): void {
    this.events.on('latest', 'meter.values', ({ values }) => {
      for (const v of values) this.values.set(`${v.device}/${v.point}`, v);
    });
    this.events.on('latest', 'device.status', (s) => this.status.set(s.device, s));
    this.events.on('latest', 'signal.state', (s) => this.signals.set(s.signal, s));
    this.events.on('latest', 'source.status', (s) => this.sourceStatus.set(s.source, s));
    this.events.on('latest', 'input.rejected', (r) => {
      this.rejectedCount++;
      this.lastRejected = r;
    });
  }

  stop(): void {
    this.events.removeOwner('latest');
  }

  snapshot(): { values: PointValue[]; devices: DeviceStatus[]; signals: SignalState[] } {
    return { values: [...this.values.values()], devices: [...this.status.values()], signals: [...this.signals.values()] };
  }

  get(device: string, point: string): PointValue | undefined {
    return this.values.get(`${device}/${point}`);
  }

  signal(id: string): SignalState | undefined {
    return this.signals.get(id);
  }

  /** The last 'source.status' of every signal source that has reported one. */
  sources(): SourceStatus[] {
    return [...this.sourceStatus.values()];
  }

  /** Payloads refused since start ('input.rejected'), and the last one. */
  rejected(): { count: number; last?: HubEvents['input.rejected'] } {
    return { count: this.rejectedCount, ...(this.lastRejected ? { last: this.lastRejected } : {}) };
  }
}
