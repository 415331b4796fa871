import type { LoadedConfig } from '../config/load.ts';
import { HUB_MQTT_USERNAME, type MqttAccountConfig } from '../config/schema.ts';
import { signalCatalogue } from '../signals/sources.ts';
import { commandTopics, heartbeatTopic, signalTopic, sourceStatusTopic } from '../signals/states.ts';
import { expandSite, filtersOverlap, topicMatches } from '../signals/topics.ts';

// Who may publish and read what on the embedded broker. Pure: the broker's aedes
// hooks (authorizePublish, authorizeSubscribe, authorizeForward) ask it.
//   - the hub (its own account) may do anything except publish to $SYS;
//   - a device account publishes only its own source's topics: its signals (default
//     layout or the vendor topic mapped in config), its status (LWT) and heartbeat,
//     plus the extra `publish` filters of its account;
//   - nobody but the hub publishes commands (bohub/<site>/cmd/#) or reads $SYS;
//   - an account reads only topics matching its `read` filters.

export interface Principal {
  username: string;
  hub: boolean;
  source?: string;
  /** Filters with {site} expanded. */
  publish: readonly string[];
  read: readonly string[];
}

export type Decision = { ok: true } | { ok: false; reason: string };

export class BrokerAcl {
  private readonly site: string;
  private readonly sourceTopics = new Map<string, string[]>();
  private readonly accounts = new Map<string, MqttAccountConfig>();

  constructor(config: LoadedConfig) {
    const b = config.building;
    this.site = b.site.id;
    for (const info of signalCatalogue(b).values()) {
      if (info.opcua) continue; // delivered over OPC-UA: no MQTT device may publish it
      const list = this.sourceTopics.get(info.source) ?? [sourceStatusTopic(this.site, info.source), heartbeatTopic(this.site, info.source)];
      list.push(info.mqtt ? expandSite(info.mqtt.topic, this.site) : signalTopic(this.site, info.id));
      this.sourceTopics.set(info.source, list);
    }
    if (b.broker.mode === 'embedded') for (const a of b.broker.accounts) this.accounts.set(a.username, a);
  }

  account(username: string): MqttAccountConfig | undefined {
    return this.accounts.get(username);
  }

  principalOf(username: string): Principal | undefined {
    if (username === HUB_MQTT_USERNAME) return { username, hub: true, publish: [], read: [] };
    const a = this.accounts.get(username);
    if (!a) return undefined;
    const own = a.source ? (this.sourceTopics.get(a.source) ?? [sourceStatusTopic(this.site, a.source), heartbeatTopic(this.site, a.source)]) : [];
    return { username, hub: false, source: a.source, publish: [...own, ...a.publish.map((f) => expandSite(f, this.site))], read: a.read.map((f) => expandSite(f, this.site)) };
  }

  canPublish(p: Principal, topic: string): Decision {
    // $-topics are the broker's own (MQTT 3.1.1 §4.7.2; aedes publishes $SYS itself).
    if (topic.startsWith('$')) return { ok: false, reason: '$-topics are reserved for the broker' };
    if (p.hub) return { ok: true };
    if (topicMatches(commandTopics(this.site), topic)) return { ok: false, reason: 'only the hub may publish commands' };
    if (p.publish.some((f) => topicMatches(f, topic))) return { ok: true };
    return { ok: false, reason: p.source ? `not a topic of source ${p.source}` : 'this account may not publish' };
  }

  /** A subscription is allowed where it overlaps what the account may read; authorizeForward filters the rest. */
  canSubscribe(p: Principal, filter: string): Decision {
    if (p.hub) return { ok: true };
    if (filter.startsWith('$')) return { ok: false, reason: '$SYS is for the hub only' };
    if (p.read.some((r) => filtersOverlap(r, filter))) return { ok: true };
    return { ok: false, reason: 'this account may not read there' };
  }

  canRead(p: Principal, topic: string): boolean {
    if (p.hub) return true;
    if (topic.startsWith('$')) return false;
    return p.read.some((r) => topicMatches(r, topic));
  }
}
