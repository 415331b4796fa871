import type { EventBus, PointValue, DeviceStatus } from './events.ts';

/**
 * The latest value of every point and the comm status of every device, kept in
 * memory for the dashboard's first paint and for resync after a reconnect.
 */
export class LatestValues {
  private readonly values = new Map<string, PointValue>();
  private readonly status = new Map<string, DeviceStatus>();

  constructor(private readonly events: EventBus) {}

  start(): void {
    this.events.on('latest', 'meter.values', ({ values }) => {
      for (const v of values) this.values.set(`${v.device}/${v.point}`, v);
    });
    this.events.on('latest', 'device.status', (s) => this.status.set(s.device, s));
  }

  stop(): void {
    this.events.removeOwner('latest');
  }

  snapshot(): { values: PointValue[]; devices: DeviceStatus[] } {
    return { values: [...this.values.values()], devices: [...this.status.values()] };
  }

  get(device: string, point: string): PointValue | undefined {
    return this.values.get(`${device}/${point}`);
  }
}
