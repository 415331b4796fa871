// Writes config/demo/building.yaml: the demo complex modelled on the handbook's
// 联合广场 (towers A and B). The YAML is the source the hub reads; this script only
// saves typing 136 units by hand. Run: npx tsx simulators/generate-demo-building.ts
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { DEMO_PASSWORDS, demoDisplayToken, demoSourcePassword, hashPassword } from '../gateway/auth/passwords.ts';

const FLOORS = 12;
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超'];
const TRADES = ['贸易', '科技', '咨询', '律师事务所', '会计师事务所', '物流', '投资', '设计', '传媒', '医疗器械', '软件', '保险代理'];
const CITIES = ['申城', '浦江', '东方', '华联', '新海', '金桥', '明珠', '长江', '环球', '众信', '恒达', '嘉禾', '瑞丰', '宏图', '远航', '信诚', '博雅'];
const SHOPS = ['咖啡', '便利店', '银行网点', '餐厅', '花店', '药房', '书店', '眼镜店'];
const VACANT = new Set(['A-0503', 'A-0906', 'A-1104', 'B-0402', 'B-0705', 'B-0801', 'B-1006', 'B-1203']);

let seq = 0;
const person = () => {
  const n = seq++;
  return { name: `${SURNAMES[n % 16]}${GIVEN[(n * 7) % 16]}`, phone: `021-6000${String(1000 + n).padStart(4, '0')}`, mobile: `1380000${String(n).padStart(4, '0')}` };
};

function unitsOf(tower: string, level: number) {
  const retail = level <= 2;
  const count = retail ? 4 : 6;
  return Array.from({ length: count }, (_, i) => {
    const id = `${tower}-${String(level).padStart(2, '0')}${String(i + 1).padStart(2, '0')}`;
    const areaM2 = retail ? 180 + 20 * i : 95 + 15 * ((i + level) % 5);
    if (VACANT.has(id)) return { id, areaM2 };
    const n = seq;
    const company = retail
      ? `${CITIES[n % CITIES.length]}${SHOPS[n % SHOPS.length]}`
      : `上海${CITIES[n % CITIES.length]}${TRADES[(n * 5) % TRADES.length]}有限公司`;
    return {
      id,
      areaM2,
      tenant: {
        company,
        occupancy: n % 5 === 0 ? 'owner' : 'tenant',
        contacts: { office: [person(), person()], afterHours: [person(), person()] },
      },
    };
  });
}

const towers = ['A', 'B'].map((t) => ({
  id: t,
  name: { zh: `${t}座`, en: `Tower ${t}` },
  floors: [
    { level: -1, units: [] }, // B1: plant rooms, pumps, switchgear
    ...Array.from({ length: FLOORS }, (_, i) => ({ level: i + 1, units: unitsOf(t, i + 1) })),
  ],
}));

// Two electricity buses per tower (floors 1-6 and 7-12), each an RS-485 line behind
// a Modbus TCP gateway, and one water bus per tower behind a serial device server
// that passes RTU frames through (rtu-over-tcp). The demo polls faster than a real
// site (defaults: fast 5 s, slow 60 s) so the first page visibly moves.
const buses = towers.flatMap((t, ti) =>
  ['E1', 'E2', 'W'].map((suffix, bi) => ({
    id: `${t.id}-${suffix}`, transport: suffix === 'W' ? 'rtu-over-tcp' : 'tcp', host: '127.0.0.1', port: 15020 + ti * 3 + bi + 1,
    timeoutMs: 500, interFrameDelayMs: 0, fastPollMs: 2000, slowPollMs: 5000,
  })),
);

const meters = towers.flatMap((t) => {
  const counters: Record<string, number> = {};
  return t.floors.flatMap((f) =>
    f.units.flatMap((u) => {
      const eBus = `${t.id}-${f.level <= 6 ? 'E1' : 'E2'}`;
      const wBus = `${t.id}-W`;
      const next = (bus: string) => (counters[bus] = (counters[bus] ?? 0) + 1);
      return [
        { id: `${u.id}-E`, unit: u.id, kind: 'electricity', bus: eBus, unitId: next(eBus), profile: 'chint-ddsu666', serial: `DDSU${u.id.replace('-', '')}` },
        { id: `${u.id}-W`, unit: u.id, kind: 'water', bus: wBus, unitId: next(wBus), profile: 'generic-water-rs485', serial: `WM${u.id.replace('-', '')}` },
      ];
    }),
  );
});

const signals = {
  fireZones: towers.flatMap((t) => t.floors.map((f) => ({
    id: `FZ-${t.id}-${f.level < 0 ? 'B1' : String(f.level).padStart(2, '0')}`, tower: t.id, floor: f.level, panel: `FP-${t.id}`, zone: f.level < 0 ? 100 : f.level,
  }))),
  leakSensors: towers.flatMap((t) => [
    { id: `LK-${t.id}-B1-PUMP`, tower: t.id, floor: -1, location: { zh: '地下一层水泵房', en: 'B1 pump room' } },
    { id: `LK-${t.id}-B1-SWGR`, tower: t.id, floor: -1, location: { zh: '地下一层配电房', en: 'B1 switchgear room' } },
    // A riser sensor names the unit it would flood first (the floor's first unit), whose
    // contacts the patrol phones (第九节 六.1). The B1 plant rooms have no tenant.
    ...[4, 8, 12].map((level) => ({
      id: `LK-${t.id}-R${String(level).padStart(2, '0')}`, tower: t.id, floor: level, location: { zh: `${level}层水管井`, en: `Floor ${level} water riser` },
      unit: t.floors.find((f) => f.level === level)!.units[0]!.id,
    })),
  ]),
  powerFeeders: towers.flatMap((t) => [
    ...[1, 2].map((n) => ({ id: `PF-${t.id}-${n}`, tower: t.id, name: { zh: `${t.id}座${n}号进线`, en: `Tower ${t.id} main incomer ${n}` } })),
    // The standby generators report through the power-monitoring system over OPC-UA.
    { id: `PF-${t.id}-GEN`, tower: t.id, name: { zh: `${t.id}座备用发电机`, en: `Tower ${t.id} standby generator` } },
  ]),
  // Gas detectors (handbook 第九节 七): the gas meter room in B1, and the kitchen gas
  // riser serving the retail floors' restaurants.
  gasDetectors: towers.flatMap((t) => [
    { id: `GS-${t.id}-B1-METER`, tower: t.id, floor: -1, location: { zh: '地下一层燃气表房', en: 'B1 gas meter room' } },
    ...[1, 2].map((level) => ({ id: `GS-${t.id}-K${String(level).padStart(2, '0')}`, tower: t.id, floor: level, location: { zh: `${level}层厨房燃气管井`, en: `Floor ${level} kitchen gas riser` } })),
  ]),
  // The typhoon signal and rainstorm warning as the fire-control room relays them
  // (第九节 二, 三), from the site's weather feed (source WEATHER).
  weather: [
    { id: 'WX-TYPHOON', kind: 'typhoon' },
    { id: 'WX-RAINSTORM', kind: 'rainstorm' },
  ],
};

// One MQTT account per signal source (fire panel, leak gateway, power monitor, gas
// gateway, weather feed): each may publish only its own topics. Demo passwords:
// <username>-demo-2026.
const sources = [
  ...['A', 'B'].flatMap((t) => [['fp', `FP-${t}`], ['leak-gw', `LEAK-GW-${t}`], ['power-mon', `POWER-MON-${t}`], ['gas-gw', `GAS-GW-${t}`]].map(([u, source]) => ({ username: `${u}-${t.toLowerCase()}`, source }))),
  { username: 'weather-feed', source: 'WEATHER' },
];
const mqttAccounts = await Promise.all(sources.map(async (a) => ({ ...a, passwordHash: await hashPassword(demoSourcePassword(a.username)) })));

// The power-monitoring server (simulators/opcua-power.ts in the demo). Security
// None is written out on purpose: the demo server listens on loopback only.
const opcua = {
  sources: [{
    id: 'PMS', endpoint: 'opc.tcp://127.0.0.1:4841/bohub', securityMode: 'None', securityPolicy: 'None',
    publishingIntervalMs: 250, samplingIntervalMs: 100, queueSize: 10,
    nodes: ['A', 'B'].map((t) => ({ signal: `PF-${t}-GEN`, nodeId: `ns=1;s=PF-${t}-GEN.On` })),
  }],
};

const users = await Promise.all(
  Object.entries(DEMO_PASSWORDS).map(async ([role, password]) => ({
    username: role === 'display' ? 'lobby' : role,
    displayName: { admin: '系统管理员', supervisor: '区域客户主管', operator: '消防中心值班员', finance: '财务室', viewer: '客户服务中心', display: '大堂显示屏' }[role],
    role,
    passwordHash: await hashPassword(password),
  })),
);

// The handbook's posts ("Who is who" in the digest; 第九节 names them in its steps) and
// which hub logins may act for each. Viewers only watch; admin may always act.
const ACTS = ['operator', 'supervisor'];
const LEADS = ['supervisor'];
const dutyRoles: Array<[id: string, zh: string, en: string, actedBy: string[]]> = [
  ['csc-duty', '客户服务中心当值人员', 'Customer-service duty staff', ACTS],
  ['area-supervisor', '区域客户主管', 'Area customer supervisor', LEADS],
  ['administrator', '管理员', 'Area administrator', ACTS],
  ['division-lead', '分管领导', 'CSC division lead', LEADS],
  ['director', '管理处主任', 'Management-office director', LEADS],
  ['fire-control', '消防中心值班员', 'Fire-control-room duty officer', ACTS],
  ['mne', '机电部/强电主管', 'M&E department / high-voltage supervisor', ACTS],
  ['civil-engineer', '工程组土建工程师', 'Civil engineer', ACTS],
  ['electrical-engineer', '工程组电气工程师', 'Electrical engineer', ACTS],
  ['maintenance', '综合维护部', 'Maintenance department', ACTS],
  ['security-leader', '保安队当值领班', 'Security shift leader', ACTS],
  ['security-patrol', '内保巡查', 'Internal security patrol', ACTS],
  ['safety-director', '安全主任', 'Company safety director', LEADS],
  ['finance', '财务室/收费室', 'Finance / cashier', ['finance']],
  ['reception', '前台咨询员', 'Lobby reception', ACTS],
];

// A demo roster (names and numbers are made up; 139 numbers so none equals a tenant's
// 138 mobile). Office, early and late are the calendar's shifts (第一节 一); after the
// late shift CSC's phone goes to the security duty room, so at night the fire-control
// room, security, M&E and the on-call supervisor and director carry the procedures.
// Supervisors keep their phones on around the clock (第一节 一.(三)6).
const rosterPlan: Array<[role: string, name: string, shift: string, username?: string]> = [
  ['csc-duty', '王芳', 'office'], ['csc-duty', '李娜', 'early'], ['csc-duty', '张敏', 'late'],
  ['area-supervisor', '刘强', 'any', 'supervisor'], ['area-supervisor', '陈静', 'any'],
  ['administrator', '黄洋', 'office'], ['administrator', '赵艳', 'office'],
  ['division-lead', '周勇', 'office'],
  ['director', '吴军', 'any'],
  ['fire-control', '徐杰', 'early'], ['fire-control', '孙娟', 'late'], ['fire-control', '马涛', 'night'],
  ['mne', '朱明', 'office'], ['mne', '胡超', 'night'],
  ['civil-engineer', '郭伟', 'office'],
  ['electrical-engineer', '王磊', 'any'],
  ['maintenance', '张勇', 'early'], ['maintenance', '刘洋', 'late'],
  ['security-leader', '陈军', 'early'], ['security-leader', '杨杰', 'late'], ['security-leader', '黄涛', 'night'],
  ['security-patrol', '赵明', 'early'], ['security-patrol', '周超', 'late'], ['security-patrol', '吴伟', 'night'],
  ['safety-director', '徐敏', 'any'],
  ['finance', '孙静', 'office', 'finance'],
  ['reception', '马娜', 'office'],
];
const duty = {
  roles: dutyRoles.map(([id, zh, en, actedBy]) => ({ id, name: { zh, en }, actedBy: [...actedBy] })), // copies: shared arrays would become YAML anchors
  roster: rosterPlan.map(([role, name, shift, username], i) => ({
    role, name, phone: `139-0000-${String(i + 1).padStart(4, '0')}`, ...(username ? { username } : {}), shift,
  })),
};

const building = {
  site: { id: 'union-plaza', name: { zh: '联合广场', en: 'Union Plaza' }, timezone: 'Asia/Shanghai', demo: true },
  devicesDir: '../../devices',
  towers,
  modbus: { buses, meters },
  signals,
  // Each screen logs in with its own display token; the demo's are `<screen>-demo-2026`.
  displays: await Promise.all([
    { id: 'A-lobby', tower: 'A', location: { zh: 'A座大堂', en: 'Tower A lobby' } },
    { id: 'B-lobby', tower: 'B', location: { zh: 'B座大堂', en: 'Tower B lobby' } },
    { id: 'A-lifts', tower: 'A', location: { zh: 'A座电梯厅', en: 'Tower A lifts' } },
    { id: 'B-lifts', tower: 'B', location: { zh: 'B座电梯厅', en: 'Tower B lifts' } },
  ].map(async (d) => ({ ...d, tokenHash: await hashPassword(demoDisplayToken(d.id)) }))),
  // Lobby content templates from the handbook (holiday notice, 附件4 outage notice, pest control).
  display: { templatesDir: '../display-templates' },
  calendar: {
    // handbook 第一节 一、值班制度
    shifts: { office: [{ start: '08:30', end: '12:00' }, { start: '13:00', end: '17:30' }], early: { start: '07:00', end: '15:00' }, late: { start: '15:00', end: '20:00' } },
    workingDays: [1, 2, 3, 4, 5],
    // Demo dates only: replace them each year with the State Council's published schedule.
    holidays: [
      ...['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07'].map((date) => ({ date, name: '国庆节' })),
      { date: '2027-01-01', name: '元旦' },
      ...['2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12'].map((date) => ({ date, name: '春节' })),
      ...['2027-05-01', '2027-05-02', '2027-05-03', '2027-05-04', '2027-05-05'].map((date) => ({ date, name: '劳动节' })),
    ],
    extraWorkingDays: ['2026-10-10'],
  },
  tariffs: { currency: 'CNY', electricityPerKWh: '1.0120', waterPerM3: '4.96', managementFeePerM2Month: '28.00', lateFeePerDay: '0.0005' },
  billing: { readingDay: 25, noticeDay: 1, paymentDueDay: 5, reminderDay: 18, dunningDay: 23 },
  users,
  broker: { mode: 'embedded', host: '127.0.0.1', port: 1883, accounts: mqttAccounts },
  opcua,
  storage: { dataDir: './data', telemetry: { backend: 'embedded' } },
  web: { host: '127.0.0.1', port: 8080, sessionTtlMinutes: 720, loginAttemptsPerMinute: 5 },
  simulators: { enabled: true, ephemeralPorts: false, speedup: 60 },
  duty,
  // The handbook's emergency procedures (第九节), one file each: config/runbooks/*.yaml.
  runbooks: { dir: '../runbooks' },
};

const header = `# The demo building: 联合广场 (Union Plaza), modelled on the handbook's complex.
# Written by simulators/generate-demo-building.ts; edit here or there.
# yaml-language-server: $schema=../bohub.schema.json
`;
writeFileSync(new URL('../config/demo/building.yaml', import.meta.url), header + stringify(building, { lineWidth: 0 }));
console.error(`wrote ${towers.reduce((n, t) => n + t.floors.reduce((m, f) => m + f.units.length, 0), 0)} units, ${meters.length} meters`);
