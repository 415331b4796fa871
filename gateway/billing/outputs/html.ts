import { DateTime } from 'luxon';
import { Dec } from '../money.ts';

// Shared pieces of the printed billing documents (fee notices, dunning letters and
// lists, the finance summary). Every document is one self-contained HTML file:
// inline CSS only, no fonts or scripts from elsewhere, because notices are printed
// on the management office's own machines, often offline (handbook 第三节 三.4-5).
// Nothing here reads the clock: the same input must give the same bytes.

export type Lang = 'zh' | 'en';

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(text: string | number): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A whole printable document; `body` must already be escaped HTML. */
export function htmlPage(lang: Lang, title: string, body: string): string {
  const htmlLang = lang === 'zh' ? 'zh-CN' : 'en';
  return [
    '<!DOCTYPE html>',
    `<html lang="${htmlLang}">`,
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${PRINT_CSS}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Local date and time of an instant in the building's zone, e.g. "2026-11-25 00:00". */
export function localDateTime(at: number, timeZone: string): string {
  // A period's notices repeat the same few instants thousands of times; luxon is slow to format.
  const key = `${at}|${timeZone}`;
  let text = formatted.get(key);
  if (text === undefined) {
    if (formatted.size > 10_000) formatted.clear();
    formatted.set(key, (text = DateTime.fromMillis(at, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm')));
  }
  return text;
}
const formatted = new Map<string, string>();

/** A local date (YYYY-MM-DD) written out: "2026年12月5日" or "5 December 2026". */
export function longDate(date: string, lang: Lang): string {
  const d = DateTime.fromISO(date, { zone: 'UTC' });
  return lang === 'zh' ? `${d.year}年${d.month}月${d.day}日` : d.setLocale('en-GB').toFormat('d MMMM yyyy');
}

/** A billing period ("2026-11") written out: "2026年11月" or "November 2026". */
export function periodName(period: string, lang: Lang): string {
  const d = DateTime.fromISO(`${period}-01`, { zone: 'UTC' });
  return lang === 'zh' ? `${d.year}年${d.month}月` : d.setLocale('en-GB').toFormat('MMMM yyyy');
}

/** A signed difference of two amounts, e.g. "+12.30", "-5.00", "0.00". */
export function signedDifference(after: string, before: string): string {
  const diff = new Dec(after).minus(before);
  return (diff.gt(0) ? '+' : '') + diff.toFixed(2);
}

/** Two-column label/value rows of a header block. */
export function fieldRows(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<table class="fields">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

// A4 with room for a binder's punch holes; each notice or letter is a `.sheet`
// and starts a new page when printed.
const PRINT_CSS = `
@page { size: A4; margin: 15mm 15mm 15mm 20mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; font-size: 10.5pt; color: #000; margin: 0; }
.sheet { break-after: page; page-break-after: always; padding: 0 0 8mm 0; }
.sheet:last-child { break-after: auto; page-break-after: auto; }
h1 { font-size: 16pt; text-align: center; margin: 0 0 2mm 0; }
h2 { font-size: 12pt; margin: 4mm 0 2mm 0; }
.site { text-align: center; font-size: 12pt; margin: 0 0 1mm 0; }
.sub { text-align: center; margin: 0 0 4mm 0; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 0.3mm solid #000; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.fields th, table.fields td { border: none; padding: 0.5mm 1.5mm 0.5mm 0; }
table.fields th { width: 28mm; font-weight: normal; }
tr.total td, tr.total th { font-weight: bold; }
.notes { font-size: 9pt; margin: 1mm 0; padding-left: 5mm; }
.terms p, .letter p { margin: 1.5mm 0; line-height: 1.6; }
.letter p.body { text-indent: 2em; }
.sign { margin-top: 10mm; text-align: right; line-height: 1.8; }
.receipt { margin-top: 12mm; border-top: 0.3mm dashed #000; padding-top: 3mm; }
.blank { display: inline-block; min-width: 35mm; border-bottom: 0.3mm solid #000; }
.correction { border: 0.5mm solid #000; padding: 2mm; margin: 2mm 0; }
@media screen { body { background: #ddd; } .sheet { background: #fff; width: 210mm; margin: 5mm auto; padding: 15mm; } }
`;
