import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadProfiles } from '../../gateway/config/load.ts';
import { overlappingPoints, profileSchema } from '../../gateway/config/profile.ts';
import { tempDir } from '../helpers/config.ts';

// `bohub config check` rejects a bad register map and names the file and the field.

const base = () => ({
  id: 'test-meter',
  vendor: 'Test',
  model: 'T1',
  kind: 'electricity',
  manual: 'Test meter manual, register table',
  manualBase: 0,
  points: [
    { id: 'voltage', name: 'Voltage', function: 3, address: 0, type: 'float32', unit: 'V' },
    { id: 'energy', name: 'Energy', function: 3, address: 0x100, type: 'float32', unit: 'kWh', poll: 'slow' },
  ] as Array<Record<string, unknown>>,
  billing: { point: 'energy', rolloverAt: 999999.99, maxUsePerHour: 20 },
});

/** Writes one profile into a fresh devices folder and returns the issues as "path: message". */
function issuesOf(profile: unknown): string[] {
  const dir = tempDir();
  writeFileSync(join(dir, 'x.yaml'), stringify(profile));
  return loadProfiles(dir).issues.map((i) => `${i.path}: ${i.message}`);
}

describe('device profile validation', () => {
  it('accepts a good profile; poll defaults to fast', () => {
    const p = profileSchema.parse(base());
    expect(p.points.map((pt) => pt.poll)).toEqual(['fast', 'slow']);
    expect(issuesOf(base())).toEqual([]);
  });

  it('rejects overlapping registers of the same function, naming the file and the point', () => {
    const p = base();
    p.points.push({ id: 'current', name: 'Current', function: 3, address: 1, type: 'float32', unit: 'A' });
    expect(issuesOf(p)).toEqual(['devices/x.yaml: points[2].address: float32 at 1 overlaps point "voltage" (float32 at 0) in the function 3 registers']);
  });

  it('does not call the same address in holding and input registers an overlap (separate tables, spec §4.3)', () => {
    const p = base();
    p.points.push({ id: 'current', name: 'Current', function: 4, address: 0, type: 'float32', unit: 'A' });
    expect(issuesOf(p)).toEqual([]);
  });

  it('finds an overlap with a wide point several points back', () => {
    // u64 at 10 covers 10..13; u16 at 11 and 13 both run into it.
    const pts = [
      { function: 3 as const, address: 10, type: 'u64' as const },
      { function: 3 as const, address: 11, type: 'u16' as const },
      { function: 3 as const, address: 13, type: 'u16' as const },
      { function: 3 as const, address: 14, type: 'u16' as const },
    ];
    expect(overlappingPoints(pts)).toEqual([{ first: 0, second: 1 }, { first: 0, second: 2 }]);
  });

  it('rejects a register count that does not fit the data type ("float32 needs 2 registers")', () => {
    const p = base();
    p.points[0]!.registers = 1;
    p.points[1]!.registers = 2;
    expect(issuesOf(p)).toEqual(['devices/x.yaml: points[0].registers: float32 needs 2 registers, not 1']);
  });

  it('rejects an address out of range', () => {
    const p = base();
    p.points[1]!.address = 65535;
    expect(issuesOf(p)).toEqual(['devices/x.yaml: points[1].address: float32 at 65535 does not fit the 0..65535 register space']);
  });

  it('rejects an unknown poll class', () => {
    const p = base();
    p.points[0]!.poll = 'sometimes';
    expect(issuesOf(p)).toEqual([expect.stringMatching(/^devices\/x\.yaml: points\[0\]\.poll: /)]);
  });

  it('every repository profile passes; the demo building\'s meters read billing registers in the slow class', () => {
    const { profiles, issues } = loadProfiles(new URL('../../devices', import.meta.url).pathname);
    expect(issues).toEqual([]);
    for (const id of ['chint-ddsu666', 'generic-water-rs485']) {
      const p = profiles.get(id)!;
      expect(p.points.find((pt) => pt.id === p.billing.point)?.poll, id).toBe('slow');
    }
  });
});
