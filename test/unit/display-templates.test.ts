import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, loadConfig } from '../../gateway/config/load.ts';
import { emergencyTemplateDefs, fillTemplate, matchesTemplate, textSha256 } from '../../gateway/display/templates.ts';
import { DEMO_CONFIG, REPO, tempDir, writeConfig } from '../helpers/config.ts';

// The lobby-screen templates: the handbook's notices in config/display-templates
// (节假日通知, 附件4, 消杀告示; 第七节 二.2), checked by `bohub config check` with the
// file and path of each problem, and the runbooks' lobby messages as emergency templates.

const demo = loadConfig(DEMO_CONFIG, {});

describe('content templates', () => {
  it('the shipped templates load with the demo building, every field used in the text', () => {
    expect([...demo.contentTemplates.keys()].sort()).toEqual(['holiday-notice', 'outage-notice', 'pest-control']);
    for (const t of demo.contentTemplates.values()) {
      const text = JSON.stringify([t.title, t.body]);
      for (const f of t.fields) expect(text, `${t.id}: ${f.id}`).toContain(`{{${f.id}}}`);
      expect(t.priority).toBeGreaterThanOrEqual(3);
    }
    expect(demo.contentTemplates.get('outage-notice')!.handbook).toContain('附件4');
  });

  it('config check names the file and the path of each problem', () => {
    const dir = join(tempDir(), 'display-templates');
    mkdirSync(dir);
    copyFileSync(join(REPO, 'config/display-templates/pest-control.yaml'), join(dir, 'pest-control.yaml'));
    copyFileSync(join(REPO, 'config/display-templates/pest-control.yaml'), join(dir, 'pest-control-copy.yaml'));
    writeFileSync(join(dir, 'broken.yaml'), [
      'id: broken',
      'name: { zh: 坏模板, en: Broken }',
      'handbook: 第七节 二.2',
      'priority: 1',
      'fields: [{ id: date, label: { zh: 日期, en: Date } }]',
      'title: { zh: "{{date}}通知", en: "Notice {{data}}" }',
      'body: { zh: 正文, en: Body }',
    ].join('\n'));
    const result = checkConfig(writeConfig((raw) => (raw.display.templatesDir = dir)), {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([
      { path: 'display-templates/broken.yaml: priority', message: expect.stringContaining('3') },
      { path: 'display-templates/broken.yaml: title.en', message: '{{data}} names no field (fields: date)' },
      { path: 'display-templates/pest-control.yaml: id', message: 'display template "pest-control" is defined twice' },
    ]);
    const missing = checkConfig(writeConfig((raw) => (raw.display.templatesDir = join(dir, 'nope'))), {});
    expect(!missing.ok && missing.issues).toEqual([{ path: 'display.templatesDir', message: expect.stringContaining('cannot read') }]);
  });

  it('fills a template, leaving no placeholder', () => {
    const t = demo.contentTemplates.get('pest-control')!;
    const filled = fillTemplate(t, { date: '2026-11-28', time: '18:30', areas: '地下车库', 'areas-en': 'the car park' });
    expect(filled.body.zh).toContain('定于2026-11-28 18:30在地下车库进行消杀');
    expect(filled.body.en).toContain('treat the car park against rats');
    expect(JSON.stringify(filled)).not.toContain('{{');
  });
});

describe('emergency templates', () => {
  it('every runbook step with a lobby message is one, with its priority', () => {
    const defs = emergencyTemplateDefs(demo.runbooks.values());
    expect([...defs.keys()].sort()).toEqual(['fire-alarm/assess', 'holiday-notices/lobby-notice', 'power-loss/lobby-cause', 'rainstorm/lobby-warning', 'typhoon/lobby-weather']);
    expect(defs.get('fire-alarm/assess')).toMatchObject({ runbook: 'fire-alarm', step: 'assess', priority: 1 });
  });

  it('the approval hash covers both languages', () => {
    const text = { zh: '火警', en: 'Fire' };
    expect(textSha256(text)).toBe(textSha256({ ...text }));
    expect(textSha256({ ...text, en: 'Fire!' })).not.toBe(textSha256(text));
    expect(textSha256({ zh: '火警Fire', en: '' })).not.toBe(textSha256({ zh: '火警', en: 'Fire' }));
  });

  it('a message matches its template only with nothing but the placeholders filled in', () => {
    const template = { zh: '停电原因:{{find-cause}}。敬请谅解。', en: 'Cause: {{find-cause}}. Sorry (really).' };
    expect(matchesTemplate({ zh: '停电原因:外线故障。敬请谅解。', en: 'Cause: a grid fault. Sorry (really).' }, template)).toBe(true);
    expect(matchesTemplate({ zh: '停电原因:外线故障。', en: 'Cause: a grid fault. Sorry (really).' }, template)).toBe(false);
    expect(matchesTemplate({ zh: '火警', en: 'Fire' }, { zh: '火警', en: 'Fire' })).toBe(true);
    expect(matchesTemplate({ zh: '火警!', en: 'Fire' }, { zh: '火警', en: 'Fire' })).toBe(false);
  });
});
