import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../gateway/config/load.ts';
import { REPO } from '../helpers/config.ts';

// There is no Docker engine here, so docker-compose.yml is checked by reading it:
// its services, ports and volumes must agree with the config files it mounts.

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));
const hub = compose.services.hub;
const env: Record<string, string> = hub.environment;

/** Maps a path inside the hub container back to the repository, through the bind mounts. */
function repoPathOf(containerPath: string): string | undefined {
  for (const volume of hub.volumes as string[]) {
    const [src, dst] = volume.split(':');
    if (src?.startsWith('./') && dst && containerPath.startsWith(dst + '/')) return join(REPO, src, containerPath.slice(dst.length + 1));
  }
  return undefined;
}

const portsOf = (service: { ports: string[] }) => service.ports.map((p) => p.split(':').map(Number) as [number, number]);

describe('docker-compose.yml', () => {
  it('runs the hub, InfluxDB 1.8 and Mosquitto 2', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hub', 'influxdb', 'mosquitto']);
    expect(hub.build).toBe('.');
    expect(compose.services.influxdb.image).toBe('influxdb:1.8');
    expect(compose.services.mosquitto.image).toBe('eclipse-mosquitto:2');
  });

  it("starts the hub on a building file that is mounted and valid with the compose environment", () => {
    const configPath = hub.command[hub.command.indexOf('--config') + 1];
    const file = repoPathOf(configPath);
    expect(file, `${configPath} is not inside a bind mount`).toBeDefined();
    const result = checkConfig(file!, env);
    expect(result.ok ? [] : result.issues).toEqual([]);
    if (!result.ok) return;
    const b = result.config.building;
    // The building's devicesDir must resolve inside the container to the mounted profiles.
    const devicesInContainer = posix.resolve(posix.dirname(configPath), b.devicesDir);
    expect(repoPathOf(devicesInContainer + '/x')).toBe(join(REPO, 'devices', 'x'));
    expect(b.broker.mode).toBe('external');
    expect(b.storage.telemetry.backend).toBe('influxdb');
    expect(portsOf(hub).map(([, inside]) => inside)).toContain(b.web.port);
    expect(b.web.host).toBe('0.0.0.0');
  });

  it('points the hub at the Mosquitto listener from the mounted mosquitto.conf', () => {
    const url = new URL(env.BOHUB_MQTT_URL!);
    expect(url.hostname).toBe('mosquitto');
    const confMount = (compose.services.mosquitto.volumes as string[]).find((v) => v.endsWith('/mosquitto/config/mosquitto.conf:ro'));
    const conf = readFileSync(join(REPO, confMount!.split(':')[0]!), 'utf8');
    const listener = Number(/^listener\s+(\d+)/m.exec(conf)?.[1]);
    expect(Number(url.port)).toBe(listener);
    expect(portsOf(compose.services.mosquitto).map(([, inside]) => inside)).toContain(listener);
  });

  it('points the hub at the InfluxDB HTTP port and database', () => {
    const url = new URL(env.BOHUB_INFLUX_URL!);
    expect(url.hostname).toBe('influxdb');
    expect(portsOf(compose.services.influxdb).map(([, inside]) => inside)).toContain(Number(url.port));
    expect(compose.services.influxdb.environment.INFLUXDB_DB).toBe(env.BOHUB_INFLUX_DB);
  });

  it('keeps every service’s data on a named volume', () => {
    const named = Object.keys(compose.volumes);
    const dataVolumes = ['hub', 'influxdb', 'mosquitto'].map((s) => (compose.services[s].volumes as string[]).find((v) => !v.startsWith('./'))?.split(':')[0]);
    expect(dataVolumes.every((v) => v && named.includes(v))).toBe(true);
    expect((hub.volumes as string[]).some((v) => v.endsWith(`:${env.BOHUB_DATA_DIR}`))).toBe(true);
  });

  it('builds the hub from a Dockerfile that copies the code the hub runs', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    for (const dir of ['gateway', 'simulators', 'dashboard', 'devices', 'bin']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} `, 'm'));
    expect(dockerfile).toMatch(/^FROM node:20/m);
    // The dashboard is bundled in a build stage (Vite is a devDependency) and the runtime takes only its output.
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=dashboard \S+\/dashboard\/dist \.\/dashboard\/dist$/m);
  });
});
