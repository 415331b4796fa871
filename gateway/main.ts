// The bohub command line: start a hub, check a config, export the config schema,
// hash a password. Nothing else lives here.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BohubError, describeError } from './errors.ts';
import { checkConfig, configJsonSchema, ENV_OVERRIDES, formatIssues, loadConfig } from './config/load.ts';
import { usersWithDemoPasswords } from './auth/demo-check.ts';
import { hashPassword } from './auth/passwords.ts';
import { createLogger } from './log.ts';
import { BILLING_USAGE } from './billing/cli.ts';

const USAGE = `usage:
  bohub start --config FILE          run the hub for the building in FILE
              [--scenario FILE]      with simulators: then play a scenario (config/demo/scenarios/)
  bohub config check FILE            list every problem in FILE (exit 1 if any)
  bohub config schema [--out FILE]   write the config language's JSON Schema
  bohub user hash-password           read a password on stdin, print its scrypt hash
${BILLING_USAGE}

environment overrides:
${ENV_OVERRIDES.map((o) => `  ${o.name.padEnd(26)} ${o.help}`).join('\n')}
  BOHUB_LOG_LEVEL            pino log level (default info)`;

const EXIT_USAGE = 64;

async function main(argv: string[]): Promise<number> {
  // Billing has its own options; it is dispatched before the general parse.
  if (argv[0] === 'billing') return (await import('./billing/cli.ts')).billingCommand(argv.slice(1));
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, scenario: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  const [command, sub, arg] = positionals;
  if (values.help || !command) return (console.log(USAGE), values.help ? 0 : EXIT_USAGE);
  if (command === 'start') return start(values.config ?? arg ?? sub, values.scenario);
  if (command === 'config' && sub === 'check' && arg) return check(arg);
  if (command === 'config' && sub === 'schema') return schema(values.out);
  if (command === 'user' && sub === 'hash-password') return hashFromStdin();
  console.error(USAGE);
  return EXIT_USAGE;
}

function check(file: string): number {
  const result = checkConfig(file);
  if (result.ok) {
    const b = result.config.building;
    const units = b.towers.flatMap((t) => t.floors.flatMap((f) => f.units)).length;
    console.log(`${file}: ok (${b.towers.length} towers, ${units} units, ${b.modbus.meters.length} meters, ${b.users.length} users, ${result.config.runbooks.size} runbooks)`);
    return 0;
  }
  console.error(`${file}: ${result.issues.length} problem(s)\n${formatIssues(result.issues)}`);
  return 1;
}

function schema(out?: string): number {
  const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}

async function hashFromStdin(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password.length < 10) return (console.error('a password needs at least 10 characters'), 1);
  console.log(await hashPassword(password));
  return 0;
}

async function start(file?: string, scenarioFile?: string): Promise<number> {
  if (!file) return (console.error(USAGE), EXIT_USAGE);
  const log = createLogger();
  let hub: import('./hub.ts').Hub;
  try {
    const config = loadConfig(file);
    const stale = await usersWithDemoPasswords(config.building);
    if (stale.length)
      throw new BohubError('BOHUB_DEMO_PASSWORD', `users ${stale.join(', ')} still have the published demo passwords; set new ones with \`bohub user hash-password\` (only a site with demo: true may keep them)`);
    // Loaded only here, so `config check` stays quick and needs no drivers.
    const { Hub } = await import('./hub.ts');
    hub = new Hub({ config, log });
    await hub.start();
  } catch (err) {
    // One clear line (or the list of config problems), never a stack trace.
    console.error(`bohub: cannot start: ${describeError(err)}`);
    return 1;
  }
  if (scenarioFile) void playThroughSimulator(hub, scenarioFile);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'stopping');
      void hub.stop(10_000).then(resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}

/**
 * Plays a scenario (e.g. a night fire, then a power cut) through the hub's own
 * signal simulator, at the simulators' speed-up, to rehearse the procedures.
 */
async function playThroughSimulator(hub: import('./hub.ts').Hub, file: string): Promise<void> {
  const { loadScenario, playScenario } = await import('../simulators/scenario.ts');
  const panel = hub.parts.signalSim;
  const config = hub.services().config;
  if (!panel) return void hub.log.error({ scenario: file }, 'scenarios need simulators.enabled: true');
  try {
    const scenario = loadScenario(file, config);
    hub.log.info({ scenario: scenario.name }, 'playing scenario');
    await playScenario(scenario, panel, { clock: hub.clock, speedup: config.building.simulators.speedup, onChange: (c) => hub.log.info(c, 'scenario step') });
  } catch (err) {
    hub.log.error({ scenario: file, err: describeError(err) }, 'scenario failed');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bohub: ${describeError(err)}`);
    process.exit(1);
  },
);
