import { Dec, formatMoney, sum } from '../money.ts';
import { EXCEPTION_CODES, type ExceptionCode, type LineCode, type RunResult, type RunSummary, type Statement } from '../types.ts';
import { esc, htmlPage, periodName, signedDifference } from './html.ts';
import { type OutputContext, lineAmount, sortExceptions, sortStatements } from './statements-csv.ts';

// The period summary for finance (财务室): what was billed, what is held and why.
// Totals count billed statements only: a held statement gets no fee notice, and
// payment is asked for by the notice (handbook 第三节 三.4-6).

export type { OutputContext } from './statements-csv.ts';

const LINE_CODES: readonly LineCode[] = ['electricity', 'water', 'management_fee', 'late_fee'];
const TOTAL_KEYS = [...LINE_CODES, 'currentCharges', 'total'] as const;

/** Counts and exact totals of one run. */
export function runSummary(result: RunResult, version: number): RunSummary {
  const billed = result.statements.filter((s) => s.status === 'billed');
  const exceptionsByCode: Partial<Record<ExceptionCode, number>> = {};
  // Keys in the fixed order of EXCEPTION_CODES, not in the order exceptions were found.
  for (const code of Object.keys(EXCEPTION_CODES) as ExceptionCode[]) {
    const n = result.exceptions.filter((e) => e.code === code).length;
    if (n > 0) exceptionsByCode[code] = n;
  }
  return {
    period: result.period,
    version,
    units: new Set(result.statements.map((s) => s.unitId)).size,
    statements: result.statements.length,
    held: result.statements.length - billed.length,
    totals: totalsOf(billed),
    exceptionsOpen: result.exceptions.filter((e) => e.blocking).length,
    exceptionsByCode,
  };
}

/** The summary as JSON with a fixed key order, two-space indent and a trailing newline. */
export function summaryJson(summary: RunSummary, result: RunResult): string {
  const ordered = {
    period: summary.period,
    version: summary.version,
    units: summary.units,
    statements: summary.statements,
    held: summary.held,
    totals: Object.fromEntries(TOTAL_KEYS.map((k) => [k, summary.totals[k]])),
    exceptionsOpen: summary.exceptionsOpen,
    exceptionsByCode: Object.fromEntries(
      (Object.keys(EXCEPTION_CODES) as ExceptionCode[]).flatMap((c) => (summary.exceptionsByCode[c] ? [[c, summary.exceptionsByCode[c]]] : [])),
    ),
    heldStatements: sortStatements(result.statements)
      .filter((s) => s.status === 'held')
      .map((s) => ({ unitId: s.unitId, company: s.company, from: s.from, holds: s.holds })),
    openExceptions: sortExceptions(result.exceptions)
      .filter((e) => e.blocking)
      .map((e) => ({ id: e.id, unitId: e.unitId, meterId: e.meterId, code: e.code, detail: e.detail })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** A one-page bilingual summary for finance; on a correction it shows the corrected version's totals beside. */
export function summaryHtml(summary: RunSummary, result: RunResult, ctx: OutputContext): string {
  const title = `${periodName(summary.period, 'zh')}收费汇总 / Billing summary ${periodName(summary.period, 'en')}`;
  const before = ctx.corrects ? totalsOf(ctx.corrects.statements.filter((s) => s.status === 'billed')) : undefined;
  const parts: string[] = [
    '<section class="sheet">',
    `<p class="site">${esc(ctx.site.name.zh)} ${esc(ctx.site.name.en)}</p>`,
    `<h1>${esc(title)}</h1>`,
    `<p class="sub">第${esc(summary.version)}版 / version ${esc(summary.version)}${
      ctx.corrects ? ` · 更正第${esc(ctx.corrects.version)}版 / corrects version ${esc(ctx.corrects.version)}` : ''
    }</p>`,
    '<table>',
    row('单元 / Units', String(summary.units)),
    row('账单 / Statements', String(summary.statements)),
    row('暂缓出单 / Held', String(summary.held)),
    row('未解决的阻断异常 / Open blocking exceptions', String(summary.exceptionsOpen)),
    '</table>',
    '<h2>已出单金额 / Billed amounts</h2>',
    '<table>',
    `<tr><th>项目 / Item</th>${before ? '<th class="num">更正前 / Before</th>' : ''}<th class="num">金额 / Amount</th>${
      before ? '<th class="num">差额 / Difference</th>' : ''
    }</tr>`,
    ...TOTAL_KEYS.map((k) => {
      const cls = k === 'total' ? ' class="total"' : '';
      const cells = before
        ? `<td class="num">${esc(before[k])}</td><td class="num">${esc(summary.totals[k])}</td><td class="num">${esc(signedDifference(summary.totals[k], before[k]))}</td>`
        : `<td class="num">${esc(summary.totals[k])}</td>`;
      return `<tr${cls}><th>${esc(TOTAL_LABELS[k])}</th>${cells}</tr>`;
    }),
    '</table>',
  ];
  const held = sortStatements(result.statements).filter((s) => s.status === 'held');
  if (held.length > 0) {
    parts.push('<h2>暂缓出单 / Held statements</h2>', '<table><tr><th>单元 / Unit</th><th>公司 / Company</th><th>原因 / Holds</th></tr>');
    for (const s of held) parts.push(`<tr><td>${esc(s.unitId)}</td><td>${esc(s.company)}</td><td>${esc(s.holds.join('; '))}</td></tr>`);
    parts.push('</table>');
  }
  const open = sortExceptions(result.exceptions).filter((e) => e.blocking);
  if (open.length > 0) {
    parts.push('<h2>阻断异常 / Blocking exceptions</h2>', '<table><tr><th>单元 / Unit</th><th>表 / Meter</th><th>异常 / Exception</th><th>详情 / Detail</th></tr>');
    for (const e of open) {
      const text = EXCEPTION_CODES[e.code];
      parts.push(`<tr><td>${esc(e.unitId)}</td><td>${esc(e.meterId)}</td><td>${esc(`${text.zh} / ${text.en}`)}</td><td>${esc(e.detail)}</td></tr>`);
    }
    parts.push('</table>');
  }
  const byCode = (Object.keys(EXCEPTION_CODES) as ExceptionCode[]).filter((c) => summary.exceptionsByCode[c]);
  if (byCode.length > 0) {
    parts.push('<h2>异常统计 / Exceptions by code</h2>', '<table>');
    for (const c of byCode) parts.push(row(`${EXCEPTION_CODES[c].zh} / ${c}`, String(summary.exceptionsByCode[c])));
    parts.push('</table>');
  }
  parts.push('</section>');
  return htmlPage('zh', title, parts.join('\n'));
}

const TOTAL_LABELS: Record<(typeof TOTAL_KEYS)[number], string> = {
  electricity: '电费 / Electricity',
  water: '水费 / Water',
  management_fee: '管理费 / Management fee',
  late_fee: '滞纳金 / Late fees',
  currentCharges: '本期费用 / Current charges',
  total: '应收合计 / Total due',
};

function totalsOf(statements: readonly Statement[]): RunSummary['totals'] {
  const lineTotal = (code: LineCode) => formatMoney(sum(statements.map((s) => new Dec(lineAmount(s, code)))));
  return {
    electricity: lineTotal('electricity'),
    water: lineTotal('water'),
    management_fee: lineTotal('management_fee'),
    late_fee: lineTotal('late_fee'),
    currentCharges: formatMoney(sum(statements.map((s) => new Dec(s.currentCharges)))),
    total: formatMoney(sum(statements.map((s) => new Dec(s.total)))),
  };
}

function row(label: string, value: string): string {
  return `<tr><th>${esc(label)}</th><td class="num">${esc(value)}</td></tr>`;
}
