import type { LoadedConfig } from '../../config/load.ts';
import { compileMapping, decodeDefault, decodeHeartbeat, decodeMapped, decodeSourceStatus, type CompiledMapping } from '../../signals/decode.ts';
import { mqttSources, signalCatalogue, type SignalInfo } from '../../signals/sources.ts';
import { heartbeatTopic, signalTopic, sourceStatusTopic, type SignalKind } from '../../signals/states.ts';
import { expandSite, topicMatches } from '../../signals/topics.ts';

// Turns one MQTT message into what it means: a signal state, a source's status,
// or a rejection with a reason. Pure and synchronous; the MqttSignals plug-in
// does the I/O and the counting.

export type Routed =
  | { type: 'signal'; signal: string; kind: SignalKind; state: string; seq?: number; sourceTime?: number }
  | { type: 'source'; source: string; status: 'online' | 'offline'; via: 'lwt' | 'heartbeat'; sourceTime?: number }
  | { type: 'rejected'; reason: string };

interface MappedRoute {
  filter: string;
  info: SignalInfo;
  mapping: CompiledMapping;
}

export class SignalRouter {
  private readonly site: string;
  private readonly catalogue: Map<string, SignalInfo>;
  private readonly sources: Set<string>;
  private readonly mapped: MappedRoute[] = [];

  constructor(config: LoadedConfig) {
    this.site = config.building.site.id;
    this.catalogue = signalCatalogue(config.building);
    this.sources = mqttSources(this.catalogue);
    for (const info of this.catalogue.values())
      if (info.mqtt) this.mapped.push({ filter: expandSite(info.mqtt.topic, this.site), info, mapping: compileMapping(info.mqtt) });
  }

  /** The filters to subscribe to, all at QoS 1: safety topics must not be lost (MQTT 3.1.1 §4.3.2). */
  subscriptions(): string[] {
    const defaults = [signalTopic(this.site, '+'), sourceStatusTopic(this.site, '+'), heartbeatTopic(this.site, '+')];
    return [...new Set([...defaults, ...this.mapped.map((m) => m.filter)])];
  }

  route(topic: string, payload: Uint8Array): Routed {
    // Vendor mappings first: a vendor's topic may happen to sit under bohub/.
    const mapped = this.mapped.find((m) => topicMatches(m.filter, topic));
    if (mapped) return this.signal(mapped.info, decodeMapped(payload, mapped.info.kind, mapped.mapping));

    const levels = topic.split('/');
    if (levels[0] !== 'bohub' || levels[1] !== this.site) return { type: 'rejected', reason: 'topic is not mapped to any signal' };
    if (levels.length === 4 && levels[2] === 'signal') {
      const info = this.catalogue.get(levels[3]!);
      if (!info) return { type: 'rejected', reason: `unknown signal "${clip(levels[3]!)}"` };
      // A signal with a vendor mapping is only read from its vendor topic.
      if (info.mqtt) return { type: 'rejected', reason: `signal "${info.id}" is mapped to ${info.mqtt.topic}, not the default topic` };
      return this.signal(info, decodeDefault(payload, info.kind));
    }
    if (levels.length === 5 && levels[2] === 'source') {
      const source = levels[3]!;
      if (!this.sources.has(source)) return { type: 'rejected', reason: `unknown source "${clip(source)}"` };
      if (levels[4] === 'status') {
        const d = decodeSourceStatus(payload);
        return d.ok ? { type: 'source', source, status: d.status, via: 'lwt' } : { type: 'rejected', reason: d.reason };
      }
      if (levels[4] === 'heartbeat') {
        const d = decodeHeartbeat(payload);
        return d.ok ? { type: 'source', source, status: 'online', via: 'heartbeat', sourceTime: d.sourceTime } : { type: 'rejected', reason: d.reason };
      }
    }
    return { type: 'rejected', reason: 'topic is not mapped to any signal' };
  }

  private signal(info: SignalInfo, d: ReturnType<typeof decodeDefault>): Routed {
    if (!d.ok) return { type: 'rejected', reason: d.reason };
    return { type: 'signal', signal: info.id, kind: info.kind, state: d.state, seq: d.seq, sourceTime: d.sourceTime };
  }
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
